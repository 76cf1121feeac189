//! Detection filters through the real binary: a refused answer is that provider's failure
//! (`ddflare detect` says which list refused it), and `once` publishes the next provider's.

use crate::support::{Harness, text};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

#[test]
fn a_filtered_answer_is_shown_and_the_next_provider_is_published() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let config = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "ipv6 = [\"none\"]",
        "ipv6 = [\"static:fd00::5\", \"static:2001:db8:1::5\"]\nipv6_reject = \"fd00::/8\"",
    );
    std::fs::write(h.config_path(), config).unwrap();
    let out = h
        .ddflare(&["detect"])
        .env("DDFLARE_IPV4_ACCEPT", "198.51.100.0/24")
        .output()
        .unwrap();
    let t = text(&out);
    assert!(
        t.contains(
            "static:203.0.113.7: answered 203.0.113.7, outside every prefix of detect.ipv4_accept"
        ),
        "{t}"
    );
    assert!(t.contains("2001:db8:1::5"), "{t}");

    let out = h.ddflare(&["once"]).output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let records = h.records("example.com");
    assert!(
        records.contains(&(
            "home.example.com".into(),
            "AAAA".into(),
            "2001:db8:1::5".into()
        )),
        "{records:?}"
    );
    assert!(
        records.contains(&("home.example.com".into(), "A".into(), "203.0.113.7".into())),
        "{records:?}"
    );
    assert!(!t.contains("fd00::5 created"), "{t}");
}
