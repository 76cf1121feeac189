//! Regression tests: one test per fixed bug, named after the bug, in this one file (as
//! ripgrep's `tests/regression.rs`). Each test must fail on the code before its fix: write it
//! first, watch it fail, then fix the code. A test here is never loosened to make it pass.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ddflare::config::{Config, parse};
use ddflare::reload::diff;
use ddflare_emulator::{Fault, RecordSpec};

use crate::support::{Daemon, Harness, assert_exit};

/// Plausible, fake, and distinctive enough to search for in output.
const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";

fn config(body: &str) -> Config {
    let env: HashMap<String, String> =
        [("CLOUDFLARE_API_TOKEN".to_owned(), TOKEN.to_owned())].into();
    match parse(body, "ddflare.toml", &env) {
        Ok(l) => l.config,
        Err(e) => panic!("{e}"),
    }
}

/// A SIGHUP that changed only `detect.strategy`, `allow_private`, `ipv6_prefix_len`,
/// `dns_servers`, `doh_url` or a record's `ipv6_host` logged nothing: `reload::diff` did not
/// compare those fields. Each change must now give its own line.
#[test]
fn reload_diff_reports_detect_and_ipv6_host_changes() {
    let base = |detect: &str, record: &str| {
        config(&format!(
            "[detect]\nipv4 = [\"cloudflare.trace\", \"cloudflare.dns\"]\n\
             ipv6 = [\"cloudflare.trace\", \"cloudflare.dns\"]\n{detect}\
             [[record]]\nname = \"home.example.com\"\n{record}"
        ))
    };
    let old = base("", "");
    let cases = [
        (
            base("strategy = \"agree\"\n", ""),
            "detect.strategy: fallback → agree",
        ),
        (
            base("allow_private = true\n", ""),
            "detect.allow_private: false → true",
        ),
        (
            base("ipv6_prefix_len = 56\n", ""),
            "detect.ipv6_prefix_len: 64 → 56",
        ),
        (
            base("dns_servers = [\"9.9.9.9\", \"2620:fe::fe\"]\n", ""),
            "detect.dns_servers: 1.1.1.1:53, 1.0.0.1:53, [2606:4700:4700::1111]:53, [2606:4700:4700::1001]:53 → 9.9.9.9:53, [2620:fe::fe]:53",
        ),
        (
            base("doh_url = \"https://dns.example.net/dns-query\"\n", ""),
            "detect.doh_url: https://cloudflare-dns.com/dns-query → https://dns.example.net/dns-query",
        ),
        (
            base("", "ipv6_host = \"::1234\"\n"),
            "record home.example.com: ipv6_host changed",
        ),
    ];
    for (new, line) in &cases {
        assert_eq!(diff(&old, new), vec![line.to_owned()], "{line}");
        assert_eq!(diff(new, new), Vec::<String>::new(), "{line}");
    }
}

/// Issue 13, item 9: a SIGHUP during a slow round, then SIGTERM. The reload waited for the
/// round in flight without listening for SIGTERM, then started the loop again, so ddflare
/// stopped long after `shutdown_grace` (24.6 s with 3 s). SIGTERM always wins.
#[test]
fn sigterm_during_a_pending_reload_stops_within_the_grace() {
    let h = Harness::new(&["example.com"]);
    let config = |ttl: u32| {
        format!(
            "[schedule]\nshutdown_grace = \"2s\"\n\n[[record]]\nname = \"home.example.com\"\nttl = {ttl}\n"
        )
    };
    h.write_config(Some("203.0.113.7"), None, &config(300));
    // Every API call takes 1.5 s: a round (zone, records, create) takes several seconds.
    h.emu.add_fault(Fault::delay(1500).times(1000));
    let d = Daemon::start(h.ddflare(&["run", "--log-level", "debug"]));
    d.wait_for("cloudflare request");
    h.write_config(Some("203.0.113.7"), None, &config(600));
    d.signal("HUP");
    d.wait_for("applies once the round in flight ends");
    let sent = Instant::now();
    let (code, log) = d.stop();
    let took = sent.elapsed();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        took < Duration::from_secs(3),
        "stopped {took:?} after SIGTERM, with shutdown_grace = 2s:\n{log}"
    );
    assert!(!log.contains("config reloaded"), "{log}");
}

/// Issue 13, item 14: `ddflare status | head -1` (stdout closed by the reader) panicked with
/// exit 101 and a message on stderr. Like other Unix tools, it now exits quietly.
#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let h = Harness::new(&["example.com"]);
    let records: String = (0..200)
        .map(|i| format!("[[record]]\nname = \"h{i}.example.com\"\n"))
        .collect();
    h.write_config(Some("203.0.113.7"), None, &records);
    let mut child = h
        .ddflare(&["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before ddflare has written its lines.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

/// Issue 13, item 11: 40 clients trickling one header byte a second held every one of the
/// metrics listener's slots, and new connections were closed at once: 33 of 38 `/healthz`
/// probes from another client were reset, so anyone who reaches the listener could make an
/// orchestrator kill a healthy container. With 100 slow clients, at least 95 % of probes must
/// succeed within 1 s.
#[test]
fn slow_clients_cannot_starve_healthz() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[metrics]\nlisten = \"127.0.0.1:0\"\n\n[[record]]\nname = \"home.example.com\"\n",
    );
    let d = Daemon::start(h.ddflare(&["run"]));
    let log = d.wait_for("round done");
    let start = log.find("serving http://").unwrap() + "serving http://".len();
    let addr = log[start..][..log[start..].find("/metrics").unwrap()].to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let slow: Vec<_> = (0..100)
        .map(|_| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || {
                // Reconnects whenever the server closes it, and sends one byte a second.
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut s) = TcpStream::connect(&addr) else {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    };
                    for b in b"GET /healthz HTTP/1.1\r\nX-Slow: yes" {
                        if stop.load(Ordering::Relaxed) || s.write_all(&[*b]).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));

    let probe = || -> bool {
        let began = Instant::now();
        let Ok(mut s) = TcpStream::connect(&addr) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200") && began.elapsed() <= Duration::from_secs(1)
    };
    let tries = 40;
    let ok = (0..tries)
        .filter(|_| {
            let ok = probe();
            std::thread::sleep(Duration::from_millis(100));
            ok
        })
        .count();
    stop.store(true, Ordering::Relaxed);
    for t in slow {
        let _ = t.join();
    }
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    eprintln!("{ok} of {tries} /healthz probes answered within 1 s beside 100 slow clients");
    assert!(
        ok * 100 >= tries * 95,
        "{ok} of {tries} /healthz probes succeeded within 1 s beside 100 slow clients"
    );
}

