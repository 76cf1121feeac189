//! Regression tests: one test per fixed bug, named after the bug, in this one file (as
//! ripgrep's `tests/regression.rs`). Each test must fail on the code before its fix: write it
//! first, watch it fail, then fix the code. A test here is never loosened to make it pass.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ddflare::config::{Config, parse};
use ddflare::reload::diff;
use ddflare_emulator::{Fault, RecordSpec};

use crate::support::{Daemon, Harness, assert_exit};

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

/// Issue 13, item 9: a SIGHUP during a slow round, then SIGTERM. The reload waited for the
/// round in flight without listening for SIGTERM, then started the loop again, so ddflare
/// stopped long after `shutdown_grace` (24.6 s with 3 s). SIGTERM always wins.
#[test]
fn sigterm_during_a_pending_reload_stops_within_the_grace() {
    let h = Harness::new(&["example.com"]);
    let config = |ttl: u32| {
        format!(
            "[schedule]\nshutdown_grace = \"2s\"\n\n[[record]]\nname = \"home.example.com\"\nttl = {ttl}\n"
        )
    };
    h.write_config(Some("203.0.113.7"), None, &config(300));
    // Every API call takes 1.5 s: a round (zone, records, create) takes several seconds.
    h.emu.add_fault(Fault::delay(1500).times(1000));
    let d = Daemon::start(h.ddflare(&["run", "--log-level", "debug"]));
    d.wait_for("cloudflare request");
    h.write_config(Some("203.0.113.7"), None, &config(600));
    d.signal("HUP");
    d.wait_for("applies once the round in flight ends");
    let sent = Instant::now();
    let (code, log) = d.stop();
    let took = sent.elapsed();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        took < Duration::from_secs(3),
        "stopped {took:?} after SIGTERM, with shutdown_grace = 2s:\n{log}"
    );
    assert!(!log.contains("config reloaded"), "{log}");
}

/// Issue 13, item 14: `ddflare status | head -1` (stdout closed by the reader) panicked with
/// exit 101 and a message on stderr. Like other Unix tools, it now exits quietly.
#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let h = Harness::new(&["example.com"]);
    let records: String = (0..200)
        .map(|i| format!("[[record]]\nname = \"h{i}.example.com\"\n"))
        .collect();
    h.write_config(Some("203.0.113.7"), None, &records);
    let mut child = h
        .ddflare(&["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before ddflare has written its lines.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

/// One record, home.example.com, IPv4 only.
const HOME_V4: &str = "[[record]]\nname = \"home.example.com\"\nipv6 = false\n";

/// Issue 13, item 1: the zone listing returned record X (right address) twice. ddflare logged
/// `unchanged`, then `1 duplicate(s) deleted` and sent `DELETE …/dns_records/X`: the name had
/// no A record while the cache said "confirmed". Listings are de-duplicated by id.
#[test]
fn a_record_listed_twice_is_not_deleted_as_its_own_duplicate() {
    let h = Harness::new(&["example.com"]);
    let seeded = RecordSpec::new("home.example.com", "A", "203.0.113.7");
    h.emu.add_record("example.com", seeded).unwrap();
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    h.emu.add_fault(
        Fault::duplicate_records()
            .path_contains("/dns_records")
            .times(100),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        !h.requests().iter().any(|r| r.starts_with("DELETE")),
        "{:?}\n{out}",
        h.requests()
    );
    assert!(!out.contains("duplicate"), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())]
    );
}

