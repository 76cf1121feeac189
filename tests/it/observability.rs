//! What operators look at, through the real binary against the emulator: the alert rules
//! (`promtool check rules` and `promtool test rules`, Debian's `prometheus` package), the
//! Grafana dashboard and the rules naming only metrics a running daemon exports, the history
//! of address changes (`ddflare history`), and the status page rendered by a real headless
//! browser (Debian's `chromium`): every record there, hostile text shown escaped, a
//! screenshot kept in target/test-output/.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Daemon, Harness, assert_exit};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of `tool`, or `None` with a loud SKIPPED naming its Debian package.
fn tool(tool: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|c| c.is_file())
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED: `{tool}` not found; install Debian's `{package}` package (.ci/run does)"
        );
    }
    found
}

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

fn metrics_addr(log: &str) -> String {
    let start = log.find("serving http://").unwrap() + "serving http://".len();
    let rest = &log[start..];
    rest[..rest.find("/metrics").unwrap()].to_owned()
}

/// Every `ddflare_…` and `process_…` name in `text`.
fn names_used(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for prefix in ["ddflare_", "process_"] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            let word: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[i + word.len()..];
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.insert(word);
            }
        }
    }
    out
}

/// The series names of a scrape: each family, and a histogram's `_bucket`, `_sum`, `_count`.
fn names_exported(scrape: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in scrape.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            out.insert(name.to_owned());
            if kind == "histogram" {
                for s in ["_bucket", "_sum", "_count"] {
                    out.insert(format!("{name}{s}"));
                }
            }
        }
    }
    out
}

/// The dashboard's queries as recording rules (Grafana's variables given values), so that
/// `promtool check rules` parses each one as PromQL.
fn dashboard_as_rules(dashboard: &serde_json::Value) -> String {
    let mut out = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, panel) in dashboard["panels"].as_array().unwrap().iter().enumerate() {
        for (j, target) in panel["targets"].as_array().unwrap().iter().enumerate() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "5m")
                .replace("$instance", ".*");
            out.push_str(&format!(
                "      - record: dashboard:panel{i}:{j}\n        expr: {}\n",
                serde_json::Value::String(expr)
            ));
        }
    }
    out
}

