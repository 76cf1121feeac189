//! Recovery from faults of the world around `ddflare run`, with real processes on loopback:
//!
//! - the emulator process (`cf-emulator`, its records in a state file) killed with SIGKILL
//!   while ddflare's request is in flight (held there by the emulator's delay fault), then
//!   started again on the same port: ddflare logs the failure, keeps running, and converges
//!   at a later round on its own;
//! - the API's host name not resolving (a private /etc/hosts in a user + mount + network
//!   namespace, `unshare -r -n -m`, with the API behind TLS and a test CA): rounds fail saying
//!   the name did not resolve; once the name is added to that file, the next round succeeds.
//!
//! Clock jumps (suspend/resume) are tested under paused time in `src/daemon.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Daemon, EmulatorProcess, Harness, TOKEN, ddflare_cmd};

/// Waits until `ok` holds, polling; fails the test after `limit`.
#[track_caller]
fn eventually(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The records of example.com that are not home.example.com's A record, by id.
fn others(records: &[Value]) -> Vec<Value> {
    let mut v: Vec<Value> = records
        .iter()
        .filter(|r| !(r["name"] == "home.example.com" && r["type"] == "A"))
        .cloned()
        .collect();
    v.sort_by_key(|r| r["id"].as_str().unwrap_or_default().to_owned());
    v
}

fn home_a(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["name"] == "home.example.com" && r["type"] == "A")
        .map(|r| r["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_emulator_killed_mid_request_and_restarted_is_ridden_out() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("emulator.json");
    let emu = EmulatorProcess::start("127.0.0.1:0", &state_file);
    for spec in [
        json!({"zone": "example.com", "name": "home.example.com", "type": "TXT", "content": "\"v=spf1 -all\""}),
        json!({"zone": "example.com", "name": "other.example.com", "type": "A", "content": "198.51.100.4"}),
        json!({"zone": "example.com", "name": "www.example.com", "type": "CNAME", "content": "home.example.com"}),
        json!({"zone": "example.com", "name": "nas.example.com", "type": "A", "content": "192.0.2.50", "comment": "Bob's box"}),
    ] {
        emu.seed(spec);
    }
    let foreign = others(&emu.records());
    // The address comes from a file, read every round, so the test can change it.
    let wan = dir.path().join("wan-ip");
    std::fs::write(&wan, "203.0.113.7\n").unwrap();
    let config = dir.path().join("ddflare.toml");
    std::fs::write(
        &config,
        format!(
            "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"30s\"\nmax_retries = 1\n\n\
             [detect]\nallow_private = true\nipv4 = [\"file:{}\"]\nipv6 = [\"none\"]\n\n\
             [schedule]\ninterval = \"10s\"\n\n[state]\ndir = \"{}\"\n\n\
             [[record]]\nname = \"home.example.com\"\n\n\
             [[record]]\nname = \"nas.example.com\"\nownership = \"comment\"\n",
            emu.base_url(),
            wan.display(),
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let mut d = Daemon::start({
        let mut cmd = ddflare_cmd();
        cmd.env("CLOUDFLARE_API_TOKEN", TOKEN)
            .arg("--config")
            .arg(&config)
            .arg("run");
        cmd
    });
    d.wait_for("home.example.com A 203.0.113.7 created");

    // The next PATCH is held for a minute: the request in flight when the emulator dies.
    let (status, body) = emu.admin(
        "POST",
        "/faults",
        Some(r#"{"method":"PATCH","kind":"delay","ms":60000}"#),
    );
    assert_eq!(status, 200, "{body}");
    std::fs::write(&wan, "198.51.100.4\n").unwrap();
    eventually(
        "the PATCH to reach the emulator",
        Duration::from_secs(30),
        || {
            let (_, body) = emu.admin("GET", "/requests", None);
            serde_json::from_str::<Vec<Value>>(&body)
                .unwrap_or_default()
                .iter()
                .any(|r| r["method"] == "PATCH" && r["fault"] == "delay")
        },
    );
    let addr = emu.addr;
    emu.kill();

    let log = d.wait_for_within("round done with failures", 1, Duration::from_secs(30));
    assert!(
        log.contains("home.example.com A 198.51.100.4 failed")
            && log.contains("could not reach the Cloudflare API"),
        "{log}"
    );
    assert!(d.running(), "ddflare exited:\n{log}");

    // Back on the same port, with the records it had; the fault is gone with the process.
    let emu = EmulatorProcess::start(&addr.to_string(), &state_file);
    let log = d.wait_for_within(
        "home.example.com A 203.0.113.7 → 198.51.100.4 updated",
        1,
        Duration::from_secs(40),
    );
    let records = emu.records();
    assert_eq!(home_a(&records), vec!["198.51.100.4"], "{log}");
    assert_eq!(others(&records), foreign, "foreign records changed");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// Writes `text` into the file in place (the bind mount follows the inode, not the name).
fn rewrite(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_api_name_that_does_not_resolve_fails_clearly_until_it_does() {
    if !crate::detect::netns::enter(
        "recovery::an_api_name_that_does_not_resolve_fails_clearly_until_it_does",
        &[],
    ) {
        return;
    }
    use crate::detect::netns::sh;
    sh("ip link set lo up");
    // This mount namespace's own name service: files first, then a DNS server on loopback
    // where nothing listens (refused at once; no query leaves the namespace).
    let etc = tempfile::tempdir().unwrap();
    let hosts = etc.path().join("hosts");
    for (name, text) in [
        ("hosts", "127.0.0.1 localhost\n"),
        ("resolv.conf", "nameserver 127.0.0.1\n"),
        ("nsswitch.conf", "hosts: files dns\n"),
    ] {
        let file = etc.path().join(name);
        std::fs::write(&file, text).unwrap();
        sh(&format!("mount --bind {} /etc/{name}", file.display()));
    }

    let h = Harness::new(&["example.com"]);
    let pki = crate::tls::pki(&["api.test"]);
    let ca_file = h.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let front = h.spawn(crate::tls::tls_front_on(
        "127.0.0.1:0".parse().unwrap(),
        pki.acceptor(),
        h.emu.addr(),
    ));
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"https://api.test:{}/client/v4\"\nca_file = \"{}\"\n\
             request_timeout = \"3s\"\nmax_retries = 0\n\n\
             [detect]\nallow_private = true\nipv4 = [\"static:203.0.113.7\"]\nipv6 = [\"none\"]\n\n\
             [schedule]\ninterval = \"10s\"\n\n[state]\ndir = \"{}\"\n\n\
             [[record]]\nname = \"home.example.com\"\n",
            front.port(),
            ca_file.display(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let d = Daemon::start(h.ddflare(&["run"]));
    let log = d.wait_for("round done with failures");
    assert!(log.contains("`api.test` did not resolve"), "{log}");
    assert!(
        log.contains("hint: the host name of `cloudflare.api_url` does not resolve"),
        "{log}"
    );
    assert!(h.records("example.com").is_empty());

    rewrite(&hosts, "127.0.0.1 localhost\n127.0.0.1 api.test\n");
    let log = d.wait_for_within(
        "home.example.com A 203.0.113.7 created",
        1,
        Duration::from_secs(30),
    );
    assert_eq!(
        h.records("example.com"),
        vec![(
            "home.example.com".to_owned(),
            "A".to_owned(),
            "203.0.113.7".to_owned()
        )],
        "{log}"
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}
