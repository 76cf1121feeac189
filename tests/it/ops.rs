//! Operations through the real binary: the metrics listener scraped and parsed as Prometheus
//! text, notifications and monitor pings received by local recording servers, SIGHUP reloads
//! (a bad file kept out, a good one applied), `--update-on-start=false`, `run --dry-run`,
//! quiet logs and `status`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ddflare_emulator::{Recorder, TokenScope};
use prom_text_format_parser::Scrape;

use crate::support::{Daemon, Harness, TOKEN, assert_exit, text};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

/// `http://ADDR` of the metrics listener, from its start-up line.
fn metrics_addr(log: &str) -> String {
    let start = log.find("serving http://").unwrap() + "serving http://".len();
    let rest = &log[start..];
    rest[..rest.find("/metrics").unwrap()].to_owned()
}

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

fn sample(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .metrics
        .iter()
        .find(|m| m.name == name)?
        .samples
        .iter()
        .find(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|l| l.key == *k && l.value == *v))
        })
        .map(|s| s.value.value.as_f64())
}

fn config_with(h: &Harness, rec: &Recorder, v4: &str, records: &str) {
    let extra = format!(
        "[metrics]\nlisten = \"127.0.0.1:0\"\n\n[[notify]]\nurl = \"ntfy+http://{addr}/ddns\"\n\n[[monitor]]\nurl = \"{hc}\"\n\n{records}",
        addr = rec.addr(),
        hc = rec.url("/hc/uuid"),
    );
    h.write_config(Some(v4), None, &extra);
}

#[test]
fn metrics_notifications_pings_and_a_sighup_reload_through_the_binary() {
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(
            TOKEN,
            TokenScope::edit_all().with_window("2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
        );
    });
    let rec = h.spawn(Recorder::start()).unwrap();
    config_with(&h, &rec, "203.0.113.7", RECORD);
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("round done");

    // The scrape parses as Prometheus text and says what happened.
    let addr = metrics_addr(&d.log());
    let (head, body) = get(&addr, "/metrics");
    assert!(head.contains("version=0.0.4"), "{head}");
    let scrape = Scrape::parse(&body).unwrap_or_else(|e| panic!("{e:?}\n{body}"));
    assert_eq!(
        sample(&scrape, "ddflare_rounds_total", &[("result", "ok")]),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "ddflare_detections_total",
            &[("provider", "static:203.0.113.7"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "ddflare_api_requests_total",
            &[("endpoint", "dns_records_create"), ("code", "200")]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &scrape,
            "ddflare_record_updates_total",
            &[("type", "A"), ("outcome", "created")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "ddflare_published_address_info",
            &[("name", "home.example.com"), ("address", "203.0.113.7")]
        ),
        Some(1.0)
    );
    assert!(sample(&scrape, "ddflare_last_success_timestamp_seconds", &[]).unwrap() > 1.7e9);
    // The token's expiry, from one verify call at start.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = get(&addr, "/metrics");
        let scrape = Scrape::parse(&body).unwrap();
        if let Some(v) = sample(&scrape, "ddflare_token_expiry_timestamp_seconds", &[]) {
            assert_eq!(v, 1_893_456_000.0);
            break;
        }
        assert!(Instant::now() < deadline, "no token expiry in\n{body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (head, body) = get(&addr, "/healthz");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.starts_with("ok: last successful round"), "{body}");

    // The monitor saw the start and the success; ntfy heard of the new record.
    let got = rec.wait_for(3, Duration::from_secs(10));
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, vec!["/hc/uuid/start", "/hc/uuid", "/"], "{got:?}");
    let ntfy: serde_json::Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(ntfy["topic"], "ddns");
    assert_eq!(
        ntfy["message"],
        "home.example.com A → 203.0.113.7 (new record)"
    );

    // A broken file on SIGHUP changes nothing.
    std::fs::write(h.config_path(), "[schedule]\ninterval = 5\n").unwrap();
    d.signal("HUP");
    let log = d.wait_for("keeping the current one");
    assert!(log.contains("schedule.interval"), "{log}");

    // A good one is applied: a new address and a new record, told and done.
    rec.clear();
    config_with(
        &h,
        &rec,
        "198.51.100.4",
        &format!("{RECORD}[[record]]\nname = \"vpn.example.com\"\n"),
    );
    d.signal("HUP");
    let log = d.wait_for_n("round done", 2);
    assert!(
        log.contains("config reloaded: detect.ipv4: static:203.0.113.7 → static:198.51.100.4"),
        "{log}"
    );
    assert!(
        log.contains("config reloaded: record vpn.example.com: added"),
        "{log}"
    );
    assert_eq!(
        h.records("example.com"),
        vec![
            ("home.example.com".into(), "A".into(), "198.51.100.4".into()),
            ("vpn.example.com".into(), "A".into(), "198.51.100.4".into()),
        ]
    );
    let got = rec.wait_for(3, Duration::from_secs(10));
    let ntfy = got.iter().find(|r| r.path == "/").unwrap();
    let v: serde_json::Value = serde_json::from_str(&ntfy.body).unwrap();
    assert_eq!(v["title"], "ddflare: 2 DNS records changed");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("home.example.com A 203.0.113.7 → 198.51.100.4"),
        "{v}"
    );
    // The counters carried over the reload.
    let (_, body) = get(&addr, "/metrics");
    let scrape = Scrape::parse(&body).unwrap();
    assert_eq!(
        sample(&scrape, "ddflare_rounds_total", &[("result", "ok")]),
        Some(2.0)
    );

    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("SIGTERM received") && log.contains("stopped"),
        "{log}"
    );
}