/// A router's status page behind HTTP basic auth (`admin`, [`ROUTER_PW`]): `/ip` answers
/// `203.0.113.7` to the right credentials and 401 otherwise, `/down` always 500. Returns its
/// address; the thread serves until the test process ends.
fn router_page() -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // base64("admin:" + ROUTER_PW)
    let expected = format!(
        "Basic {}",
        base64_encode(format!("admin:{ROUTER_PW}").as_bytes())
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("authorization")
                    && v.trim() == expected
                {
                    authorized = true;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = if path.starts_with("/down") {
                ("500 Internal Server Error", "upstream down")
            } else if authorized {
                ("200 OK", "203.0.113.7")
            } else {
                ("401 Unauthorized", "login required")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

const ROUTER_PW: &str = "Rtr-pw-42";
const QUERY_SECRET: &str = "sid9QueryS3cret";

fn base64_encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Issue 13, item 5: a `url:` provider with credentials (`url:http://admin:PW@router/ip`, a
/// router's status page) printed the password in `check`, `detect`, the warning when the
/// provider failed, and the unauthenticated `/metrics` label `provider="url:…"`. The
/// credentials are still sent (HTTP basic auth), and shown nowhere; the label is the kind and
/// the host.
#[test]
fn url_provider_credentials_are_never_shown() {
    let h = Harness::new(&["example.com"]);
    let router = router_page();
    let down = format!("url:http://admin:{ROUTER_PW}@{router}/down?sid={QUERY_SECRET}");
    let up = format!("url:http://admin:{ROUTER_PW}@{router}/ip?sid={QUERY_SECRET}");
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"2s\"\n\n[detect]\n\
             allow_private = true\nipv4 = [\"{down}\", \"{up}\"]\nipv6 = [\"none\"]\n\n\
             [state]\ndir = \"{}\"\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n\n\
             [[record]]\nname = \"home.example.com\"\n",
            h.emu.base_url(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let hidden = |what: &str, t: &str| {
        assert!(!t.contains(ROUTER_PW), "{what} shows the password:\n{t}");
        assert!(!t.contains(QUERY_SECRET), "{what} shows the query:\n{t}");
    };

    let out = h.ddflare(&["check"]).output().unwrap();
    let t = crate::support::text(&out);
    hidden("check", &t);
    assert!(
        t.contains(&format!("{router}/ip")),
        "check names the provider:\n{t}"
    );

    let out = h.ddflare(&["detect"]).output().unwrap();
    let t = crate::support::assert_exit(&out, 0);
    hidden("detect (and its warning)", &t);
    // The password reached the router (basic auth), so the address came back.
    assert!(t.contains("IPv4: 203.0.113.7 (from url:http://"), "{t}");
    assert!(t.contains("address detection failed"), "{t}");

    let d = Daemon::start(h.ddflare(&["run"]));
    let log = d.wait_for("round done");
    hidden("run's log", &log);
    let start = log.find("serving http://").unwrap() + "serving http://".len();
    let addr = &log[start..start + log[start..].find("/metrics").unwrap()];
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).unwrap();
    hidden("/metrics", &body);
    assert!(!body.contains("admin"), "{body}");
    assert!(
        body.contains(&format!(
            "ddflare_detections_total{{family=\"IPv4\",provider=\"url:{router}\",outcome=\"ok\"}} 1"
        )),
        "{body}"
    );
    let (_, log) = d.stop();
    hidden("run's log", &log);
}

/// Issue 13, item 6: a config error quoted the whole value: a URL with userinfo in
/// `api_url`/`trace_url`/`doh_url`, or a token pasted into `api_url` or a record `name`
/// (scrubbing only knew the configured token, and none was configured). Every config error
/// now redacts userinfo and token-shaped values, and still names the key.
#[test]
fn config_errors_never_echo_credentials() {
    let no_token: HashMap<String, String> = HashMap::new();
    let pasted = "Kq7_pastedTOKENpastedTOKENpasted-9876543";
    let pw = "Hunter2-pw";
    let cases = [
        (
            format!("[cloudflare]\napi_url = \"https://admin:{pw}@api.example.com/client/v4\"\n"),
            "cloudflare.api_url",
        ),
        (
            format!("[detect]\ntrace_url = \"https://u:{pw}@trace.example.com/cdn-cgi/trace\"\n"),
            "detect.trace_url",
        ),
        (
            format!("[detect]\ndoh_url = \"https://u:{pw}@dns.example.com/dns-query\"\n"),
            "detect.doh_url",
        ),
        (
            format!("[cloudflare]\napi_url = \"{pasted}\"\n"),
            "cloudflare.api_url",
        ),
        (
            format!("[[record]]\nname = \"{pasted}\"\n"),
            "record[1].name",
        ),
    ];
    for (body, key) in &cases {
        let body = format!("{body}\n[[record]]\nname = \"home.example.com\"\n");
        for env in [
            &no_token,
            &HashMap::from([("CLOUDFLARE_API_TOKEN".to_owned(), TOKEN.to_owned())]),
        ] {
            let err = match parse(&body, "ddflare.toml", env) {
                Ok(_) => panic!("accepted:\n{body}"),
                Err(e) => e.to_string(),
            };
            assert!(!err.contains(pw), "{key}: {err}");
            assert!(!err.contains(pasted), "{key}: {err}");
            assert!(err.contains(key), "{key} is named: {err}");
        }
    }
}

/// Issue 13, item 13: an API error's `message` with a line break was printed raw in the text
/// log, so Cloudflare's (or a proxy's) answer forged a line such as
/// `INFO home.example.com A 6.6.6.6 updated`. Outside text is escaped: the forged words stay on
/// the error's own line.
#[test]
fn an_api_error_message_cannot_forge_a_log_line() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    let forged = "INFO home.example.com A 6.6.6.6 updated";
    h.emu.add_fault(
        Fault::unsuccessful(1004, &format!("DNS Validation Error\n{forged}\r\n\x1b[2K"))
            .path_contains("/dns_records")
            .method("POST")
            .times(10),
    );
    let out = h.ddflare(&["once"]).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        log.contains("DNS Validation Error\\n"),
        "the error is shown, escaped:\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.trim_start().starts_with(forged),
            "a forged line:\n{log}"
        );
        assert!(!line.contains('\x1b') && !line.contains('\r'), "{line:?}");
    }
}

/// Issue 13, item 13: `check` printed the token verify's `status` raw: an answer with a
/// 3,000-line status filled the terminal with 3,000 lines. Outside text is escaped and
/// bounded.
#[test]
fn check_bounds_and_escapes_the_token_status() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    let status = "pwned\n".repeat(3000);
    let body = serde_json::json!({
        "success": true,
        "errors": [],
        "messages": [],
        "result": {"id": "0123456789abcdef0123456789abcdef", "status": status},
    })
    .to_string();
    h.emu.add_fault(
        Fault::new(ddflare_emulator::FaultKind::Status {
            status: 200,
            body: Some(body),
        })
        .path_contains("/tokens/verify"),
    );
    let out = h.ddflare(&["check"]).output().unwrap();
    let t = crate::support::text(&out);
    assert!(
        t.lines().count() < 30,
        "{} lines:\n{}",
        t.lines().count(),
        &t[..t.len().min(2000)]
    );
    assert!(t.len() < 4000, "{} bytes", t.len());
    assert!(
        !t.lines().any(|l| l == "pwned"),
        "{}",
        &t[..t.len().min(2000)]
    );
    assert!(
        t.contains("token: pwned\\npwned"),
        "{}",
        &t[..t.len().min(2000)]
    );
}

