//! Detection with real network parts, in network namespaces made by the test itself (no root
//! needed): each test runs again inside `unshare -r -n -m` (its own user, network and mount
//! namespace), where it creates veth pairs, addresses, other namespaces (`ip netns`) and NAT
//! (`nft`). Nothing leaves the namespace: every address lives on an interface made here.
//!
//! - `interface:` reads a real interface (tentative, deprecated, link-local addresses skipped)
//!   and IPv6 prefix mode uses its prefix; the bogon filter refuses its documentation address
//!   unless `allow_private`;
//! - `ddflare run` reacts to `ip addr add` through netlink within seconds (the latency is
//!   printed);
//! - lan → router (nft masquerade) → wan: echo services in the wan see the router's address,
//!   not the LAN interface's, and `url:`, `cloudflare.trace` and `cloudflare.dns` agree on it;
//! - the same NAT with the shipped defaults (no api_url, no providers): api/www/apex
//!   cloudflare.com resolve into the namespace through its own /etc/hosts, where a TLS front
//!   (test CA) answers `/cdn-cgi/trace` and passes the API to the emulator.
//!
//! Needs `unshare` (util-linux) and `ip` (iproute2); the NAT test also `nft` (nftables). A
//! missing tool skips the test with a loud message.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, OpCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{DNSClass, Name, RData, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use crate::support::{Harness, TOKEN, assert_exit, text};

const INSIDE: &str = "DDFLARE_TEST_IN_NETNS";

/// Whether a program is on the PATH (or at an absolute path).
pub(crate) fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `true` inside the namespace: run the test body. Outside, runs this same test again under
/// `unshare -r -n -m`, asserts it passed there, and returns `false`. Skips (loudly) when a
/// tool is missing.
pub(crate) fn enter(test: &str, tools: &[&str]) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return true;
    }
    for tool in ["unshare", "ip"].iter().chain(tools) {
        if !have(tool) {
            crate::support::skip(
                test,
                &format!("`{tool}` is not installed"),
                &["util-linux", "iproute2", "nftables"],
            );
            return false;
        }
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-r", "-n", "-m", "--"])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .unwrap();
    let shown = text(&out);
    eprintln!("{shown}");
    assert!(
        out.status.success(),
        "the test failed in its namespace:\n{shown}"
    );
    assert!(
        shown.contains("1 passed"),
        "the test did not run in its namespace:\n{shown}"
    );
    false
}

/// Runs a shell command, failing the test with its output when it fails.
#[track_caller]
pub(crate) fn sh(cmd: &str) {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(out.status.success(), "`{cmd}` failed:\n{}", text(&out));
}

/// `lo` up, and a veth pair `dd0`/`dd1` (both up) with addresses on `dd0`.
pub(crate) fn one_interface() {
    sh("ip link set lo up");
    sh("ip link add dd0 type veth peer name dd1 && ip link set dd1 up && ip link set dd0 up");
    sh("ip addr add 192.0.2.10/24 dev dd0");
    sh("ip -6 addr add 2001:db8:1:2::10/64 dev dd0 nodad");
    // Deprecated (preferred lifetime 0): never chosen.
    sh("ip -6 addr add 2001:db8:1:2::20/64 dev dd0 nodad preferred_lft 0");
}

fn records_config(h: &Harness, detect: &str) {
    let text = format!(
        "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"2s\"\n\n[detect]\n{detect}\n\n[state]\ndir = \"{}\"\n\n[schedule]\ninterval = \"1h\"\n\n[[record]]\nname = \"host.example.com\"\n\n[[record]]\nname = \"nas.example.com\"\nipv4 = false\nipv6_host = \"::1234\"\n",
        h.emu.base_url(),
        h.state_dir().display(),
    );
    std::fs::write(h.config_path(), text).unwrap();
}

pub(crate) fn rec(name: &str, rtype: &str, content: &str) -> (String, String, String) {
    (name.to_owned(), rtype.to_owned(), content.to_owned())
}

