//! `ddflare.toml` text → [`RawConfig`]: toml parses the document into its spanned tree
//! (`DeTable`), and this module walks that tree table by table.
//!
//! A hand walk instead of `#[derive(Deserialize)]`: the derived visitors and toml's serde
//! deserializer were ~190 KB of the static binary, this is a few KB. It also knows more than
//! serde would tell: the exact key of every problem, with the 1-based index of a `[[record]]`,
//! and the span of the key or value at fault. Keys are visited in the order of the file, so the
//! first problem reported is the first one in the file.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::raw::*;

/// Why the text is not a configuration ddflare can read.
#[derive(Debug)]
pub enum ReadError {
    /// Not TOML at all (or a duplicate key): toml's own error.
    Syntax(toml::de::Error),
    /// A key ddflare does not know. `table` is the table it is in (`record[2]`, or empty at the
    /// top); `is_table` when its value is a table (`[cloudfare]`).
    Unknown {
        table: String,
        key: String,
        span: Range<usize>,
        is_table: bool,
    },
    /// A value of the wrong type, e.g. `proxied = "yes"`.
    Type {
        key: String,
        span: Range<usize>,
        expected: &'static str,
        found: String,
    },
}

/// What the type errors say is expected.
pub const A_STRING: &str = "a string";
pub const A_BOOLEAN: &str = "a boolean";
pub const AN_INTEGER: &str = "an integer";
pub const A_TABLE: &str = "a table";
pub const A_DURATION: &str = "a duration string such as \"30s\", \"5m\" or \"1h30m\"";
pub const A_TTL: &str = "\"auto\" or a whole number of seconds from 60 to 86400";
pub const PROVIDERS: &str = "a list of providers such as [\"cloudflare.trace\"], or \"none\"";
pub const STRINGS: &str = "a string or a list of strings";
pub const A_LIST: &str = "a list of strings";
/// `record = …` that is one table: the caller words this one itself.
pub const ARRAY_OF_TABLES: &str = "an array of tables";

/// Parses and walks `text`.
pub fn read(text: &str) -> Result<RawConfig, ReadError> {
    let doc = DeTable::parse(text).map_err(ReadError::Syntax)?;
    let mut c = RawConfig::default();
    for (key, v) in entries(doc.get_ref()) {
        let at = At::new("", key, v);
        match key.get_ref().as_ref() {
            "cloudflare" => c.cloudflare = cloudflare(&at.table()?)?,
            "credentials" => c.credentials = at.tables(credentials)?,
            "gateway_location" => c.gateway_location = at.tables(gateway_location)?,
            "detect" => c.detect = detect(&at.table()?)?,
            "schedule" => c.schedule = schedule(&at.table()?)?,
            "state" => c.state = state(&at.table()?)?,
            "defaults" => c.defaults = record_settings(&at.table()?)?,
            "record" => c.record = at.tables(record)?,
            "list" => c.list = at.tables(list)?,
            "metrics" => c.metrics = metrics(&at.table()?)?,
            "alerts" => c.alerts = alerts(&at.table()?)?,
            "notify" => c.notify = at.tables(notify)?,
            "monitor" => c.monitor = at.tables(monitor)?,
            "log" => c.log = log(&at.table()?)?,
            "process" => c.process = process(&at.table()?)?,
            "push" => c.push = Some(at.spanned(push(&at.table()?)?)),
            _ => return Err(at.unknown()),
        }
    }
    Ok(c)
}

/// A reader of one table: each key is a field of the same name, read by the named [`At`]
/// method; any other key is refused.
macro_rules! table {
    ($name:ident -> $ty:ident { $($key:ident: $read:ident),* $(,)? }) => {
        // Out of line: inlined into `read`, every table's reader would sit in one function
        // that start-up runs, so the readers of the tables a config leaves out would be laid
        // out with the code that runs and stay resident (docs/shipping.md, "The ordered link").
        #[inline(never)]
        fn $name(t: &Table) -> Result<$ty, ReadError> {
            let mut out = $ty::default();
            for (key, v) in t.entries() {
                let at = t.at(key, v);
                match key.get_ref().as_ref() {
                    $(stringify!($key) => out.$key = Some(at.$read()?),)*
                    _ => return Err(at.unknown()),
                }
            }
            Ok(out)
        }
    };
}

table!(cloudflare -> RawCloudflare {
    api_token: token,
    api_token_file: string,
    api_email: string,
    api_key: token,
    api_key_file: string,
    api_url: string,
    ca_file: string,
    request_timeout: duration,
    max_retries: integer,
});

table!(credentials -> RawCredentials {
    name: string,
    api_token: token,
    api_token_file: string,
});

table!(gateway_location -> RawGatewayLocation {
    account_id: string,
    location_id: string,
    credentials: string,
});