/// Runs `cmd` and waits at most `limit` for it to exit; a process still running then is
/// killed and the test fails (a FIFO or a stalled read used to hang ddflare for ever).
#[track_caller]
fn output_within(mut cmd: std::process::Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                crate::support::text(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Adds `line` to the `[cloudflare]` table of the harness's config.
fn add_to_cloudflare(h: &Harness, line: &str) {
    let text = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "request_timeout = \"2s\"\n",
        &format!("request_timeout = \"2s\"\n{line}\n"),
    );
    std::fs::write(h.config_path(), text).unwrap();
}

/// Writes a config whose IPv4 provider is `file:` on a new FIFO (timeout 1 s), and `extra`.
fn with_a_fifo_provider(h: &Harness, extra: &str) -> std::path::PathBuf {
    let fifo = h.dir.path().join("wan");
    mkfifo(&fifo);
    h.write_config(None, None, extra);
    let text = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "ipv4 = [\"none\"]",
        &format!("ipv4 = [\"file:{}\"]\ntimeout = \"1s\"", fifo.display()),
    );
    std::fs::write(h.config_path(), text).unwrap();
    fifo
}

/// Whether `cmd` fails within `limit`, naming a FIFO.
#[track_caller]
fn fails_naming_a_fifo(cmd: std::process::Command, limit: Duration) {
    let out = output_within(cmd, limit);
    let t = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("FIFO"), "{t}");
}

/// Configures `home.example.com` with the IPv4 address `addr`.
fn publish(h: &Harness, addr: &str) {
    h.write_config(
        Some(addr),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
}

fn mkfifo(path: &std::path::Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// Issue 13, item 7: ddflare wrote its state through `.state.json.tmp` (and
/// `.heartbeat.tmp`, `.token-check.json.tmp`) with a plain create, which follows a symlink:
/// as root, a link planted there made `once` overwrite whatever it pointed at. Temporary
/// files are now created exclusively, never through a link, under an unpredictable name, and
/// a link at the final name is replaced, never written through.
#[test]
fn a_symlink_planted_in_the_state_dir_is_never_written_through() {
    let h = Harness::new(&["example.com"]);
    publish(&h, "203.0.113.7");
    let state = h.state_dir();
    std::fs::create_dir_all(&state).unwrap();
    let victim = h.dir.path().join("root-only");
    std::fs::write(&victim, "precious\n").unwrap();
    for name in [".state.json.tmp", ".token-check.json.tmp", ".heartbeat.tmp"] {
        std::os::unix::fs::symlink(&victim, state.join(name)).unwrap();
    }
    let out = output_within(h.ddflare(&["once"]), Duration::from_secs(20));
    crate::support::assert_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // The final name: a link there is replaced by the file, its target left alone.
    std::fs::remove_file(state.join("state.json")).unwrap();
    std::os::unix::fs::symlink(&victim, state.join("state.json")).unwrap();
    publish(&h, "203.0.113.8");
    let out = output_within(h.ddflare(&["once"]), Duration::from_secs(20));
    crate::support::assert_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(state.join("state.json")).unwrap();
    assert!(meta.file_type().is_file(), "{meta:?}");
}

/// Issue 13, item 7: a group- or world-writable state dir (or one owned by another user) was
/// used as it was, so another user could plant `state.json` (and with it the ids
/// `delete_on_stop` deletes) or a link at a temporary name. ddflare now keeps its files in a
/// 0700 subdirectory of its own there, and finds the state an older version left in the
/// dir itself (an upgrade is not an outage).
#[test]
fn a_world_writable_state_dir_gets_a_private_subdirectory() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let h = Harness::new(&["example.com"]);
    publish(&h, "203.0.113.7");
    let state = h.state_dir();
    // The state an older ddflare left, in a dir that was private then.
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    crate::support::assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(state.join("state.json").exists());
    // Now a Kubernetes emptyDir: mode 0777.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let before = h.dns_requests().len();
    let out = output_within(h.ddflare(&["once"]), Duration::from_secs(20));
    let log = crate::support::assert_exit(&out, 0);
    assert_eq!(
        h.dns_requests().len(),
        before,
        "the old state was not found: {log}"
    );
    // The next save puts the state in the private subdirectory and removes the old copy.
    publish(&h, "203.0.113.8");
    let out = output_within(h.ddflare(&["once"]), Duration::from_secs(20));
    let log = crate::support::assert_exit(&out, 0);
    let private = state.join("ddflare");
    let meta = std::fs::symlink_metadata(&private).unwrap_or_else(|e| panic!("{e}: {log}"));
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), std::fs::metadata(&state).unwrap().uid());
    assert!(private.join("state.json").exists(), "{log}");
    assert!(
        !state.join("state.json").exists(),
        "state.json left in the shared dir"
    );
    assert_eq!(
        h.records("example.com"),
        [(
            "home.example.com".to_owned(),
            "A".to_owned(),
            "203.0.113.8".to_owned()
        )]
    );
    let out = h.ddflare(&["status"]).output().unwrap();
    let status = crate::support::assert_exit(&out, 0);
    assert!(
        status.contains(&private.join("state.json").display().to_string()),
        "{status}"
    );
}