#[test]
fn promtool_checks_the_alert_rules_their_unit_tests_and_the_dashboard_queries() {
    let Some(promtool) = tool("promtool", "prometheus") else {
        return;
    };
    let dir = repo().join("deploy/prometheus");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/ddflare.json")).unwrap(),
    )
    .unwrap();
    let queries = tempfile::tempdir().unwrap();
    let queries = queries.path().join("dashboard-queries.yml");
    std::fs::write(&queries, dashboard_as_rules(&dashboard)).unwrap();
    let queries = queries.display().to_string();
    for args in [
        ["check", "rules", "ddflare-rules.yml"],
        ["test", "rules", "ddflare-rules.test.yml"],
        ["check", "rules", queries.as_str()],
    ] {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const RECORDS: &str =
    "[[record]]\nname = \"home.example.com\"\n\n[[record]]\nname = \"vpn.example.com\"\n";

fn start(h: &Harness, v4: &str, records: &str) -> (Daemon, String) {
    h.write_config(
        Some(v4),
        None,
        &format!("[metrics]\nlisten = \"127.0.0.1:0\"\n\n{records}"),
    );
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("round done");
    let addr = metrics_addr(&d.log());
    (d, addr)
}

#[test]
fn the_dashboard_and_the_rules_use_only_metrics_a_running_daemon_exports() {
    let h = Harness::new(&["example.com"]);
    let (d, addr) = start(&h, "203.0.113.7", RECORDS);
    let (_, body) = get(&addr, "/metrics");
    let exported = names_exported(&body);
    d.stop();
    for must in [
        "ddflare_healthy",
        "ddflare_round_duration_seconds_bucket",
        "ddflare_api_requests_total",
        "ddflare_token_expiry_timestamp_seconds",
        "ddflare_notifications_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(exported.contains(must), "{must} not in\n{body}");
    }
    let dashboard = std::fs::read_to_string(repo().join("deploy/grafana/ddflare.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    assert!(json["panels"].as_array().unwrap().len() >= 8);
    let rules =
        std::fs::read_to_string(repo().join("deploy/prometheus/ddflare-rules.yml")).unwrap();
    for (file, text) in [("ddflare.json", &dashboard), ("ddflare-rules.yml", &rules)] {
        let used = names_used(text);
        assert!(used.len() >= 4, "{file}: {used:?}");
        let unknown: Vec<_> = used.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} uses {unknown:?}, not exported:\n{body}"
        );
    }
    // The renamed label is the one in use.
    assert!(!dashboard.contains("status") && !rules.contains("{status"));
}

/// A history with hostile text in every field ddflare did not write itself.
fn plant_hostile_history(state: &Path) {
    std::fs::create_dir_all(state).unwrap();
    let evil = r#"<img src=x onerror=alert(1)><script>document.title='owned'</script>"#;
    let file = serde_json::json!({
        "version": 1,
        "changes": [{
            "at": 1_700_000_000u64,
            "name": format!("{evil}.example.com"),
            "type": "A",
            "from": "<b id=injected>198.51.100.4</b>",
            "to": "203.0.113.1\u{1b}[31m",
        }]
    });
    std::fs::write(state.join("history.json"), file.to_string()).unwrap();
}

#[test]
fn history_records_each_change_and_prints_it_escaped() {
    let h = Harness::new(&["example.com"]);
    plant_hostile_history(&h.state_dir());
    h.write_config(Some("203.0.113.7"), None, RECORDS);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    h.write_config(Some("203.0.113.8"), None, RECORDS);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    // Unchanged: nothing new.
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);

    let stdout = |args: &[&str]| {
        let out = h.ddflare(args).output().unwrap();
        assert_exit(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    let out = stdout(&["history"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].contains("\\u{1b}[31m"), "escaped: {out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(
        lines[1].ends_with("home.example.com  A  (new record) → 203.0.113.7"),
        "{out}"
    );
    assert!(
        lines[4].ends_with("vpn.example.com  A  203.0.113.7 → 203.0.113.8"),
        "{out}"
    );

    let out = stdout(&["history", "--last", "2", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let last = json.as_array().unwrap();
    assert_eq!(last.len(), 2, "{out}");
    assert_eq!(last[1]["name"], "vpn.example.com");
    assert_eq!(last[1]["type"], "A");
    assert_eq!(last[1]["from"], "203.0.113.7");
    assert_eq!(last[1]["to"], "203.0.113.8");
    assert!(last[1]["at"].as_u64().unwrap() > 1_700_000_000);

    // A damaged file is said so, and fails the command.
    std::fs::write(h.state_dir().join("history.json"), "{").unwrap();
    let out = assert_exit(&h.ddflare(&["history"]).output().unwrap(), 1);
    assert!(out.contains("damaged"), "{out}");
}

#[test]
fn the_status_page_renders_in_chromium_with_hostile_text_escaped() {
    let h = Harness::new(&["example.com"]);
    plant_hostile_history(&h.state_dir());
    // A hostile comment (on the last record).
    let records =
        format!("{RECORDS}comment = \"<img src=y onerror=alert(2)><i id=injected2>x</i>\"\n");
    let (d, addr) = start(&h, "203.0.113.7", &records);
    let (head, html) = get(&addr, "/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Security-Policy: default-src 'none'; style-src 'sha256-"),
        "{head}"
    );
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );

    let Some(chromium) = tool("chromium", "chromium") else {
        d.stop();
        return;
    };
    let out_dir = repo().join("target/test-output");
    std::fs::create_dir_all(&out_dir).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browse = |extra: &[&str]| {
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(["--window-size=1000,700", "--virtual-time-budget=2000"])
            .args(extra)
            .arg(format!("http://{addr}/"))
            .env("HOME", profile.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let dom = browse(&["--dump-dom"]);
    let shot = out_dir.join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    browse(&[&format!("--screenshot={}", shot.display())]);
    d.stop();

    // Every record, with its address; the health and the next round.
    for name in ["home.example.com", "vpn.example.com"] {
        assert!(
            dom.contains(&format!("<td>{name}</td><td>A</td><td>203.0.113.7</td>")),
            "{name} not in\n{dom}"
        );
    }
    assert!(
        dom.contains(
            "<td>&lt;img src=y onerror=alert(2)&gt;&lt;i id=injected2&gt;x&lt;/i&gt;</td>"
        ),
        "{dom}"
    );
    assert!(!dom.contains("id=\"injected2\""), "{dom}");
    assert!(dom.contains("id=\"health\" class=\"ok\""), "{dom}");
    assert!(dom.contains("Next regular round: 20"), "{dom}");
    // The hostile history is text: no element was injected, the title is the page's own.
    assert!(!dom.contains("<img") && !dom.contains("<script"), "{dom}");
    assert!(!dom.contains("id=\"injected\""), "{dom}");
    assert!(dom.contains("<title>ddflare</title>"), "{dom}");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"), "{dom}");
    assert!(
        dom.contains("&lt;b id=injected&gt;198.51.100.4&lt;/b&gt;"),
        "{dom}"
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{}",
        png.len()
    );
}
