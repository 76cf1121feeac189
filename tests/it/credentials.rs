//! Several credentials (issue 14): `[[credentials]]` tokens each seeing only their own zone,
//! updated by `once` and `run`, checked by `check`; an unknown name; a named token file
//! rotated under a running daemon; one rate limit for all the tokens of a user.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ddflare_emulator::TokenScope;

use crate::support::*;

/// The second token: DNS Edit on `work.example` only.
const WORK: &str = "work-token-0123456789-abcdefABCDEF_xyz01";
const WORK_NEW: &str = "work-rotated-0123456789-abcdefABCDEF_xy";

/// Two zones, [`TOKEN`] seeing only `example.com`, [`WORK`] only `work.example`.
fn two_tokens(owner: Option<&str>) -> Harness {
    Harness::with(&["example.com", "work.example"], |emu| {
        emu.token(TOKEN, TokenScope::zones_edit(&["example.com"]));
        emu.token(WORK, TokenScope::zones_edit(&["work.example"]));
        if let Some(o) = owner {
            emu.token_owner(TOKEN, o).token_owner(WORK, o);
        }
    })
}

fn secret(path: &Path, token: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Two records per credential (so each lists its zones once), the work token in a file.
fn config(h: &Harness, v4: &str) -> PathBuf {
    let file = h.dir.path().join("work.token");
    if !file.exists() {
        secret(&file, WORK);
    }
    h.write_config(
        Some(v4),
        None,
        &format!(
            "[[credentials]]\nname = \"work\"\napi_token_file = \"{}\"\n\n\
             [[record]]\nname = \"home.example.com\"\n[[record]]\nname = \"nas.example.com\"\n\
             [[record]]\nname = \"vpn.work.example\"\ncredentials = \"work\"\n\
             [[record]]\nname = \"git.work.example\"\ncredentials = \"work\"\n",
            file.display()
        ),
    );
    file
}

fn contents(h: &Harness, zone: &str) -> Vec<String> {
    h.records(zone)
        .into_iter()
        .map(|(n, t, c)| format!("{n} {t} {c}"))
        .collect()
}

#[test]
fn two_credentials_update_two_zones_each_token_seeing_only_its_own() {
    let h = two_tokens(None);
    config(&h, "203.0.113.7");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(
        contents(&h, "example.com"),
        [
            "home.example.com A 203.0.113.7",
            "nas.example.com A 203.0.113.7"
        ],
        "{out}"
    );
    assert_eq!(
        contents(&h, "work.example"),
        [
            "git.work.example A 203.0.113.7",
            "vpn.work.example A 203.0.113.7"
        ],
        "{out}"
    );
    // Each zone was read and written with its own token only.
    let work_id = &h.zone_ids["work.example"];
    let home_id = &h.zone_ids["example.com"];
    for r in h.emu.requests() {
        if r.path.contains(work_id.as_str()) {
            assert_eq!(r.token.as_deref(), Some(WORK), "{} {}", r.method, r.path);
        }
        if r.path.contains(home_id.as_str()) {
            assert_eq!(r.token.as_deref(), Some(TOKEN), "{} {}", r.method, r.path);
        }
        assert!(r.status < 400, "{} {} → {}", r.method, r.path, r.status);
    }
    assert!(!out.contains(WORK) && !out.contains(TOKEN), "{out}");

    // check: each credential verified, its zones seen and its edit right proven, named.
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    for line in [
        "credentials [cloudflare]: token: active",
        "credentials `work`: token: active",
        "credentials `work`: zone work.example: DNS edit allowed",
        "credentials [cloudflare]: zone example.com: DNS edit allowed",
        "all checks passed",
    ] {
        assert!(out.contains(line), "{line}:\n{out}");
    }

    // run: an address change reaches both zones.
    config(&h, "198.51.100.9");
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("round done");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        contents(&h, "work.example"),
        [
            "git.work.example A 198.51.100.9",
            "vpn.work.example A 198.51.100.9"
        ],
        "{log}"
    );
    assert_eq!(
        contents(&h, "example.com"),
        [
            "home.example.com A 198.51.100.9",
            "nas.example.com A 198.51.100.9"
        ],
        "{log}"
    );
    assert!(!log.contains(WORK) && !log.contains(TOKEN), "{log}");
}

