//! DNS record rules: parsing request bodies, name qualification, validation with the
//! real error codes, conflicts, list filters and ordering.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

use crate::model::{Plan, Record, RecordSettings};
use crate::state::Zone;
use crate::util::query_get;
use crate::wire::{ApiError, ErrorItem};

/// Record types the emulator accepts.
pub(crate) const SUPPORTED_TYPES: &[&str] = &["A", "AAAA", "CNAME", "TXT", "MX", "NS"];

/// Fields present in a request body (outer `Option` = the key was sent).
#[derive(Debug, Default, Clone)]
pub(crate) struct Input {
    pub name: Option<String>,
    pub rtype: Option<String>,
    pub content: Option<String>,
    pub ttl: Option<f64>,
    pub proxied: Option<bool>,
    pub comment: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub priority: Option<Option<f64>>,
    pub settings: Option<RecordSettings>,
}

fn wrong_type(field: &str, what: &str) -> ApiError {
    ApiError::new(
        400,
        9003,
        format!("Invalid '{field}' value, must be {what}"),
    )
}

pub(crate) fn invalid_body() -> ApiError {
    ApiError::new(400, 9207, "Request body is invalid.")
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(key, "a string")),
    }
}

/// Reads the record fields of a JSON object, rejecting wrongly typed values (9003).
pub(crate) fn parse_input(value: &Value) -> Result<Input, ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid_body());
    };
    let mut input = Input {
        name: opt_string(obj, "name")?,
        rtype: opt_string(obj, "type")?,
        content: opt_string(obj, "content")?,
        ..Input::default()
    };
    input.ttl = match obj.get("ttl") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => return Err(wrong_type("ttl", "a number")),
    };
    input.proxied = match obj.get("proxied") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(wrong_type("proxied", "a boolean")),
    };
    input.comment = match obj.get("comment") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => return Err(wrong_type("comment", "a string")),
    };
    input.tags = match obj.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut tags = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => tags.push(s.clone()),
                    _ => return Err(wrong_type("tags", "an array of strings")),
                }
            }
            Some(tags)
        }
        Some(_) => return Err(wrong_type("tags", "an array of strings")),
    };
    input.priority = match obj.get("priority") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Number(n)) => Some(n.as_f64()),
        Some(_) => return Err(wrong_type("priority", "a number")),
    };
    input.settings = match obj.get("settings") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(
            serde_json::from_value(v.clone()).map_err(|_| wrong_type("settings", "an object"))?,
        ),
        Some(_) => return Err(wrong_type("settings", "an object")),
    };
    Ok(input)
}

/// A record being built, before validation.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    name: Option<String>,
    rtype: Option<String>,
    content: Option<String>,
    ttl: f64,
    proxied: bool,
    comment: Option<String>,
    tags: Vec<String>,
    priority: Option<f64>,
    settings: Option<RecordSettings>,
}

impl Draft {
    /// POST and PUT: unspecified fields take their defaults.
    pub fn fresh(input: &Input) -> Self {
        Self {
            name: input.name.clone(),
            rtype: input.rtype.clone(),
            content: input.content.clone(),
            ttl: input.ttl.unwrap_or(1.0),
            proxied: input.proxied.unwrap_or(false),
            comment: input.comment.clone().flatten(),
            tags: input.tags.clone().unwrap_or_default(),
            priority: input.priority.flatten(),
            settings: input.settings.clone(),
        }
    }

    /// PATCH: unspecified fields keep their current values.
    pub fn patched(existing: &Record, input: &Input) -> Self {
        Self {
            name: Some(input.name.clone().unwrap_or_else(|| existing.name.clone())),
            rtype: Some(
                input
                    .rtype
                    .clone()
                    .unwrap_or_else(|| existing.rtype.clone()),
            ),
            content: Some(
                input
                    .content
                    .clone()
                    .unwrap_or_else(|| existing.content.clone()),
            ),
            ttl: input.ttl.unwrap_or(f64::from(existing.ttl)),
            proxied: input.proxied.unwrap_or(existing.proxied),
            comment: match &input.comment {
                Some(c) => c.clone(),
                None => existing.comment.clone(),
            },
            tags: input.tags.clone().unwrap_or_else(|| existing.tags.clone()),
            priority: match input.priority {
                Some(p) => p,
                None => existing.priority.map(f64::from),
            },
            settings: Some(
                input
                    .settings
                    .clone()
                    .unwrap_or_else(|| existing.settings.clone()),
            ),
        }
    }
}

