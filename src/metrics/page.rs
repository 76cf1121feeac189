//! PURE: the status page served at `GET /` of `[metrics] listen`: one small self-contained
//! HTML page (no script, no external asset, one inline style block allowed by its hash in
//! [`CSP`]): health, the next round, each record with its address and last confirmation, the
//! recent changes. Hand-rendered with [`escape`] (every value, including ddflare's own).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::{Snapshot, health};
use crate::text;

/// The page's one style block.
pub const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:62em;padding:0 1em;color:#222}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd;vertical-align:top}td{font-family:ui-monospace,monospace;overflow-wrap:anywhere}.ok{color:#075}.bad{color:#b00;font-weight:bold}small,.dim{color:#777}";

/// The page's Content-Security-Policy: nothing may load or run but [`STYLE`] (by its SHA-256,
/// which a test recomputes).
pub const CSP: &str = "default-src 'none'; style-src 'sha256-lxfCXo/QiKSw9UpDcHNWzFXlLsG/KoJuQ2Kt2MGp2Dc='; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `value` bounded (control characters escaped as `text::bounded` does) and HTML-escaped.
pub fn escape(out: &mut String, value: &str) {
    for c in text::bounded(value, 300).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn when(out: &mut String, t: SystemTime, now: SystemTime) {
    let _ = write!(out, "{}", humantime::format_rfc3339_seconds(t));
    let (secs, suffix) = match now.duration_since(t) {
        Ok(d) => (d.as_secs(), "ago"),
        Err(e) => (e.duration().as_secs(), "from now"),
    };
    // The two largest units are enough: "3years 20days", "4m 57s".
    let d = humantime::format_duration(Duration::from_secs(secs)).to_string();
    let d = d.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let _ = write!(out, " <small>({d} {suffix})</small>");
}

/// The page for `s` at `now`.
pub fn page(s: &Snapshot, now: SystemTime) -> String {
    let h = health(s, now);
    let mut o = String::with_capacity(2048);
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta http-equiv=\"refresh\" content=\"60\"><title>ddflare</title><style>{STYLE}</style></head><body><h1>ddflare <small>{}</small></h1><p id=\"health\" class=\"{}\">",
        env!("CARGO_PKG_VERSION"),
        if h.ok { "ok" } else { "bad" }
    );
    escape(&mut o, &h.reason);
    o.push_str("</p><p id=\"next\">Next regular round: ");
    match s.next_round {
        Some(t) => when(&mut o, t, now),
        None if s.failed_in_a_row > 0 => o.push_str("soon (retrying after a failure)"),
        None => o.push_str("<span class=\"dim\">not known yet</span>"),
    }
    o.push_str("</p><h2>Records</h2><table id=\"records\"><tr><th>Name</th><th>Type</th><th>Address</th><th>Last confirmed by Cloudflare</th><th>Comment</th></tr>");
    // The keys of two maps, in order, without repeats: each of the second put in its place
    // (no sort compiled for this type).
    let mut keys: Vec<&(String, String)> = s.records.keys().collect();
    for k in s.published.keys() {
        if let Err(at) = keys.binary_search(&k) {
            keys.insert(at, k);
        }
    }
    for key in &keys {
        o.push_str("<tr><td>");
        escape(&mut o, &key.0);
        o.push_str("</td><td>");
        escape(&mut o, &key.1);
        o.push_str("</td><td>");
        match s.published.get(*key) {
            Some(addr) => escape(&mut o, &addr.to_string()),
            None => o.push_str("<span class=\"dim\">not known yet</span>"),
        }
        o.push_str("</td><td>");
        match s.confirmed.get(*key) {
            Some(t) => when(&mut o, *t, now),
            None => o.push_str("<span class=\"dim\">not yet</span>"),
        }
        o.push_str("</td><td>");
        if let Some(Some(c)) = s.records.get(*key) {
            escape(&mut o, c);
        }
        o.push_str("</td></tr>");
    }
    if keys.is_empty() {
        o.push_str("<tr><td colspan=\"5\" class=\"dim\">none known yet</td></tr>");
    }
    o.push_str("</table><h2>Recent changes</h2><table id=\"changes\"><tr><th>When</th><th>Name</th><th>Type</th><th>From</th><th>To</th></tr>");
    for c in s.recent.iter().rev() {
        o.push_str("<tr><td>");
        when(
            &mut o,
            std::time::UNIX_EPOCH + Duration::from_secs(c.at),
            now,
        );
        for v in [&c.name, &c.rtype] {
            o.push_str("</td><td>");
            escape(&mut o, v);
        }
        o.push_str("</td><td>");
        match &c.from {
            Some(f) => escape(&mut o, f),
            None => o.push_str("<span class=\"dim\">(new record)</span>"),
        }
        o.push_str("</td><td>");
        escape(&mut o, &c.to);
        o.push_str("</td></tr>");
    }
    if s.recent.is_empty() {
        o.push_str("<tr><td colspan=\"5\" class=\"dim\">none recorded</td></tr>");
    }
    o.push_str("</table><p><small><a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a> · <code>ddflare history</code> for all changes</small></p></body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Change;
    use crate::metrics::Metrics;
    use std::time::UNIX_EPOCH;

    fn base64(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn the_csp_allows_exactly_the_style_block() {
        let digest = ring::digest::digest(&ring::digest::SHA256, STYLE.as_bytes());
        let want = format!("style-src 'sha256-{}'", base64(digest.as_ref()));
        assert!(CSP.contains(&want), "{CSP}\nwants {want}");
        assert!(CSP.starts_with("default-src 'none';"));
        let m = Metrics::new(UNIX_EPOCH, Duration::from_secs(60));
        let html = page(&m.snapshot(), UNIX_EPOCH);
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
        assert!(!html.contains("<script") && !html.contains("style=\""));
    }

    #[test]
    fn every_value_is_escaped() {
        let m = Metrics::new(UNIX_EPOCH, Duration::from_secs(60));
        let evil = "<img src=x onerror=alert(1)>&\"'\u{1b}[31m";
        m.seed_history(vec![Change {
            at: 10,
            name: evil.into(),
            rtype: "A".into(),
            from: Some("<b>old</b>".into()),
            to: "203.0.113.7".into(),
        }]);
        let mut records = std::collections::BTreeMap::new();
        records.insert(("a.example.com".into(), "AAAA".into()), Some(evil.into()));
        m.set_records(records);
        let html = page(&m.snapshot(), UNIX_EPOCH + Duration::from_secs(70));
        assert!(
            html.contains(
                "<td>a.example.com</td><td>AAAA</td><td><span class=\"dim\">not known yet</span>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("onerror=alert(1)&gt;").count(), 2, "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;\\u{1b}[31m"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;old&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(
            html.contains("1970-01-01T00:00:10Z <small>(1m ago)</small>"),
            "{html}"
        );
    }
}
