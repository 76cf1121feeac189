//! The real binary against the emulator: the whole path from config to records.

use std::time::{Duration, Instant};

use ddflare_emulator::{Fault, TokenScope};

use crate::support::{Daemon, GLOBAL_KEY, Harness, KEY_EMAIL, TOKEN, assert_exit, text};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

fn api_writes(h: &Harness) -> Vec<String> {
    h.requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .collect()
}

#[test]
fn first_run_creates_second_run_makes_no_call_change_is_one_batch() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), Some("2001:db8::7"), RECORD);

    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
    assert!(
        out.contains("home.example.com AAAA 2001:db8::7 created"),
        "{out}"
    );
    assert_eq!(
        h.records("example.com"),
        vec![
            ("home.example.com".into(), "A".into(), "203.0.113.7".into()),
            (
                "home.example.com".into(),
                "AAAA".into(),
                "2001:db8::7".into()
            ),
        ]
    );

    // Same address, warm cache: no API call of any kind.
    h.emu.clear_requests();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(h.requests(), Vec::<String>::new());

    // Both addresses change: one batch for the zone, by the cached ids (issue 17: the warm
    // cache vouches for them, so no listing first), records updated in place.
    let ids_before: Vec<String> = h
        .emu
        .records("example.com")
        .into_iter()
        .map(|r| r.id)
        .collect();
    h.write_config(Some("198.51.100.4"), Some("2001:db8::8"), RECORD);
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 → 198.51.100.4 updated"),
        "{out}"
    );
    let zone_id = h.emu.records("example.com")[0].zone_id.clone();
    assert_eq!(
        h.requests(),
        vec![format!("POST /zones/{zone_id}/dns_records/batch")]
    );
    let ids_after: Vec<String> = h
        .emu
        .records("example.com")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids_before, ids_after, "updated in place, same ids");

    // Only IPv4 changes: exactly one PATCH, carrying only the content.
    h.write_config(Some("198.51.100.5"), Some("2001:db8::8"), RECORD);
    h.emu.clear_requests();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let writes: Vec<_> = h
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(writes[0].body, r#"{"content":"198.51.100.5"}"#);
    assert_eq!(h.requests().len(), 1, "{:?}", h.requests());
}

/// Issue 17: with a warm cache a changed address is written by the cached id. A record deleted
/// or renamed in the dashboard since is found out by that write's answer, and the name is read
/// and put right in the same run; a renamed record gets its content back.
#[test]
fn a_write_by_id_that_misses_falls_back_to_reading_the_zone() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let first = h.emu.records("example.com")[0].clone();
    let zone = first.zone_id.clone();

    h.emu.delete_record("example.com", &first.id);
    h.write_config(Some("198.51.100.4"), None, RECORD);
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 198.51.100.4 created"),
        "{out}"
    );
    assert_eq!(
        h.requests(),
        vec![
            format!("PATCH /zones/{zone}/dns_records/{}", first.id),
            format!("GET /zones/{zone}/dns_records"),
            format!("POST /zones/{zone}/dns_records"),
        ]
    );

    let second = h.emu.records("example.com")[0].clone();
    h.emu
        .rename_record("example.com", &second.id, "other.example.com");
    h.write_config(Some("198.51.100.9"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("renamed or retyped in the dashboard"), "{out}");
    assert!(
        out.contains("home.example.com A 198.51.100.9 created"),
        "{out}"
    );
    assert_eq!(
        h.records("example.com"),
        vec![
            ("home.example.com".into(), "A".into(), "198.51.100.9".into()),
            (
                "other.example.com".into(),
                "A".into(),
                "198.51.100.4".into()
            ),
        ]
    );
}

