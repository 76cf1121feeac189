//! Pure validators for single values: durations, TTLs, provider lists, DNS names, zone IDs,
//! comments and URLs. Each returns a [`Problem`] (what was expected, what was found, maybe a
//! hint); `build.rs` adds the key and the line.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::model::Ttl;
use super::raw::defaults;
use crate::detect::ProviderSpec;

/// A value that does not fit, before it is tied to a key and a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// `5m`, `1h 30m`, as humantime prints them.
pub fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A humane duration: `"30s"`, `"5m"`, `"1h30m"`. At most [`defaults::MAX_DURATION`].
pub fn duration(text: &str) -> Result<Duration, Problem> {
    let t = text.trim();
    let expected = "expected a duration such as \"30s\", \"5m\" or \"1h30m\"";
    if t.is_empty() {
        return Err(Problem::new(format!("{expected}, found an empty string")));
    }
    match humantime::parse_duration(t) {
        Ok(d) if d > defaults::MAX_DURATION => Err(Problem::new(format!(
            "expected at most {}, found \"{t}\"",
            show(defaults::MAX_DURATION)
        ))),
        Ok(d) => Ok(d),
        Err(e) => {
            let p = Problem::new(format!("{expected}, found \"{}\" ({e})", t.escape_debug()));
            if t.chars().all(|c| c.is_ascii_digit()) {
                Err(p.hint(format!(
                    "add a unit: \"{t}s\" for seconds, \"{t}m\" for minutes"
                )))
            } else if t.starts_with('-') {
                Err(p.hint("durations cannot be negative"))
            } else {
                Err(p)
            }
        }
    }
}

/// A TTL as given: an integer from the file, or a string (from the file or the environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtlInput {
    Int(i64),
    Str(String),
}

/// The expected part of every TTL message.
const TTL_EXPECTED: &str = "expected \"auto\" or a whole number of seconds from 60 to 86400";

/// Validates a TTL. `from_env`: a numeric string is then the normal form. Returns a warning for
/// 30..=59 (Enterprise only).
pub fn ttl(input: &TtlInput, from_env: bool) -> Result<(Ttl, Option<String>), Problem> {
    let n = match input {
        TtlInput::Int(n) => *n,
        TtlInput::Str(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("auto") {
                return Ok((Ttl::Auto, None));
            }
            match t.parse::<i64>() {
                Ok(n) if from_env => n,
                Ok(n) => {
                    return Err(
                        Problem::new(format!("{TTL_EXPECTED}, found the string \"{t}\""))
                            .hint(format!("remove the quotes: ttl = {n}")),
                    );
                }
                Err(_) => {
                    let p = Problem::new(format!("{TTL_EXPECTED}, found \"{t}\""));
                    return Err(match humantime::parse_duration(t) {
                        Ok(d) => p.hint(format!(
                            "the TTL is in seconds: write {}",
                            if from_env {
                                d.as_secs().to_string()
                            } else {
                                format!("ttl = {}", d.as_secs())
                            }
                        )),
                        Err(_) => p,
                    });
                }
            }
        }
    };
    match n {
        defaults::TTL_MIN..=defaults::TTL_MAX => Ok((Ttl::Seconds(secs(n)), None)),
        defaults::TTL_MIN_ENTERPRISE..=59 => Ok((
            Ttl::Seconds(secs(n)),
            Some(format!(
                "a TTL of {n}s needs an Enterprise plan; Cloudflare rejects TTLs below 60 on other plans"
            )),
        )),
        1 => Err(Problem::new(format!("{TTL_EXPECTED}, found 1"))
            .hint("Cloudflare's API uses 1 for automatic; write \"auto\"")),
        _ => Err(Problem::new(format!("{TTL_EXPECTED}, found {n}"))),
    }
}

