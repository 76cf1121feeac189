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

/// The effective uid of this test process, from /proc (no `unsafe` in tests).
fn euid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// A field of /proc/PID/status, e.g. "Uid".
fn proc_status(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn owner(path: &std::path::Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.uid(), m.gid())
}

#[test]
fn root_drops_to_an_unprivileged_user_before_any_network_io() {
    use std::os::unix::fs::PermissionsExt;
    if euid() != Some(0) {
        crate::support::skip(
            "secrets::root_drops_to_an_unprivileged_user_before_any_network_io",
            "needs root (CI runs it as root)",
            &[],
        );
        return;
    }
    let h = Harness::new(&["example.com"]);
    // The scratch directory must be open to the new user (tempdirs are 0700).
    std::fs::set_permissions(h.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    h.write_config(Some("203.0.113.7"), None, RECORD);
    // The config stays root-only: it is read before the drop.
    std::fs::set_permissions(h.config_path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let as_root = |args: &[&str]| {
        let mut cmd = h.ddflare(args);
        cmd.env_remove("DDFLARE_DROP_PRIVILEGES");
        cmd
    };

    let t = assert_exit(&as_root(&["once"]).output().unwrap(), 0);
    assert!(
        t.contains("started as root: now running as uid 65534, gid 65534"),
        "{t}"
    );
    assert!(t.contains("home.example.com A 203.0.113.7 created"), "{t}");
    // ddflare created the state dir for its new user; everything in it is that user's.
    let state = h.state_dir();
    assert_eq!(owner(&state), (65534, 65534));
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    for f in ["state.json", "token-check.json"] {
        assert_eq!(owner(&state.join(f)), (65534, 65534), "{f}");
    }

    // The daemon, seen from the kernel: every id is 65534, no other group, no capability.
    h.write_config(Some("198.51.100.4"), None, RECORD);
    let d = Daemon::start(as_root(&["run"]));
    d.wait_for("round done");
    let pid = d.pid();
    let (uid, gid, groups, caps) = (
        proc_status(pid, "Uid"),
        proc_status(pid, "Gid"),
        proc_status(pid, "Groups"),
        proc_status(pid, "CapEff"),
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(uid, "65534 65534 65534 65534", "{log}");
    assert_eq!(gid, "65534 65534 65534 65534", "{log}");
    assert_eq!(groups, "65534");
    assert_eq!(caps, "0000000000000000");
    assert_eq!(owner(&state.join("heartbeat")), (65534, 65534));
    assert_eq!(h.records("example.com")[0].2, "198.51.100.4");

    // Another user cannot take a directory that belongs to someone else: a clear refusal.
    let t = assert_exit(
        &as_root(&["once"])
            .env("DDFLARE_USER", "12345:12345")
            .output()
            .unwrap(),
        78,
    );
    assert!(
        t.contains(&format!(
            "the state dir `{}` belongs to uid 65534",
            state.display()
        )),
        "{t}"
    );
    assert!(t.contains("chown -R 12345:12345"), "{t}");

    // A state dir of root's left by an earlier run as root is taken over, and only its files.
    let old = h.dir.path().join("old-state");
    std::fs::create_dir(&old).unwrap();
    std::fs::copy(state.join("state.json"), old.join("state.json")).unwrap();
    std::fs::set_permissions(
        old.join("state.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let t = assert_exit(
        &as_root(&["once"])
            .env("DDFLARE_USER", "12345:12345")
            .env("DDFLARE_STATE_DIR", &old)
            .output()
            .unwrap(),
        0,
    );
    assert!(t.contains("now running as uid 12345, gid 12345"), "{t}");
    assert_eq!(owner(&old), (12345, 12345));
    assert_eq!(owner(&old.join("state.json")), (12345, 12345));
    // …but never one that holds anything else.
    let shared = h.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("someone-elses.conf"), "x").unwrap();
    let t = assert_exit(
        &as_root(&["once"])
            .env("DDFLARE_STATE_DIR", &shared)
            .output()
            .unwrap(),
        78,
    );
    assert!(
        t.contains("holds files that are not ddflare's (`someone-elses.conf`)"),
        "{t}"
    );
    assert_eq!(owner(&shared), (0, 0));

    // A closed directory on the way is named before anything is created.
    let closed = h.dir.path().join("closed");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let t = assert_exit(
        &as_root(&["once"])
            .env("DDFLARE_STATE_DIR", closed.join("state"))
            .output()
            .unwrap(),
        78,
    );
    assert!(
        t.contains(&format!(
            "`{}` is closed to it (mode 700)",
            closed.display()
        )),
        "{t}"
    );
    assert!(!closed.join("state").exists());

    // --no-drop-privileges keeps root, and says so.
    let t = assert_exit(
        &as_root(&["--no-drop-privileges", "check"])
            .output()
            .unwrap(),
        0,
    );
    assert!(
        t.contains("running as root: dropping privileges is off"),
        "{t}"
    );
}

/// Issue 14: a token file rotated the way the kubelet rotates a secret volume (a new
/// timestamped directory, the `..data` link renamed over the old one) reaches a running
/// `ddflare run` without a restart or a SIGHUP: the next request uses the new token, the log
/// says so and never shows either token.
#[test]
fn a_token_secret_rotated_under_a_running_daemon_is_used_without_a_restart() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    const NEW: &str = "rotated-token-0123456789-abcdefABCDEF_x";
    let h = Harness::new(&["example.com"]);
    // max_age 1s: every round reads the records, so every round shows which token works.
    h.write_config(Some("203.0.113.7"), None, RECORD);
    let config = std::fs::read_to_string(h.config_path()).unwrap();
    std::fs::write(
        h.config_path(),
        config.replacen("[state]\n", "[state]\nmax_age = \"1s\"\n", 1),
    )
    .unwrap();
    let secret = h.config_path().parent().unwrap().join("secret");
    std::fs::create_dir(&secret).unwrap();
    let version = |n: u32, token: &str| {
        let dir = secret.join(format!("..2026_12_04_{n}"));
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        symlink(dir.file_name().unwrap(), secret.join("..data_tmp")).unwrap();
        std::fs::rename(secret.join("..data_tmp"), secret.join("..data")).unwrap();
    };
    version(1, TOKEN);
    symlink("..data/token", secret.join("token")).unwrap();
    let mut cmd = h.ddflare(&["run"]);
    cmd.env_remove("CLOUDFLARE_API_TOKEN")
        .env("CLOUDFLARE_API_TOKEN_FILE", secret.join("token"));
    let d = Daemon::start(cmd);
    d.wait_for("round done");

    // Rotated in the dashboard: the old token is deleted, the secret updated.
    h.emu.add_token(NEW, TokenScope::edit_all());
    h.emu.revoke_token(TOKEN);
    version(2, NEW);
    std::fs::remove_dir_all(secret.join("..2026_12_04_1")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    d.signal("USR1");
    let log = d.wait_for_n("round done", 2);
    assert!(
        log.contains("the API token file changed: the new token is used from now on"),
        "{log}"
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    let second = &log[log.find("the API token file changed").unwrap()..];
    assert!(!second.contains("failed"), "{log}");
    assert!(!second.contains("1000"), "{log}");
    assert!(!log.contains(TOKEN) && !log.contains(NEW), "{log}");
    assert!(
        h.requests()
            .iter()
            .filter(|r| r.starts_with("GET /zones/"))
            .count()
            >= 2,
        "{:?}",
        h.requests()
    );
}
