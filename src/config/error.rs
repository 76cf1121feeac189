//! [`ConfigError`], the one error type of the configuration layer, and the helpers that turn a
//! byte offset in the file into `file:line` and a [`ReadError`] into a message that names its key.
//!
//! Messages never quote the raw document: toml's own `Display` prints the offending line, which
//! may be the `api_token` line, so only its `message()` and span are used. And whatever a
//! message quotes passes through [`clean`]: a URL's userinfo and query values and token-shaped
//! values redacted (a token pasted into the wrong key, when none is configured to scrub),
//! control characters escaped, the length bounded.

use std::fmt;

use super::read::{self, ReadError};
use crate::text;

/// The longest message (or hint) shown, in characters: far above any of ddflare's own, so only
/// a huge quoted value is cut.
const SHOWN_MAX: usize = 1000;

/// A key, message or origin fit to show: see the module's doc.
fn clean(s: &str) -> String {
    text::bounded(&text::redact(s), SHOWN_MAX)
}

/// [`clean`] for a hint, which may span lines (an example table).
fn clean_lines(s: &str) -> String {
    text::bounded_lines(&text::redact(s), SHOWN_MAX)
}

/// Where a problem was found: `origin:line[:column]`, or just `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (as given), or a description such as `$CREDENTIALS_DIRECTORY/cloudflare_api_token`.
    pub origin: String,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// 1-based column (in characters), for syntax errors.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// A configuration the user must fix. The CLI prints its `Display` and exits 78 (EX_CONFIG).
///
/// Rendered as `location: key: message` followed by `hint: …` on its own line, for example
/// `ddflare.toml:14: defaults.ttl: expected "auto" or … from 60 to 86400, found 5`.
/// No part of it ever holds the API token or a piece of it (Debug included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(self.0.location.as_ref(), &self.0.key, &self.0.message, self.0.hint.as_deref()))]
pub struct ConfigError(Box<Detail>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Detail {
    location: Option<Location>,
    key: String,
    message: String,
    hint: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(
        location: Option<Location>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError(Box::new(Detail {
            location: location.map(|l| Location {
                origin: clean(&l.origin),
                ..l
            }),
            key: clean(&key.into()),
            message: clean(&message.into()),
            hint: None,
        }))
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(clean_lines(&hint.into()));
        self
    }

    pub(crate) fn maybe_hint(self, hint: Option<String>) -> Self {
        match hint {
            Some(h) => self.hint(h),
            None => self,
        }
    }

    /// The file and line, or `None` when the value came from the environment (then
    /// [`key`](Self::key) is the variable) or concerns the configuration as a whole.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// The dotted key (`record[2].name`, 1-based index), the environment variable, or empty.
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// What was expected and what was found.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The next step, when there is one.
    pub fn hint_text(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// The 1-based line in the file, when the problem has one.
    pub fn line(&self) -> Option<usize> {
        self.0.location.as_ref().and_then(|l| l.line)
    }

    /// Replaces every occurrence of each secret with `[redacted]`: a last line of defence, the
    /// messages are built not to quote tokens in the first place.
    pub(crate) fn scrub(mut self, secrets: &[String]) -> Self {
        let d = &mut self.0;
        for secret in secrets.iter().filter(|s| s.len() >= MIN_SCRUB) {
            let s = secret.as_str();
            d.key = d.key.replace(s, "[redacted]");
            d.message = d.message.replace(s, "[redacted]");
            if let Some(h) = d.hint.as_mut() {
                *h = h.replace(s, "[redacted]");
            }
            if let Some(l) = d.location.as_mut() {
                l.origin = l.origin.replace(s, "[redacted]");
            }
        }
        self
    }
}

/// Shorter "secrets" are not scrubbed: they would mangle ordinary words, and no valid token is
/// that short.
pub(crate) const MIN_SCRUB: usize = 8;

/// Replaces each secret in a warning with `[redacted]`.
pub(crate) fn scrub_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= MIN_SCRUB) {
        out = out.replace(secret.as_str(), "[redacted]");
    }
    out
}

/// `location: key: message`, then `hint: …` on the next line, each part [`clean`]. Also used
/// for warnings.
pub(crate) fn render(
    location: Option<&Location>,
    key: &str,
    message: &str,
    hint: Option<&str>,
) -> String {
    let mut out = String::new();
    if let Some(location) = location {
        out.push_str(&clean(&location.to_string()));
        out.push_str(": ");
    }
    if !key.is_empty() {
        out.push_str(&clean(key));
        out.push_str(": ");
    }
    out.push_str(&clean(message));
    if let Some(hint) = hint {
        out.push_str("\nhint: ");
        out.push_str(&clean_lines(hint));
    }
    out
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside a
/// character are clamped, never a panic.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// What the text says about the place of an offset: the table header above it (with the
/// 1-based index of the `[[record]]` it is in) and the key on its line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Context {
    /// `defaults`, `record[2]`, … or empty at the top level.
    pub table: String,
    /// The key before `=` on the offset's line, when there is one.
    pub key: Option<String>,
    /// True when the offset is on a table header line.
    pub on_header: bool,
}