/// Issue 13, item 8: a FIFO as the config, a token file, `ca_file`, `state.json`,
/// `heartbeat` or `token-check.json` hung ddflare for ever (a blocking open, then a read
/// that waits for a writer). Every file ddflare reads is now opened without blocking and
/// must be a regular file; a FIFO is named as one.
#[test]
fn a_fifo_in_place_of_any_file_is_refused_not_waited_for() {
    let limit = Duration::from_secs(10);
    let records = "[[record]]\nname = \"home.example.com\"\n";
    // The config itself.
    let h = Harness::new(&["example.com"]);
    mkfifo(&h.config_path());
    fails_naming_a_fifo(h.ddflare(&["check"]), limit);
    // A token file.
    let h = Harness::new(&["example.com"]);
    let fifo = h.dir.path().join("token");
    mkfifo(&fifo);
    h.write_config(Some("203.0.113.7"), None, records);
    add_to_cloudflare(&h, &format!("api_token_file = \"{}\"", fifo.display()));
    let mut cmd = crate::support::ddflare_cmd();
    cmd.arg("--config").arg(h.config_path()).arg("check");
    fails_naming_a_fifo(cmd, limit);
    // ca_file.
    let h = Harness::new(&["example.com"]);
    let fifo = h.dir.path().join("ca.pem");
    mkfifo(&fifo);
    h.write_config(Some("203.0.113.7"), None, records);
    add_to_cloudflare(&h, &format!("ca_file = \"{}\"", fifo.display()));
    fails_naming_a_fifo(h.ddflare(&["check"]), limit);
    // state.json and token-check.json: `once` warns and replaces them.
    for name in ["state.json", "token-check.json"] {
        let h = Harness::new(&["example.com"]);
        h.write_config(Some("203.0.113.7"), None, records);
        std::fs::create_dir_all(h.state_dir()).unwrap();
        mkfifo(&h.state_dir().join(name));
        let out = output_within(h.ddflare(&["once"]), limit);
        let t = crate::support::assert_exit(&out, 0);
        if name == "state.json" {
            assert!(t.contains("FIFO"), "{t}");
        }
        let meta = std::fs::symlink_metadata(h.state_dir().join(name)).unwrap();
        assert!(meta.is_file(), "{name} was not replaced: {t}");
    }
    // The heartbeat: `health` is unhealthy and says why.
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, records);
    std::fs::create_dir_all(h.state_dir()).unwrap();
    mkfifo(&h.state_dir().join("heartbeat"));
    let out = output_within(h.ddflare(&["health"]), limit);
    let t = crate::support::assert_exit(&out, 1);
    assert!(t.contains("FIFO"), "{t}");
}

/// Issue 13, item 8: a `file:` provider pointing at a FIFO: the provider timed out, but
/// `detect` never exited (the runtime waited for the thread stuck in the open).
#[test]
fn a_fifo_as_a_file_provider_fails_the_provider_and_detect_exits() {
    let h = Harness::new(&["example.com"]);
    with_a_fifo_provider(&h, "[[record]]\nname = \"home.example.com\"\n");
    let out = output_within(h.ddflare(&["detect"]), Duration::from_secs(10));
    let t = crate::support::text(&out);
    assert!(t.contains("FIFO"), "{t}");
}

/// Issue 13, item 8: `run` with a `file:` provider on a FIFO gained a blocked thread per
/// round and, on SIGTERM, logged `stopped` and never exited (kill -9 was needed): the
/// runtime waited for the blocked threads. SIGTERM now ends the process within
/// `shutdown_grace` + 1 s whatever is stuck.
#[test]
fn sigterm_ends_run_within_the_grace_even_with_a_stuck_read() {
    let h = Harness::new(&["example.com"]);
    let fifo = with_a_fifo_provider(
        &h,
        "[schedule]\nshutdown_grace = \"1s\"\n\n[[record]]\nname = \"home.example.com\"\n",
    );
    let mut d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for(&format!("file:{}", fifo.display()));
    d.signal("TERM");
    let sent = Instant::now();
    while d.running() && sent.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = sent.elapsed();
    if d.running() {
        d.signal("KILL");
        panic!("still running {took:?} after SIGTERM:\n{}", d.log());
    }
    assert!(
        took < Duration::from_millis(2500),
        "exited {took:?} after SIGTERM with shutdown_grace = 1s:\n{}",
        d.log()
    );
}

/// Issue 13, item 8: files were read whole whatever their size: a 2 GiB `ca_file` took 26 s
/// and 2.1 GB of memory, a 300 MB `state.json` was read in full. Each kind of file now has a
/// size cap, checked before reading.
#[test]
fn oversized_files_are_refused_by_a_cap_before_reading() {
    let records = "[[record]]\nname = \"home.example.com\"\n";
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, records);
    std::fs::create_dir_all(h.state_dir()).unwrap();
    let big = std::fs::File::create(h.state_dir().join("state.json")).unwrap();
    big.set_len(300 * 1024 * 1024).unwrap();
    drop(big);
    let out = output_within(h.ddflare(&["once"]), Duration::from_secs(20));
    let t = crate::support::assert_exit(&out, 0);
    assert!(t.contains("larger than"), "{t}");
    let ca = h.dir.path().join("ca.pem");
    let big = std::fs::File::create(&ca).unwrap();
    big.set_len(2 * 1024 * 1024 * 1024).unwrap();
    drop(big);
    add_to_cloudflare(&h, &format!("ca_file = \"{}\"", ca.display()));
    let out = output_within(h.ddflare(&["check"]), Duration::from_secs(10));
    let t = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("larger than"), "{t}");
}

/// One record, home.example.com, IPv4 only.
const HOME_V4: &str = "[[record]]\nname = \"home.example.com\"\nipv6 = false\n";

/// Issue 13, item 1: the zone listing returned record X (right address) twice. ddflare logged
/// `unchanged`, then `1 duplicate(s) deleted` and sent `DELETE …/dns_records/X`: the name had
/// no A record while the cache said "confirmed". Listings are de-duplicated by id.
#[test]
fn a_record_listed_twice_is_not_deleted_as_its_own_duplicate() {
    let h = Harness::new(&["example.com"]);
    let seeded = RecordSpec::new("home.example.com", "A", "203.0.113.7");
    h.emu.add_record("example.com", seeded).unwrap();
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    h.emu.add_fault(
        Fault::duplicate_records()
            .path_contains("/dns_records")
            .times(100),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        !h.requests().iter().any(|r| r.starts_with("DELETE")),
        "{:?}\n{out}",
        h.requests()
    );
    assert!(!out.contains("duplicate"), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())]
    );
}