#[test]
fn one_batch_per_zone_across_zones() {
    let h = Harness::new(&["example.com", "example.net"]);
    let records = "[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\n[[record]]\nname = \"a.example.net\"\n";
    h.write_config(Some("203.0.113.7"), None, records);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    h.write_config(Some("198.51.100.4"), None, records);
    h.emu.clear_requests();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let writes = api_writes(&h);
    // example.com has two changes (one batch); example.net one (one PATCH).
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes.iter().filter(|w| w.ends_with("/batch")).count(), 1);
    assert_eq!(writes.iter().filter(|w| w.starts_with("PATCH")).count(), 1);
}

#[test]
fn duplicates_are_cleaned_and_foreign_records_survive() {
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all());
        emu.record("example.com", "home.example.com", "A", "198.51.100.4");
        emu.record("example.com", "home.example.com", "A", "198.51.100.9");
        emu.record("example.com", "home.example.com", "TXT", "\"hello\"");
        let mut mx =
            ddflare_emulator::RecordSpec::new("home.example.com", "MX", "mail.example.com");
        mx.priority = Some(10);
        emu.try_record("example.com", mx).unwrap();
        emu.record("example.com", "other.example.com", "A", "198.51.100.4");
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("duplicate(s) deleted"), "{out}");
    assert_eq!(
        h.records("example.com"),
        vec![
            ("home.example.com".into(), "A".into(), "203.0.113.7".into()),
            (
                "home.example.com".into(),
                "MX".into(),
                "mail.example.com".into()
            ),
            ("home.example.com".into(), "TXT".into(), "\"hello\"".into()),
            (
                "other.example.com".into(),
                "A".into(),
                "198.51.100.4".into()
            ),
        ]
    );
}

#[test]
fn dry_run_changes_nothing() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["once", "--dry-run"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 would be created (dry run)"),
        "{out}"
    );
    assert!(api_writes(&h).is_empty());
    assert!(h.records("example.com").is_empty());
    assert!(!h.state_dir().join("state.json").exists());
}

#[test]
fn token_scoped_to_another_zone_is_a_clear_failure() {
    let h = Harness::with(&["example.com", "example.net"], |emu| {
        emu.token(TOKEN, TokenScope::zones_edit(&["example.net"]));
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(out.contains("no zone found for home.example.com"), "{out}");
    assert!(out.contains("Zone → DNS → Edit"), "{out}");

    // With the zone id given, the records call itself is refused: name the zone.
    let zone_id = &h.zone_ids["example.com"];
    let record = format!(
        "[[record]]\nname = \"home.example.com\"\nzone = \"example.com\"\nzone_id = \"{zone_id}\"\n"
    );
    h.write_config(Some("203.0.113.7"), None, &record);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(
        out.contains("the token lacks Zone → DNS → Edit on example.com"),
        "{out}"
    );
    assert!(out.contains("HTTP 403"), "{out}");
    assert!(out.contains("cf-ray"), "{out}");
    assert!(h.records("example.com").is_empty());
}

#[test]
fn rate_limit_storm_waits_and_succeeds() {
    let h = Harness::new(&["example.com"]);
    h.emu.add_fault(Fault::rate_limited(Some(1)).times(3));
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let started = Instant::now();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "Retry-After was honoured"
    );
    assert!(out.contains("rate limited"), "{out}");
    assert_eq!(h.records("example.com").len(), 1);
    let statuses: Vec<u16> = h.emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..3], &[429, 429, 429]);
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let h = Harness::new(&["example.com"]);
    h.emu.add_fault(Fault::status(502).method("GET").times(1));
    h.emu
        .add_fault(Fault::drop_connection().method("GET").times(1));
    h.write_config(Some("203.0.113.7"), None, RECORD);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(h.records("example.com").len(), 1);
}