/// Qualifies a record name the way Cloudflare does: `@` is the apex, a name not
/// ending in the zone gets the zone appended; lowercase Punycode.
pub(crate) fn qualify_name(raw: &str, zone: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return None;
    }
    if trimmed == "@" {
        return Some(zone.to_owned());
    }
    let ascii = to_ascii(trimmed)?;
    let fqdn = if ascii == zone || ascii.ends_with(&format!(".{zone}")) {
        ascii
    } else {
        format!("{ascii}.{zone}")
    };
    valid_hostname(&fqdn, true).then_some(fqdn)
}

/// Lowercase ASCII by UTS #46 ToASCII, nontransitional, as ddflare maps names
/// (`ddflare`'s `config::values::uts46_to_ascii`): `x²` is `x2`, `｡` separates labels, a name
/// UTS #46 refuses is refused. The hyphen and character rules are `valid_hostname`'s.
fn to_ascii(name: &str) -> Option<String> {
    use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            DnsLength::Ignore,
        )
        .ok()
        .map(std::borrow::Cow::into_owned)
}

fn valid_hostname(name: &str, allow_wildcard: bool) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').enumerate().all(|(i, label)| {
        (allow_wildcard && i == 0 && label == "*")
            || (!label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    })
}

/// False for addresses Cloudflare will not proxy to: private, loopback, link-local,
/// CGNAT, multicast, reserved, and Cloudflare's own resolvers.
pub(crate) fn proxiable_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => proxiable_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return proxiable_v4(v4);
            }
            let seg0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00
                || (seg0 & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111)
                || v6 == Ipv6Addr::new(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1001))
        }
    }
}

fn proxiable_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || ip == Ipv4Addr::new(1, 1, 1, 1)
        || ip == Ipv4Addr::new(1, 0, 0, 1))
}

fn content_error(rtype: &str) -> ApiError {
    match rtype {
        "A" => ApiError::new(
            400,
            9005,
            "Content for A record must be a valid IPv4 address.",
        ),
        "AAAA" => ApiError::new(
            400,
            9006,
            "Content for AAAA record must be a valid IPv6 address.",
        ),
        "CNAME" => ApiError::new(400, 9007, "Content for CNAME record is invalid."),
        other => ApiError::new(400, 9009, format!("Content for {other} record is invalid.")),
    }
}

/// Canonical content for a type, or the type's content error.
fn normalize_content(rtype: &str, content: Option<&str>, name: &str) -> Result<String, ApiError> {
    let content = content.unwrap_or("");
    match rtype {
        "A" => content
            .parse::<Ipv4Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| content_error(rtype)),
        "AAAA" => content
            .parse::<Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| content_error(rtype)),
        "CNAME" | "MX" | "NS" => {
            let host = content.trim().trim_end_matches('.').to_ascii_lowercase();
            if !valid_hostname(&host, false) || (rtype == "CNAME" && host == name) {
                return Err(content_error(rtype));
            }
            Ok(host)
        }
        _ => {
            if content.is_empty() {
                Err(content_error(rtype))
            } else {
                Ok(content.to_owned())
            }
        }
    }
}

/// Everything validation needs to know about where the record goes.
pub(crate) struct Target<'a> {
    pub zone_name: &'a str,
    pub zone_id: &'a str,
    pub plan: Plan,
    /// The zone's other records (the record itself excluded).
    pub others: &'a [Record],
    /// The record being replaced (PUT/PATCH).
    pub previous: Option<&'a Record>,
}

