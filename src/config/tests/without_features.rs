//! Builds without the optional features (the router builds leave them out; each test runs
//! when its feature is off). Without `idn`, an ASCII name maps as before, an `xn--` name is
//! accepted when its label is Punycode, and a non-ASCII name is a config error that asks for
//! the `xn--` form. Without `metrics`, `push` or `dns-detect`, their keys and providers are
//! config errors that say so.

#[cfg(not(feature = "idn"))]
use super::super::values::dns_name;

#[cfg(not(feature = "idn"))]
#[test]
fn ascii_and_xn_names_are_accepted_without_idn() {
    assert_eq!(
        dns_name("Home.Example.COM.", false).unwrap(),
        "home.example.com"
    );
    assert_eq!(
        dns_name("XN--BCHER-KVA.example", false).unwrap(),
        "xn--bcher-kva.example"
    );
    assert_eq!(
        dns_name("*.xn--bcher-kva.example", true).unwrap(),
        "*.xn--bcher-kva.example"
    );
}

#[cfg(not(feature = "idn"))]
#[test]
fn a_non_ascii_name_without_idn_asks_for_its_xn_form() {
    let p = dns_name("bücher.example", false).unwrap_err();
    let e = format!("{} / {}", p.message, p.hint.unwrap_or_default());
    assert!(e.contains("no IDN support"), "{e}");
    assert!(e.contains("xn--bcher-kva.example"), "{e}");
}

#[cfg(not(feature = "idn"))]
#[test]
fn a_bad_xn_label_without_idn_is_refused() {
    // Empty, and ASCII once decoded (no encoded part): not the form of a Unicode label.
    // And a control character once decoded (`xn--a` is U+0080).
    for name in [
        "xn--.example",
        "xn--abc-.example",
        "home.xn--ab-.example",
        "xn--a.example.com",
    ] {
        assert!(dns_name(name, false).is_err(), "{name}");
    }
}

#[cfg(not(feature = "metrics"))]
#[test]
fn metrics_listen_without_the_metrics_feature_is_refused() {
    let e = super::err(&super::with_token(&format!(
        "[metrics]\nlisten = \"127.0.0.1:9489\"\n{}",
        super::ONE_RECORD
    )));
    super::expect(
        &e,
        "metrics.listen: this build of ddflare has no metrics listener",
        Some(4),
    );
    // A malformed address is still reported as such first.
    let e = super::err(&super::with_token(&format!(
        "[metrics]\nlisten = \"127.0.0.1\"\n{}",
        super::ONE_RECORD
    )));
    super::expect(
        &e,
        "metrics.listen: expected an address and a port",
        Some(4),
    );
}

#[cfg(not(feature = "push"))]
#[test]
fn push_without_the_push_feature_is_refused() {
    let e = super::err(&super::with_token(&format!(
        "{}[push]\nlisten = \"127.0.0.1:8245\"\n",
        super::ONE_RECORD
    )));
    super::expect(&e, "push: this build of ddflare has no push endpoint", None);
}

#[cfg(not(feature = "dns-detect"))]
#[test]
fn dns_providers_without_the_dns_detect_feature_are_refused() {
    for p in ["cloudflare.dns", "cloudflare.doh"] {
        let e = super::err(&super::with_token(&format!(
            "[detect]\nipv4 = [\"{p}\"]\n{}",
            super::ONE_RECORD
        )));
        super::expect(
            &e,
            "this build of ddflare has no DNS-based detection",
            Some(4),
        );
    }
}

#[cfg(not(feature = "router-query"))]
#[test]
fn router_providers_without_the_router_query_feature_are_refused() {
    for p in ["router.natpmp", "router.pcp:192.168.1.1", "router.upnp"] {
        let e = super::err(&super::with_token(&format!(
            "[detect]\nipv4 = [\"{p}\"]\n{}",
            super::ONE_RECORD
        )));
        super::expect(&e, "this build of ddflare cannot ask a router", Some(4));
    }
}