fn secs(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A provider list. `["none"]` (any case) is the empty list; `"none"` with others, an empty
/// list, or a bad provider is an error.
pub fn providers(items: &[String]) -> Result<Vec<ProviderSpec>, Problem> {
    let is_none = |s: &String| s.trim().eq_ignore_ascii_case("none");
    if items.is_empty() {
        return Err(
            Problem::new("expected at least one provider, found an empty list")
                .hint("write \"none\" to turn this address family off"),
        );
    }
    if items.iter().any(is_none) {
        if items.len() == 1 {
            return Ok(Vec::new());
        }
        return Err(Problem::new(
            "expected either \"none\" alone or a list of providers, found \"none\" mixed with providers",
        )
        .hint("remove \"none\" to use the providers, or keep only \"none\" to turn the family off"));
    }
    items
        .iter()
        .map(|s| {
            s.parse::<ProviderSpec>().map_err(|e| {
                let p = Problem::new(format!("expected {e}"));
                if s.contains(',') {
                    p.hint("in the file, write one provider per list item: [\"cloudflare.trace\", \"url:https://…\"]")
                } else {
                    p
                }
            })
        })
        .collect()
}

/// A server address: `1.1.1.1`, `1.1.1.1:53`, `2606:4700:4700::1111` or
/// `[2606:4700:4700::1111]:53`; `default_port` when none is given.
pub fn server_addr(text: &str, default_port: u16) -> Result<SocketAddr, Problem> {
    let t = text.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    match t.parse::<SocketAddr>() {
        Ok(a) if a.port() != 0 => Ok(a),
        _ => Err(Problem::new(format!(
            "expected an IP address with an optional port, such as \"1.1.1.1\" or \"[2606:4700:4700::1111]:53\", found \"{}\"",
            t.escape_debug()
        ))
        .hint("give an address, not a host name: the resolver cannot be looked up by name")),
    }
}

/// UTS #46 ToASCII, nontransitional (`ß` stays `ß`, as browsers, `idn2` and the registries
/// have looked names up since Unicode 15.1 deprecated transitional processing): mapping
/// (`x²` → `x2`, `Ｂ` → `b`, `｡` → `.`), NFC, the validity, bidi and joiner rules, then
/// Punycode. The ASCII rules are ddflare's own, checked afterwards on the result (`_` and `*`
/// are allowed, a label never starts or ends with `-`), so the flags here only ever refuse
/// less: a name accepted maps exactly as UTS #46 maps it. With the third and fourth hyphens
/// allowed (CheckHyphens off), UTS #46 refuses a label that decodes to `xn--…` (V4), which
/// `idna` leaves out: checked here.
#[cfg(feature = "idn")]
pub fn uts46_to_ascii(name: &str) -> Result<String, idna::Errors> {
    use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
    let ascii = Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::CheckFirstLast,
            DnsLength::Ignore,
        )?
        .into_owned();
    let decodes_to_xn = |label: &str| {
        label
            .strip_prefix("xn--")
            .and_then(idna::punycode::decode_to_string)
            .is_some_and(|u| u.starts_with("xn--"))
    };
    if ascii.split('.').any(decodes_to_xn) {
        return Err(idna::Errors::default());
    }
    Ok(ascii)
}

/// Without the `idn` feature (the router builds): ASCII names only. An `xn--` label must
/// decode as Punycode to non-ASCII text without control characters or spaces (and not to
/// `xn--…` again); UTS #46's other rules need the tables left out, so the `idn` build is the
/// stricter one.
#[cfg(not(feature = "idn"))]
pub fn uts46_to_ascii(name: &str) -> Result<String, idna::Errors> {
    let lower = name.to_ascii_lowercase();
    let bad_xn = |label: &str| {
        label.strip_prefix("xn--").is_some_and(|p| {
            idna::punycode::decode_to_string(p).is_none_or(|u| {
                u.is_ascii()
                    || u.starts_with("xn--")
                    || u.chars().any(|c| c.is_control() || c.is_whitespace())
            })
        })
    };
    if !name.is_ascii() || lower.split('.').any(bad_xn) {
        return Err(idna::Errors::default());
    }
    Ok(lower)
}

