//! Regression tests: one test per fixed bug, named after the bug, in this one file (as
//! ripgrep's `tests/regression.rs`). Each test must fail on the code before its fix: write it
//! first, watch it fail, then fix the code. A test here is never loosened to make it pass.

use std::collections::HashMap;

use ddflare::config::{Config, parse};
use ddflare::reload::diff;

/// Plausible, fake, and distinctive enough to search for in output.
const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";

fn config(body: &str) -> Config {
    let env: HashMap<String, String> =
        [("CLOUDFLARE_API_TOKEN".to_owned(), TOKEN.to_owned())].into();
    match parse(body, "ddflare.toml", &env) {
        Ok(l) => l.config,
        Err(e) => panic!("{e}"),
    }
}

/// A SIGHUP that changed only `detect.strategy`, `allow_private`, `ipv6_prefix_len`,
/// `dns_servers`, `doh_url` or a record's `ipv6_host` logged nothing: `reload::diff` did not
/// compare those fields. Each change must now give its own line.
#[test]
fn reload_diff_reports_detect_and_ipv6_host_changes() {
    let base = |detect: &str, record: &str| {
        config(&format!(
            "[detect]\nipv4 = [\"cloudflare.trace\", \"cloudflare.dns\"]\n\
             ipv6 = [\"cloudflare.trace\", \"cloudflare.dns\"]\n{detect}\
             [[record]]\nname = \"home.example.com\"\n{record}"
        ))
    };
    let old = base("", "");
    let cases = [
        (
            base("strategy = \"agree\"\n", ""),
            "detect.strategy: fallback → agree",
        ),
        (
            base("allow_private = true\n", ""),
            "detect.allow_private: false → true",
        ),
        (
            base("ipv6_prefix_len = 56\n", ""),
            "detect.ipv6_prefix_len: 64 → 56",
        ),
        (
            base("dns_servers = [\"9.9.9.9\", \"2620:fe::fe\"]\n", ""),
            "detect.dns_servers: 1.1.1.1:53, 1.0.0.1:53, [2606:4700:4700::1111]:53, [2606:4700:4700::1001]:53 → 9.9.9.9:53, [2620:fe::fe]:53",
        ),
        (
            base("doh_url = \"https://dns.example.net/dns-query\"\n", ""),
            "detect.doh_url: https://cloudflare-dns.com/dns-query → https://dns.example.net/dns-query",
        ),
        (
            base("", "ipv6_host = \"::1234\"\n"),
            "record home.example.com: ipv6_host changed",
        ),
    ];
    for (new, line) in &cases {
        assert_eq!(diff(&old, new), vec![line.to_owned()], "{line}");
        assert_eq!(diff(new, new), Vec::<String>::new(), "{line}");
    }
}
