//! The command line: exit codes, usage errors, and the bad-config corpus run through the real
//! binary (exit 78, a message naming key and line, no panic).

use crate::support::{Harness, TOKEN, assert_exit, ddflare_cmd};

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

/// `--version` names the commit and the target; `DDFLARE_LOG_FORMAT` picks the log format as
/// `--log-format` does (the flag wins), and an unknown value is warned about.
#[test]
fn version_names_the_build_and_the_log_format_comes_from_the_environment() {
    let out = assert_exit(&ddflare_cmd().arg("--version").output().unwrap(), 0);
    let target = if cfg!(target_arch = "x86_64") {
        "x86_64-"
    } else {
        "-linux-"
    };
    assert!(out.contains(" (") && out.contains(target), "{out}");

    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    let json = h
        .ddflare(&["once"])
        .env("DDFLARE_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&json.stderr);
    assert!(
        log.lines().all(|l| l.starts_with('{')) && log.contains("\"round done\""),
        "{log}"
    );
    let text = h
        .ddflare(&["once", "--log-format", "text"])
        .env("DDFLARE_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&text.stderr).starts_with('{'));
    let odd = h
        .ddflare(&["once"])
        .env("DDFLARE_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&odd.stderr);
    assert!(
        log.contains("DDFLARE_LOG_FORMAT=yaml is not a value"),
        "{log}"
    );
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

#[test]
fn a_readable_config_with_an_inline_token_warns_and_strict_refuses_it() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    // The harness config with the token inline, readable by everyone.
    let path = h.config_path();
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[cloudflare]\n",
        &format!("[cloudflare]\napi_token = \"{TOKEN}\"\n"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = path.display().to_string();
    let run = |strict_flag: bool, strict_env: Option<&str>| {
        let mut cmd = ddflare_cmd();
        if let Some(v) = strict_env {
            cmd.env("DDFLARE_STRICT", v);
        }
        cmd.arg("--config").arg(&path);
        if strict_flag {
            cmd.arg("--strict");
        }
        cmd.arg("once").output().unwrap()
    };

    let t = assert_exit(&run(false, None), 0);
    assert!(
        t.contains(&format!("`{shown}` holds the API token inline")),
        "{t}"
    );
    assert!(
        t.contains("(mode 644)") && t.contains(&format!("chmod 600 {shown}")),
        "{t}"
    );
    assert!(t.contains("CLOUDFLARE_API_TOKEN_FILE"), "{t}");
    assert!(!t.contains(TOKEN), "{t}");

    for (flag, var) in [(true, None), (false, Some("1")), (false, Some("true"))] {
        let t = assert_exit(&run(flag, var), 78);
        assert!(t.contains("refused (--strict)"), "{t}");
        assert!(t.contains(&format!("chmod 600 {shown}")), "{t}");
        assert!(!t.contains(TOKEN), "{t}");
    }

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let t = assert_exit(&run(true, None), 0);
    assert!(!t.contains("holds the API token inline"), "{t}");
}

/// `ddflare import` through the binary: needs no config, reads the file given or the
/// environment, and its output is a config the same binary loads.
#[test]
fn import_prints_a_config_the_binary_loads() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import");
    // The documented example, with a token of real length in place of its placeholder.
    let conf = std::fs::read_to_string(fixtures.join("ddclient-token.conf"))
        .unwrap()
        .replace("my-api-token", TOKEN);
    let conf_path = dir.path().join("ddclient.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let out = ddflare_cmd()
        .args(["import", "--from", "ddclient", "--inline-secrets"])
        .arg(&conf_path)
        .output()
        .unwrap();
    let toml = assert_exit(&out, 0);
    assert!(toml.contains("name = \"my.domain.tld\""), "{toml}");
    let config = dir.path().join("ddflare.toml");
    std::fs::write(&config, String::from_utf8(out.stdout).unwrap()).unwrap();
    let status = ddflare_cmd()
        .env("DDFLARE_STATE_DIR", dir.path().join("state"))
        .arg("--config")
        .arg(&config)
        .arg("status")
        .output()
        .unwrap();
    // Loaded: status lists the records (exit 1: nothing published yet).
    let shown = assert_exit(&status, 1);
    assert!(shown.contains("my.domain.tld A"), "{shown}");

    // favonia from the environment: only its variables are read; the token stays out.
    let out = ddflare_cmd()
        .args(["import", "--from", "favonia"])
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .env("DOMAINS", "home.example.org")
        .env("IP6_PROVIDER", "none")
        .output()
        .unwrap();
    let toml = assert_exit(&out, 0);
    assert!(!toml.contains(TOKEN), "{toml}");
    assert!(toml.contains("ipv6 = [\"none\"]"), "{toml}");

    let out = ddflare_cmd()
        .args(["import", "--from", "ddclient"])
        .output()
        .unwrap();
    assert!(assert_exit(&out, 1).contains("needs the ddclient.conf"));
}