/// Why UTS #46 refused `name`: the first label it refuses on its own, when one does (the bidi
/// rule spans labels, so none may).
fn uts46_refusal(name: &str) -> String {
    if cfg!(not(feature = "idn")) && !name.is_ascii() {
        return "which is not ASCII: this build of ddflare has no IDN support (built without \
                the `idn` feature, as the router builds are)"
            .to_owned();
    }
    let separators = ['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'];
    let label = name
        .split(separators)
        .find(|l| !l.is_empty() && uts46_to_ascii(l).is_err());
    let what = "is refused by UTS #46 (the IDNA rules browsers and resolvers use)";
    match label {
        Some(l) => format!("whose label \"{}\" {what}", l.escape_debug()),
        None => format!(
            "which {what}: its labels break the rule for mixing right-to-left and \
             left-to-right text"
        ),
    }
}

/// A record or zone name to lowercase ASCII: IDN to punycode, trailing dot removed, at least
/// two labels, labels of 1..=63 letters, digits, `-` or `_` (no `-` at either end), at most
/// 253 characters. `*` is allowed as the first label when `wildcard`.
pub fn dns_name(text: &str, wildcard: bool) -> Result<String, Problem> {
    let expected = "expected a fully qualified domain name such as \"home.example.com\"";
    if text.is_empty() {
        return Err(Problem::new(format!("{expected}, found an empty string")));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(Problem::new(format!(
            "{expected}, found \"{}\", which contains whitespace",
            text.escape_debug()
        )));
    }
    let found = format!("found \"{}\"", text.escape_debug());
    if text.contains("://") || text.contains('/') {
        return Err(Problem::new(format!("{expected}, {found}"))
            .hint("give the name only, without a scheme or a path"));
    }
    let (star, rest) = match text.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let has_xn = |t: &str| {
        t.split('.')
            .any(|l| l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
    };
    let mapped = if rest.is_ascii() && !has_xn(rest) {
        rest.to_ascii_lowercase()
    } else {
        uts46_to_ascii(rest).map_err(|_| {
            let hint = if cfg!(feature = "idn") || rest.is_ascii() {
                "ddflare maps names as browsers do (UTS #46); `idn2 --uts46 NAME` (GNU libidn2) \
                 says why it refuses one, and prints the xn-- form of one it accepts"
            } else {
                "write the name in its ASCII `xn--` form, which `idn2 --uts46 NAME` (GNU \
                 libidn2) prints, e.g. \"xn--bcher-kva.example\" for \"bücher.example\""
            };
            Problem::new(format!("{expected}, {found}, {}", uts46_refusal(rest))).hint(hint)
        })?
    };
    let rest = mapped.strip_suffix('.').unwrap_or(&mapped);
    // What the name became, when mapping changed more than case: shown with a refusal.
    let became = if mapped.eq_ignore_ascii_case(text.strip_prefix("*.").unwrap_or(text)) {
        String::new()
    } else {
        format!(" (\"{rest}\" after UTS #46 mapping)")
    };
    let found = format!("{found}{became}");
    if star && !wildcard {
        return Err(Problem::new(format!("expected a zone name, {found}"))
            .hint("a wildcard `*` is only allowed in record names"));
    }
    if rest.contains('*') {
        return Err(Problem::new(format!(
            "{expected}, {found}: `*` is only allowed as the whole first label, as in \"*.example.com\""
        )));
    }
    if rest.parse::<IpAddr>().is_ok() {
        return Err(Problem::new(format!("{expected}, {found}, an IP address"))
            .hint("the name is the DNS record to update; its address is detected (see [detect])"));
    }
    let ascii = if star {
        format!("*.{rest}")
    } else {
        rest.to_owned()
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(Problem::new(format!(
            "{expected}, {found}, which has an empty label"
        )));
    }
    if labels.len() < 2 {
        return Err(
            Problem::new(format!("{expected}, {found}, which has a single label"))
                .hint("give the full name including the zone, e.g. \"home.example.com\""),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        if i == 0 && star && *label == "*" {
            continue;
        }
        if label.len() > 63 {
            return Err(Problem::new(format!(
                "{expected}, {found}, which has a label of {} characters (at most 63)",
                label.len()
            )));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_')))
        {
            return Err(Problem::new(format!(
                "{expected}, {found}, which contains `{}`",
                c.escape_debug()
            )));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Problem::new(format!(
                "{expected}, {found}: a label cannot start or end with `-`"
            )));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(Problem::new(format!(
            "{expected}, {found}, whose last label is numeric"
        )));
    }
    if ascii.len() > 253 {
        return Err(Problem::new(format!(
            "{expected}, {found}, which is {} characters long (at most 253)",
            ascii.len()
        )));
    }
    Ok(ascii)
}

/// A Cloudflare zone ID: 32 lowercase hex characters.
pub fn zone_id(text: &str) -> Result<String, Problem> {
    let expected = "expected a zone ID of 32 lowercase hexadecimal characters";
    let all_hex = text.chars().all(|c| c.is_ascii_hexdigit());
    if text.len() == 32 && all_hex && !text.chars().any(|c| c.is_ascii_uppercase()) {
        return Ok(text.to_owned());
    }
    let p = Problem::new(format!(
        "{expected}, found \"{}\" ({} characters)",
        text.escape_debug(),
        text.chars().count()
    ));
    if text.len() == 32 && all_hex {
        Err(p.hint("write it in lowercase"))
    } else {
        Err(p.hint(
            "copy the Zone ID from the zone's Overview page in the dashboard, or remove zone_id to look the zone up by name",
        ))
    }
}

/// A record comment: at most 100 characters, on one line.
pub fn comment(text: &str) -> Result<String, Problem> {
    if text.contains(['\n', '\r']) {
        return Err(Problem::new(
            "expected a comment on a single line, found a line break",
        ));
    }
    let n = text.chars().count();
    if n > defaults::COMMENT_MAX {
        return Err(Problem::new(format!(
            "expected at most {} characters (the Free plan limit), found {n}",
            defaults::COMMENT_MAX
        )));
    }
    Ok(text.to_owned())
}

/// A parsed `scheme://host[:port]/path` URL (no user info, query or fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    /// As written in the URL (IPv6 with brackets), lowercase.
    pub host: String,
    pub port: Option<u16>,
    /// Without a trailing slash; empty or starting with `/`.
    pub path: String,
}

impl Url {
    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    pub fn to_string_normalized(&self) -> String {
        format!("{}{}", self.origin(), self.path)
    }

    /// 127.0.0.0/8, ::1 or `localhost`.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => a.is_loopback(),
            Ok(IpAddr::V6(a)) => {
                a.is_loopback()
                    || a.to_ipv4_mapped()
                        .is_some_and(|v4: Ipv4Addr| v4.is_loopback())
            }
            Err(_) => false,
        }
    }
}

