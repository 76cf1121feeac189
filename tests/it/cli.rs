//! The command line: exit codes, usage errors, and the bad-config corpus run through the real
//! binary (exit 78, a message naming key and line, no panic).

use crate::support::{assert_exit, ddflare_cmd};

#[test]
fn version_help_and_usage_errors() {
    let out = assert_exit(&ddflare_cmd().arg("--version").output().unwrap(), 0);
    assert!(
        out.starts_with(&format!("ddflare {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert_exit(&ddflare_cmd().arg("--help").output().unwrap(), 0);
    assert_exit(&ddflare_cmd().arg("frobnicate").output().unwrap(), 2);
    assert_exit(&ddflare_cmd().output().unwrap(), 2);
}

#[test]
fn a_missing_explicit_config_is_a_config_error() {
    let out = ddflare_cmd()
        .args(["--config", "/nonexistent/ddflare.toml", "once"])
        .output()
        .unwrap();
    let t = assert_exit(&out, 78);
    assert!(t.contains("/nonexistent/ddflare.toml"), "{t}");
}

#[test]
fn every_broken_config_exits_78_naming_the_key_and_line() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_config");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let body = std::fs::read_to_string(&path).unwrap();
        let expect = body
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()));
        let line = body.lines().find_map(|l| l.strip_prefix("# line: "));
        let mut cmd = ddflare_cmd();
        for (k, v) in body
            .lines()
            .filter_map(|l| l.strip_prefix("# env: "))
            .filter_map(|kv| kv.split_once('='))
        {
            cmd.env(k.trim(), v.trim());
        }
        let out = cmd
            .args(["--config"])
            .arg(&path)
            .arg("once")
            .output()
            .unwrap();
        let t = assert_exit(&out, 78);
        assert!(
            t.contains(expect.trim()),
            "{}: expected {expect:?} in:\n{t}",
            path.display()
        );
        if let Some(line) = line {
            assert!(
                t.contains(&format!(":{}:", line.trim())),
                "{}: no line {line} in:\n{t}",
                path.display()
            );
        }
        assert!(!t.contains("panicked"), "{}", path.display());
        n += 1;
    }
    assert!(n >= 20, "only {n} broken configs");
}