/// Issue 13, item 3: a `synced_at` in the future (a clock that was ahead, or a planted file)
/// made the cache answer for the record for ever: `now - synced_at` saturated to zero. A
/// timestamp more than a few minutes ahead is now stale, so Cloudflare is asked again.
#[test]
fn a_future_synced_at_does_not_keep_the_cache_fresh_for_ever() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let file = h.state_dir().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entry = &mut state["records"]["home.example.com/A"];
    let id = entry["id"].as_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Ten years ahead.
    entry["synced_at"] = (now + 10 * 365 * 86_400).into();
    std::fs::write(&file, serde_json::to_vec(&state).unwrap()).unwrap();
    // Someone changes the record in the dashboard.
    h.emu.set_record_content("example.com", &id, "198.51.100.4");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(!out.contains("(cached)"), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// Issue 13, item 3, the same bug in `status`: a `synced_at` far in the future made `status`
/// say the records would be re-read years from now, while `once` and `run` treat the entry as
/// stale and re-read it at the next round.
#[test]
fn status_says_a_future_confirmation_is_re_read_at_the_next_round() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let file = h.state_dir().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    state["records"]["home.example.com/A"]["synced_at"] = (now + 10 * 365 * 86_400).into();
    std::fs::write(&file, serde_json::to_vec(&state).unwrap()).unwrap();
    let out = h.ddflare(&["status"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("records re-read from Cloudflare: at the next round"),
        "{shown}"
    );
}

/// A list answer of `result` records, one page, as Cloudflare shapes it.
fn list_page(result: serde_json::Value) -> String {
    let count = result.as_array().map_or(0, Vec::len);
    serde_json::json!({
        "result": result,
        "success": true,
        "errors": [],
        "messages": [],
        "result_info": {"page": 1, "per_page": 5000, "count": count, "total_count": count, "total_pages": 1}
    })
    .to_string()
}

/// Issue 13, item 4: ids were used unchecked. A record id `.` or `..` from the API (or a zone
/// id from a planted state file) vanished in URL building, so ddflare sent `PATCH
/// …/dns_records` with no id. An id that is not the API's shape (32 lowercase hex
/// characters) is refused before any URL is built: from the API with a clear failure, from
/// the state file by forgetting it and asking Cloudflare again.
#[test]
fn an_id_that_is_not_cloudflares_never_reaches_a_url() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    for bad in [".", "..", ""] {
        let body = list_page(serde_json::json!([{
            "id": bad, "name": "home.example.com", "type": "A", "content": "198.51.100.4",
            "proxied": false, "ttl": 1
        }]));
        h.emu.clear_requests();
        h.emu.add_fault(
            Fault::new(ddflare_emulator::FaultKind::Status {
                status: 200,
                body: Some(body),
            })
            .method("GET")
            .path_contains("/dns_records")
            .times(10),
        );
        let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
        h.emu.clear_faults();
        let writes: Vec<String> = h
            .requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET"))
            .collect();
        assert!(writes.is_empty(), "id {bad:?}: {writes:?}\n{out}");
        assert!(out.contains("not a Cloudflare id"), "id {bad:?}:\n{out}");
    }
    // A planted state file whose zone id is `..`: forgotten, the zone is looked up again.
    let file = h.state_dir().join("state.json");
    let planted = serde_json::json!({
        "version": 1,
        "zones": {"home.example.com": {"id": "..", "name": "example.com"}},
        "records": {}, "created": {}
    });
    std::fs::create_dir_all(h.state_dir()).unwrap();
    std::fs::write(&file, planted.to_string()).unwrap();
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        h.requests()
            .iter()
            .all(|r| !r.contains("/zones/../") && r != "GET /dns_records"),
        "{:?}",
        h.requests()
    );
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// Issue 13, item 4: the zone returned for `GET /zones?name=home.example.com` was accepted
/// whatever its name: a zone `z1.org` got home.example.com's record (as
/// `home.example.com.z1.org`). Only a zone named exactly as asked counts.
#[test]
fn a_zone_answered_under_another_name_is_not_used() {
    let h = Harness::new(&["example.com", "z1.org"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    let wrong = list_page(serde_json::json!([{
        "id": h.zone_ids["z1.org"], "name": "z1.org", "status": "active"
    }]));
    h.emu.add_fault(
        Fault::new(ddflare_emulator::FaultKind::Status {
            status: 200,
            body: Some(wrong),
        })
        .method("GET")
        .path_prefix("/zones")
        .times(1),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(h.records("z1.org").is_empty(), "{out}");
    assert_eq!(
        h.records("example.com"),
        [("home.example.com".into(), "A".into(), "203.0.113.7".into())],
        "{out}"
    );
}

/// Issue 13, item 4: a zone that is not `active` (pending nameservers, moved away) was used
/// without a word, so the user saw "created" while nothing was served. It is now said.
#[test]
fn a_zone_that_is_not_active_is_said_so() {
    let h = Harness::with(&[], |emu| {
        emu.zone_with(
            "example.com",
            ddflare_emulator::ZoneOptions {
                status: ddflare_emulator::ZoneStatus::Pending,
                ..Default::default()
            },
        );
        emu.token(
            crate::support::TOKEN,
            ddflare_emulator::TokenScope::edit_all(),
        );
    });
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("example.com is `pending` on Cloudflare, not active"),
        "{out}"
    );
}

/// Issue 13, item 2: several names were read in one listing (`name=a&name=b&match=any`), a
/// form Cloudflare's 2025-02-21 deprecation notice does not guarantee. A server honouring only
/// the first name made b.example.com look empty, and ddflare created a second A record beside
/// the one it held (both addresses served). A name a listing of several left empty is now
/// confirmed empty without repeated names before anything is created; where the server
/// behaves, a listing of several names still costs one request.
#[test]
fn a_server_honouring_one_name_of_several_gets_no_duplicate() {
    let h = Harness::new(&["example.com"]);
    let old = RecordSpec::new("b.example.com", "A", "198.51.100.4");
    h.emu.add_record("example.com", old).unwrap();
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"a.example.com\"\nipv6 = false\n\n[[record]]\nname = \"b.example.com\"\nipv6 = false\n",
    );
    h.emu.add_fault(
        Fault::first_name_only()
            .path_contains("/dns_records")
            .times(1000),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let want = |names: &[&str]| -> Vec<(String, String, String)> {
        names
            .iter()
            .map(|n| (format!("{n}.example.com"), "A".into(), "203.0.113.7".into()))
            .collect()
    };
    assert_eq!(h.records("example.com"), want(&["a", "b"]), "{out}");
    // Again, with the cache gone: still no duplicate, nothing to change.
    std::fs::remove_dir_all(h.state_dir()).unwrap();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(h.records("example.com"), want(&["a", "b"]), "{out}");

    // A server that behaves: 25 names that all exist cost two listings, no more.
    let h = Harness::new(&["example.com"]);
    let names: Vec<String> = (0..25).map(|i| format!("h{i}")).collect();
    let mut config = String::new();
    for n in &names {
        let spec = RecordSpec::new(&format!("{n}.example.com"), "A", "203.0.113.7");
        h.emu.add_record("example.com", spec).unwrap();
        config.push_str(&format!(
            "[[record]]\nname = \"{n}.example.com\"\nipv6 = false\n"
        ));
    }
    h.write_config(Some("203.0.113.7"), None, &config);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let listings = h
        .dns_requests()
        .into_iter()
        .filter(|r| r.starts_with("GET") && r.ends_with("/dns_records"))
        .count();
    assert_eq!(listings, 2, "{:?}\n{out}", h.dns_requests());
}

/// Runs `cmd` for at most `limit`: its exit code, its output, how long it took; killed (and
/// the test failed) past the limit.
fn run_within(
    h: &Harness,
    mut cmd: std::process::Command,
    limit: Duration,
) -> (Option<i32>, String, Duration) {
    let log = h.dir.path().join("run_within.log");
    let file = std::fs::File::create(&log).unwrap();
    let started = Instant::now();
    let mut child = cmd
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = std::fs::read_to_string(&log).unwrap();
            return (status.code(), out, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let out = std::fs::read_to_string(&log).unwrap();
            panic!("still running after {limit:?}:\n{out}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Issue 13, item 10: `once` (cron) had no overall deadline: a silent server cost 46 s per
/// call and an endless pagination ran 270 s. `once` obeys `schedule.cycle_deadline` like `run`.
#[test]
fn once_obeys_the_cycle_deadline() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[schedule]\ncycle_deadline = \"3s\"\n\n[[record]]\nname = \"home.example.com\"\nipv6 = false\n",
    );
    // A silent server: every answer takes a minute.
    h.emu.add_fault(Fault::delay(60_000).times(1000));
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(12));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(8), "{took:?}\n{out}");
    h.emu.clear_faults();

    // An endless listing: every page says a million more follow.
    let page = serde_json::json!({
        "result": [{"id": "372e67954025e0ba6aaa6d586b9e0b59", "name": "home.example.com",
                    "type": "A", "content": "198.51.100.4", "proxied": false, "ttl": 1}],
        "success": true, "errors": [], "messages": [],
        "result_info": {"page": 1, "per_page": 5000, "count": 1, "total_count": 5_000_000_000u64,
                        "total_pages": 1_000_000}
    });
    h.emu.add_fault(
        Fault::new(ddflare_emulator::FaultKind::Status {
            status: 200,
            body: Some(page.to_string()),
        })
        .method("GET")
        .path_contains("/dns_records")
        .times(100_000),
    );
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(12));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(8), "{took:?}\n{out}");
    assert!(h.records("example.com").is_empty(), "{out}");
}

