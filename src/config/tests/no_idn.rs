//! Record and zone names in a build without the `idn` feature (the router builds): an ASCII
//! name maps as before, an `xn--` name is accepted when its label is Punycode, and a non-ASCII
//! name is a config error that asks for the `xn--` form.

use super::super::values::dns_name;

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

#[test]
fn a_non_ascii_name_without_idn_asks_for_its_xn_form() {
    let p = dns_name("bücher.example", false).unwrap_err();
    let e = format!("{} / {}", p.message, p.hint.unwrap_or_default());
    assert!(e.contains("no IDN support"), "{e}");
    assert!(e.contains("xn--bcher-kva.example"), "{e}");
}

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