/// Validates a draft and turns it into a stored record.
pub(crate) fn finalize(
    draft: Draft,
    target: &Target<'_>,
    id: &str,
    now: &str,
) -> Result<Record, ApiError> {
    // Type.
    let rtype = draft
        .rtype
        .as_deref()
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| SUPPORTED_TYPES.contains(&t.as_str()))
        .ok_or_else(|| ApiError::new(400, 9020, "Invalid DNS record type."))?;
    if let Some(prev) = target.previous
        && prev.rtype != rtype
    {
        return Err(ApiError::new(
            400,
            9025,
            "Changing the type of a DNS record is not supported; delete the record and create a new one.",
        ));
    }
    // Name.
    let name = draft
        .name
        .as_deref()
        .and_then(|n| qualify_name(n, target.zone_name))
        .ok_or_else(|| ApiError::new(400, 9000, "DNS name is invalid."))?;
    // Content.
    let content = normalize_content(&rtype, draft.content.as_deref(), &name)?;
    let priority = if rtype == "MX" {
        match draft.priority {
            Some(p) if p.fract() == 0.0 && (0.0..=65535.0).contains(&p) => Some(p as u16),
            _ => {
                return Err(ApiError::new(
                    400,
                    9101,
                    "Priority must be an integer between 0 and 65535 for MX records.",
                ));
            }
        }
    } else {
        None
    };
    // TTL.
    let min_ttl = target.plan.min_ttl();
    let ttl = draft.ttl;
    if !(ttl == 1.0 || (ttl.fract() == 0.0 && ttl >= f64::from(min_ttl) && ttl <= 86_400.0)) {
        return Err(ApiError::new(
            400,
            9021,
            format!("TTL must be between {min_ttl} and 86400 seconds, or 1 for Automatic."),
        ));
    }
    let mut ttl = ttl as u32;
    // Proxying.
    let proxiable = match rtype.as_str() {
        "A" | "AAAA" => content.parse::<IpAddr>().is_ok_and(proxiable_address),
        "CNAME" => true,
        _ => false,
    };
    if draft.proxied {
        if !matches!(rtype.as_str(), "A" | "AAAA" | "CNAME") {
            return Err(ApiError::new(
                400,
                9004,
                "This record type cannot be proxied.",
            ));
        }
        if !proxiable {
            return Err(ApiError::new(
                400,
                9003,
                format!("Target {content} is not allowed for a proxied record."),
            ));
        }
        // Proxied records are always Auto TTL.
        ttl = 1;
    }
    // Comment and tags (plan limits).
    let comment = draft.comment.filter(|c| !c.is_empty());
    if let Some(c) = &comment {
        if c.contains('\n') || c.contains('\r') {
            return Err(ApiError::new(
                400,
                9314,
                "DNS record comment cannot contain newline characters.",
            ));
        }
        let limit = target.plan.comment_limit();
        if c.chars().count() > limit {
            return Err(ApiError::new(
                400,
                9313,
                format!("DNS record comment exceeds the maximum length of {limit} characters."),
            ));
        }
    }
    let quota = target.plan.tag_quota();
    if draft.tags.len() > quota {
        return Err(ApiError::new(
            400,
            9300,
            format!(
                "DNS record has {} tags, exceeding the quota of {quota}.",
                draft.tags.len()
            ),
        ));
    }
    // Settings.
    let mut settings = draft.settings.unwrap_or_default();
    match rtype.as_str() {
        "CNAME" => {
            settings.ipv4_only = None;
            settings.ipv6_only = None;
            settings.flatten_cname.get_or_insert(false);
        }
        "A" | "AAAA" => settings.flatten_cname = None,
        _ => settings = RecordSettings::default(),
    }
    // Conflicts with the zone's other records.
    check_conflicts(target.others, &name, &rtype, &content)?;

    let prev = target.previous;
    let comment_modified_on = match (&comment, prev) {
        (None, _) => None,
        (Some(c), Some(p)) if p.comment.as_ref() == Some(c) => p
            .comment_modified_on
            .clone()
            .or_else(|| Some(now.to_owned())),
        (Some(_), _) => Some(now.to_owned()),
    };
    let tags_modified_on = match prev {
        _ if draft.tags.is_empty() => None,
        Some(p) if p.tags == draft.tags => p.tags_modified_on.clone(),
        _ => Some(now.to_owned()),
    };
    Ok(Record {
        id: id.to_owned(),
        zone_id: target.zone_id.to_owned(),
        zone_name: target.zone_name.to_owned(),
        name,
        rtype,
        content,
        priority,
        ttl,
        proxied: draft.proxied,
        proxiable,
        comment,
        tags: draft.tags,
        settings,
        created_on: prev.map_or_else(|| now.to_owned(), |p| p.created_on.clone()),
        modified_on: now.to_owned(),
        comment_modified_on,
        tags_modified_on,
    })
}