/// Parses an http(s) URL strictly enough for ddflare's needs.
pub fn url(text: &str) -> Result<Url, Problem> {
    let t = text.trim();
    let expected = "expected an http(s) URL such as \"https://api.cloudflare.com/client/v4\"";
    // Quoted without its userinfo or query values: they may be credentials.
    let found = format!("found \"{}\"", crate::text::redact_url(t).escape_debug());
    let bad = |why: &str| Problem::new(format!("{expected}, {found}{why}"));
    let Some((scheme, rest)) = t.split_once("://") else {
        return Err(bad(""));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(bad(", whose scheme is not http or https"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad(", which has a query or fragment"));
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(", which contains whitespace"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad(", which has user info")
            .hint("never put credentials in the URL; the token goes in api_token_file"));
    }
    let (host, port) = if let Some(after) = authority.strip_prefix('[') {
        let Some((inside, tail)) = after.split_once(']') else {
            return Err(bad(", whose IPv6 address lacks `]`"));
        };
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad(", whose IPv6 address is invalid"));
        }
        (
            format!("[{}]", inside.to_ascii_lowercase()),
            tail.strip_prefix(':'),
        )
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() || host.starts_with('.') || host.contains("..") {
        return Err(bad(", which has no valid host"));
    }
    if !host.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(bad(
            ", whose host has characters outside letters, digits, `.`, `-`, `_`",
        ));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(bad(", whose port is not a number from 1 to 65535")),
        },
    };
    let path = path.trim_end_matches('/').to_owned();
    Ok(Url {
        scheme,
        host,
        port,
        path,
    })
}

