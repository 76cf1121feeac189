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
    assert!(
        t.starts_with(
            "unhealthy: the last successful round was 1h ago, longer than the allowed 12m"
        ),
        "{t}"
    );
    let t = assert_exit(
        &h.ddflare(&["health", "--max-age", "2h"]).output().unwrap(),
        0,
    );
    assert!(t.contains("1h ago (allowed: 2h)"), "{t}");
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
