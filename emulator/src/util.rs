//! Small helpers: deterministic identifiers, RFC 3339 timestamps, query strings.

use std::time::{SystemTime, UNIX_EPOCH};

/// 128-bit FNV-1a, rendered as 32 lowercase hex characters (a Cloudflare-style id).
pub(crate) fn hex_id(seed: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for byte in seed.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    format!("{hash:032x}")
}

/// True for a well-formed Cloudflare identifier: 32 lowercase hex characters.
pub(crate) fn is_identifier(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Current time as RFC 3339 UTC with microseconds, trailing zeros trimmed
/// (`2025-10-25T12:48:34.17977Z`), like the DNS service emits.
pub(crate) fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(since.as_secs(), since.subsec_micros())
}

pub(crate) fn rfc3339(secs: u64, micros: u32) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut frac = format!("{micros:06}");
    while frac.len() > 1 && frac.ends_with('0') {
        frac.pop();
    }
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Unix time as `seconds.millis`, the `ts=` format of `/cdn-cgi/trace`.
pub(crate) fn unix_ts_millis() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", since.as_secs(), since.subsec_millis())
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian, UTC).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Parses `a=1&b=x%20y&a=2` into ordered pairs (repeated keys kept; `+` is a space).
/// True when `ip` is inside `cidr` (`192.0.2.0/24`, `2001:db8::/32`, or a bare address). An
/// IPv4-mapped IPv6 address counts as its IPv4 address; a malformed `cidr` matches nothing.
pub(crate) fn cidr_contains(cidr: &str, ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let (addr, len) = match cidr.trim().split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (net.to_canonical(), ip.to_canonical()) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let len = len.unwrap_or(32);
            len <= 32 && {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let len = len.unwrap_or(128);
            len <= 128 && {
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
        }
        _ => false,
    }
}

pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(part), String::new()),
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Looks up the last value of `key` in parsed query pairs.
pub(crate) fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instant() {
        // 2025-10-25T12:48:34.17977Z
        assert_eq!(
            rfc3339(1_761_396_514, 179_770),
            "2025-10-25T12:48:34.17977Z"
        );
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.0Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
    }

    #[test]
    fn ids_are_cloudflare_shaped_and_deterministic() {
        let a = hex_id("zone:example.com");
        assert!(is_identifier(&a));
        assert_eq!(a, hex_id("zone:example.com"));
        assert_ne!(a, hex_id("zone:example.net"));
        assert!(!is_identifier("example.com"));
        assert!(!is_identifier(&a.to_uppercase()));
    }

    #[test]
    fn query_parsing_keeps_repeats_and_decodes() {
        let q = parse_query("name=a.example.com&name=b%2Eexample.com&match=any&c=x+y&bad=%zz&t=%4");
        assert_eq!(q[0], ("name".into(), "a.example.com".into()));
        assert_eq!(q[1], ("name".into(), "b.example.com".into()));
        assert_eq!(query_get(&q, "c"), Some("x y"));
        assert_eq!(query_get(&q, "bad"), Some("%zz"));
        assert_eq!(query_get(&q, "t"), Some("%4"));
    }

    #[test]
    fn cidrs_contain_their_addresses() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(cidr_contains("192.0.2.0/24", ip("192.0.2.77")));
        assert!(!cidr_contains("192.0.2.0/24", ip("127.0.0.1")));
        assert!(cidr_contains("127.0.0.1", ip("127.0.0.1")));
        assert!(cidr_contains("0.0.0.0/0", ip("203.0.113.7")));
        assert!(cidr_contains("192.0.2.0/24", ip("::ffff:192.0.2.1")));
        assert!(cidr_contains("2001:db8::/32", ip("2001:db8:1::5")));
        assert!(!cidr_contains("2001:db8::/32", ip("2001:db9::5")));
        assert!(!cidr_contains("192.0.2.0/24", ip("2001:db8::1")));
        assert!(!cidr_contains("192.0.2.0/33", ip("192.0.2.1")));
        assert!(!cidr_contains("nonsense", ip("192.0.2.1")));
    }
}