/// `api_url`: https, or http on loopback (the local emulator). Returns the URL without a
/// trailing slash, and the default trace URL derived from its origin.
pub fn api_url(text: &str) -> Result<(String, String), Problem> {
    let u = url(text)?;
    if u.scheme == "http" && !u.is_loopback() {
        return Err(Problem::new(format!(
            "expected an https URL (http only on 127.0.0.1, ::1 or localhost), found \"{}\"",
            crate::text::redact_url(text.trim()).escape_debug()
        ))
        .hint("the token would travel in clear text; use https"));
    }
    let trace = format!("{}{}", u.origin(), defaults::TRACE_PATH);
    Ok((u.to_string_normalized(), trace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T, Problem>) -> Problem {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(p) => p,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration(" 1h 30m "), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert!(
            err(duration("300"))
                .hint
                .unwrap_or_default()
                .contains("300s")
        );
        assert!(err(duration("")).message.contains("empty"));
        assert!(err(duration("5 parsecs")).message.contains("\"5 parsecs\""));
        assert!(err(duration("-5s")).hint.is_some());
        assert!(err(duration("400days")).message.contains("at most"));
        assert!(duration("99999999999999999999h").is_err());
    }

    #[test]
    fn ttl_edges() {
        let int = |n| ttl(&TtlInput::Int(n), false);
        let s = |v: &str| ttl(&TtlInput::Str(v.to_owned()), false);
        let e = |v: &str| ttl(&TtlInput::Str(v.to_owned()), true);
        assert!(int(29).is_err());
        assert!(matches!(int(30), Ok((Ttl::Seconds(30), Some(_)))));
        assert!(matches!(int(59), Ok((Ttl::Seconds(59), Some(_)))));
        assert_eq!(int(60), Ok((Ttl::Seconds(60), None)));
        assert_eq!(int(86400), Ok((Ttl::Seconds(86400), None)));
        assert!(int(86401).is_err());
        assert!(int(-1).is_err());
        assert!(int(0).is_err());
        assert!(err(int(1)).hint.unwrap_or_default().contains("auto"));
        assert_eq!(s("auto"), Ok((Ttl::Auto, None)));
        assert_eq!(s("AUTO"), Ok((Ttl::Auto, None)));
        assert!(err(s("5m")).hint.unwrap_or_default().contains("ttl = 300"));
        assert!(
            err(s("300"))
                .hint
                .unwrap_or_default()
                .contains("remove the quotes")
        );
        assert_eq!(e("300"), Ok((Ttl::Seconds(300), None)));
        assert_eq!(e("Auto"), Ok((Ttl::Auto, None)));
        assert!(err(e("5m")).hint.unwrap_or_default().contains("300"));
        assert!(e("-1").is_err());
        assert!(e("86401").is_err());
        assert!(err(int(i64::MIN)).message.contains("found"));
    }

    #[test]
    fn provider_lists() {
        let v =
            |items: &[&str]| providers(&items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(v(&["none"]), Ok(vec![]));
        assert_eq!(v(&["NONE"]), Ok(vec![]));
        assert_eq!(
            v(&["cloudflare.trace"]),
            Ok(vec![ProviderSpec::CloudflareTrace])
        );
        assert_eq!(
            v(&["static:203.0.113.7", "url:https://ip.example/"]),
            Ok(vec![
                ProviderSpec::Static(
                    "203.0.113.7"
                        .parse()
                        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
                ),
                ProviderSpec::Url {
                    url: "https://ip.example/".to_owned(),
                    via: None
                }
            ])
        );
        assert!(
            err(v(&["none", "cloudflare.trace"]))
                .message
                .contains("mixed")
        );
        assert!(err(v(&[])).hint.unwrap_or_default().contains("none"));
        assert!(err(v(&["ipify"])).message.contains("`ipify`"));
        assert!(err(v(&["static:nope"])).message.contains("IP address"));
    }

    #[test]
    #[cfg(feature = "idn")]
    fn names() {
        assert_eq!(
            dns_name("home.example.com", true).as_deref(),
            Ok("home.example.com")
        );
        assert_eq!(
            dns_name("Home.Example.COM.", true).as_deref(),
            Ok("home.example.com")
        );
        assert_eq!(
            dns_name("bücher.example", true).as_deref(),
            Ok("xn--bcher-kva.example")
        );
        assert_eq!(
            dns_name("BÜCHER.example", true).as_deref(),
            Ok("xn--bcher-kva.example")
        );
        assert_eq!(
            dns_name("*.example.com", true).as_deref(),
            Ok("*.example.com")
        );
        // Other scripts; the expected forms are what browsers and registries send.
        assert_eq!(
            dns_name("пример.рф", true).as_deref(),
            Ok("xn--e1afmkfd.xn--p1ai")
        );
        assert_eq!(
            dns_name("home.例子.测试", true).as_deref(),
            Ok("home.xn--fsqu00a.xn--0zwm56d")
        );
        assert_eq!(
            dns_name("ΠΑΡΆΔΕΙΓΜΑ.example", true).as_deref(),
            Ok("xn--hxajbheg2az3al.example")
        );
        assert_eq!(
            dns_name("straße.example", true).as_deref(),
            Ok("xn--strae-oqa.example")
        );
        // UTS #46 mapping, as browsers look the names up.
        for (given, ascii) in [
            ("bu\u{308}cher.example", "xn--bcher-kva.example"),
            ("ｈｏｍｅ.example", "home.example"),
            ("x².example", "x2.example"),
            ("ⅻ.example", "xii.example"),
            ("ﬁle.example", "file.example"),
            ("ⓐb.example", "ab.example"),
            ("हिन्दी.example", "xn--j2bd4cyah0f.example"),
            ("home｡example．com。", "home.example.com"),
            ("*.bücher｡example", "*.xn--bcher-kva.example"),
            ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
            ("ab--cd.example", "ab--cd.example"),
            ("♥.example", "xn--g6h.example"),
            ("مثال.example", "xn--mgbh0fb.example"),
        ] {
            assert_eq!(dns_name(given, true).as_deref(), Ok(ascii), "{given}");
        }
        // What UTS #46 refuses is refused, with the way to check it.
        for bad in [
            "xn--a.example",
            "a\u{200d}b.example",
            "\u{308}a.example",
            "xn--ß.example",
            "a\u{fffd}.example",
        ] {
            let e = err(dns_name(bad, true));
            assert!(e.message.contains("UTS #46"), "{bad}: {}", e.message);
            assert!(e.hint.unwrap_or_default().contains("idn2 --uts46"), "{bad}");
        }
        let e = err(dns_name("0a.\u{5d0}.example", true)).message;
        assert!(e.contains("right-to-left"), "{e}");
        // Mapped to ASCII that is no host name: refused, showing what it became.
        let e = err(dns_name("⑴.example", true)).message;
        assert!(e.contains("\"(1).example\" after UTS #46 mapping"), "{e}");
        assert!(dns_name("a\u{a0}b.example", true).is_err());
        assert_eq!(
            dns_name("_dmarc.example.com", true).as_deref(),
            Ok("_dmarc.example.com")
        );
        assert!(dns_name("*.example.com", false).is_err());
        assert!(dns_name("a.*.example.com", true).is_err());
        assert!(dns_name("a*.example.com", true).is_err());
        assert!(
            err(dns_name("localhost", true))
                .message
                .contains("single label")
        );
        assert!(err(dns_name("a..b", true)).message.contains("empty label"));
        assert!(dns_name("", true).is_err());
        assert!(dns_name(".", true).is_err());
        assert!(dns_name("a b.com", true).is_err());
        assert!(dns_name("-a.com", true).is_err());
        assert!(dns_name("a-.com", true).is_err());
        assert!(dns_name("a!.com", true).is_err());
        assert!(err(dns_name("https://a.com", true)).hint.is_some());
        assert!(
            err(dns_name("192.0.2.1", true))
                .message
                .contains("IP address")
        );
        let label63 = "a".repeat(63);
        assert!(dns_name(&format!("{label63}.com"), true).is_ok());
        assert!(dns_name(&format!("a{label63}.com"), true).is_err());
        let long = format!("{0}.{0}.{0}.{1}.com", label63, "a".repeat(57));
        assert_eq!(long.len(), 253);
        assert!(dns_name(&long, true).is_ok());
        assert!(dns_name(&format!("a{long}"), true).is_err());
    }

    #[test]
    fn zone_ids() {
        let id = "023e105f4ecef8ad9ca31a8372d0c353";
        assert_eq!(zone_id(id).as_deref(), Ok(id));
        assert!(
            err(zone_id(&id.to_uppercase()))
                .hint
                .unwrap_or_default()
                .contains("lowercase")
        );
        assert!(zone_id("abc").is_err());
        assert!(zone_id(&format!("{id}0")).is_err());
        assert!(zone_id("023e105f4ecef8ad9ca31a8372d0c35g").is_err());
    }

    #[test]
    fn comments() {
        assert_eq!(comment("").as_deref(), Ok(""));
        assert!(comment(&"x".repeat(100)).is_ok());
        assert!(comment(&"é".repeat(100)).is_ok());
        assert!(comment(&"x".repeat(101)).is_err());
        assert!(comment("a\nb").is_err());
        assert!(comment("a\rb").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            api_url("https://api.cloudflare.com/client/v4/"),
            Ok((
                "https://api.cloudflare.com/client/v4".to_owned(),
                "https://api.cloudflare.com/cdn-cgi/trace".to_owned()
            ))
        );
        assert_eq!(
            api_url("http://127.0.0.1:8787/client/v4"),
            Ok((
                "http://127.0.0.1:8787/client/v4".to_owned(),
                "http://127.0.0.1:8787/cdn-cgi/trace".to_owned()
            ))
        );
        assert!(api_url("http://127.8.9.10/").is_ok());
        assert!(api_url("http://[::1]:99/x").is_ok());
        assert!(api_url("http://LOCALHOST:1/x").is_ok());
        assert!(err(api_url("http://example.com/")).hint.is_some());
        assert!(api_url("http://10.0.0.1/").is_err());
        assert!(api_url("ftp://example.com/").is_err());
        assert!(api_url("api.cloudflare.com").is_err());
        assert!(api_url("https://").is_err());
        assert!(api_url("https://a.com:0/").is_err());
        assert!(api_url("https://a.com:99999/").is_err());
        assert!(
            !err(api_url("https://u:S3cret@a.com/"))
                .message
                .contains("S3cret")
        );
        assert!(api_url("https://a.com/?x=1").is_err());
        assert!(api_url("https://[::1/").is_err());
        assert!(url("https://a.com").is_ok_and(|u| u.path.is_empty()));
    }
}