#[test]
fn without_update_on_start_the_first_round_waits() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let d = Daemon::start(h.ddflare(&["run", "--update-on-start=false"]));
    d.wait_for("waiting for the first scheduled round");
    std::thread::sleep(Duration::from_millis(800));
    // No round yet: at most the token check of the start.
    assert!(h.dns_requests().is_empty(), "{:?}", h.requests());
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("round done"), "{log}");
}

/// SIGUSR1 starts a round now: before the first scheduled one, and again between ticks (as a
/// router's hotplug script does when the WAN comes up), where an unchanged address costs no
/// DNS request.
#[test]
fn sigusr1_starts_a_round_now() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let d = Daemon::start(h.ddflare(&["run", "--update-on-start=false"]));
    d.wait_for("waiting for the first scheduled round");
    d.signal("USR1");
    let log = d.wait_for("round done");
    // One line a round: the trigger is on the round's own summary (issue 17).
    assert!(log.contains(r#"round done changed=1 api_calls="#), "{log}");
    assert!(log.contains(r#"trigger="SIGUSR1""#), "{log}");
    assert!(!log.contains("reconciling now"), "{log}");
    assert_eq!(
        h.records("example.com"),
        vec![("home.example.com".into(), "A".into(), "203.0.113.7".into())]
    );
    let before = h.dns_requests().len();
    d.signal("USR1");
    d.wait_for_n("round done", 2);
    assert_eq!(h.dns_requests().len(), before, "{:?}", h.requests());
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(log.matches(r#"trigger="SIGUSR1""#).count(), 2, "{log}");
}

#[test]
fn run_dry_run_logs_the_plan_and_changes_nothing() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let d = Daemon::start(h.ddflare(&["run", "--dry-run"]));
    d.wait_for("home.example.com A 203.0.113.7 would be created (dry run)");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        h.requests().iter().all(|r| r.starts_with("GET")),
        "{:?}",
        h.requests()
    );
    assert!(h.records("example.com").is_empty());
    assert!(!h.state_dir().join("state.json").exists());
}

#[test]
fn quiet_logs_only_changes_and_problems() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = h.ddflare(&["--quiet", "once"]).output().unwrap();
    let t = assert_exit(&out, 0);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 1, "{t}");
    assert!(
        lines[0].contains("home.example.com A 203.0.113.7 created"),
        "{t}"
    );
    // Nothing changed: nothing said.
    let out = h.ddflare(&["--quiet", "once"]).output().unwrap();
    assert_eq!(assert_exit(&out, 0), "");
    // `log.quiet` in the file says the same; problems still show.
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!("[log]\nquiet = true\n{RECORD}[[record]]\nname = \"home.example.net\"\n"),
    );
    let out = h.ddflare(&["once"]).output().unwrap();
    let t = assert_exit(&out, 1);
    assert!(t.contains("no zone found for home.example.net"), "{t}");
    assert!(!t.contains("INFO"), "{t}");
    // An explicit level wins over the file.
    let out = h
        .ddflare(&["--log-level", "debug", "once"])
        .output()
        .unwrap();
    assert!(text(&out).contains("DEBUG"), "{}", text(&out));
    // --quiet and --log-level contradict each other.
    assert_exit(
        &h.ddflare(&["--quiet", "--log-level", "info", "once"])
            .output()
            .unwrap(),
        2,
    );
}

#[test]
fn status_shows_what_the_cache_says() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!("[schedule]\ncron = \"*/5 * * * *\"\n\n{RECORD}"),
    );
    let out = h.ddflare(&["status"]).output().unwrap();
    let t = assert_exit(&out, 1);
    assert!(t.contains("home.example.com A"), "{t}");
    assert!(t.contains("not published yet"), "{t}");
    assert!(t.contains("never (the cache is empty)"), "{t}");
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    h.emu.clear_requests();
    let out = h.ddflare(&["status"]).output().unwrap();
    let t = assert_exit(&out, 0);
    assert!(t.contains("203.0.113.7"), "{t}");
    assert!(t.contains("zone example.com"), "{t}");
    assert!(t.contains("next round: "), "{t}");
    assert!(t.contains("(cron `*/5 * * * *`, UTC)"), "{t}");
    assert!(h.requests().is_empty(), "status makes no API call");
}

#[test]
fn once_pings_the_monitor_and_tells_of_a_change() {
    let h = Harness::new(&["example.com"]);
    let rec = h.spawn(Recorder::start()).unwrap();
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!(
            "[[notify]]\nurl = \"{}\"\n\n[[monitor]]\nurl = \"{}\"\n\n{RECORD}",
            rec.url("/hook"),
            rec.url("/api/push/kuma")
        ),
    );
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let got = rec.wait_for(2, Duration::from_secs(5));
    assert!(
        got[0].path.starts_with("/api/push/kuma?status=up&msg=ok"),
        "{got:?}"
    );
    assert_eq!(got[1].path, "/hook");
    let v: serde_json::Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(v["event"], "change");
    assert_eq!(v["changes"][0]["to"], "203.0.113.7");
}