table!(detect -> RawDetect {
    ipv4: providers,
    ipv6: providers,
    timeout: duration,
    strategy: string,
    allow_private: boolean,
    ipv6_prefix_len: integer,
    trace_url: string_or_list,
    dns_servers: string_or_list,
    doh_url: string,
    ipv4_accept: string_or_list,
    ipv4_reject: string_or_list,
    ipv6_accept: string_or_list,
    ipv6_reject: string_or_list,
});

table!(schedule -> RawSchedule {
    interval: duration,
    cycle_deadline: duration,
    shutdown_grace: duration,
    cron: string,
    jitter: duration,
    update_on_start: boolean,
    timezone: string,
});

table!(state -> RawState { dir: string, max_age: duration });

table!(record_settings -> RawRecordSettings {
    ipv4: boolean,
    ipv6: boolean,
    ttl: ttl,
    proxied: boolean,
    comment: string,
    ownership: string,
    delete_on_stop: boolean,
});

table!(record -> RawRecord {
    name: string,
    zone: string,
    zone_id: string,
    ipv4: boolean,
    ipv6: boolean,
    ttl: ttl,
    proxied: boolean,
    comment: string,
    ipv6_host: string,
    ownership: string,
    delete_on_stop: boolean,
    credentials: string,
});

table!(list -> RawList {
    account_id: string,
    name: string,
    description: string,
    ipv4: boolean,
    ipv6: boolean,
    comment: string,
    credentials: string,
});

table!(metrics -> RawMetrics { listen: string });

table!(alerts -> RawAlerts {
    after_failed_rounds: integer,
    after: duration,
    remind_every: duration,
    max_per_hour: integer,
});

table!(notify -> RawNotify { url: string, server: string, events: list });

table!(monitor -> RawMonitor { url: string, kind: string });

table!(log -> RawLog { quiet: boolean });

table!(process -> RawProcess { user: string, drop_privileges: boolean });

table!(push_client -> RawPushClient {
    user: string,
    password_file: string,
    password_hash: token,
    hostnames: list,
});

/// `[push]`, with its `[[push.client]]` tables.
#[inline(never)]
fn push(t: &Table) -> Result<RawPush, ReadError> {
    let mut out = RawPush::default();
    for (key, v) in t.entries() {
        let at = t.at(key, v);
        match key.get_ref().as_ref() {
            "listen" => out.listen = Some(at.string()?),
            "trusted_proxies" => out.trusted_proxies = Some(at.string_or_list()?),
            "client" => out.client = at.tables(push_client)?,
            _ => return Err(at.unknown()),
        }
    }
    Ok(out)
}

type Entry<'a, 'i> = (
    &'a Spanned<toml::de::DeString<'i>>,
    &'a Spanned<DeValue<'i>>,
);

/// The entries of a table in the order of the file (toml's map is sorted by key).
fn entries<'a, 'i>(t: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut all: Vec<Entry> = t.iter().collect();
    all.sort_unstable_by_key(|(k, _)| k.span().start);
    all
}

/// A table being walked, with its path for messages (`record[2]`).
struct Table<'a, 'i> {
    path: String,
    table: &'a DeTable<'i>,
}

impl<'a, 'i> Table<'a, 'i> {
    fn entries(&self) -> Vec<Entry<'a, 'i>> {
        entries(self.table)
    }

    fn at(
        &self,
        key: &'a Spanned<toml::de::DeString<'i>>,
        v: &'a Spanned<DeValue<'i>>,
    ) -> At<'a, 'i> {
        At::new(&self.path, key, v)
    }
}

/// One key of a table and its value.
struct At<'a, 'i> {
    /// The table's path, empty at the top.
    table: String,
    key: &'a Spanned<toml::de::DeString<'i>>,
    value: &'a Spanned<DeValue<'i>>,
}