#[test]
fn sigterm_during_a_slow_call_exits_cleanly_within_the_grace_period() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    // Warm the cache, then make the next round's records read slow.
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    h.write_config(Some("198.51.100.4"), None, RECORD);
    h.emu.add_fault(
        Fault::delay(1500)
            .path_contains("dns_records")
            .method("GET")
            .times(1),
    );
    h.emu.clear_requests();
    let child = h
        .ddflare(&["run"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.emu.requests().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!h.emu.requests().is_empty(), "the round started");
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(took < Duration::from_secs(8), "stopped in {took:?}");
    assert!(t.contains("SIGTERM received"), "{t}");
    // The in-flight round was allowed to finish: the record is updated and the state saved.
    assert_eq!(h.records("example.com")[0].2, "198.51.100.4", "{t}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.state_dir().join("state.json")).unwrap()).unwrap();
    assert_eq!(
        state["records"]["home.example.com/A"]["content"],
        "198.51.100.4"
    );
}

#[test]
fn the_token_never_appears_in_any_output_even_at_trace_level() {
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all());
        emu.global_key(KEY_EMAIL, GLOBAL_KEY);
    });
    h.emu.add_fault(Fault::status(500).times(1));
    h.write_config(Some("203.0.113.7"), None, RECORD);
    // Every command, with each kind of credentials.
    for (secret, with_key) in [(TOKEN, false), (GLOBAL_KEY, true)] {
        let cmd = |args: &[&str]| {
            if with_key {
                h.ddflare_with_key(args)
            } else {
                h.ddflare(args)
            }
        };
        let mut outputs = Vec::new();
        for args in [
            vec!["--log-level", "trace", "check"],
            vec!["--log-level", "trace", "once"],
            vec!["--log-level", "trace", "--log-format", "json", "once"],
            vec!["--log-level", "trace", "once", "--dry-run"],
            vec!["--log-level", "trace", "detect"],
            vec!["--log-level", "trace", "status"],
            vec!["--log-level", "trace", "health"],
        ] {
            outputs.push((args.join(" "), text(&cmd(&args).output().unwrap())));
        }
        // The daemon, through a reload.
        h.write_config(Some("198.51.100.9"), None, RECORD);
        let d = Daemon::start(cmd(&["--log-level", "trace", "run"]));
        d.wait_for("round done");
        d.signal("HUP");
        let (_, log) = d.stop();
        outputs.push(("run".to_owned(), log));
        h.write_config(Some("203.0.113.7"), None, RECORD);
        for (args, t) in &outputs {
            assert!(!t.contains(secret), "{args} printed the secret:\n{t}");
            assert!(
                !t.contains(&secret[..16]),
                "{args} printed part of the secret:\n{t}"
            );
            assert!(
                !t.contains(&secret[secret.len() - 16..]),
                "{args} printed the end of the secret:\n{t}"
            );
        }
    }
    // Nor anything the state directory holds.
    for entry in std::fs::read_dir(h.state_dir()).unwrap() {
        let data = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!data.contains(&TOKEN[..16]) && !data.contains(&GLOBAL_KEY[..16]));
    }
}