impl Context {
    /// The dotted path `table.key`, or whichever part is known.
    pub fn path(&self) -> String {
        match (&self.key, self.table.is_empty()) {
            (Some(k), false) if !self.on_header => format!("{}.{k}", self.table),
            (Some(k), true) if !self.on_header => k.clone(),
            _ => self.table.clone(),
        }
    }
}

/// A line-based look at the text around an offset. Heuristic (multi-line strings can fool it)
/// but only used to name keys in messages.
pub(crate) fn context_at(text: &str, offset: usize) -> Context {
    let mut ctx = Context::default();
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut pos = 0usize;
    for line in text.split('\n') {
        let end = pos + line.len();
        let trimmed = line.trim();
        if let Some(header) = header_name(trimmed) {
            if header.array && ARRAY_TABLES.contains(&header.name.as_str()) {
                let n = match counts.iter_mut().find(|(name, _)| *name == header.name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((header.name.clone(), 1));
                        1
                    }
                };
                ctx.table = format!("{}[{n}]", header.name);
            } else {
                ctx.table = header.name;
            }
        }
        if offset <= end {
            ctx.on_header = header_name(trimmed).is_some();
            if !ctx.on_header {
                ctx.key = key_of_line(trimmed);
            }
            return ctx;
        }
        pos = end + 1;
    }
    ctx
}

struct Header {
    name: String,
    array: bool,
}

fn header_name(trimmed: &str) -> Option<Header> {
    let (inner, array) = if let Some(rest) = trimmed.strip_prefix("[[") {
        (rest.split("]]").next()?, true)
    } else if let Some(rest) = trimmed.strip_prefix('[') {
        (rest.split(']').next()?, false)
    } else {
        return None;
    };
    let name: String = inner
        .split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".");
    Some(Header { name, array })
}

fn key_of_line(trimmed: &str) -> Option<String> {
    if trimmed.starts_with('#') {
        return None;
    }
    let (key, _) = trimmed.split_once('=')?;
    let key: String = key
        .split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".");
    let plausible = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plausible.then_some(key)
}

/// Every key ddflare knows, by table: used for "did you mean" hints.
pub(crate) const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "cloudflare",
            "credentials",
            "gateway_location",
            "detect",
            "schedule",
            "state",
            "defaults",
            "record",
            "list",
            "metrics",
            "alerts",
            "notify",
            "monitor",
            "log",
            "process",
            "push",
        ],
    ),
    (
        "cloudflare",
        &[
            "api_token",
            "api_token_file",
            "api_email",
            "api_key",
            "api_key_file",
            "api_url",
            "ca_file",
            "request_timeout",
            "max_retries",
        ],
    ),
    ("credentials", &["name", "api_token", "api_token_file"]),
    (
        "gateway_location",
        &["account_id", "location_id", "credentials"],
    ),
    (
        "detect",
        &[
            "ipv4",
            "ipv6",
            "timeout",
            "strategy",
            "allow_private",
            "ipv6_prefix_len",
            "trace_url",
            "dns_servers",
            "doh_url",
            "ipv4_accept",
            "ipv4_reject",
            "ipv6_accept",
            "ipv6_reject",
        ],
    ),
    (
        "schedule",
        &[
            "interval",
            "cycle_deadline",
            "shutdown_grace",
            "cron",
            "jitter",
            "update_on_start",
            "timezone",
        ],
    ),
    ("state", &["dir", "max_age"]),
    (
        "defaults",
        &[
            "ttl",
            "proxied",
            "comment",
            "ipv4",
            "ipv6",
            "ownership",
            "delete_on_stop",
        ],
    ),
    (
        "record",
        &[
            "name",
            "zone",
            "zone_id",
            "ipv4",
            "ipv6",
            "ttl",
            "proxied",
            "comment",
            "ipv6_host",
            "ownership",
            "delete_on_stop",
            "credentials",
        ],
    ),
    (
        "list",
        &[
            "account_id",
            "name",
            "description",
            "ipv4",
            "ipv6",
            "comment",
            "credentials",
        ],
    ),
    ("metrics", &["listen"]),
    (
        "alerts",
        &[
            "after_failed_rounds",
            "after",
            "remind_every",
            "max_per_hour",
        ],
    ),
    ("notify", &["url", "server", "events"]),
    ("monitor", &["url", "kind"]),
    ("log", &["quiet"]),
    ("process", &["user", "drop_privileges"]),
    ("push", &["listen", "trusted_proxies", "client"]),
    (
        "push.client",
        &["user", "password_file", "password_hash", "hostnames"],
    ),
];