/// Issue 13, item 10: `Retry-After: 999999` cost 180 s per call (three capped sleeps) and the
/// user was not told when Cloudflare would take requests again. A `Retry-After` longer than
/// the round can wait ends the round at once, saying when the next try is allowed.
#[test]
fn a_long_retry_after_ends_once_at_once_saying_when() {
    let h = Harness::new(&["example.com"]);
    h.write_config(Some("203.0.113.7"), None, HOME_V4);
    h.emu
        .add_fault(Fault::rate_limited(Some(999_999)).times(1000));
    let (code, out, took) = run_within(&h, h.ddflare(&["once"]), Duration::from_secs(20));
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(5), "{took:?}\n{out}");
    assert!(
        out.contains("Cloudflare asks to wait 11 d 13 h (Retry-After); the next try is after 20"),
        "{out}"
    );
    // Nothing was sent once Cloudflare had said to wait: one request, not one per retry.
    assert_eq!(h.dns_requests().len(), 1, "{:?}", h.dns_requests());
}

/// `ddflare once` with `[detect]` as given (allow_private and the provider lists): the exit
/// code, the output, and how many records the emulator holds afterwards.
fn publish_with(h: &Harness, detect: &str) -> (Option<i32>, String, usize) {
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\n\n[detect]\n{detect}\n\n[state]\ndir = \"{}\"\n\n\
             [[record]]\nname = \"home.example.com\"\n",
            h.emu.base_url(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let out = h.ddflare(&["once"]).output().unwrap();
    (
        out.status.code(),
        crate::support::text(&out),
        h.records("example.com").len(),
    )
}

/// A plain-HTTP provider that answers each request with its path: `GET /127.0.0.1` answers
/// `127.0.0.1`. On `127.0.0.1` and on `[::1]`: a `url:` provider of IPv6 connects over IPv6.
struct Echo {
    v4: std::net::SocketAddr,
    v6: std::net::SocketAddr,
}

impl Echo {
    fn start(h: &Harness) -> Echo {
        Echo {
            v4: h.spawn(echo_server("127.0.0.1:0")),
            v6: h.spawn(echo_server("[::1]:0")),
        }
    }

    /// `ipv4 = [url]` or `ipv6 = [url]`, whichever family `addr` is, and the other off.
    fn lists(&self, provider: &str, addr: &str) -> String {
        let server = if addr.contains(':') { self.v6 } else { self.v4 };
        let p = provider.replace("{server}", &server.to_string());
        if addr.contains(':') {
            format!("ipv4 = \"none\"\nipv6 = [\"{p}\"]")
        } else {
            format!("ipv4 = [\"{p}\"]\nipv6 = \"none\"")
        }
    }
}

async fn echo_server(bind: &'static str) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0u8; 4096];
                let Ok(n) = s.read(&mut head).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&head[..n]).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("/");
                let body = path.trim_start_matches('/').to_owned();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

/// Each address, answered by a `url:` provider (refused at run time) and written as a
/// `static:` value (refused when the config is read): never published.
fn assert_never_published(h: &Harness, echo: &Echo, addr: &str, allow: bool) {
    for provider in [
        format!("url:http://{{server}}/{addr}"),
        format!("static:{addr}"),
    ] {
        let detect = format!("allow_private = {allow}\n{}", echo.lists(&provider, addr));
        let (code, out, published) = publish_with(h, &detect);
        assert_eq!(published, 0, "{provider} was published:\n{out}");
        assert_ne!(code, Some(0), "{provider}:\n{out}");
        assert!(out.contains("which is in "), "{provider}:\n{out}");
        assert!(out.contains("never published"), "{provider}:\n{out}");
    }
}

/// Issue 13, item 12: with `allow_private = true`, addresses nobody can ever reach were
/// published: `0.0.0.0`, `255.255.255.255`, multicast, loopback, link-local, `::`, an
/// IPv4-mapped, NAT64 or IPv4-compatible IPv6 address. `allow_private` admits private, ULA,
/// CGNAT and documentation ranges only; the rest is refused whatever the setting.
#[test]
fn allow_private_never_publishes_unusable_addresses() {
    let h = Harness::new(&["example.com"]);
    let echo = Echo::start(&h);
    for addr in [
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "::",
        "::1",
        "ff02::1",
        "fe80::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "::808:808",
    ] {
        assert_never_published(&h, &echo, addr, true);
    }
    // What allow_private is for still passes.
    for addr in ["192.168.1.2", "100.64.0.9", "fd00::5", "2001:db8::7"] {
        let h = Harness::new(&["example.com"]);
        let detect = format!(
            "allow_private = true\n{}",
            echo.lists(&format!("url:http://{{server}}/{addr}"), addr)
        );
        let (code, out, published) = publish_with(&h, &detect);
        assert_eq!((code, published), (Some(0), 1), "{addr}:\n{out}");
    }
}

/// Issue 13, item 12: with `allow_private` off, a Teredo address (2001::/32), another address
/// of 2001::/23, and a 6to4 address (2002::/16) whose embedded IPv4 is not public were
/// published as global.
#[test]
fn teredo_and_private_6to4_are_never_published() {
    let h = Harness::new(&["example.com"]);
    let echo = Echo::start(&h);
    for addr in [
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001::1",
        "2001:5::1",
        "2002:c0a8:102::1",
        "2002:a00:1::1",
        "2002::1",
    ] {
        for allow_private in [false, true] {
            assert_never_published(&h, &echo, addr, allow_private);
        }
    }
    // 6to4 from a public IPv4 is reachable through the 6to4 relays.
    let six_to_four = "2002:808:808::1";
    let detect = echo.lists(&format!("url:http://{{server}}/{six_to_four}"), six_to_four);
    let (code, out, published) = publish_with(&h, &detect);
    assert_eq!((code, published), (Some(0), 1), "{out}");
}

/// Issue 13, item 15: `ipv4 = ["static:2001:db8::1"]` passed the config check and failed
/// every round at run time. It is a config error naming the key.
#[test]
fn a_static_address_of_the_wrong_family_is_a_config_error() {
    let h = Harness::new(&["example.com"]);
    for (v4, v6, key) in [
        (Some("2001:db8::1"), None, "detect.ipv4"),
        (None, Some("203.0.113.7"), "detect.ipv6"),
    ] {
        h.write_config(v4, v6, "[[record]]\nname = \"home.example.com\"\n");
        for cmd in ["check", "once"] {
            let out = crate::support::assert_exit(&h.ddflare(&[cmd]).output().unwrap(), 78);
            assert!(out.contains(key), "{cmd}:\n{out}");
        }
    }
    assert_eq!(h.records("example.com").len(), 0);
}

/// Issue 13, item 16: internationalised names were mapped by hand, not by UTS #46, so records
/// were published under names nobody looks up (`x²` became `xn--x-5ca`, not `x2`), Hindi was
/// refused, and the ideographic full stop was not a label separator. Each is now published
/// under the name a browser looks up.
#[test]
fn internationalised_names_map_as_uts46() {
    let h = Harness::new(&["example.com"]);
    let cases = [
        ("x².example.com", "x2.example.com"),
        ("ⅻ.example.com", "xii.example.com"),
        ("ﬁle.example.com", "file.example.com"),
        ("ⓐb.example.com", "ab.example.com"),
        ("हिन्दी.example.com", "xn--j2bd4cyah0f.example.com"),
        ("home｡example｡com", "home.example.com"),
    ];
    let records: String = cases
        .iter()
        .map(|(name, _)| format!("[[record]]\nname = \"{name}\"\n"))
        .collect();
    h.write_config(Some("203.0.113.7"), None, &records);
    let out = crate::support::assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let mut want: Vec<(String, String, String)> = cases
        .iter()
        .map(|(_, ascii)| {
            (
                (*ascii).to_owned(),
                "A".to_owned(),
                "203.0.113.7".to_owned(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(h.records("example.com"), want, "{out}");
}

/// A cron expression that fires only rarely (`0 0 */31 6 1`: June 1st when it is a Monday,
/// next in 2037) was searched only eight years ahead, found "never", and ddflare fell back to
/// running every `schedule.interval` (5 minutes) instead. A proptest of `schedule` found it
/// (`* * */7 6 3/5` from 2050-06-29).
#[test]
fn a_rare_cron_expression_is_not_taken_for_one_that_never_fires() {
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[schedule]\ncron = \"0 0 */31 6 1\"\n\n[[record]]\nname = \"home.example.com\"\n",
    );
    let out = h.ddflare(&["status"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    let next = shown
        .lines()
        .find(|l| l.starts_with("next round"))
        .unwrap_or_default();
    assert!(next.contains("-06-01T00:00:00Z"), "{shown}");
}

/// A Kubernetes Secret mounted as the kubelet does it (root, the pod's `fsGroup`, mode 0440)
/// was warned about as "can be read by group or others" and refused under `--strict`, though
/// that group is the pod's own. Such a file in a Kubernetes volume (the `..data` link beside
/// it) is now accepted; the same mode in a plain directory is still refused.
#[test]
fn kubernetes_secret_mode_0440_was_called_exposed() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
    let h = Harness::new(&["example.com"]);
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    let base = h.config_path().parent().unwrap().to_path_buf();
    let own_gid = std::fs::metadata("/proc/self").unwrap().gid();
    let run = |token: &std::path::Path| {
        let mut cmd = h.ddflare(&["once"]);
        cmd.env_remove("CLOUDFLARE_API_TOKEN")
            .env("CLOUDFLARE_API_TOKEN_FILE", token)
            .env("DDFLARE_STRICT", "1");
        cmd.output().unwrap()
    };

    let secret = base.join("secret");
    let data = secret.join("..2026_12_05_07_00_00.1");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("token"), format!("{}\n", crate::support::TOKEN)).unwrap();
    std::fs::set_permissions(data.join("token"), std::fs::Permissions::from_mode(0o440)).unwrap();
    assert_eq!(
        std::fs::metadata(data.join("token")).unwrap().gid(),
        own_gid
    );
    symlink("..2026_12_05_07_00_00.1", secret.join("..data")).unwrap();
    symlink("..data/token", secret.join("token")).unwrap();
    let out = run(&secret.join("token"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("can be read by group"), "{err}");

    let plain = base.join("plain-token");
    std::fs::write(&plain, format!("{}\n", crate::support::TOKEN)).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o440)).unwrap();
    let out = run(&plain);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("refused (--strict)") && err.contains("mode 440"),
        "{err}"
    );
}

/// Root read the token file (0600, root's) with the config, dropped to nobody, and then the
/// token-rotation check read the file again before the first request, as nobody: "cannot use
/// the API token file as it is now (Permission denied)", once per request and once more per
/// refusal. The stamp is now taken with the config's read, and a failure is said once per
/// version of the file.
#[test]
fn token_file_unreadable_after_dropping_root_warned_at_every_request() {
    use std::os::unix::fs::PermissionsExt;
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|u| u == "0")
        })
        .unwrap_or(false);
    if !root {
        eprintln!(
            "\n*** skipped: needs root: regression::token_file_unreadable_after_dropping_root_warned_at_every_request (CI runs it as root) ***\n"
        );
        return;
    }
    let h = Harness::new(&["example.com"]);
    std::fs::set_permissions(h.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    h.write_config(
        Some("203.0.113.7"),
        None,
        "[[record]]\nname = \"home.example.com\"\n",
    );
    std::fs::set_permissions(h.config_path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let token = h.dir.path().join("token");
    let run = |content: &str, args: &[&str]| {
        std::fs::write(&token, content).unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut cmd = h.ddflare(args);
        cmd.env_remove("DDFLARE_DROP_PRIVILEGES")
            .env_remove("CLOUDFLARE_API_TOKEN")
            .env("CLOUDFLARE_API_TOKEN_FILE", &token);
        cmd.output().unwrap()
    };

    let out = run(&format!("{}\n", crate::support::TOKEN), &["once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("now running as uid 65534"), "{err}");
    assert!(!err.contains("cannot use the API token file"), "{err}");

    // A token Cloudflare refuses: every refusal reads the file again; said once at most.
    let out = run("Refused-token-0123456789abcdefABCDEF_xyz\n", &["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.matches("cannot use the API token file").count() <= 1,
        "{err}"
    );
}

/// Bug: the `provider` label split a provider's name on " + " (an agreement's separator) and
/// showed every piece, so a URL whose path held " + " (`url:http://h/down + PATHWORD/x`, which
/// the URL parser accepts) put the rest of its path on the unauthenticated `/metrics`. A piece
/// that does not start a provider is now dropped with its URL's path.
#[test]
fn a_plus_inside_a_provider_url_never_reaches_the_provider_label() {
    let h = Harness::new(&["example.com"]);
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"2s\"\n\n[detect]\n\
             allow_private = true\nipv4 = [\"url:http://127.0.0.1:9/down + PATHWORD/x\", \
             \"static:203.0.113.7\"]\nipv6 = [\"none\"]\n\n[state]\ndir = \"{}\"\n\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n\n[[record]]\nname = \"home.example.com\"\n",
            h.emu.base_url(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let d = Daemon::start(h.ddflare(&["run"]));
    let log = d.wait_for("round done");
    let start = log.find("serving http://").unwrap() + "serving http://".len();
    let addr = &log[start..start + log[start..].find("/metrics").unwrap()];
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).unwrap();
    d.stop();
    assert!(!body.contains("PATHWORD"), "{body}");
    assert!(
        body.contains(
            "ddflare_detections_total{family=\"IPv4\",provider=\"url:127.0.0.1:9\",outcome=\"failed\"} 1"
        ),
        "{body}"
    );
}

/// A daemon that reads only IPv4 from an interface ran a round for every IPv6 address event
/// there (the end of duplicate address detection, router advertisements refreshing lifetimes
/// every few minutes, privacy addresses rotating): the netlink watch subscribed to both
/// families' events and woke on any. It now wakes only for the families that an `interface:`
/// provider reads from that interface.
#[test]
fn an_ipv6_event_does_not_wake_a_daemon_reading_only_ipv4() {
    use crate::detect::netns;
    if !netns::enter(
        "regression::an_ipv6_event_does_not_wake_a_daemon_reading_only_ipv4",
        &[],
    ) {
        return;
    }
    netns::one_interface();
    let h = Harness::new(&["example.com"]);
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"2s\"\n\n[detect]\n\
             allow_private = true\nipv4 = [\"interface:dd0\"]\nipv6 = [\"none\"]\n\n\
             [state]\ndir = \"{}\"\n\n[schedule]\ninterval = \"1h\"\n\n\
             [[record]]\nname = \"host.example.com\"\n",
            h.emu.base_url(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let child = netns::run(&h);
    let first = netns::wait_for(
        &h,
        &netns::rec("host.example.com", "A", "192.0.2.10"),
        Duration::from_secs(10),
    );
    // An IPv6 address comes and goes: nothing this daemon reads. The watch's quiet time is
    // 300 ms; a wake-up would have come well within the second and a half waited here.
    netns::sh("ip -6 addr add 2001:db8:5::5/64 dev dd0 nodad");
    std::thread::sleep(Duration::from_millis(700));
    netns::sh("ip -6 addr del 2001:db8:5::5/64 dev dd0");
    std::thread::sleep(Duration::from_millis(1500));
    // The IPv4 address changes: one wake-up, and the record follows.
    netns::sh("ip addr del 192.0.2.10/24 dev dd0 && ip addr add 192.0.2.77/24 dev dd0");
    let v4 = netns::wait_for(
        &h,
        &netns::rec("host.example.com", "A", "192.0.2.77"),
        Duration::from_secs(10),
    );
    let log = netns::stop(child);
    assert!(first.is_some(), "the first round did not publish:\n{log}");
    assert!(v4.is_some(), "the IPv4 change was not published:\n{log}");
    assert_eq!(
        log.matches(r#"trigger="netlink""#).count(),
        1,
        "only the IPv4 change wakes the daemon:\n{log}"
    );
}

/// A landed CI run failed in check-image ("curl: (23) Failed writing body", then "FAIL: no
/// ddflare_rounds_total at DDFLARE_METRICS_LISTEN") although the metric was served: the check was
/// `curl … | grep -q …` under `set -o pipefail`. `grep -q` exits at its first match; when the
/// writer still has bytes to write, its next write fails (EPIPE, or SIGPIPE), and pipefail fails
/// the whole pipeline on the writer's status. Any reader that stops early (`grep -q`, `grep -m`,
/// `head`) races its writer this way. The project's scripts now let every reader read to the end
/// (`grep … >/dev/null`, `sed -n 1p`); this test keeps the others out.
#[test]
fn a_pipe_into_grep_q_failed_a_check_that_had_passed() {
    // The race is real: a writer with more than a pipe's worth to say loses it every time.
    let status = std::process::Command::new("bash")
        .args(["-c", "set -o pipefail; seq 1 300000 | grep -q '^1$'"])
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "grep -q under pipefail did not fail its writer"
    );
    let status = std::process::Command::new("bash")
        .args([
            "-c",
            "set -o pipefail; seq 1 300000 | grep '^1$' >/dev/null",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "a reader to the end must not fail");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut dirs = vec![root.join("scripts"), root.join(".ci"), root.join("bench")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // not text
            };
            for (n, line) in text.lines().enumerate() {
                if !line.trim_start().starts_with('#') && pipes_into_an_early_reader(line) {
                    let rel = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .display()
                        .to_string();
                    found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a pipe into a reader that stops early (use `grep … >/dev/null`, `sed -n 1p`):\n{}",
        found.join("\n")
    );
}

/// Whether a shell line pipes (`|`, not `||`) into `head` or into a `grep` with `-q`, `-m`,
/// `--quiet`, `--silent` or `--max-count` among its options.
fn pipes_into_an_early_reader(line: &str) -> bool {
    let b = line.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b'|' || b.get(i + 1) == Some(&b'|') || (i > 0 && b[i - 1] == b'|') {
            return false;
        }
        let mut words = line[i + 1..].split_whitespace();
        match words.next() {
            Some("head") => true,
            Some("grep") => words.take_while(|w| w.starts_with('-')).any(|w| {
                ["--quiet", "--silent", "--max-count"]
                    .iter()
                    .any(|long| w.starts_with(long))
                    || (!w.starts_with("--") && w[1..].contains(['q', 'm']))
            }),
            _ => false,
        }
    })
}
