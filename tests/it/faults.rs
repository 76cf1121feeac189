//! Faults Cloudflare and the network can throw, injected by the emulator, against the real
//! binary: nothing half-applied that the next run cannot finish, a clear line with the
//! `cf-ray` id, never a panic, never a duplicate. The zone also holds records that are not
//! ddflare's (`support::seed_foreign`: TXT, MX, CNAME and A records at other names, a TXT at
//! the managed name, an unmarked A at a name managed in comment mode): each test ends with
//! them byte-identical.

use ddflare_emulator::Fault;

use crate::support::{Harness, assert_exit, seed_foreign, snapshot};

/// home.example.com (all its A/AAAA records are ddflare's) and nas.example.com in comment
/// mode, where only an unmarked A record exists: reported and skipped, never touched.
const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n\n[[record]]\nname = \"nas.example.com\"\nipv6 = false\nownership = \"comment\"\n";

/// An emulator whose example.com holds the foreign records.
struct Zone {
    h: Harness,
    ids: Vec<String>,
    before: Vec<String>,
}

impl Zone {
    fn new() -> Zone {
        let h = Harness::new(&["example.com"]);
        let ids = seed_foreign(&h.emu);
        let before = snapshot(&h.emu, &ids);
        Zone { h, ids, before }
    }

    /// home.example.com's A/AAAA records: (type, content).
    fn home(&self) -> Vec<(String, String)> {
        self.h
            .records("example.com")
            .into_iter()
            .filter(|(n, t, _)| n == "home.example.com" && (t == "A" || t == "AAAA"))
            .map(|(_, t, c)| (t, c))
            .collect()
    }

    #[track_caller]
    fn foreign_intact(&self) {
        assert_eq!(snapshot(&self.h.emu, &self.ids), self.before);
        assert_eq!(
            self.h.records("example.com").len(),
            self.ids.len() + self.home().len(),
            "only home.example.com's A/AAAA records were added: {:?}",
            self.h.records("example.com")
        );
    }
}

fn no_panic(out: &str) {
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn an_answer_lost_after_the_create_converges_without_a_duplicate() {
    let z = Zone::new();
    let h = &z.h;
    h.write_config(Some("203.0.113.7"), None, RECORD);
    // The record is created, then the connection breaks mid-body: ddflare cannot know.
    h.emu.add_fault(
        Fault::truncated_body()
            .after_apply()
            .method("POST")
            .times(1),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    no_panic(&out);
    assert!(
        out.contains("cf-ray") || out.contains("body cut off"),
        "{out}"
    );
    // The next run reads what is there and finds it right: one record, no second POST.
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("nas.example.com A 203.0.113.7 skipped"),
        "{out}"
    );
    assert_eq!(z.home().len(), 1);
    assert!(h.emu.requests().iter().all(|r| r.method == "GET"));
    z.foreign_intact();
}

#[test]
fn non_json_and_unsuccessful_answers_fail_clearly_then_recover() {
    let z = Zone::new();
    let h = &z.h;
    h.write_config(Some("203.0.113.7"), None, RECORD);
    // Two names: the first round lists the zones; when that fails it looks each name up,
    // so the fault hits both.
    h.emu
        .add_fault(Fault::malformed_body().path_prefix("/zones").times(2));
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    no_panic(&out);
    assert!(out.contains("not what the Cloudflare API sends"), "{out}");
    assert!(out.contains("cf-ray"), "{out}");

    h.emu.add_fault(
        Fault::unsuccessful(1234, "Something odd")
            .path_prefix("/zones")
            .times(2),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(out.contains("1234 Something odd"), "{out}");

    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(z.home().len(), 1);
    z.foreign_intact();
}

#[test]
fn a_5xx_burst_is_ridden_out_with_backoff() {
    let z = Zone::new();
    let h = &z.h;
    h.write_config(Some("203.0.113.7"), None, RECORD);
    h.emu.add_fault(Fault::status(503).method("GET").times(2));
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("retrying"), "{out}");
    assert_eq!(z.home().len(), 1);
    z.foreign_intact();
}

#[test]
fn a_batch_refused_as_a_whole_applies_nothing_and_the_next_run_finishes() {
    let z = Zone::new();
    let h = &z.h;
    h.write_config(Some("203.0.113.7"), Some("2001:db8::7"), RECORD);
    // A POST is not retried blindly on a 5xx (it may have been applied): the next round reads first.
    h.emu
        .add_fault(Fault::status(500).path_contains("/batch").times(1));
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    no_panic(&out);
    assert!(z.home().is_empty(), "all or nothing");
    z.foreign_intact();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(z.home().len(), 2);
    z.foreign_intact();
}

#[test]
fn an_unreachable_api_is_named_with_the_address() {
    let h = Harness::new(&["example.com"]);
    // A port nobody listens on. (allow_private: 203.0.113.7 is a documentation address.)
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"http://{closed}/client/v4\"\nmax_retries = 0\n\n[detect]\nallow_private = true\nipv4 = [\"static:203.0.113.7\"]\nipv6 = [\"none\"]\n\n[state]\ndir = \"{}\"\n\n{RECORD}",
            h.state_dir().display()
        ),
    )
    .unwrap();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    no_panic(&out);
    assert!(out.contains("could not reach the Cloudflare API"), "{out}");
    assert!(out.contains("`cloudflare.api_url`"), "{out}");
}

#[test]
fn a_damaged_state_file_is_rebuilt_from_the_api() {
    let z = Zone::new();
    let h = &z.h;
    h.write_config(Some("203.0.113.7"), None, RECORD);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let state = h.state_dir().join("state.json");
    for damage in [
        "",
        "{\"version\":1,\"records\":{\"home.exa",
        "\u{0}\u{1}garbage",
    ] {
        std::fs::write(&state, damage).unwrap();
        let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
        assert!(out.contains("damaged"), "{out}");
        assert_eq!(z.home().len(), 1, "no duplicate after {damage:?}");
        z.foreign_intact();
        let back: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        assert_eq!(
            back["records"]["home.example.com/A"]["content"],
            "203.0.113.7"
        );
    }
}

#[test]
fn an_unwritable_state_directory_does_not_stop_the_update() {
    let z = Zone::new();
    let h = &z.h;
    // A regular file where the directory should be: no one, root included, can create in it.
    // (allow_private: 203.0.113.7 is a documentation address.)
    let blocker = h.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\n\n[detect]\nallow_private = true\nipv4 = [\"static:203.0.113.7\"]\nipv6 = [\"none\"]\n\n[state]\ndir = \"{}\"\n\n{RECORD}",
            h.emu.base_url(),
            blocker.join("state").display()
        ),
    )
    .unwrap();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("cannot save the state"), "{out}");
    assert_eq!(z.home().len(), 1);
    z.foreign_intact();
}