/// The tables written `[[name]]`, one per item.
pub(crate) const ARRAY_TABLES: &[&str] = &[
    "record",
    "list",
    "notify",
    "monitor",
    "credentials",
    "gateway_location",
];

/// Levenshtein distance, for short key names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// A hint for an unknown key `unknown` in table `table` (`record[2]` counts as `record`).
pub(crate) fn unknown_key_hint(table: &str, unknown: &str) -> Option<String> {
    let table = table.split('[').next().unwrap_or(table);
    let known = KNOWN_KEYS
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(&[][..], |(_, k)| *k);
    let lower = unknown.to_ascii_lowercase();
    let best = known
        .iter()
        .map(|k| (distance(&lower, k), *k))
        .min_by_key(|(d, _)| *d);
    if let Some((d, k)) = best
        && d <= (k.len() / 3).max(1)
    {
        return Some(if table.is_empty() && k == "record" {
            "did you mean `[[record]]`? Each record is its own `[[record]]` table".to_owned()
        } else {
            format!("did you mean `{k}`?")
        });
    }
    // Known elsewhere: say where it belongs.
    let homes: Vec<&str> = KNOWN_KEYS
        .iter()
        .filter(|(t, keys)| *t != table && !t.is_empty() && keys.contains(&lower.as_str()))
        .map(|(t, _)| *t)
        .collect();
    if !homes.is_empty() {
        let list = homes
            .iter()
            .map(|t| {
                if ARRAY_TABLES.contains(t) {
                    format!("[[{t}]]")
                } else {
                    format!("[{t}]")
                }
            })
            .collect::<Vec<_>>()
            .join(" or ");
        return Some(format!("`{lower}` belongs in {list}"));
    }
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if list.is_empty() {
        None
    } else if table.is_empty() {
        Some(format!("the tables are {list}"))
    } else if ARRAY_TABLES.contains(&table) {
        Some(format!("the keys of [[{table}]] are {list}"))
    } else {
        Some(format!("the keys of [{table}] are {list}"))
    }
}

/// Turns a [`ReadError`] into a [`ConfigError`] naming the key, its line and the next step.
pub(crate) fn from_read(err: &ReadError, text: &str, origin: &str) -> ConfigError {
    let at = |offset: usize| {
        Some(Location {
            origin: origin.to_owned(),
            line: Some(line_col(text, offset).0),
            column: None,
        })
    };
    match err {
        ReadError::Syntax(e) => from_toml(e, text, origin),
        ReadError::Unknown {
            table,
            key,
            span,
            is_table,
        } => {
            let what = if *is_table {
                "unknown table"
            } else {
                "unknown key"
            };
            let leaf = key.rsplit('.').next().unwrap_or(key);
            ConfigError::new(at(span.start), key.clone(), what)
                .maybe_hint(unknown_key_hint(table, leaf))
        }
        ReadError::Type {
            key,
            span,
            expected,
            found,
        } => {
            let location = at(span.start);
            if *expected == read::ARRAY_OF_TABLES {
                let found = if found == "a table" {
                    format!("a single `[{key}]` table")
                } else {
                    found.clone()
                };
                return ConfigError::new(
                    location,
                    key.clone(),
                    format!("expected `[[{key}]]` tables, found {found}"),
                )
                .hint(format!(
                    "write `[[{key}]]` (double brackets) above each {key}"
                ));
            }
            let e = ConfigError::new(
                location,
                key.clone(),
                format!("expected {expected}, found {found}"),
            );
            let leaf = key.rsplit('.').next().unwrap_or("");
            if *expected == read::A_BOOLEAN && matches!(leaf, "proxied" | "ipv4" | "ipv6") {
                e.hint("write true or false, without quotes")
            } else if *expected == read::A_DURATION && found.starts_with("integer") {
                e.hint("add a unit, e.g. \"300s\" or \"5m\"")
            } else if *expected == read::A_TABLE && !key.contains('[') {
                e.hint(format!(
                    "`{key}` is a table: write `[{key}]` on its own line"
                ))
            } else {
                e
            }
        }
    }
}

