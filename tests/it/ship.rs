//! What the shipping targets rely on: the heartbeat and `ddflare health` (the container's
//! HEALTHCHECK), and, under systemd, sd_notify and journald priorities.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Harness, assert_exit, text};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

/// Waits until `cond` holds, up to `secs` seconds.
fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

fn sigterm(child: &Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn health_follows_the_daemons_heartbeat() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let out = h.ddflare(&["health"]).output().unwrap();
    let t = assert_exit(&out, 1);
    assert!(t.starts_with("unhealthy: no heartbeat at "), "{t}");
    assert_eq!(t.lines().count(), 1, "{t}");

    let child = h
        .ddflare(&["run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let beat = h.state_dir().join("heartbeat");
    assert!(wait_for(10, || beat.exists()), "no heartbeat written");
    let t = assert_exit(&h.ddflare(&["health"]).output().unwrap(), 0);
    assert!(
        t.starts_with("healthy: the last successful round was "),
        "{t}"
    );
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A heartbeat from an hour ago: stale for the default (2 × 5m + 2m) and for --max-age.
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    std::fs::write(
        &beat,
        format!("{{\"version\":1,\"last_success\":{hour_ago}}}"),
    )
    .unwrap();
    let t = assert_exit(&h.ddflare(&["health"]).output().unwrap(), 1);
    // "1h ago", or "1h 1s ago" on a loaded machine: the file was written a moment before.
    assert!(
        t.starts_with("unhealthy: the last successful round was 1h ")
            && t.contains(" ago, longer than the allowed 12m"),
        "{t}"
    );
    let t = assert_exit(
        &h.ddflare(&["health", "--max-age", "2h"]).output().unwrap(),
        0,
    );
    assert!(t.contains("(allowed: 2h)") && t.contains("was 1h "), "{t}");
    let t = assert_exit(
        &h.ddflare(&["health", "--max-age", "soon"])
            .output()
            .unwrap(),
        2,
    );
    assert!(t.contains("--max-age"), "{t}");
}

#[test]
fn a_dry_run_daemon_writes_no_heartbeat() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let child = h
        .ddflare(&["run", "--dry-run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(10, || !h.emu.requests().is_empty()));
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!h.state_dir().join("heartbeat").exists());
}

#[test]
fn under_systemd_the_daemon_notifies_ready_status_watchdog_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let path = h.dir.path().join("notify");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let child = h
        .ddflare(&["run"])
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "200000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut seen: Vec<String> = Vec::new();
    let mut recv = |seen: &mut Vec<String>| {
        let n = sock.recv(&mut buf).unwrap();
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        seen.push(m.clone());
        m
    };
    while !recv(&mut seen).starts_with("READY=1") {}
    assert!(
        seen.contains(&"READY=1\nSTATUS=203.0.113.7; 1 record(s) in sync".to_owned()),
        "{seen:?}"
    );
    // Pings every 100ms (half of WATCHDOG_USEC).
    let mut pings = 0;
    while pings < 3 {
        if recv(&mut seen) == "WATCHDOG=1" {
            pings += 1;
        }
    }
    sigterm(&child);
    while !recv(&mut seen).starts_with("STOPPING=1") {}
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(seen.iter().filter(|m| m.contains("READY=1")).count(), 1);
}

#[test]
fn on_the_journal_stream_lines_carry_syslog_priorities_and_no_timestamp() {
    use std::os::unix::fs::MetadataExt;
    let h = Harness::new(&["example.com"]);
    // An invalid token: an error, its hint, and an info line first.
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let log = h.dir.path().join("stderr");
    let run = |journal: Option<String>| {
        let file = std::fs::File::create(&log).unwrap();
        let meta = file.metadata().unwrap();
        let mut cmd = h.ddflare(&["once"]);
        cmd.env(
            "CLOUDFLARE_API_TOKEN",
            "not-the-right-token-0123456789abcdef",
        );
        cmd.env(
            "JOURNAL_STREAM",
            journal.unwrap_or_else(|| format!("{}:{}", meta.dev(), meta.ino())),
        );
        let status = cmd.stderr(file).status().unwrap();
        assert_eq!(status.code(), Some(1));
        std::fs::read_to_string(&log).unwrap()
    };
    let t = run(None);
    assert!(!t.is_empty());
    for line in t.lines() {
        assert!(
            line.starts_with("<3>") || line.starts_with("<4>") || line.starts_with("<6>"),
            "{line:?} in\n{t}"
        );
        assert!(!line.contains("Z  "), "no timestamp: {line:?}");
    }
    assert!(t.lines().any(|l| l.starts_with("<4>")), "{t}");
    // The variable alone is not enough: it must name stderr itself.
    let t = run(Some("1:1".into()));
    assert!(t.lines().all(|l| !l.starts_with('<')), "{t}");
}
