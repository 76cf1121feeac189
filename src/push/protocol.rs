//! The dyndns2 protocol, PURE: the request head, the query (`hostname`, `myip`), basic auth,
//! the password check, the client's address behind a trusted proxy, and the answer lines
//! (`good IP`, `nochg IP`, `badauth`, `nohost`, `notfqdn`, `numhost`, `abuse`, `dnserr`, `911`).

use std::fmt;
use std::net::IpAddr;

use super::settings::{Password, PushClient};
use crate::detect::Cidr;
use crate::round::{Outcome, RoundReport};

/// At most this many names in one request (Dyn's limit; ddclient groups by 20 at most too).
pub const MAX_HOSTS: usize = 20;

/// One answer line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Cloudflare confirmed the write; the addresses as pushed.
    Good(String),
    /// Already so.
    Nochg(String),
    Badauth,
    /// Not a name this client may update.
    Nohost,
    /// Not a fully qualified name (or no `hostname`).
    Notfqdn,
    /// Too many names in one request.
    Numhost,
    /// Too many failed logins from this source: refused without a look at the password.
    Abuse,
    /// Cloudflare refused or failed the change.
    Dnserr,
    /// Anything else: try again later.
    ServerError,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Good(ip) => write!(f, "good {ip}"),
            Answer::Nochg(ip) => write!(f, "nochg {ip}"),
            Answer::Badauth => f.write_str("badauth"),
            Answer::Nohost => f.write_str("nohost"),
            Answer::Notfqdn => f.write_str("notfqdn"),
            Answer::Numhost => f.write_str("numhost"),
            Answer::Abuse => f.write_str("abuse"),
            Answer::Dnserr => f.write_str("dnserr"),
            Answer::ServerError => f.write_str("911"),
        }
    }
}

/// What the server needs of a request head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    /// The last `X-Forwarded-For` header's value.
    pub forwarded_for: Option<String>,
}

/// The request line and the two headers ddflare reads; the HTTP status on a malformed head.
pub fn parse_head(head: &[u8]) -> Result<Head, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(505);
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(400);
    }
    if !target.starts_with('/') {
        return Err(400);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut out = Head {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        ..Head::default()
    };
    for header in lines {
        let Some((name, value)) = header.split_once(':') else {
            return Err(400);
        };
        let value = value.trim().to_owned();
        if name.eq_ignore_ascii_case("authorization") {
            out.authorization = Some(value);
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            out.forwarded_for = Some(value);
        }
    }
    Ok(out)
}

/// `Basic base64(user:password)` → (user, password).
pub fn basic_auth(value: &str) -> Option<(String, Vec<u8>)> {
    let (scheme, data) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64(data.trim())?;
    let colon = raw.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(raw[..colon].to_vec()).ok()?;
    Some((user, raw[colon + 1..].to_vec()))
}

/// Standard base64 with padding (RFC 4648 §4), as basic auth and Django's hashes use it.
pub fn base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // A lone sixth of a byte left over is not base64.
    (bits < 6).then_some(out)
}

/// Compares in a time that depends on the lengths only, never on where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    diff == 0
}

/// Whether `given` is the client's password (PBKDF2 is slow on purpose: run it off the
/// runtime's thread).
pub fn verify(password: &Password, given: &[u8]) -> bool {
    match password {
        Password::Plain(secret) => ct_eq(secret.expose().as_bytes(), given),
        Password::Pbkdf2 {
            iterations,
            salt,
            hash,
        } => ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            *iterations,
            salt,
            given,
            hash,
        )
        .is_ok(),
    }
}

/// The client named `user`; every name is compared, in constant time, so the time taken does
/// not tell which users exist.
pub fn client<'a>(clients: &'a [PushClient], user: &str) -> Option<&'a PushClient> {
    let mut found = None;
    for c in clients {
        if ct_eq(c.user.as_bytes(), user.as_bytes()) {
            found = Some(c);
        }
    }
    found
}

/// `hostname` and `myip` of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// Lowercase, without a trailing dot, in the order given.
    pub hostnames: Vec<String>,
    /// Empty when `myip` is absent or empty.
    pub myip: Vec<IpAddr>,
}

/// Why a query cannot be served at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Answer(Answer),
    /// `myip` is not one address per family: the text to log.
    BadIp(String),
}

/// Parses the query; other parameters (`system`, `wildcard`, `mx`, `offline`…) are ignored.
pub fn parse_query(query: &str) -> Result<Update, Refused> {
    let (mut hostnames, mut myip) = (Vec::new(), Vec::new());
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value).ok_or(Refused::Answer(Answer::Notfqdn))?;
        match key {
            "hostname" => hostnames.extend(
                value
                    .split(',')
                    .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                    .filter(|h| !h.is_empty()),
            ),
            "myip" => {
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let ip: IpAddr = item.parse().map_err(|_| {
                        Refused::BadIp(format!(
                            "myip: expected an address, found \"{}\"",
                            crate::text::bounded(item, 64)
                        ))
                    })?;
                    if myip.iter().any(|m: &IpAddr| m.is_ipv4() == ip.is_ipv4()) {
                        return Err(Refused::BadIp(
                            "myip: expected at most one address per family".into(),
                        ));
                    }
                    myip.push(ip);
                }
            }
            _ => {}
        }
    }
    if hostnames.is_empty() {
        return Err(Refused::Answer(Answer::Notfqdn));
    }
    if hostnames.len() > MAX_HOSTS {
        return Err(Refused::Answer(Answer::Numhost));
    }
    Ok(Update { hostnames, myip })
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `name` looks like a fully qualified name: two labels at least, each of letters,
/// digits, `-` or `_` (the record names are checked properly at config load).
pub fn is_fqdn(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address
/// of its `X-Forwarded-For` (the one the proxy itself appended).
pub fn source(peer: IpAddr, trusted: &[Cidr], forwarded_for: Option<&str>) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    forwarded_for
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse::<IpAddr>().ok())
        .map_or(peer, canonical)
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The answer for `name` from what the reconciliation did (`None`: it did not run).
pub fn answer_for(name: &str, report: Option<&RoundReport>, shown: &str) -> Answer {
    let Some(report) = report else {
        return Answer::ServerError;
    };
    let lines: Vec<_> = report.lines.iter().filter(|l| l.name == name).collect();
    if lines
        .iter()
        .any(|l| matches!(l.outcome, Outcome::Failed { .. }))
    {
        return Answer::Dnserr;
    }
    if lines
        .iter()
        .any(|l| matches!(l.outcome, Outcome::Skipped { .. } | Outcome::Planned(_)))
    {
        return Answer::ServerError;
    }
    if lines.iter().any(|l| {
        matches!(
            l.outcome,
            Outcome::Created | Outcome::Updated { .. } | Outcome::DuplicatesDeleted(_)
        )
    }) {
        Answer::Good(shown.to_owned())
    } else {
        Answer::Nochg(shown.to_owned())
    }
}

#[cfg(test)]
mod tests;
