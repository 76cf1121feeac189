//! The records: TTL, proxied and comment, names, zones, duplicates, and the families each gets.

use super::*;

#[test]
fn ttl_edge_values_in_the_file() {
    let c = |v: &str| {
        parse(
            &with_token(&format!("[defaults]\nttl = {v}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let ttl_of = |v: &str| c(v).unwrap().config.records[0].ttl;
    expect(&c("29").unwrap_err(), "found 29", Some(4));
    expect(&c("29").unwrap_err(), "defaults.ttl", None);
    for v in ["30", "59"] {
        let l = c(v).unwrap();
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("Enterprise"), "{}", l.warnings[0]);
        assert!(
            l.warnings[0].contains("ddflare.toml:4: defaults.ttl"),
            "{}",
            l.warnings[0]
        );
    }
    assert_eq!(ttl_of("60"), Some(Ttl::Seconds(60)));
    assert!(c("60").unwrap().warnings.is_empty());
    assert_eq!(ttl_of("86400"), Some(Ttl::Seconds(86400)));
    expect(&c("86401").unwrap_err(), "found 86401", Some(4));
    assert_eq!(ttl_of("\"auto\""), Some(Ttl::Auto));
    assert_eq!(ttl_of("\"AUTO\""), Some(Ttl::Auto));
    expect(&c("-1").unwrap_err(), "found -1", Some(4));
    expect(&c("0").unwrap_err(), "found 0", Some(4));
    expect(&c("1").unwrap_err(), "write \"auto\"", Some(4));
    expect(&c("\"5m\"").unwrap_err(), "ttl = 300", Some(4));
    expect(&c("\"300\"").unwrap_err(), "remove the quotes", Some(4));
    expect(&c("true").unwrap_err(), "defaults.ttl", Some(4));
    expect(&c("3.5").unwrap_err(), "defaults.ttl", Some(4));
    expect(
        &c("99999999999999999999").unwrap_err(),
        "ddflare.toml:4",
        None,
    );
    assert_eq!(Ttl::Auto.api_value(), 1);
    assert_eq!(Ttl::Seconds(300).api_value(), 300);
}

#[test]
fn per_record_ttl_errors_name_the_record() {
    let text = with_token(
        "[[record]]\nname = \"a.example.com\"\n\n[[record]]\nname = \"b.example.com\"\nttl = 10\n",
    );
    let e = err(&text);
    expect(&e, "ddflare.toml:8: record[2].ttl: ", None);
    assert_eq!(e.key(), "record[2].ttl");
    assert_eq!(e.line(), Some(8));
}

#[test]
fn comment_rules() {
    let c = |v: &str| {
        parse(
            &with_token(&format!("[defaults]\ncomment = {v}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let hundred = "x".repeat(100);
    assert_eq!(
        c(&format!("\"{hundred}\"")).unwrap().config.records[0].comment,
        Some(hundred.clone())
    );
    expect(
        &c(&format!("\"{hundred}y\"")).unwrap_err(),
        "found 101",
        Some(4),
    );
    expect(&c("\"a\\nb\"").unwrap_err(), "line break", Some(4));
    expect(&c("\"a\\rb\"").unwrap_err(), "line break", Some(4));
    expect(&c("5").unwrap_err(), "defaults.comment", Some(4));
}

#[test]
fn proxied_must_be_a_boolean() {
    let e = err(&with_token("[defaults]\nproxied = \"yes\"\n"));
    expect(
        &e,
        "ddflare.toml:4: defaults.proxied: expected a boolean, found string \"yes\"",
        None,
    );
    expect(&e, "hint: write true or false", None);
}

#[test]
#[cfg(feature = "idn")]
fn names_are_normalized() {
    let text = with_token(
        "[[record]]\nname = \"bücher.example\"\n[[record]]\nname = \"Home.Example.COM.\"\n[[record]]\nname = \"*.example.com\"\nzone = \"Example.com.\"\n",
    );
    let c = ok(&text).config;
    let names: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["xn--bcher-kva.example", "home.example.com", "*.example.com"]
    );
    assert_eq!(c.records[2].zone.as_deref(), Some("example.com"));
    let idn_zone =
        with_token("[[record]]\nname = \"www.bücher.example\"\nzone = \"BÜCHER.example\"\n");
    assert_eq!(
        ok(&idn_zone).config.records[0].zone.as_deref(),
        Some("xn--bcher-kva.example")
    );
}

#[test]
fn bad_names() {
    let c = |name: &str| err(&with_token(&format!("[[record]]\nname = \"{name}\"\n")));
    expect(&c("localhost"), "record[1].name", Some(4));
    expect(&c("localhost"), "single label", None);
    expect(&c("a..example.com"), "empty label", Some(4));
    expect(&c(""), "empty string", Some(4));
    expect(&c("a.*.example.com"), "`*`", Some(4));
    expect(&c("https://home.example.com"), "without a scheme", Some(4));
    expect(&c("192.0.2.1"), "IP address", Some(4));
    expect(
        &c(&format!("{}.com", "a".repeat(64))),
        "at most 63",
        Some(4),
    );
    expect(&c("under score!.com"), "whitespace", Some(4));
}

#[test]
fn zone_and_zone_id() {
    let c = |extra: &str| {
        err(&with_token(&format!(
            "[[record]]\nname = \"home.example.com\"\n{extra}\n"
        )))
    };
    expect(&c("zone = \"example.org\""), "record[1].zone", Some(5));
    expect(&c("zone = \"ample.com\""), "found \"ample.com\"", Some(5));
    expect(&c("zone = \"*.example.com\""), "wildcard", Some(5));
    expect(&c("zone_id = \"xyz\""), "32 lowercase hexadecimal", Some(5));
    expect(
        &c("zone_id = \"023E105F4ECEF8AD9CA31A8372D0C353\""),
        "lowercase",
        Some(5),
    );
    let same = with_token("[[record]]\nname = \"example.com\"\nzone = \"example.com\"\n");
    assert_eq!(
        ok(&same).config.records[0].zone.as_deref(),
        Some("example.com")
    );
}

#[test]
fn duplicates_missing_names_and_no_records() {
    let dup = with_token(
        "[[record]]\nname = \"home.example.com\"\n\n[[record]]\nname = \"HOME.example.com.\"\n",
    );
    let e = err(&dup);
    expect(&e, "ddflare.toml:7: record[2].name", None);
    expect(&e, "record[1] on line 4", None);
    let e = err(&with_token("[[record]]\nzone = \"example.com\"\n"));
    expect(&e, "ddflare.toml:3: record[1]: expected a `name` key", None);
    let e = err(&with_token(""));
    expect(
        &e,
        "ddflare.toml: record: expected at least one [[record]]",
        None,
    );
    expect(&e, "DDFLARE_RECORDS", None);
}

#[test]
fn a_record_needs_a_family() {
    let e = err(&with_token(
        "[[record]]\nname = \"home.example.com\"\nipv4 = false\nipv6 = false\n",
    ));
    expect(
        &e,
        "ddflare.toml:3: record[1]: expected at least one address family",
        None,
    );
    let e = err(&with_token(
        "[detect]\nipv6 = \"none\"\n[defaults]\nipv4 = false\n[[record]]\nname = \"home.example.com\"\n",
    ));
    expect(&e, "record[1]", Some(7));
    expect(&e, "detect.ipv6 is \"none\"", None);
    let l = ok(&with_token(
        "[detect]\nipv6 = \"none\"\n[[record]]\nname = \"home.example.com\"\nipv6 = true\n",
    ));
    assert!(!l.config.records[0].ipv6);
    assert_eq!(l.warnings.len(), 1);
    assert!(
        l.warnings[0].contains("ddflare.toml:7: record[1].ipv6: has no effect"),
        "{}",
        l.warnings[0]
    );
}
