//! Ownership and `delete_on_stop` through the real binary: `run` creates records, SIGTERM
//! deletes those and only those; records it found (updated or not), records of other names
//! and types, and unmarked records at a comment-mode name survive byte for byte.

use ddflare_emulator::RecordSpec;

use crate::support::{Daemon, Harness, assert_exit, seed_foreign, snapshot};

/// home: created (all mode). vpn: found on Cloudflare, then updated. cam: created in
/// comment mode, with the marker. nas: comment mode, only an unmarked record there (skipped).
/// keep: created, but delete_on_stop is off for it. All delete_on_stop but keep.
const RECORDS: &str = "[defaults]\ndelete_on_stop = true\n\n\
    [[record]]\nname = \"home.example.com\"\n\n\
    [[record]]\nname = \"vpn.example.com\"\n\n\
    [[record]]\nname = \"cam.example.com\"\nownership = \"comment\"\n\n\
    [[record]]\nname = \"nas.example.com\"\nownership = \"comment\"\nipv6 = false\n\n\
    [[record]]\nname = \"keep.example.com\"\ndelete_on_stop = false\n";

fn names(h: &Harness) -> Vec<(String, String)> {
    h.records("example.com")
        .into_iter()
        .map(|(n, t, _)| (n, t))
        .collect()
}

fn has(h: &Harness, name: &str, rtype: &str) -> bool {
    names(h).contains(&(name.to_owned(), rtype.to_owned()))
}

#[test]
fn sigterm_with_delete_on_stop_removes_only_the_records_run_created() {
    let h = Harness::new(&["example.com"]);
    let foreign = seed_foreign(&h.emu);
    // Found, not created: updated by ddflare, never deleted.
    let vpn = h
        .emu
        .add_record(
            "example.com",
            RecordSpec::new("vpn.example.com", "A", "198.51.100.4"),
        )
        .unwrap();
    let before = snapshot(&h.emu, &foreign);
    h.write_config(Some("203.0.113.7"), None, RECORDS);

    let d = Daemon::start(h.ddflare(&["run"]));
    let log = d.wait_for("round done");
    assert!(
        log.contains("home.example.com A 203.0.113.7 created"),
        "{log}"
    );
    assert!(
        log.contains("vpn.example.com A 198.51.100.4 → 203.0.113.7 updated"),
        "{log}"
    );
    assert!(
        log.contains("nas.example.com A 203.0.113.7 skipped"),
        "{log}"
    );
    let cam = h
        .emu
        .records("example.com")
        .into_iter()
        .find(|r| r.name == "cam.example.com")
        .unwrap();
    assert_eq!(cam.comment.as_deref(), Some("managed by ddflare"));
    for name in ["home", "cam", "keep"] {
        assert!(has(&h, &format!("{name}.example.com"), "A"), "{log}");
    }
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.state_dir().join("state.json")).unwrap()).unwrap();
    assert_eq!(
        state["created"].as_object().map(serde_json::Map::len),
        Some(3),
        "home, cam and keep were created: {state}"
    );

    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
    assert_eq!(
        log.matches("deleted (delete_on_stop)").count(),
        2,
        "home and cam: {log}"
    );
    assert!(!has(&h, "home.example.com", "A"), "{log}");
    assert!(!has(&h, "cam.example.com", "A"), "{log}");
    assert!(has(&h, "keep.example.com", "A"), "no delete_on_stop: {log}");
    let vpn_now = h
        .emu
        .records("example.com")
        .into_iter()
        .find(|r| r.id == vpn);
    assert_eq!(
        vpn_now.map(|r| r.content),
        Some("203.0.113.7".to_owned()),
        "found, so never deleted"
    );
    assert_eq!(
        snapshot(&h.emu, &foreign),
        before,
        "foreign records changed"
    );
    // The cache forgot what it deleted: the next start creates the records again.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.state_dir().join("state.json")).unwrap()).unwrap();
    assert!(
        state["records"].get("home.example.com/A").is_none(),
        "{state}"
    );
    assert_eq!(
        state["created"].as_object().map(serde_json::Map::len),
        Some(1)
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
}

#[test]
fn once_and_a_dry_run_never_delete() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[defaults]\ndelete_on_stop = true\n\n[[record]]\nname = \"home.example.com\"\n",
    );
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(has(&h, "home.example.com", "A"));
    let d = Daemon::start(h.ddflare(&["run", "--dry-run"]));
    d.wait_for("round done");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("delete_on_stop"), "{log}");
    assert!(has(&h, "home.example.com", "A"), "{log}");
    assert!(
        h.emu.requests().iter().all(|r| r.method != "DELETE"),
        "{:?}",
        h.requests()
    );
}