fn check_conflicts(
    others: &[Record],
    name: &str,
    rtype: &str,
    content: &str,
) -> Result<(), ApiError> {
    let same_name = || others.iter().filter(|r| r.name == name);
    if same_name().any(|r| r.rtype == rtype && r.content.eq_ignore_ascii_case(content)) {
        return Err(ApiError::new(
            400,
            81058,
            "An identical record already exists.",
        ));
    }
    match rtype {
        "A" | "AAAA" if same_name().any(|r| r.rtype == "CNAME") => Err(ApiError::new(
            400,
            81054,
            "A CNAME record with that host already exists. For more details, refer to <https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/>.",
        )),
        "CNAME" if same_name().any(|r| matches!(r.rtype.as_str(), "A" | "AAAA" | "CNAME")) => {
            Err(ApiError::new(
                400,
                81053,
                "An A, AAAA, or CNAME record with that host already exists.",
            ))
        }
        _ => Ok(()),
    }
}

/// Wraps 9xxx validation errors the pre-2024-10-01 way: 1004 "DNS Validation Error"
/// with the root cause in `error_chain`.
pub(crate) fn wrap_validation(err: ApiError) -> ApiError {
    let validation = |code: u32| (9000..10000).contains(&code) && code != 9207;
    if !err.errors.is_empty() && err.errors.iter().all(|e| validation(e.code)) {
        ApiError::chained(err.status, 1004, "DNS Validation Error", err.errors)
    } else {
        err
    }
}

// ---------------------------------------------------------------------------
// Listing: filters, order, paging.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
    Present,
    Absent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Type,
    Name,
    Content,
    Comment,
    Proxied,
    Tag,
}

#[derive(Debug, Clone)]
struct Predicate {
    field: Field,
    op: Op,
    value: String,
}

fn text_match(op: Op, have: Option<&str>, want: &str) -> bool {
    let want = want.to_lowercase();
    match (op, have) {
        (Op::Present, h) => h.is_some(),
        (Op::Absent, h) => h.is_none(),
        (_, None) => false,
        (Op::Exact, Some(h)) => h.to_lowercase() == want,
        (Op::Contains, Some(h)) => h.to_lowercase().contains(&want),
        (Op::StartsWith, Some(h)) => h.to_lowercase().starts_with(&want),
        (Op::EndsWith, Some(h)) => h.to_lowercase().ends_with(&want),
    }
}

impl Predicate {
    fn matches(&self, r: &Record) -> bool {
        match self.field {
            Field::Type => r.rtype.eq_ignore_ascii_case(&self.value),
            Field::Proxied => r.proxied.to_string() == self.value.to_ascii_lowercase(),
            Field::Name => text_match(self.op, Some(&r.name), &self.value),
            Field::Content => text_match(self.op, Some(&r.content), &self.value),
            Field::Comment => text_match(self.op, r.comment.as_deref(), &self.value),
            Field::Tag => {
                // `name` alone, or `name:value` where the value part carries the op.
                let (tag_name, tag_value) = match self.value.split_once(':') {
                    Some((n, v)) => (n, Some(v)),
                    None => (self.value.as_str(), None),
                };
                let found = r.tags.iter().find_map(|t| {
                    let (n, v) = t.split_once(':').unwrap_or((t.as_str(), ""));
                    n.eq_ignore_ascii_case(tag_name).then_some(v)
                });
                match (self.op, tag_value) {
                    (Op::Absent, _) => found.is_none(),
                    (Op::Present, _) | (_, None) => found.is_some(),
                    (op, Some(want)) => text_match(op, found, want),
                }
            }
        }
    }
}

fn parse_predicate(key: &str, value: &str) -> Option<Predicate> {
    let (base, suffix) = key.split_once('.').unwrap_or((key, ""));
    let field = match base {
        "type" => Field::Type,
        "name" => Field::Name,
        "content" => Field::Content,
        "comment" => Field::Comment,
        "proxied" => Field::Proxied,
        "tag" => Field::Tag,
        _ => return None,
    };
    let op = match suffix {
        "" if field == Field::Tag && !value.contains(':') => Op::Present,
        "" | "exact" => Op::Exact,
        "contains" => Op::Contains,
        "startswith" => Op::StartsWith,
        "endswith" => Op::EndsWith,
        "present" if matches!(field, Field::Comment | Field::Tag) => Op::Present,
        "absent" if matches!(field, Field::Comment | Field::Tag) => Op::Absent,
        _ => return None,
    };
    if matches!(field, Field::Type | Field::Proxied) && op != Op::Exact {
        return None;
    }
    Some(Predicate {
        field,
        op,
        value: value.to_owned(),
    })
}

fn any_mode(query: &[(String, String)], key: &str) -> bool {
    query_get(query, key).is_some_and(|v| v.eq_ignore_ascii_case("any"))
}

