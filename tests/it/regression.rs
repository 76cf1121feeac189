//! Regression tests: one test per fixed bug, named after the bug, in this one file (as
//! ripgrep's `tests/regression.rs`). Each test must fail on the code before its fix: write it
//! first, watch it fail, then fix the code. A test here is never loosened to make it pass.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ddflare::config::{Config, parse};
use ddflare::reload::diff;
use ddflare_emulator::Fault;

use crate::support::{Daemon, Harness};

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
