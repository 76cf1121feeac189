//! `[detect]`: the provider lists, and the timeouts that do not fit in the round's deadline.

use super::*;

#[test]
fn provider_lists() {
    let c = |body: &str| {
        parse(
            &with_token(&format!("[detect]\n{body}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let l = c("ipv4 = \"none\"").unwrap();
    assert!(l.config.detect.ipv4.is_empty());
    assert!(
        !l.config.records[0].ipv4,
        "a family without providers is off"
    );
    assert!(l.config.records[0].ipv6);
    assert!(
        c("ipv6 = [\"none\"]")
            .unwrap()
            .config
            .detect
            .ipv6
            .is_empty()
    );
    assert_eq!(
        c("ipv4 = \"cloudflare.trace\"").unwrap().config.detect.ipv4,
        vec![ProviderSpec::CloudflareTrace]
    );
    expect(
        &c("ipv4 = [\"none\", \"cloudflare.trace\"]").unwrap_err(),
        "mixed",
        Some(4),
    );
    expect(&c("ipv4 = []").unwrap_err(), "empty list", Some(4));
    expect(
        &c("ipv6 = [\"ipify\"]").unwrap_err(),
        "detect.ipv6",
        Some(4),
    );
    expect(&c("ipv6 = [1]").unwrap_err(), "detect.ipv6", Some(4));
    expect(&c("ipv4 = true").unwrap_err(), "detect.ipv4", Some(4));
    let e = c("ipv4 = \"none\"\nipv6 = \"none\"").unwrap_err();
    expect(&e, "nothing to update", Some(5));
    expect(
        &c("timeout = \"0s\"").unwrap_err(),
        "detect.timeout",
        Some(4),
    );
    expect(
        &c("trace_url = \"trace\"").unwrap_err(),
        "detect.trace_url",
        Some(4),
    );
    assert_eq!(
        c("trace_url = \"http://10.0.0.1/cdn-cgi/trace\"")
            .unwrap()
            .config
            .detect
            .trace_urls,
        ["http://10.0.0.1/cdn-cgi/trace"]
    );
}

#[test]
fn timeouts_longer_than_the_deadline_warn() {
    let l = ok(&with_token(&format!(
        "[detect]\ntimeout = \"3m\"\n{ONE_RECORD}"
    )));
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(
        l.warnings[0].contains("ddflare.toml:4: detect.timeout"),
        "{}",
        l.warnings[0]
    );
}