/// Applies the list filters of `GET /zones/{id}/dns_records`. `match=any` ORs all
/// non-tag filters (and the tag group); tags combine by `tag_match`.
pub(crate) fn filter_records<'a>(
    records: &'a [Record],
    query: &[(String, String)],
) -> Vec<&'a Record> {
    let mut plain = Vec::new();
    let mut tags = Vec::new();
    for (k, v) in query {
        if let Some(p) = parse_predicate(k, v) {
            if p.field == Field::Tag {
                tags.push(p);
            } else {
                plain.push(p);
            }
        }
    }
    let search = query_get(query, "search").map(str::to_lowercase);
    let match_any = any_mode(query, "match");
    let tag_any = any_mode(query, "tag_match") || any_mode(query, "tag-match");
    records
        .iter()
        .filter(|r| {
            let mut results: Vec<bool> = plain.iter().map(|p| p.matches(r)).collect();
            if !tags.is_empty() {
                let mut t = tags.iter().map(|p| p.matches(r));
                results.push(if tag_any { t.any(|b| b) } else { t.all(|b| b) });
            }
            let filtered = if results.is_empty() {
                true
            } else if match_any {
                results.iter().any(|b| *b)
            } else {
                results.iter().all(|b| *b)
            };
            let searched = search.as_ref().is_none_or(|s| {
                r.name.contains(s.as_str())
                    || r.content.to_lowercase().contains(s.as_str())
                    || r.comment
                        .as_ref()
                        .is_some_and(|c| c.to_lowercase().contains(s.as_str()))
            });
            filtered && searched
        })
        .collect()
}

/// Orders by `order` (`type` default; `name`, `content`, `ttl`, `proxied`) and
/// `direction`; ties keep creation order.
pub(crate) fn sort_records(records: &mut [&Record], query: &[(String, String)]) {
    let order = query_get(query, "order").unwrap_or("type");
    let desc = query_get(query, "direction").is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    let key = |a: &Record, b: &Record| -> Ordering {
        match order {
            "name" => a.name.cmp(&b.name),
            "content" => a.content.to_lowercase().cmp(&b.content.to_lowercase()),
            "ttl" => a.ttl.cmp(&b.ttl),
            "proxied" => a.proxied.cmp(&b.proxied),
            _ => a.rtype.cmp(&b.rtype),
        }
    };
    records.sort_by(|a, b| {
        let o = key(a, b);
        if desc { o.reverse() } else { o }
    });
}

/// `page`/`per_page` from the query, clamped to `[min, max]`.
pub(crate) fn paging(
    query: &[(String, String)],
    default_per_page: u64,
    min: u64,
    max: u64,
) -> (u64, u64) {
    let num = |k: &str| query_get(query, k).and_then(|v| v.trim().parse::<u64>().ok());
    let page = num("page").unwrap_or(1).max(1);
    let per_page = num("per_page").unwrap_or(default_per_page).clamp(min, max);
    (page, per_page)
}

/// Per-item error for a batch entry that names no existing record.
pub(crate) fn batch_missing_record() -> ApiError {
    ApiError::new(400, 81044, "Record does not exist.")
}

/// The error for a batch over the per-call limit (code not captured: unverified).
pub(crate) fn batch_too_large(count: usize, limit: usize) -> ApiError {
    ApiError {
        status: 400,
        errors: vec![ErrorItem::new(
            81300,
            format!("Batch contains {count} record changes, exceeding the limit of {limit}."),
        )],
        retry_after: None,
    }
}

