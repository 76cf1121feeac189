//! A small OpenAPI 3.0 schema checker, enough for `openapi-dns-subset.json`:
//! `$ref`, `allOf`, `anyOf`, `oneOf`, `type` (+ `nullable`), `enum`, `required`,
//! `properties`, `items`, `maxLength`/`minLength` (strings), `minimum`/`maximum`,
//! and `format` (`date-time`, `ipv4`, `ipv6`, `hostname`). Every keyword present in a
//! schema object applies (a schema may combine `oneOf` with `required`, as
//! `dns-records_dns-record` does). `pattern` is not evaluated (no regex engine).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

pub struct Oas {
    doc: Value,
}

impl Oas {
    pub fn load() -> Self {
        Self {
            doc: super::fixture("openapi-dns-subset.json"),
        }
    }

    pub fn component(&self, name: &str) -> &Value {
        let s = &self.doc["components"]["schemas"][name];
        assert!(!s.is_null(), "no component {name}");
        s
    }

    /// The JSON schema of a documented response (`status` like `"200"` or `"4XX"`).
    pub fn response(&self, path: &str, method: &str, status: &str) -> &Value {
        let responses = &self.doc["paths"][path][method]["responses"];
        let r = responses
            .get(status)
            .or_else(|| responses.get(status.to_lowercase()))
            .unwrap_or_else(|| panic!("no {status} response for {method} {path}"));
        &r["content"]["application/json"]["schema"]
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.trim_start_matches('#');
                let target = self
                    .doc
                    .pointer(ptr)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"));
                self.resolve(target)
            }
            None => schema,
        }
    }

    /// All violations of `schema` by `value`, as `pointer: reason`.
    pub fn violations(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, value, "", &mut out);
        out
    }

    /// Panics unless `value` satisfies `schema`.
    pub fn assert_valid(&self, schema: &Value, value: &Value) {
        let v = self.violations(schema, value);
        assert!(v.is_empty(), "schema violations: {v:#?}\nin {value:#}");
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(obj) = schema.as_object() else {
            return;
        };
        let nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
        if value.is_null() && nullable {
            return;
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(s, value, at, out);
            }
        }
        // For anyOf/oneOf with no matching branch, report the closest branch's
        // violations (e.g. the A-record branch of a record), not just "no match".
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(branches) = obj.get(key).and_then(Value::as_array) else {
                continue;
            };
            let results: Vec<Vec<String>> = branches
                .iter()
                .map(|s| self.violations_at(s, value, at))
                .collect();
            let matched = results.iter().filter(|v| v.is_empty()).count();
            if matched == 0 {
                match results.into_iter().min_by_key(Vec::len) {
                    Some(closest) => out.extend(closest),
                    None => out.push(format!("{at}: empty {key}")),
                }
            } else if exactly_one && matched > 1 {
                out.push(format!("{at}: matches {matched} branches of oneOf"));
            }
        }
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "boolean" => value.is_boolean(),
                "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
                "number" => value.is_number(),
                _ => true,
            };
            if !ok {
                out.push(format!("{at}: expected {t}, got {value}"));
                return;
            }
        }
        if let Some(en) = obj.get("enum").and_then(Value::as_array)
            && !en.contains(value)
        {
            out.push(format!("{at}: {value} not in enum {en:?}"));
        }
        if let Some(s) = value.as_str() {
            let len = s.chars().count() as u64;
            if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                out.push(format!("{at}: longer than {max}"));
            }
            if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                out.push(format!("{at}: shorter than {min}"));
            }
            if let Some(fmt) = obj.get("format").and_then(Value::as_str)
                && !format_ok(fmt, s)
            {
                out.push(format!("{at}: {s:?} is not a valid {fmt}"));
            }
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = obj.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                out.push(format!("{at}: {n} < minimum {min}"));
            }
            if let Some(max) = obj.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                out.push(format!("{at}: {n} > maximum {max}"));
            }
        }
        if let Some(map) = value.as_object() {
            if let Some(req) = obj.get("required").and_then(Value::as_array) {
                for k in req.iter().filter_map(Value::as_str) {
                    if !map.contains_key(k) {
                        out.push(format!("{at}: missing required {k:?}"));
                    }
                }
            }
            if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if let Some(v) = map.get(k) {
                        self.check(s, v, &format!("{at}/{k}"), out);
                    }
                }
            }
        }
        if let (Some(items), Some(arr)) = (obj.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                self.check(items, v, &format!("{at}/{i}"), out);
            }
        }
    }

    fn violations_at(&self, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, value, at, &mut out);
        out
    }
}

fn format_ok(fmt: &str, s: &str) -> bool {
    match fmt {
        "ipv4" => s.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<Ipv6Addr>().is_ok(),
        "date-time" => is_rfc3339(s),
        "hostname" => {
            !s.is_empty()
                && s.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
        }
        _ => true,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':')
}
