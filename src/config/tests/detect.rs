//! `[detect]`: the provider lists, and the timeouts that do not fit in the round's deadline.

use super::*;

/// A config of `[detect]` with `body`, a token and one record.
fn detect_section(body: &str) -> Result<Loaded, ConfigError> {
    parse(
        &with_token(&format!("[detect]\n{body}\n{ONE_RECORD}")),
        "ddflare.toml",
        &no_env(),
    )
}

#[test]
fn provider_lists() {
    let c = detect_section;
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

/// A `static:` value is checked when the config is read: the wrong family or an address that
/// can never be published is an error naming the list (the file's key or the variable).
#[test]
fn static_values_of_the_wrong_family_or_unusable_are_refused() {
    let c = detect_section;
    let e = c("ipv4 = [\"static:2001:db8::1\"]").unwrap_err();
    expect(&e, "detect.ipv4", Some(4));
    expect(&e, "an IPv6 address", Some(4));
    assert!(e.hint_text().unwrap_or_default().contains("detect.ipv6"));
    #[cfg(feature = "router-query")]
    {
        let e = c("ipv6 = [\"cloudflare.trace\", \"router.upnp\"]").unwrap_err();
        expect(&e, "detect.ipv6", Some(4));
        expect(
            &e,
            "`router.upnp` tells only the router's IPv4 address",
            Some(4),
        );
        assert!(e.hint_text().unwrap_or_default().contains("detect.ipv4"));
        let c4 = c("ipv4 = [\"router.natpmp\", \"router.pcp:192.168.1.1\", \"router.upnp:http://192.168.1.1:5000/rootDesc.xml\"]").unwrap();
        assert_eq!(c4.config.detect.ipv4.len(), 3);
    }
    let e = c("ipv6 = [\"cloudflare.trace\", \"static:203.0.113.7\"]").unwrap_err();
    expect(&e, "detect.ipv6", Some(4));
    expect(&e, "an IPv4 address", Some(4));
    for (body, range) in [
        (
            "allow_private = true\nipv4 = [\"static:127.0.0.1\"]",
            "127.0.0.0/8",
        ),
        ("ipv6 = [\"static:::ffff:8.8.8.8\"]", "::ffff:0:0/96"),
        ("ipv6 = [\"static:2001::1\"]", "2001::/32"),
    ] {
        let e = c(body).unwrap_err();
        expect(&e, &format!("which is in {range}"), None);
        expect(&e, "not even with detect.allow_private", None);
    }
    // Private ones still pass the config check: allow_private decides at run time.
    assert!(c("ipv4 = [\"static:10.0.0.1\"]").is_ok());
    assert!(c("allow_private = true\nipv6 = [\"static:fd00::1\"]").is_ok());
    let e = parse(
        &with_token(ONE_RECORD),
        "ddflare.toml",
        &env(&[("DDFLARE_IPV4", "static:2001:db8::1")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("DDFLARE_IPV4"), "{e}");
}

#[test]
fn filters_parse_per_family_and_name_their_key_and_line() {
    let c = detect_section;
    let l = c("ipv6_accept = [\"2001:db8:1::/48\"]\nipv4_reject = \"100.64.0.0/10\"").unwrap();
    let f = &l.config.detect.filters;
    assert_eq!(f.ipv6_accept[0].to_string(), "2001:db8:1::/48");
    assert_eq!(f.ipv4_reject[0].to_string(), "100.64.0.0/10");
    assert!(f.ipv4_accept.is_empty() && f.ipv6_reject.is_empty());
    assert_eq!(
        c("").unwrap().config.detect.filters,
        crate::detect::Filters::default()
    );
    let e = c("ipv4_accept = [\"198.51.100.0/24\", \"2001:db8::/32\"]").unwrap_err();
    expect(&e, "detect.ipv4_accept", Some(4));
    expect(&e, "expected IPv4 prefixes only", None);
    expect(&e, "move it to detect.ipv6_accept", None);
    let e = c("ipv6_reject = [\"fd00::1/8\"]").unwrap_err();
    expect(&e, "detect.ipv6_reject", Some(4));
    expect(&e, "did you mean fd00::/8?", None);
    expect(
        &c("\nipv4_reject = \"10.0.0.0/40\"").unwrap_err(),
        "from 0 to 32",
        Some(5),
    );
    expect(
        &c("ipv6_accept = \"home\"").unwrap_err(),
        "found \"home\"",
        Some(4),
    );
    expect(
        &c("ipv6_accept = 3").unwrap_err(),
        "detect.ipv6_accept",
        Some(4),
    );
    let e = c("ipv6_acept = []").unwrap_err();
    expect(&e, "ipv6_accept", None);
}

#[test]
fn filters_from_the_environment_win_over_the_file() {
    let text = with_token(&format!(
        "[detect]\nipv6_accept = \"2001:db8::/32\"\n{ONE_RECORD}"
    ));
    let l = parse(
        &text,
        "ddflare.toml",
        &env(&[("DDFLARE_IPV6_ACCEPT", "2001:db8:1::/48, 2001:db8:2::/48")]),
    )
    .unwrap();
    assert_eq!(l.config.detect.filters.ipv6_accept.len(), 2);
    let e = parse(
        &text,
        "ddflare.toml",
        &env(&[("DDFLARE_IPV4_REJECT", "fd00::/8")]),
    )
    .unwrap_err();
    expect(&e, "DDFLARE_IPV4_REJECT", None);
}