/// Which zone plan applies, for code that only has the zone.
pub(crate) fn target_for<'a>(
    zone: &'a Zone,
    others: &'a [Record],
    previous: Option<&'a Record>,
) -> Target<'a> {
    Target {
        zone_name: &zone.name,
        zone_id: &zone.id,
        plan: zone.plan,
        others,
        previous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zone() -> Zone {
        Zone {
            id: "0".repeat(32),
            name: "example.com".into(),
            status: crate::model::ZoneStatus::Active,
            plan: Plan::Free,
            paused: false,
            created_on: "2025-01-01T00:00:00.0Z".into(),
            records: Vec::new(),
        }
    }

    fn build(body: serde_json::Value, others: &[Record]) -> Result<Record, ApiError> {
        let z = zone();
        let input = parse_input(&body)?;
        finalize(
            Draft::fresh(&input),
            &target_for(&z, others, None),
            "id",
            "now",
        )
    }

    #[test]
    fn names_are_qualified() {
        assert_eq!(qualify_name("@", "example.com").unwrap(), "example.com");
        assert_eq!(
            qualify_name("Home", "example.com").unwrap(),
            "home.example.com"
        );
        assert_eq!(
            qualify_name("home.example.com.", "example.com").unwrap(),
            "home.example.com"
        );
        assert_eq!(
            qualify_name("mail.wangjihe.cf", "example.com").unwrap(),
            "mail.wangjihe.cf.example.com"
        );
        assert_eq!(
            qualify_name("notexample.com", "example.com").unwrap(),
            "notexample.com.example.com"
        );
        assert_eq!(
            qualify_name("☃", "example.com").unwrap(),
            "xn--n3h.example.com"
        );
        // UTS #46, as ddflare maps names.
        for (raw, fqdn) in [
            ("x²", "x2.example.com"),
            ("ﬁle", "file.example.com"),
            ("home｡example｡com", "home.example.com"),
            ("हिन्दी", "xn--j2bd4cyah0f.example.com"),
        ] {
            assert_eq!(qualify_name(raw, "example.com").as_deref(), Some(fqdn));
        }
        assert!(qualify_name("xn--a", "example.com").is_none());
        assert!(qualify_name("", "example.com").is_none());
        assert!(qualify_name("a b", "example.com").is_none());
    }

    #[test]
    fn validation_codes() {
        let code = |b| build(b, &[]).unwrap_err().errors[0].code;
        assert_eq!(code(json!({"name":"a","type":"A","content":"1.2.3"})), 9005);
        assert_eq!(
            code(json!({"name":"a","type":"AAAA","content":"1.2.3.4"})),
            9006
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"192.0.2.1","ttl":30})),
            9021
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"192.0.2.1","ttl":90000})),
            9021
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"10.0.0.1","proxied":true})),
            9003
        );
        assert_eq!(
            code(json!({"name":"a","type":"TXT","content":"x","proxied":true})),
            9004
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"192.0.2.1","proxied":"yes"})),
            9003
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"192.0.2.1","comment":"x".repeat(101)})),
            9313
        );
        assert_eq!(
            code(json!({"name":"a","type":"A","content":"192.0.2.1","tags":["a:b"]})),
            9300
        );
        assert_eq!(code(json!({"name":"a","type":"SPF","content":"x"})), 9020);
        assert_eq!(code(json!({"type":"A","content":"192.0.2.1"})), 9000);
        assert_eq!(
            code(json!({"name":"a","type":"MX","content":"mx.example.com"})),
            9101
        );
        let ok = build(
            json!({"name":"a","type":"AAAA","content":"2001:DB8:0::1","proxied":true,"ttl":300}),
            &[],
        )
        .unwrap();
        assert_eq!(
            (ok.content.as_str(), ok.ttl, ok.proxiable),
            ("2001:db8::1", 1, true)
        );
        let private = build(json!({"name":"a","type":"A","content":"192.168.1.1"}), &[]).unwrap();
        assert!(!private.proxiable);
    }

    #[test]
    fn conflicts() {
        let a = build(json!({"name":"h","type":"A","content":"192.0.2.1"}), &[]).unwrap();
        let c = build(
            json!({"name":"c","type":"CNAME","content":"x.example.net"}),
            &[],
        )
        .unwrap();
        let others = vec![a, c];
        let code = |b| build(b, &others).unwrap_err().errors[0].code;
        assert_eq!(
            code(json!({"name":"h","type":"A","content":"192.0.2.1"})),
            81058
        );
        assert_eq!(
            code(json!({"name":"c","type":"A","content":"192.0.2.1"})),
            81054
        );
        assert_eq!(
            code(json!({"name":"h","type":"CNAME","content":"y.example.net"})),
            81053
        );
        assert!(
            build(
                json!({"name":"h","type":"A","content":"192.0.2.2"}),
                &others
            )
            .is_ok()
        );
        assert!(build(json!({"name":"h","type":"TXT","content":"hello"}), &others).is_ok());
    }

    #[test]
    fn wrapping_only_touches_validation_errors() {
        let w = wrap_validation(ApiError::new(400, 9005, "x"));
        assert_eq!(w.errors[0].code, 1004);
        assert_eq!(w.errors[0].error_chain[0].code, 9005);
        let n = wrap_validation(ApiError::new(400, 81058, "x"));
        assert_eq!(n.errors[0].code, 81058);
    }
}
