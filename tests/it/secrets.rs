//! Credentials in operation: a token that expires soon is warned about at every start (and the
//! cache keeps `once` from asking more than needed), a token refused for its Client IP Address
//! Filtering is explained with the address Cloudflare saw, and root drops its privileges before
//! any network I/O.

use std::time::{Duration, SystemTime};

use ddflare_emulator::TokenScope;

use crate::support::{Daemon, Harness, TOKEN, assert_exit};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn verifies(h: &Harness) -> usize {
    h.requests()
        .iter()
        .filter(|r| *r == "GET /user/tokens/verify")
        .count()
}

#[test]
fn a_token_expiring_in_three_days_is_warned_about_at_every_start() {
    let expires = rfc3339(SystemTime::now() + Duration::from_secs(3 * 24 * 3600 + 600));
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all().expiring(&expires));
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let says = |t: &str| {
        assert!(
            t.contains(&format!("the API token expires in 3 days (on {expires})")),
            "{t}"
        );
        assert!(t.contains("My Profile → API Tokens"), "{t}");
        assert!(t.contains("Roll"), "{t}");
        assert!(!t.contains(TOKEN), "{t}");
    };

    let t = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    says(&t);
    assert!(
        t.contains("  warning: the API token expires in 3 days"),
        "{t}"
    );

    let t = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    says(&t);
    assert!(t.contains("home.example.com A 203.0.113.7 created"), "{t}");
    // Within the warning window every start asks again (a rolled token silences it at once).
    h.emu.clear_requests();
    let t = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    says(&t);
    assert_eq!(
        h.requests(),
        vec!["GET /user/tokens/verify"],
        "unchanged address"
    );

    // run: at start, without [metrics].
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("the API token expires in 3 days");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    says(&log);
}

#[test]
fn a_token_far_from_expiry_is_verified_once_a_day_not_at_every_once() {
    let expires = rfc3339(SystemTime::now() + Duration::from_secs(90 * 24 * 3600));
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all().expiring(&expires));
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let t = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(!t.contains("expires in"), "{t}");
    assert_eq!(verifies(&h), 1);
    for _ in 0..2 {
        assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    }
    assert_eq!(verifies(&h), 1, "{:?}", h.requests());
    // A failed verify (an account-owned token) is not fatal, and not asked again either.
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all().account_owned());
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    for _ in 0..2 {
        let t = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
        assert!(!t.contains("WARN"), "{t}");
    }
    assert_eq!(verifies(&h), 1);
}

#[test]
fn a_token_outside_its_client_ip_filter_is_explained_with_the_address_cloudflare_saw() {
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all().from_ips(&["192.0.2.0/24"]));
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let hint = "Cloudflare refused the token from 127.0.0.1: the token's Client IP Address Filtering does not include this address, which is normal for a dynamic address. Edit the token at My Profile → API Tokens and remove the IP filter or widen it to your ISP's range.";
    let t = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(t.contains(hint), "{t}");
    assert!(t.contains("9109"), "{t}");
    assert!(!t.contains(TOKEN) && !t.contains(&TOKEN[..16]), "{t}");
    assert!(h.records("example.com").is_empty());
    // check says the same, from the verify and from the zone lookup.
    let t = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 1);
    assert!(t.matches(hint).count() >= 2, "{t}");
    assert!(!t.contains(&TOKEN[..16]), "{t}");
}