/// Turns a toml syntax error (or a duplicate key) into a [`ConfigError`] with the line and
/// column, naming the key the text shows there.
fn from_toml(err: &toml::de::Error, text: &str, origin: &str) -> ConfigError {
    let message = err.message();
    let offset = err.span().map_or(text.len(), |s| s.start);
    let (line, column) = line_col(text, offset);
    let location = Location {
        origin: origin.to_owned(),
        line: Some(line),
        column: Some(column),
    };
    let key = context_at(text, offset).path();
    let e = ConfigError::new(Some(location), key, format!("TOML syntax error: {message}"));
    if message == "duplicate key" {
        e.hint("each key may appear once per table; remove one of them")
    } else if message.contains("must be quoted") {
        e.hint("put text values in double quotes, e.g. `name = \"home.example.com\"`")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_clamps() {
        assert_eq!(line_col("", 5), (1, 1));
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("é\n", 1), (1, 1));
        assert_eq!(line_col("ab\ncd\n", 100), (3, 1));
    }

    #[test]
    fn context_names_record_index() {
        let text = "[defaults]\nttl = 5\n[[record]]\nname = \"a\"\n[[record]]\nname = \"b\"\n";
        let off = text.rfind("name").unwrap_or(0);
        let ctx = context_at(text, off);
        assert_eq!(ctx.path(), "record[2].name");
        assert_eq!(context_at(text, 12).path(), "defaults.ttl");
        assert_eq!(context_at(text, 1).path(), "defaults");
    }

    #[test]
    fn hints_for_unknown_keys() {
        assert_eq!(
            unknown_key_hint("defaults", "ttll").as_deref(),
            Some("did you mean `ttl`?")
        );
        assert_eq!(
            unknown_key_hint("defaults", "interval").as_deref(),
            Some("`interval` belongs in [schedule]")
        );
        assert!(
            unknown_key_hint("", "records")
                .unwrap_or_default()
                .contains("[[record]]")
        );
        assert!(
            unknown_key_hint("record[2]", "zoneid")
                .unwrap_or_default()
                .contains("zone_id")
        );
    }

    #[test]
    fn scrub_replaces_secrets_everywhere() {
        let secret = "s3cr3t-token-value".to_owned();
        let e = ConfigError::new(
            Some(Location {
                origin: format!("/etc/{secret}.toml"),
                line: Some(1),
                column: None,
            }),
            format!("k.{secret}"),
            format!("found {secret}"),
        )
        .hint(format!("not {secret}"))
        .scrub(std::slice::from_ref(&secret));
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(!format!("{e:?}").contains("s3cr3t"));
        assert_eq!(
            scrub_text("a s3cr3t-token-value b", &[secret]),
            "a [redacted] b"
        );
        // Short values are left alone: they are not tokens and would mangle words.
        let e = ConfigError::new(None, "name", "x").scrub(&["name".to_owned()]);
        assert_eq!(e.key(), "name");
    }

    #[test]
    fn render_with_and_without_parts() {
        let e = ConfigError::new(
            Some(Location {
                origin: "f.toml".into(),
                line: Some(3),
                column: None,
            }),
            "defaults.ttl",
            "bad",
        )
        .hint("fix it");
        assert_eq!(e.to_string(), "f.toml:3: defaults.ttl: bad\nhint: fix it");
        let e = ConfigError::new(None, "DDFLARE_TTL", "bad");
        assert_eq!(e.to_string(), "DDFLARE_TTL: bad");
    }

    #[test]
    fn quoted_values_are_redacted_escaped_and_bounded() {
        let token = "Kq7_pastedTOKENpastedTOKENpasted-9876543";
        let e = ConfigError::new(
            None,
            "cloudflare.api_url",
            format!("expected an http(s) URL, found \"{token}\""),
        )
        .hint(format!(
            "not https://admin:PW@x/?k={token}\n  [[record]]\x1b"
        ));
        let shown = e.to_string();
        assert!(!shown.contains(token), "{shown}");
        assert!(!shown.contains("PW"), "{shown}");
        assert_eq!(
            shown,
            "cloudflare.api_url: expected an http(s) URL, found \"[redacted]\"\n\
             hint: not https://[redacted]@x/?k=[redacted]\n  [[record]]\\u{1b}"
        );
        // A message on one line, bounded.
        let e = ConfigError::new(None, "k", format!("found \"{}\"", "a\nb".repeat(2000)));
        assert!(!e.to_string().contains('\n'), "{e}");
        assert!(e.to_string().chars().count() < 1100);
        // Warnings too.
        let w = render(None, "record[1].name", &format!("\"{token}\" \r"), None);
        assert_eq!(w, "record[1].name: \"[redacted]\" \\r");
    }
}