#[test]
fn a_global_api_key_updates_the_record_and_warns_at_every_start() {
    let h = Harness::with(&["example.com"], |emu| {
        emu.global_key(KEY_EMAIL, GLOBAL_KEY)
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let advice = [
        "using the Global API Key",
        "a scoped API token is safer",
        "My Profile → API Tokens → Create Token",
        "\"Edit zone DNS\"",
        "Zone Resources",
    ];

    let out = assert_exit(&h.ddflare_with_key(&["check"]).output().unwrap(), 0);
    assert!(
        out.contains("not verified: /user/tokens/verify checks API tokens only"),
        "{out}"
    );
    assert!(out.contains("DNS edit allowed"), "{out}");
    assert!(
        !h.requests().iter().any(|r| r.contains("tokens/verify")),
        "{:?}",
        h.requests()
    );
    for a in advice {
        assert!(out.contains(a), "check: no {a:?} in:\n{out}");
    }

    let out = assert_exit(&h.ddflare_with_key(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
    for a in advice {
        assert!(out.contains(a), "once: no {a:?} in:\n{out}");
    }
    assert_eq!(
        h.records("example.com"),
        vec![("home.example.com".into(), "A".into(), "203.0.113.7".into())]
    );
    assert!(!out.contains(&GLOBAL_KEY[..16]), "{out}");

    let d = Daemon::start(h.ddflare_with_key(&["run"]));
    let log = d.wait_for("round done");
    let (code, _) = d.stop();
    assert_eq!(code, Some(0));
    assert!(log.contains("using the Global API Key"), "run: {log}");

    // A wrong key is refused by Cloudflare with a hint about the key, not the token.
    let out = h
        .ddflare_with_key(&["once"])
        .env(
            "CLOUDFLARE_API_KEY",
            "0123456789abcdef0123456789abcdef01234",
        )
        .env("DDFLARE_STATE_DIR", h.dir.path().join("other-state"))
        .output()
        .unwrap();
    let t = assert_exit(&out, 1);
    assert!(
        t.contains("api_email") && t.contains("Global API Key"),
        "{t}"
    );
}

#[test]
fn check_reports_token_zones_and_edit_permission() {
    let h = Harness::with(&["example.com", "example.net"], |emu| {
        emu.token(TOKEN, TokenScope::zones_read(&["example.com"]));
    });
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 1);
    assert!(out.contains("token: active"), "{out}");
    assert!(out.contains("zone example.com"), "{out}");
    assert!(out.contains("DNS read ok"), "{out}");
    assert!(out.contains("DNS edit refused"), "{out}");
    assert!(h.records("example.com").is_empty(), "check changes nothing");

    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    assert!(out.contains("DNS edit allowed"), "{out}");
    assert!(out.contains("all checks passed"), "{out}");
}

#[test]
fn an_invalid_token_is_named_with_what_to_do() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = h
        .ddflare(&["once"])
        .env(
            "CLOUDFLARE_API_TOKEN",
            "wrong-token-0123456789-abcdefABCDEF_xyz",
        )
        .output()
        .unwrap();
    let t = assert_exit(&out, 1);
    assert!(
        t.contains("the API token was refused") || t.contains("invalid"),
        "{t}"
    );
    assert!(t.contains("My Profile → API Tokens"), "{t}");
}

#[test]
fn internationalised_names_are_sent_as_punycode() {
    // Cloudflare names zones in punycode.
    let h = Harness::new(&["xn--bcher-kva.example"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.Bücher.example\"\n",
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.xn--bcher-kva.example A 203.0.113.7 created"),
        "{out}"
    );
    assert_eq!(
        h.records("xn--bcher-kva.example"),
        vec![(
            "home.xn--bcher-kva.example".into(),
            "A".into(),
            "203.0.113.7".into()
        )]
    );
}

#[test]
fn detect_asks_the_trace_endpoint_beside_the_api_over_each_family() {
    let h = Harness::new(&["example.com"]);
    h.write_config(None, None, RECORD);
    let config = std::fs::read_to_string(h.config_path())
        .unwrap()
        .replace("ipv4 = [\"none\"]", "ipv4 = [\"cloudflare.trace\"]")
        .replace("ipv6 = [\"none\"]", "ipv6 = [\"cloudflare.trace\"]");
    std::fs::write(h.config_path(), config).unwrap();
    let out = h.ddflare(&["detect"]).output().unwrap();
    let t = text(&out);
    // The emulator listens on 127.0.0.1 only: IPv4 answers with the address it saw (loopback,
    // which is never published, even with allow_private), and the IPv6-bound connection
    // cannot reach it, so IPv6 fails rather than publishing IPv4.
    assert!(
        t.contains("cloudflare.trace: answered 127.0.0.1, which is in 127.0.0.0/8 (loopback)"),
        "{t}"
    );
    assert!(t.contains("IPv6: failed"), "{t}");
    assert_ne!(out.status.code(), Some(0), "{t}");
    let asked: Vec<_> = h.emu.requests().into_iter().map(|r| r.path).collect();
    assert!(asked.iter().all(|p| p == "/cdn-cgi/trace"), "{asked:?}");
}
