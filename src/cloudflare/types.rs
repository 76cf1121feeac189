//! Wire types of Cloudflare API v4, as CONTRACT.md describes them. Decoding is lenient where
//! Cloudflare is (unknown and removed fields are ignored, key order is free) and strict where it
//! matters (a record without `id`, `name`, `type` or `content` is an error).

use serde::{Deserialize, Serialize};

/// Whether `s` has the shape of a Cloudflare id (zone, record, account, token): 32 lowercase
/// hex characters (CONTRACT.md §0; the OpenAPI `*_identifier` schemas say `maxLength: 32`, the
/// ids themselves are always that long). Anything else (`.`, `..`, empty, a domain name) would
/// change the meaning of a URL it is put in, so it never reaches one.
pub fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An id as it may be shown in a message: at most 40 characters, control characters escaped.
pub fn shown_id(s: &str) -> String {
    let head: String = s.chars().take(40).collect();
    let more = if s.chars().count() > 40 { "…" } else { "" };
    format!("{}{more}", head.escape_debug())
}

/// `{"success":…,"errors":[…],"messages":[…],"result":…,"result_info":…}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    #[serde(default)]
    pub messages: Vec<MessageItem>,
    pub result: Option<T>,
    pub result_info: Option<ResultInfo>,
}

/// One entry of `errors`, possibly wrapping its cause in `error_chain` (the pre-2024-10 1004
/// wrapper does that).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ErrorItem {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_chain: Vec<ErrorItem>,
    #[serde(default)]
    pub documentation_url: Option<String>,
}

impl ErrorItem {
    /// This code and every code in its chain, outermost first.
    pub fn codes(&self) -> Vec<i64> {
        let mut out = vec![self.code];
        for inner in &self.error_chain {
            out.extend(inner.codes());
        }
        out
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageItem {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: String,
}

/// Paging of list responses. `total_pages` is absent from the OpenAPI schema but present in
/// real answers; `0` for an empty zone list, `1` for an empty record list.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ResultInfo {
    #[serde(default)]
    pub page: u32,
    #[serde(default)]
    pub per_page: u32,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub total_pages: Option<u32>,
    /// Cursor paging (the items of an IP list): the next page's cursor, absent on the last.
    #[serde(default)]
    pub cursors: Option<Cursors>,
}

/// `result_info.cursors` of a cursor-paged listing.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Cursors {
    #[serde(default)]
    pub after: Option<String>,
}

/// An account's IP list (`/accounts/{id}/rules/lists`), the part ddflare uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpList {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub description: String,
}

/// One item of an IP list: `ip` as Cloudflare holds it (an address or a CIDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub id: String,
    pub ip: String,
    pub comment: Option<String>,
}

/// The part of a zone ddflare uses.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
}

impl Zone {
    /// How messages name the zone: its name, else (a configured `zone_id` alone) its id.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!("zone {}", shown_id(&self.id))
        } else {
            self.name.clone()
        }
    }
}

/// Record and zone names compare case-insensitively, without a trailing dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// `records` with each id once, in listing order (the first of a repeated id wins): a record
/// listed twice must not look like its own duplicate.
pub fn unique_ids(records: &[Record]) -> Vec<Record> {
    // A BTreeSet<&str>, a type the binary has anyway: no hash table compiled for this one.
    let mut seen = std::collections::BTreeSet::new();
    records
        .iter()
        .filter(|r| seen.insert(r.id.as_str()))
        .cloned()
        .collect()
}

/// A DNS record as Cloudflare returns it (the fields ddflare reads).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub content: String,
    #[serde(default)]
    pub proxiable: Option<bool>,
    #[serde(default)]
    pub proxied: bool,
    #[serde(default = "auto_ttl")]
    pub ttl: u32,
    #[serde(default)]
    pub comment: Option<String>,
}

fn auto_ttl() -> u32 {
    1
}

/// `result` of `/user/tokens/verify` and `/accounts/{id}/tokens/verify`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub not_before: Option<String>,
    #[serde(default)]
    pub expires_on: Option<String>,
}

/// Body of a create (POST) and of a batch `posts` entry. `ttl` is required by the current
/// schema, so it is always sent (1 = automatic, Cloudflare's own default).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub content: String,
    pub ttl: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A partial update: only the fields that must change are sent, so settings made in the
/// dashboard survive (a PUT would reset them).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RecordPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl RecordPatch {
    pub fn is_empty(&self) -> bool {
        *self == RecordPatch::default()
    }

    /// What Cloudflare does with a PATCH: the fields sent replace, the others stay.
    pub fn apply_to(&self, record: &mut Record) {
        if let Some(c) = &self.content {
            record.content.clone_from(c);
        }
        if let Some(t) = self.ttl {
            record.ttl = t;
        }
        if let Some(p) = self.proxied {
            record.proxied = p;
        }
        if let Some(c) = &self.comment {
            record.comment = Some(c.clone());
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BatchPatch {
    pub id: String,
    #[serde(flatten)]
    pub patch: RecordPatch,
}

/// `POST /zones/{id}/dns_records/batch`: applied deletes → patches → puts → posts, all or
/// nothing.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BatchRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<IdOnly>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<BatchPatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub posts: Vec<NewRecord>,
}

impl BatchRequest {
    pub fn len(&self) -> usize {
        self.deletes.len() + self.patches.len() + self.posts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Deletes may come back as full records or as `{"id"}` only: keep just the id.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Deleted {
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct BatchResult {
    #[serde(default)]
    pub deletes: Vec<Deleted>,
    #[serde(default)]
    pub patches: Vec<Record>,
    #[serde(default)]
    pub puts: Vec<Record>,
    #[serde(default)]
    pub posts: Vec<Record>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_32_lowercase_hex_characters_are_an_id() {
        assert!(is_id("023e105f4ecef8ad9ca31a8372d0c353"));
        for bad in [
            "",
            ".",
            "..",
            "023e105f4ecef8ad9ca31a8372d0c35",
            "023e105f4ecef8ad9ca31a8372d0c3533",
            "023E105F4ECEF8AD9CA31A8372D0C353",
            "023e105f4ecef8ad9ca31a8372d0c35g",
            "example.com",
            "../../user/tokens/verify0000000",
            "023e105f4ecef8ad9ca31a8372d0c3/.",
        ] {
            assert!(!is_id(bad), "{bad:?}");
        }
        assert_eq!(shown_id("a\nb"), "a\\nb");
        assert_eq!(shown_id(&"x".repeat(50)), format!("{}…", "x".repeat(40)));
    }
}