impl<'a, 'i> At<'a, 'i> {
    fn new(
        table: &str,
        key: &'a Spanned<toml::de::DeString<'i>>,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Self {
        At {
            table: table.to_owned(),
            key,
            value,
        }
    }

    /// `table.key`, or `key` at the top.
    fn path(&self) -> String {
        join(&self.table, self.key.get_ref())
    }

    fn unknown(&self) -> ReadError {
        ReadError::Unknown {
            table: self.table.clone(),
            key: self.path(),
            span: self.key.span(),
            is_table: matches!(self.value.get_ref(), DeValue::Table(_))
                || is_array_of_tables(self.value.get_ref()),
        }
    }

    fn wrong(&self, expected: &'static str) -> ReadError {
        ReadError::Type {
            key: self.path(),
            span: self.value.span(),
            expected,
            found: found(self.value.get_ref()),
        }
    }

    fn spanned<T>(&self, value: T) -> Spanned<T> {
        Spanned::new(self.value.span(), value)
    }

    /// A string value, wrapped by `wrap`; else "expected `expected`".
    fn text<T>(
        &self,
        expected: &'static str,
        wrap: fn(String) -> T,
    ) -> Result<Spanned<T>, ReadError> {
        match self.value.get_ref() {
            DeValue::String(s) => Ok(self.spanned(wrap(s.to_string()))),
            _ => Err(self.wrong(expected)),
        }
    }

    fn string(&self) -> Result<Spanned<String>, ReadError> {
        self.text(A_STRING, |s| s)
    }

    fn token(&self) -> Result<Spanned<RawToken>, ReadError> {
        self.text(A_STRING, RawToken)
    }

    fn boolean(&self) -> Result<Spanned<bool>, ReadError> {
        match self.value.get_ref() {
            DeValue::Boolean(b) => Ok(self.spanned(*b)),
            _ => Err(self.wrong(A_BOOLEAN)),
        }
    }

    fn integer(&self) -> Result<Spanned<i64>, ReadError> {
        match self.value.get_ref() {
            DeValue::Integer(i) => Ok(self.spanned(to_i64(i))),
            _ => Err(self.wrong(AN_INTEGER)),
        }
    }

    fn duration(&self) -> Result<Spanned<RawDuration>, ReadError> {
        self.text(A_DURATION, RawDuration)
    }

    fn ttl(&self) -> Result<Spanned<RawTtl>, ReadError> {
        match self.value.get_ref() {
            DeValue::String(s) => Ok(self.spanned(RawTtl::Str(s.to_string()))),
            DeValue::Integer(i) => Ok(self.spanned(RawTtl::Int(to_i64(i)))),
            _ => Err(self.wrong(A_TTL)),
        }
    }

    /// `[detect] ipv4`/`ipv6`: one provider or a list.
    fn providers(&self) -> Result<Spanned<RawProviders>, ReadError> {
        self.strings(PROVIDERS, RawProviders)
    }

    /// `trace_url`, `dns_servers`: one string or a list.
    fn string_or_list(&self) -> Result<Spanned<RawStrings>, ReadError> {
        self.strings(STRINGS, RawStrings)
    }

    /// One string or an array of strings, wrapped by `wrap`.
    fn strings<T>(
        &self,
        expected: &'static str,
        wrap: fn(Vec<String>) -> T,
    ) -> Result<Spanned<T>, ReadError> {
        let list = match self.value.get_ref() {
            DeValue::String(s) => vec![s.to_string()],
            DeValue::Array(a) => self.array_of_strings(a, expected)?,
            _ => return Err(self.wrong(expected)),
        };
        Ok(self.spanned(wrap(list)))
    }

    /// An array of strings.
    fn list(&self) -> Result<Spanned<Vec<String>>, ReadError> {
        match self.value.get_ref() {
            DeValue::Array(a) => Ok(self.spanned(self.array_of_strings(a, A_LIST)?)),
            _ => Err(self.wrong(A_LIST)),
        }
    }

    fn array_of_strings(
        &self,
        a: &DeArray<'i>,
        expected: &'static str,
    ) -> Result<Vec<String>, ReadError> {
        let mut out = Vec::with_capacity(a.len());
        for item in a.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                other => {
                    return Err(ReadError::Type {
                        key: self.path(),
                        span: item.span(),
                        expected,
                        found: found(other),
                    });
                }
            }
        }
        Ok(out)
    }

    fn table(&self) -> Result<Table<'a, 'i>, ReadError> {
        match self.value.get_ref() {
            DeValue::Table(t) => Ok(Table {
                path: self.path(),
                table: t,
            }),
            _ => Err(self.wrong(A_TABLE)),
        }
    }

    /// `[[name]]` tables (or an array of inline tables), each read by `each` under the path
    /// `name[n]` (1-based). The span of each item is its header's.
    fn tables<T>(
        &self,
        each: fn(&Table) -> Result<T, ReadError>,
    ) -> Result<Vec<Spanned<T>>, ReadError> {
        let DeValue::Array(items) = self.value.get_ref() else {
            return Err(self.wrong(ARRAY_OF_TABLES));
        };
        let path = self.path();
        let mut out = Vec::with_capacity(items.len());
        for (n, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                return Err(ReadError::Type {
                    key: format!("{path}[{}]", n + 1),
                    span: item.span(),
                    expected: A_TABLE,
                    found: found(item.get_ref()),
                });
            };
            let table = Table {
                path: format!("{path}[{}]", n + 1),
                table: t,
            };
            out.push(Spanned::new(item.span(), each(&table)?));
        }
        Ok(out)
    }
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

