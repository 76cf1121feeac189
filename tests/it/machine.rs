//! What scripts and log pipelines read: the decision fields of the JSON logs (snapshots of a
//! real `once` against the emulator, in both formats), `status --json` and `detect --json`.
//!
//! The snapshots live in tests/it/snapshots/; `UPDATE_SNAPSHOTS=1 cargo test --test it
//! machine` writes them again. A mismatch prints a line diff.

use std::path::{Path, PathBuf};

use ddflare_emulator::TokenScope;

use crate::support::{Harness, TOKEN, assert_exit};

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/snapshots")
        .join(name)
}

/// Compares `got` with the snapshot `name`, or writes it under `UPDATE_SNAPSHOTS=1`.
#[track_caller]
fn assert_snapshot(name: &str, got: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want == got {
        return;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut diff = String::new();
    for i in 0..w.len().max(g.len()) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => diff.push_str(&format!("  {a}\n")),
            (a, b) => {
                if let Some(a) = a {
                    diff.push_str(&format!("- {a}\n"));
                }
                if let Some(b) = b {
                    diff.push_str(&format!("+ {b}\n"));
                }
            }
        }
    }
    panic!(
        "{} differs from this run (- kept, + now); UPDATE_SNAPSHOTS=1 writes it again:\n{diff}",
        path.display()
    );
}

/// Replaces what changes from run to run: a run of digits followed by a duration unit, the
/// emulator's port, the scratch directory, the emulator's `cf-ray` ids (16 hex digits and
/// `-EMU`).
fn normalise(s: &str, h: &Harness) -> String {
    let mut s = s
        .replace(&h.dir.path().display().to_string(), "<dir>")
        .replace(&h.emu.addr().port().to_string(), "<port>");
    while let Some(end) = s.find("-EMU") {
        let start = end.saturating_sub(16);
        assert!(
            s[start..end].chars().all(|c| c.is_ascii_hexdigit()),
            "a cf-ray: {}",
            &s[start..end]
        );
        s.replace_range(start..end + 4, "<cf-ray>");
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.'));
        if starts {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let rest: String = chars[j..chars.len().min(j + 3)].iter().collect();
            let unit = ["ms", "µs", "ns", "s"]
                .into_iter()
                .find(|u| rest.starts_with(u));
            if let Some(u) = unit {
                let end = j + u.chars().count();
                let next = chars.get(end).copied().unwrap_or(' ');
                if !next.is_ascii_alphanumeric() {
                    out.push_str("<dur>");
                    i = end;
                    continue;
                }
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A round that creates, updates, leaves unchanged and fails: example.com is the token's,
/// example.net is not (its records call is refused, with a hint and a `cf-ray`).
fn four_outcomes() -> Harness {
    let h = Harness::with(&["example.com", "example.net"], |emu| {
        emu.token(TOKEN, TokenScope::zones_edit(&["example.com"]));
        emu.record("example.com", "moved.example.com", "A", "198.51.100.1");
        emu.record("example.com", "same.example.com", "A", "203.0.113.7");
    });
    let net = &h.zone_ids["example.net"];
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!(
            "[[record]]\nname = \"new.example.com\"\n[[record]]\nname = \"moved.example.com\"\n\
             [[record]]\nname = \"same.example.com\"\n\
             [[record]]\nname = \"home.example.net\"\nzone = \"example.net\"\nzone_id = \"{net}\"\n"
        ),
    );
    h
}

/// The log of `once` in `format`, timestamps dropped (JSON) or cut (text), normalised.
fn once_log(format: &str) -> String {
    let h = four_outcomes();
    let out = h
        .ddflare(&["once", "--log-format", format])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let mut lines = Vec::new();
    // Said only when the tests run as root (CI), not by a developer's run.
    let as_root = "running as root: dropping privileges is off";
    for line in stderr.lines().filter(|l| !l.contains(as_root)) {
        if format == "json" {
            let mut v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            let o = v.as_object_mut().unwrap();
            assert!(o.remove("timestamp").is_some(), "{line}");
            lines.push(serde_json::to_string(&v).unwrap());
        } else {
            // "2026-12-05T07:30:00.123456Z  INFO …": the stamp is the first word.
            let (stamp, rest) = line.split_once(' ').unwrap_or(("", line));
            assert!(
                stamp.ends_with('Z') || line.starts_with(' '),
                "a text line starts with its time: {line}"
            );
            lines.push(rest.to_owned());
        }
    }
    normalise(&(lines.join("\n") + "\n"), &h)
}

#[test]
fn json_decision_lines_carry_their_fields() {
    let log = once_log("json");
    assert_snapshot("once-four-outcomes.json.txt", &log);
    let decisions: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("outcome").is_some())
        .collect();
    let find = |name: &str| {
        decisions
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no decision for {name} in\n{log}"))
    };
    let created = find("new.example.com");
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["type"], "A");
    assert_eq!(created["to"], "203.0.113.7");
    assert_eq!(created["zone"], "example.com");
    assert!(created.get("from").is_none());
    let moved = find("moved.example.com");
    assert_eq!(moved["outcome"], "updated");
    assert_eq!(moved["from"], "198.51.100.1");
    assert_eq!(moved["to"], "203.0.113.7");
    assert_eq!(find("same.example.com")["outcome"], "unchanged");
    let failed = find("home.example.net");
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["zone"], "example.net");
    assert_eq!(failed["level"], "WARN");
    assert!(failed["cf_ray"].as_str() == Some("<cf-ray>"), "{failed}");
    assert!(
        failed["hint"]
            .as_str()
            .is_some_and(|h| h.contains("Zone → DNS → Edit")),
        "{failed}"
    );
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("403")));
}