#[test]
fn interface_and_prefix_mode_read_a_real_interface() {
    if !enter(
        "detect::netns::interface_and_prefix_mode_read_a_real_interface",
        &[],
    ) {
        return;
    }
    one_interface();
    let h = Harness::new(&["example.com"]);

    // Documentation addresses are not global: refused, with the reason, and nothing is sent.
    records_config(&h, "ipv4 = \"interface:dd0\"\nipv6 = \"interface:dd0\"");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(
        out.contains("answered 192.0.2.10, which is in 192.0.2.0/24 (documentation)"),
        "{out}"
    );
    assert!(out.contains("2001:db8::/32 (documentation)"), "{out}");
    assert!(h.records("example.com").is_empty());

    // A missing interface is named.
    records_config(
        &h,
        "allow_private = true\nipv4 = \"interface:nope0\"\nipv6 = \"interface:nope0\"",
    );
    let out = assert_exit(&h.ddflare(&["detect"]).output().unwrap(), 1);
    assert!(out.contains("there is no interface named `nope0`"), "{out}");

    // allow_private (a LAN's DNS): the interface's stable address, and prefix mode on its /64.
    records_config(
        &h,
        "allow_private = true\nipv4 = \"interface:dd0\"\nipv6 = \"interface:dd0\"",
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(
        h.records("example.com"),
        vec![
            rec("host.example.com", "A", "192.0.2.10"),
            rec("host.example.com", "AAAA", "2001:db8:1:2::10"),
            rec("nas.example.com", "AAAA", "2001:db8:1:2::1234"),
        ],
        "{out}"
    );

    // A tentative address (DAD still running) is skipped; the interface's prefix length is
    // used for prefix mode (a /56 here).
    sh("ip -6 addr del 2001:db8:1:2::10/64 dev dd0");
    sh("ip -6 addr del 2001:db8:1:2::20/64 dev dd0");
    sh("ip -6 addr add 2001:db8:5:6::10/56 dev dd0 nodad");
    sh("ip -6 addr add 2001:db8:7::10/64 dev dd0");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(
        h.records("example.com"),
        vec![
            rec("host.example.com", "A", "192.0.2.10"),
            rec("host.example.com", "AAAA", "2001:db8:5:6::10"),
            rec("nas.example.com", "AAAA", "2001:db8:5::1234"),
        ],
        "{out}"
    );
}

/// Polls the emulator until `want` is among the records, or `limit` passes.
pub(crate) fn wait_for(
    h: &Harness,
    want: &(String, String, String),
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if h.records("example.com").contains(want) {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// `ddflare run`, its log piped (read by [`stop`]).
pub(crate) fn run(h: &Harness) -> Child {
    h.ddflare(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub(crate) fn stop(mut child: Child) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    log
}

#[test]
fn an_address_change_is_published_within_seconds() {
    if !enter(
        "detect::netns::an_address_change_is_published_within_seconds",
        &[],
    ) {
        return;
    }
    one_interface();
    let h = Harness::new(&["example.com"]);
    records_config(
        &h,
        "allow_private = true\nipv4 = \"interface:dd0\"\nipv6 = \"interface:dd0\"",
    );
    let child = run(&h);
    let first = wait_for(
        &h,
        &rec("nas.example.com", "AAAA", "2001:db8:1:2::1234"),
        Duration::from_secs(10),
    );
    assert!(first.is_some(), "the first round did not publish");

    // IPv4: the address is replaced; the interval is an hour, so only netlink can explain a
    // quick update.
    sh("ip addr del 192.0.2.10/24 dev dd0 && ip addr add 192.0.2.77/24 dev dd0");
    let v4 = wait_for(
        &h,
        &rec("host.example.com", "A", "192.0.2.77"),
        Duration::from_secs(10),
    );
    // IPv6 with duplicate address detection: the new address is tentative for about a
    // second, then valid; both events wake the daemon.
    sh(
        "ip -6 addr del 2001:db8:1:2::10/64 dev dd0 && ip -6 addr del 2001:db8:1:2::20/64 dev dd0 \
         && ip -6 addr add 2001:db8:9:9::10/64 dev dd0",
    );
    let v6 = wait_for(
        &h,
        &rec("nas.example.com", "AAAA", "2001:db8:9:9::1234"),
        Duration::from_secs(10),
    );
    let log = stop(child);
    eprintln!("ip addr add → record updated: IPv4 {v4:?}, IPv6 with DAD {v6:?}");
    let v4 = v4.unwrap_or_else(|| panic!("IPv4 change not published:\n{log}"));
    let v6 = v6.unwrap_or_else(|| panic!("IPv6 change not published:\n{log}"));
    assert!(v4 < Duration::from_secs(3), "{v4:?}\n{log}");
    // About a second of DAD on top.
    assert!(v6 < Duration::from_secs(5), "{v6:?}\n{log}");
    // The netlink wake-up is said on the round's own line (issue 17), not a line of its own.
    assert!(log.contains(r#"trigger="netlink""#), "{log}");
    assert!(!log.contains(TOKEN));
}

/// An HTTP server answering every request with the client's address as plain text, or a
/// `/cdn-cgi/trace` like Cloudflare's edge (`h=` from the Host header).
async fn echo_http(bind: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, peer)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let host = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    })
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                let body = if head.starts_with("GET /cdn-cgi/trace") {
                    format!(
                        "fl=1\nh={host}\nip={}\nvisit_scheme=http\nwarp=off\n",
                        peer.ip()
                    )
                } else {
                    format!("{}\n", peer.ip())
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

/// A DNS server answering `whoami.cloudflare` TXT CH with the client's address, over UDP.
async fn whoami_udp(bind: SocketAddr, fixed: Option<IpAddr>) -> SocketAddr {
    let socket = UdpSocket::bind(bind).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut msg = Message::response(q.metadata.id, OpCode::Query);
            msg.add_queries(q.queries.clone());
            let said = fixed.unwrap_or(peer.ip()).to_string();
            let mut rec = Record::from_rdata(
                Name::from_ascii("whoami.cloudflare.").unwrap(),
                0,
                RData::TXT(TXT::new(vec![said])),
            );
            rec.dns_class = DNSClass::CH;
            msg.add_answer(rec);
            let _ = socket.send_to(&msg.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

/// This namespace is the "internet": wan0 198.51.100.1 and 2001:db8:ff::1. A router
/// namespace masquerades IPv4 for a LAN namespace (192.0.2.10, 2001:db8:1::10); IPv6 is
/// routed, not translated.
fn nat() {
    sh("ip link set lo up && mount -t tmpfs tmpfs /run");
    sh("ip netns add router && ip netns add lan");
    sh("ip link add wan0 type veth peer name r-wan && ip link set r-wan netns router");
    sh(
        "ip -n router link add r-lan type veth peer name lan0 && ip -n router link set lan0 netns lan",
    );
    sh(
        "ip addr add 198.51.100.1/24 dev wan0 && ip -6 addr add 2001:db8:ff::1/64 dev wan0 nodad && ip link set wan0 up",
    );
    sh("ip -6 route add 2001:db8:1::/64 via 2001:db8:ff::2");
    sh(
        "ip -n router link set lo up && ip -n router link set r-wan up && ip -n router link set r-lan up",
    );
    sh(
        "ip -n router addr add 198.51.100.2/24 dev r-wan && ip -n router -6 addr add 2001:db8:ff::2/64 dev r-wan nodad",
    );
    sh(
        "ip -n router addr add 192.0.2.1/24 dev r-lan && ip -n router -6 addr add 2001:db8:1::1/64 dev r-lan nodad",
    );
    sh(
        "ip netns exec router sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'",
    );
    sh(
        "ip netns exec router nft 'add table ip nat; add chain ip nat post { type nat hook postrouting priority 100 ; } ; add rule ip nat post oifname \"r-wan\" masquerade'",
    );
    sh("ip -n lan link set lo up && ip -n lan link set lan0 up");
    sh(
        "ip -n lan addr add 192.0.2.10/24 dev lan0 && ip -n lan -6 addr add 2001:db8:1::10/64 dev lan0 nodad",
    );
    sh(
        "ip -n lan route add default via 192.0.2.1 && ip -n lan -6 route add default via 2001:db8:1::1",
    );
}

/// `ddflare ARGS` in the LAN namespace, with the test token and nothing else from the
/// environment that would change its behaviour.
pub(crate) fn in_lan(h: &Harness, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", "lan", env!("CARGO_BIN_EXE_ddflare")])
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .arg("--config")
        .arg(h.config_path())
        .args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("DDFLARE_") || k.starts_with("CLOUDFLARE_") && k != "CLOUDFLARE_API_TOKEN"
        {
            cmd.env_remove(k);
        }
    }
    // Root inside `unshare -r` maps no other user: ddflare keeps root (as in ddflare_cmd).
    cmd.env("DDFLARE_DROP_PRIVILEGES", "false");
    cmd.output().unwrap()
}

#[test]
fn behind_nat_the_echo_services_see_the_routers_address() {
    if !enter(
        "detect::netns::behind_nat_the_echo_services_see_the_routers_address",
        &["nft"],
    ) {
        return;
    }
    nat();

    // The API over real TLS at the wan address, trusted through ca_file.
    let h = Harness::new(&["example.com"]);
    let pki = crate::tls::pki(&["198.51.100.1"]);
    let ca_file = h.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let api = h.spawn(crate::tls::tls_front_on(
        "198.51.100.1:0".parse().unwrap(),
        pki.acceptor(),
        h.emu.addr(),
    ));
    let web4 = h.spawn(echo_http("198.51.100.1:0".parse().unwrap()));
    let web6 = h.spawn(echo_http("[2001:db8:ff::1]:0".parse().unwrap()));
    let dns4 = h.spawn(whoami_udp("198.51.100.1:0".parse().unwrap(), None));
    let config = format!(
        "[cloudflare]\napi_url = \"https://{api}/client/v4\"\nca_file = \"{}\"\nrequest_timeout = \"3s\"\n\n\
         [detect]\n# Documentation addresses stand for public ones here.\nallow_private = true\nstrategy = \"agree\"\n\
         ipv4 = [\"url:http://{web4}/\", \"cloudflare.trace\", \"cloudflare.dns\", \"interface:lan0\"]\n\
         ipv6 = [\"url:http://{web6}/\", \"cloudflare.trace\", \"interface:lan0\"]\n\
         trace_url = [\"http://{web4}/cdn-cgi/trace\", \"http://{web6}/cdn-cgi/trace\"]\n\
         dns_servers = [\"{dns4}\", \"2001:db8:ff::1\"]\n\n\
         [state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
        ca_file.display(),
        h.state_dir().display()
    );
    std::fs::write(h.config_path(), config).unwrap();

    // url, trace and dns see the router's address and agree; the interface's private address
    // is outvoted (and the disagreement logged with every answer).
    let out = assert_exit(&in_lan(&h, &["once"]), 0);
    assert_eq!(
        h.records("example.com"),
        vec![
            rec("home.example.com", "A", "198.51.100.2"),
            rec("home.example.com", "AAAA", "2001:db8:1::10"),
        ],
        "{out}"
    );
    assert!(out.contains("providers disagree"), "{out}");
    assert!(out.contains("interface:lan0 → 192.0.2.10"), "{out}");

    let out = assert_exit(&in_lan(&h, &["detect"]), 0);
    assert!(
        out.contains("IPv4: 198.51.100.2 (from url:http://198.51.100.1:"),
        "{out}"
    );
    assert!(
        out.contains(" + cloudflare.trace + cloudflare.dns)"),
        "{out}"
    );
}

/// Cloudflare's front as the LAN sees it: TLS for api/www/apex cloudflare.com; a request for
/// `/cdn-cgi/trace` is answered here with the real client address (as the edge does), any
/// other is passed to the emulator.
async fn cloudflare_front(
    bind: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    api: SocketAddr,
) -> SocketAddr {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                if text.starts_with("GET /cdn-cgi/trace") {
                    let host = text
                        .lines()
                        .find_map(|l| l.strip_prefix("host: "))
                        .unwrap_or_default()
                        .trim();
                    let body = format!("fl=1\nh={host}\nip={}\nwarp=off\n", peer.ip());
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.shutdown().await;
                    return;
                }
                if let Ok(mut plain) = tokio::net::TcpStream::connect(api).await
                    && plain.write_all(&head).await.is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    addr
}

#[test]
fn the_shipped_defaults_reach_an_emulated_cloudflare() {
    if !enter(
        "detect::netns::the_shipped_defaults_reach_an_emulated_cloudflare",
        &["nft"],
    ) {
        return;
    }
    nat();
    // The names resolve to the "internet" namespace, through this mount namespace's own
    // /etc/hosts (every name ddflare may ask, so no DNS query is ever sent).
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let names = "api.cloudflare.com www.cloudflare.com cloudflare.com";
    std::fs::write(
        &hosts,
        format!("127.0.0.1 localhost\n198.51.100.1 {names}\n2001:db8:ff::1 {names}\n"),
    )
    .unwrap();
    sh(&format!("mount --bind {} /etc/hosts", hosts.display()));

    let h = Harness::new(&["example.com"]);
    let pki = crate::tls::pki(&["api.cloudflare.com", "www.cloudflare.com", "cloudflare.com"]);
    let ca_file = h.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    for bind in ["198.51.100.1:443", "[2001:db8:ff::1]:443"] {
        h.spawn(cloudflare_front(
            bind.parse().unwrap(),
            pki.acceptor(),
            h.emu.addr(),
        ));
    }
    // No api_url, no providers, no trace_url: the defaults. Only the test CA is added, and
    // allow_private because documentation addresses stand for public ones here.
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\nca_file = \"{}\"\n\n[detect]\nallow_private = true\n\n[state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
            ca_file.display(),
            h.state_dir().display()
        ),
    )
    .unwrap();
    let out = assert_exit(&in_lan(&h, &["once"]), 0);
    assert_eq!(
        h.records("example.com"),
        vec![
            rec("home.example.com", "A", "198.51.100.2"),
            rec("home.example.com", "AAAA", "2001:db8:1::10"),
        ],
        "{out}"
    );
    // A second run makes no API call: the cache answers.
    h.emu.clear_requests();
    assert_exit(&in_lan(&h, &["once"]), 0);
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}