fn is_array_of_tables(v: &DeValue) -> bool {
    matches!(v, DeValue::Array(a) if a.iter().all(|i| matches!(i.get_ref(), DeValue::Table(_))))
}

/// toml keeps integers as text (with their radix) until asked: out of the i64 range, the
/// nearest end of it, which every range check then refuses with the number as written.
fn to_i64(i: &toml::de::DeInteger) -> i64 {
    i64::from_str_radix(i.as_str(), i.radix()).unwrap_or(if i.as_str().starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// What a value is, for "expected …, found …": the value itself for scalars.
fn found(v: &DeValue) -> String {
    match v {
        DeValue::String(s) => format!("string {:?}", s.as_ref()),
        DeValue::Integer(i) => match i.radix() {
            10 => format!("integer `{}`", i.as_str()),
            _ => format!("integer `{}`", to_i64(i)),
        },
        DeValue::Float(f) => format!("floating point `{}`", f.as_str()),
        DeValue::Boolean(b) => format!("boolean `{b}`"),
        DeValue::Datetime(_) => "a date-time".to_owned(),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(text: &str) -> ReadError {
        match read(text) {
            Ok(raw) => panic!("read: {raw:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn raw_token_debug_is_redacted() {
        let raw = read("[cloudflare]\napi_token = \"sekrit-value-1234567890\"\n").unwrap();
        assert!(!format!("{raw:?}").contains("sekrit"));
        assert!(raw.cloudflare.api_token.is_some());
    }

    #[test]
    fn provider_list_forms() {
        let raw = read("[detect]\nipv4 = \"none\"\nipv6 = [\"a\", \"b\"]\n").unwrap();
        let v4 = raw.detect.ipv4.map(|s| s.into_inner().0);
        let v6 = raw.detect.ipv6.map(|s| s.into_inner().0);
        assert_eq!(v4, Some(vec!["none".to_owned()]));
        assert_eq!(v6, Some(vec!["a".to_owned(), "b".to_owned()]));
    }

    #[test]
    fn dotted_keys_inline_tables_and_radix() {
        let text =
            "cloudflare.max_retries = 0x3\nrecord = [{ name = \"a.example\", ttl = 1_200 }]\n";
        let raw = read(text).unwrap();
        assert_eq!(raw.cloudflare.max_retries.map(|s| s.into_inner()), Some(3));
        assert_eq!(raw.record.len(), 1);
        let r = raw.record[0].get_ref();
        assert_eq!(
            r.ttl.as_ref().map(|t| t.get_ref().clone()),
            Some(RawTtl::Int(1200))
        );
    }

    #[test]
    fn spans_point_at_values_and_headers() {
        let text = "[[record]]\nname = \"a.example\"\n[[record]]\nname = \"b.example\"\n";
        let raw = read(text).unwrap();
        let second = &raw.record[1];
        assert!(text[second.span()].starts_with("[[record]]"));
        let name = second.get_ref().name.as_ref().unwrap();
        assert_eq!(&text[name.span()], "\"b.example\"");
    }

    #[test]
    fn the_first_problem_in_the_file_is_reported() {
        // toml's map is sorted by key; `zz` comes first in the file.
        match fails("[defaults]\nzz = 1\naa = 2\n") {
            ReadError::Unknown { key, span, .. } => {
                assert_eq!(key, "defaults.zz");
                assert_eq!(span.start, 11);
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_item() {
        match fails("[[notify]]\nurl = \"x\"\n[[notify]]\nevents = [\"change\", 3]\n") {
            ReadError::Type {
                key,
                expected,
                found,
                ..
            } => {
                assert_eq!(key, "notify[2].events");
                assert_eq!(expected, A_LIST);
                assert_eq!(found, "integer `3`");
            }
            e => panic!("{e:?}"),
        }
        match fails("record = [1]\n") {
            ReadError::Type { key, found, .. } => {
                assert_eq!(key, "record[1]");
                assert_eq!(found, "integer `1`");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn integers_out_of_range_saturate() {
        let raw = read("[cloudflare]\nmax_retries = 99999999999999999999\n").unwrap();
        assert_eq!(
            raw.cloudflare.max_retries.map(|s| s.into_inner()),
            Some(i64::MAX)
        );
        let raw = read("[cloudflare]\nmax_retries = -99999999999999999999\n").unwrap();
        assert_eq!(
            raw.cloudflare.max_retries.map(|s| s.into_inner()),
            Some(i64::MIN)
        );
    }

    #[test]
    fn syntax_errors_are_tomls() {
        assert!(matches!(fails("[defaults\n"), ReadError::Syntax(_)));
        assert!(matches!(fails("a = 1\na = 2\n"), ReadError::Syntax(_)));
    }
}