#[test]
fn text_decision_lines_stay_one_readable_line() {
    let log = once_log("text");
    assert_snapshot("once-four-outcomes.text.txt", &log);
    for (needle, zone) in [
        ("new.example.com A 203.0.113.7 created", "example.com"),
        (
            "moved.example.com A 198.51.100.1 → 203.0.113.7 updated",
            "example.com",
        ),
        ("same.example.com A 203.0.113.7 unchanged", "example.com"),
        ("home.example.net A 203.0.113.7 failed: ", "example.net"),
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{log}"));
        assert!(line.ends_with(&format!("zone=\"{zone}\"")), "{line}");
        assert!(!line.contains("outcome="), "{line}");
    }
}

#[test]
fn status_json_is_for_scripts() {
    let h = four_outcomes();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    let out = h.ddflare(&["status", "--json"]).output().unwrap();
    // Not every record is in the cache (example.net failed): exit 1, as without --json.
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["complete"], false);
    assert!(v["state_file"].as_str().unwrap().ends_with("state.json"));
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 4, "{v}");
    let new = records
        .iter()
        .find(|r| r["name"] == "new.example.com")
        .unwrap();
    assert_eq!(new["type"], "A");
    assert_eq!(new["address"], "203.0.113.7");
    assert_eq!(new["zone"], "example.com");
    assert!(new["confirmed_at"].as_str().unwrap().ends_with('Z'));
    assert!(new["confirmed_unix"].as_u64().unwrap() > 1_700_000_000);
    let net = records
        .iter()
        .find(|r| r["name"] == "home.example.net")
        .unwrap();
    assert!(net["address"].is_null(), "{net}");
    assert!(net["confirmed_at"].is_null(), "{net}");
    assert!(v["last_confirmed_at"].as_str().is_some());
    assert!(v["next_round"].is_object(), "{v}");
}

#[test]
fn detect_json_is_for_scripts() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    let out = h.ddflare(&["detect", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["ipv4"]["address"], "203.0.113.7", "{v}");
    assert_eq!(v["ipv4"]["provider"], "static:203.0.113.7", "{v}");
    assert_eq!(v["ipv4"]["enabled"], true);
    assert_eq!(v["ipv6"]["enabled"], false, "{v}");
    assert!(v["ipv6"]["address"].is_null());
}