/// Issue 13, item 3: a `synced_at` in the future (a clock that was ahead, or a planted file)
/// made the cache answer for the record for ever: `now - synced_at` saturated to zero. A
/// timestamp more than a few minutes ahead is now stale, so Cloudflare is asked again.
#[test]
fn a_future_synced_at_does_not_keep_the_cache_fresh_for_ever() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let file = h.state_dir().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entry = &mut state["records"]["home.example.com/A"];
    let id = entry["id"].as_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Ten years ahead.
    entry["synced_at"] = (now + 10 * 365 * 86_400).into();
    std::fs::write(&file, serde_json::to_vec(&state).unwrap()).unwrap();
    // Someone changes the record in the dashboard.
    h.emu.set_record_content("example.com", &id, "198.51.100.4");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(!out.contains("(cached)"), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// A list answer of `result` records, one page, as Cloudflare shapes it.
fn list_page(result: serde_json::Value) -> String {
    let count = result.as_array().map_or(0, Vec::len);
    serde_json::json!({
        "result": result,
        "success": true,
        "errors": [],
        "messages": [],
        "result_info": {"page": 1, "per_page": 5000, "count": count, "total_count": count, "total_pages": 1}
    })
    .to_string()
}

/// Issue 13, item 4: ids were used unchecked. A record id `.` or `..` from the API (or a zone
/// id from a planted state file) vanished in URL building, so ddflare sent `PATCH
/// …/dns_records` with no id. An id that is not the API's shape (32 lowercase hex
/// characters) is refused before any URL is built: from the API with a clear failure, from
/// the state file by forgetting it and asking Cloudflare again.
#[test]
fn an_id_that_is_not_cloudflares_never_reaches_a_url() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    for bad in [".", "..", ""] {
        let body = list_page(serde_json::json!([{
            "id": bad, "name": "home.example.com", "type": "A", "content": "198.51.100.4",
            "proxied": false, "ttl": 1
        }]));
        h.emu.clear_requests();
        h.emu.add_fault(
            Fault::new(ddflare_emulator::FaultKind::Status {
                status: 200,
                body: Some(body),
            })
            .method("GET")
            .path_contains("/dns_records")
            .times(10),
        );
        let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
        h.emu.clear_faults();
        let writes: Vec<String> = h
            .requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET"))
            .collect();
        assert!(writes.is_empty(), "id {bad:?}: {writes:?}\n{out}");
        assert!(out.contains("not a Cloudflare id"), "id {bad:?}:\n{out}");
    }
    // A planted state file whose zone id is `..`: forgotten, the zone is looked up again.
    let file = h.state_dir().join("state.json");
    let planted = serde_json::json!({
        "version": 1,
        "zones": {"home.example.com": {"id": "..", "name": "example.com"}},
        "records": {}, "created": {}
    });
    std::fs::create_dir_all(h.state_dir()).unwrap();
    std::fs::write(&file, planted.to_string()).unwrap();
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        h.requests()
            .iter()
            .all(|r| !r.contains("/zones/../") && r != "GET /dns_records"),
        "{:?}",
        h.requests()
    );
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// Issue 13, item 4: the zone returned for `GET /zones?name=home.example.com` was accepted
/// whatever its name: a zone `z1.org` got home.example.com's record (as
/// `home.example.com.z1.org`). Only a zone named exactly as asked counts.
#[test]
fn a_zone_answered_under_another_name_is_not_used() {
    let h = Harness::new(&["example.com", "z1.org"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    let wrong = list_page(serde_json::json!([{
        "id": h.zone_ids["z1.org"], "name": "z1.org", "status": "active"
    }]));
    h.emu.add_fault(
        Fault::new(ddflare_emulator::FaultKind::Status {
            status: 200,
            body: Some(wrong),
        })
        .method("GET")
        .path_prefix("/zones")
        .times(1),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(h.records("z1.org").is_empty(), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// Issue 13, item 4: a zone that is not `active` (pending nameservers, moved away) was used
/// without a word, so the user saw "created" while nothing was served. It is now said.
#[test]
fn a_zone_that_is_not_active_is_said_so() {
    let h = Harness::with(&[], |emu| {
        emu.zone_with(
            "example.com",
            ddflare_emulator::ZoneOptions {
                status: ddflare_emulator::ZoneStatus::Pending,
                ..Default::default()
            },
        );
        emu.token(
            crate::support::TOKEN,
            ddflare_emulator::TokenScope::edit_all(),
        );
    });
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("example.com is `pending` on Cloudflare, not active"),
        "{out}"
    );
}

/// Issue 13, item 2: several names were read in one listing (`name=a&name=b&match=any`), a
/// form Cloudflare's 2025-02-21 deprecation notice does not guarantee. A server honouring only
/// the first name made b.example.com look empty, and ddflare created a second A record beside
/// the one it held (both addresses served). A name a listing of several left empty is now
/// confirmed empty without repeated names before anything is created; where the server
/// behaves, a listing of several names still costs one request.
#[test]
fn a_server_honouring_one_name_of_several_gets_no_duplicate() {
    let h = Harness::new(&["example.com"]);
    let old = RecordSpec::new("b.example.com", "A", "198.51.100.4");
    h.emu.add_record("example.com", old).unwrap();
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"a.example.com\"\nipv6 = false\n\n[[record]]\nname = \"b.example.com\"\nipv6 = false\n",
    );
    h.emu.add_fault(
        Fault::first_name_only()
            .path_contains("/dns_records")
            .times(1000),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let want = |names: &[&str]| -> Vec<(String, String, String)> {
        names
            .iter()
            .map(|n| (format!("{n}.example.com"), "A".into(), "203.0.113.7".into()))
            .collect()
    };
    assert_eq!(h.records("example.com"), want(&["a", "b"]), "{out}");
    // Again, with the cache gone: still no duplicate, nothing to change.
    std::fs::remove_dir_all(h.state_dir()).unwrap();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(h.records("example.com"), want(&["a", "b"]), "{out}");

    // A server that behaves: 25 names that all exist cost two listings, no more.
    let h = Harness::new(&["example.com"]);
    let names: Vec<String> = (0..25).map(|i| format!("h{i}")).collect();
    let mut config = String::new();
    for n in &names {
        let spec = RecordSpec::new(&format!("{n}.example.com"), "A", "203.0.113.7");
        h.emu.add_record("example.com", spec).unwrap();
        config.push_str(&format!(
            "[[record]]\nname = \"{n}.example.com\"\nipv6 = false\n"
        ));
    }
    h.write_config(Some("203.0.113.7"), None, &config);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let listings = h
        .dns_requests()
        .into_iter()
        .filter(|r| r.starts_with("GET") && r.ends_with("/dns_records"))
        .count();
    assert_eq!(listings, 2, "{:?}\n{out}", h.dns_requests());
}

/// Runs `cmd` for at most `limit`: its exit code, its output, how long it took; killed (and
/// the test failed) past the limit.
fn run_within(
    h: &Harness,
    mut cmd: std::process::Command,
    limit: Duration,
) -> (Option<i32>, String, Duration) {
    let log = h.dir.path().join("run_within.log");
    let file = std::fs::File::create(&log).unwrap();
    let started = Instant::now();
    let mut child = cmd
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = std::fs::read_to_string(&log).unwrap();
            return (status.code(), out, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let out = std::fs::read_to_string(&log).unwrap();
            panic!("still running after {limit:?}:\n{out}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Issue 13, item 10: `once` (cron) had no overall deadline: a silent server cost 46 s per
/// call and an endless pagination ran 270 s. `once` obeys `schedule.cycle_deadline` like `run`.
#[test]
fn once_obeys_the_cycle_deadline() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[schedule]\ncycle_deadline = \"3s\"\n\n[[record]]\nname = \"home.example.com\"\nipv6 = false\n",
    );
    // A silent server: every answer takes a minute.
    h.emu.add_fault(Fault::delay(60_000).times(1000));
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(12));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(8), "{took:?}\n{out}");
    h.emu.clear_faults();

    // An endless listing: every page says a million more follow.
    let page = serde_json::json!({
        "result": [{"id": "372e67954025e0ba6aaa6d586b9e0b59", "name": "home.example.com",
                    "type": "A", "content": "198.51.100.4", "proxied": false, "ttl": 1}],
        "success": true, "errors": [], "messages": [],
        "result_info": {"page": 1, "per_page": 5000, "count": 1, "total_count": 5_000_000_000u64,
                        "total_pages": 1_000_000}
    });
    h.emu.add_fault(
        Fault::new(ddflare_emulator::FaultKind::Status {
            status: 200,
            body: Some(page.to_string()),
        })
        .method("GET")
        .path_contains("/dns_records")
        .times(100_000),
    );
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(12));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(8), "{took:?}\n{out}");
    assert!(h.records("example.com").is_empty(), "{out}");
}

/// Issue 13, item 10: `Retry-After: 999999` cost 180 s per call (three capped sleeps) and the
/// user was not told when Cloudflare would take requests again. A `Retry-After` longer than
/// the round can wait ends the round at once, saying when the next try is allowed.
#[test]
fn a_long_retry_after_ends_once_at_once_saying_when() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    h.emu
        .add_fault(Fault::rate_limited(Some(999_999)).times(1000));
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(20));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(5), "{took:?}\n{out}");
    assert!(
        out.contains("Cloudflare asks to wait 11 d 13 h (Retry-After); the next try is after 20"),
        "{out}"
    );
    // Nothing was sent once Cloudflare had said to wait: one request, not one per retry.
    assert_eq!(h.dns_requests().len(), 1, "{:?}", h.dns_requests());
}