#[test]
fn an_unknown_credentials_name_is_a_config_error_listing_the_defined() {
    let h = two_tokens(None);
    let file = config(&h, "203.0.113.7");
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!(
            "[[credentials]]\nname = \"work\"\napi_token_file = \"{}\"\n\n[[record]]\nname = \"vpn.work.example\"\ncredentials = \"wrok\"\n",
            file.display()
        ),
    );
    for cmd in ["once", "check"] {
        let out = assert_exit(&h.ddflare(&[cmd]).output().unwrap(), 78);
        assert!(out.contains("record[1].credentials"), "{out}");
        assert!(out.contains("\"wrok\""), "{out}");
        assert!(out.contains("defined: work"), "{out}");
    }
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}

#[test]
fn a_named_token_file_replaced_under_a_running_daemon_is_used_and_failures_name_it() {
    let h = two_tokens(None);
    let file = config(&h, "203.0.113.7");
    // max_age 1s: every round reads the records, so every round shows which token works.
    let text = std::fs::read_to_string(h.config_path()).unwrap();
    std::fs::write(
        h.config_path(),
        text.replacen("[state]\n", "[state]\nmax_age = \"1s\"\n", 1),
    )
    .unwrap();
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("round done");

    // The work token is deleted in the dashboard: the round fails for its records alone,
    // naming the credentials, never the token.
    h.emu.revoke_token(WORK);
    std::thread::sleep(Duration::from_millis(1100));
    d.signal("USR1");
    let log = d.wait_for_n("round done", 2);
    assert!(log.contains("credentials `work`"), "{log}");

    // Rotated: a new token, its file replaced (renamed over, as `install` or an editor does).
    h.emu
        .add_token(WORK_NEW, TokenScope::zones_edit(&["work.example"]));
    secret(&file, WORK_NEW);
    h.emu.clear_requests();
    std::thread::sleep(Duration::from_millis(1100));
    d.signal("USR1");
    d.wait_for_n("round done", 3);
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains(
            "the API token file of credentials `work` changed: the new token is used from now on"
        ),
        "{log}"
    );
    assert!(
        log.contains(&file.display().to_string()),
        "the file is named: {log}"
    );
    for t in [TOKEN, WORK, WORK_NEW] {
        assert!(!log.contains(t), "{log}");
    }
    let work_id = &h.zone_ids["work.example"];
    let reads: Vec<_> = h
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(work_id.as_str()))
        .collect();
    assert!(!reads.is_empty());
    assert!(
        reads
            .iter()
            .all(|r| r.token.as_deref() == Some(WORK_NEW) && r.status < 400),
        "{:?}",
        reads
            .iter()
            .map(|r| (&r.path, r.status))
            .collect::<Vec<_>>()
    );
}

#[test]
fn one_rate_limit_for_all_the_credentials_of_a_user() {
    // Cloudflare counts its limit per user across tokens: the emulator gives both tokens one
    // owner and a budget of 4 requests. Both tokens draw on it; the fifth request is refused
    // with a Retry-After beyond the round, after which ddflare sends nothing more with either
    // token (the work records fail without a request, naming their credentials).
    let h = Harness::with(&["example.com", "work.example"], |emu| {
        emu.token(TOKEN, TokenScope::zones_edit(&["example.com"]));
        emu.token(WORK, TokenScope::zones_edit(&["work.example"]));
        emu.token_owner(TOKEN, "alice").token_owner(WORK, "alice");
        emu.rate_limit(4, Duration::from_secs(300));
    });
    config(&h, "203.0.113.7");
    let out = text(&h.ddflare(&["once"]).output().unwrap());
    let log = h.emu.requests();
    let shown: Vec<_> = log
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.path.as_str(),
                r.status,
                r.token.as_deref() == Some(WORK),
            )
        })
        .collect();
    assert_eq!(log.len(), 5, "{shown:?}\n{out}");
    assert_eq!(log[4].status, 429, "{shown:?}");
    assert!(log[..4].iter().all(|r| r.status == 200), "{shown:?}");
    for t in [TOKEN, WORK] {
        assert!(
            log[..4].iter().any(|r| r.token.as_deref() == Some(t)),
            "both tokens drew on the one budget: {shown:?}"
        );
    }
    assert!(out.contains("credentials `work`"), "{out}");
    assert!(!out.contains(WORK) && !out.contains(TOKEN), "{out}");
}
