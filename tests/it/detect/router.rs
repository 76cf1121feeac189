//! `router.natpmp`, `router.pcp` and `router.upnp` against the real thing: Debian's
//! miniupnpd (UPnP IGD, NAT-PMP and PCP) as the router of a LAN namespace, its WAN side in
//! this namespace, and the real `ddflare detect` in the LAN.
//!
//! miniupnpd withholds a reserved WAN address (private, CGNAT, documentation ranges), so the
//! public case uses 198.51.101.2, which is not reserved; the namespaces reach nothing
//! outside them. miniupnpd reads its WAN interface's address at every request, so one router
//! serves the public, CGNAT and private cases in turn; a small NAT-PMP responder on the WAN
//! side stands for a router that does tell such an address. Needs `miniupnpd`
//! (miniupnpd-nftables) and `nft`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::netns::{enter, have, in_lan, sh};
use crate::support::Harness;

const CONFIG: &str = "ext_ifname=r-wan
listening_ip=r-lan
http_port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
uuid=2bd6a8e2-4a8c-4c34-9d39-3f1e0b6e4f10
ext_perform_stun=no
system_uptime=no
min_lifetime=120
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
";

/// The WAN (this namespace, 198.51.101.1), a router namespace (r-wan `wan`, r-lan
/// 192.168.77.1) running miniupnpd, and a LAN namespace (192.168.77.10, default route via
/// the router).
fn igd(wan: &str) -> Child {
    sh("ip link set lo up && mount -t tmpfs tmpfs /run");
    sh("ip netns add router && ip netns add lan");
    sh("ip link add wan0 type veth peer name r-wan && ip link set r-wan netns router");
    sh(
        "ip -n router link add r-lan type veth peer name lan0 && ip -n router link set lan0 netns lan",
    );
    sh("ip addr add 198.51.101.1/24 dev wan0 && ip link set wan0 up");
    sh(
        "ip -n router link set lo up && ip -n router link set r-wan up && ip -n router link set r-lan up",
    );
    sh(&format!("ip -n router addr add {wan}/24 dev r-wan"));
    sh("ip -n router addr add 192.168.77.1/24 dev r-lan");
    sh("ip -n lan link set lo up && ip -n lan link set lan0 up");
    sh(
        "ip -n lan addr add 192.168.77.10/24 dev lan0 && ip -n lan route add default via 192.168.77.1",
    );
    // The chains miniupnpd fills (its defaults: table `filter`, family inet), as the
    // package's nft_init.sh makes them.
    sh("ip netns exec router nft 'add table inet filter; \
        add chain inet filter forward { type filter hook forward priority 0 ; } ; \
        add chain inet filter miniupnpd ; add rule inet filter forward jump miniupnpd ; \
        add chain inet filter prerouting { type nat hook prerouting priority -100 ; } ; \
        add chain inet filter prerouting_miniupnpd ; add rule inet filter prerouting jump prerouting_miniupnpd ; \
        add chain inet filter postrouting { type nat hook postrouting priority 100 ; } ; \
        add chain inet filter postrouting_miniupnpd ; add rule inet filter postrouting jump postrouting_miniupnpd'");
    std::fs::write("/run/miniupnpd.conf", CONFIG).unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", "router", miniupnpd(), "-d"])
        .args(["-f", "/run/miniupnpd.conf", "-P", "/run/miniupnpd.pid"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ready when it listens for HTTP and for NAT-PMP/PCP.
    let started = Instant::now();
    let listening = || {
        let ss = Command::new("ip")
            .args(["netns", "exec", "router", "ss", "-Hltun"])
            .output()
            .unwrap();
        let ss = String::from_utf8_lossy(&ss.stdout);
        ss.contains(":5000 ") && ss.contains(":5351 ")
    };
    while !listening() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "miniupnpd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// The daemon, also where root's PATH does not reach /usr/sbin.
fn miniupnpd() -> &'static str {
    if have("miniupnpd") {
        "miniupnpd"
    } else {
        "/usr/sbin/miniupnpd"
    }
}

/// The WAN address of the router becomes `addr`.
fn wan_address(addr: &str) {
    sh(&format!(
        "ip -n router addr flush dev r-wan && ip -n router addr add {addr}/24 dev r-wan"
    ));
}

/// A NAT-PMP server on the WAN side that tells `wan` as its external address.
async fn natpmp_telling(wan: [u8; 4]) -> std::net::SocketAddr {
    let socket = tokio::net::UdpSocket::bind("198.51.101.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            if buf[..n] == [0, 0] {
                let mut answer = vec![0, 128, 0, 0, 0, 0, 0, 1];
                answer.extend_from_slice(&wan);
                let _ = socket.send_to(&answer, peer).await;
            }
        }
    });
    addr
}

/// `ddflare detect` in the LAN with these IPv4 providers; its output.
fn detect(h: &Harness, ipv4: &str, extra: &str) -> String {
    let config = format!(
        "[cloudflare]\napi_url = \"{}\"\n\n[detect]\nipv4 = {ipv4}\nipv6 = \"none\"\ntimeout = \"2s\"\n{extra}\n\n\
         [state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
        h.emu.base_url(),
        h.state_dir().display()
    );
    std::fs::write(h.config_path(), config).unwrap();
    let out = in_lan(h, &["detect"]);
    crate::support::text(&out)
}

#[test]
fn the_router_tells_its_wan_address() {
    if !have(miniupnpd()) {
        eprintln!(
            "\n*** SKIPPED detect::router: `miniupnpd` is not installed (apt-get install miniupnpd-nftables) ***\n"
        );
        return;
    }
    if !enter("detect::router::the_router_tells_its_wan_address", &["nft"]) {
        return;
    }
    let mut router = igd("198.51.101.2");
    let h = Harness::new(&["example.com"]);

    // Each protocol alone, then all of them agreeing.
    for provider in [
        "router.natpmp",
        "router.pcp",
        "router.upnp",
        "router.upnp:http://192.168.77.1:5000/rootDesc.xml",
        "router.natpmp:192.168.77.1",
    ] {
        let out = detect(&h, &format!("[\"{provider}\"]"), "");
        assert!(
            out.contains(&format!("IPv4: 198.51.101.2 (from {provider}")),
            "{provider}:\n{out}"
        );
    }
    let out = detect(
        &h,
        "[\"router.natpmp\", \"router.pcp\", \"router.upnp\"]",
        "strategy = \"agree\"",
    );
    assert!(
        out.contains("IPv4: 198.51.101.2 (from router.natpmp + router.pcp + router.upnp)"),
        "{out}"
    );
    // PCP's mapping is deleted at once: miniupnpd has no redirection left.
    let rules = Command::new("ip")
        .args(["netns", "exec", "router", "nft", "list", "ruleset"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(
        !rules.contains("192.168.77.10"),
        "a mapping is left:\n{rules}"
    );

    // A router that answers nothing (no host at .99) or refuses (no NAT-PMP on the WAN
    // side's peer): the fallback list moves on, in time.
    let started = Instant::now();
    let out = detect(
        &h,
        "[\"router.natpmp:192.168.77.99\", \"router.pcp:192.168.77.1:5999\", \"router.upnp\"]",
        "",
    );
    assert!(
        out.contains("IPv4: 198.51.101.2 (from router.upnp)"),
        "{out}"
    );
    assert!(
        out.contains("no NAT-PMP answer within 1.8s: the router does not speak NAT-PMP or has it turned off (asked 192.168.77.99:5351)"),
        "{out}"
    );
    assert!(out.contains("the router refused"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(6), "{out}");

    // Behind carrier-grade NAT, or behind another router: miniupnpd withholds the address
    // (NAT-PMP and PCP: network failure; UPnP: an empty answer), ddflare says why, and the
    // list moves on.
    for wan in ["100.64.5.6", "192.168.50.2"] {
        wan_address(wan);
        for provider in ["router.natpmp", "router.pcp", "router.upnp"] {
            let out = detect(&h, &format!("[\"{provider}\"]"), "");
            assert!(out.contains("IPv4: failed: "), "{wan} {provider}:\n{out}");
            assert!(
                out.contains("behind another NAT"),
                "{wan} {provider}:\n{out}"
            );
        }
        let out = detect(
            &h,
            "[\"router.natpmp\", \"router.upnp\", \"static:198.51.101.77\"]",
            "",
        );
        assert!(
            out.contains("IPv4: 198.51.101.77 (from static:198.51.101.77)"),
            "{out}"
        );
    }

    // A router that does tell a CGNAT or private WAN address (miniupnpd never does): a
    // NAT-PMP responder on the WAN side, reached through the router. ddflare refuses the
    // address with the reason, whatever allow_private says.
    sh("ip netns exec router sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'");
    sh("ip route add 192.168.77.0/24 via 198.51.101.2");
    wan_address("198.51.101.2");
    for (told, needle) in [
        (
            [100, 64, 5, 6],
            "answered 100.64.5.6, which is in 100.64.0.0/10 (carrier-grade NAT (RFC 6598)): this host is behind carrier-grade NAT",
        ),
        (
            [10, 1, 2, 3],
            "answered 10.1.2.3, which is in 10.0.0.0/8 (private (RFC 1918)): the router's own WAN address is not public",
        ),
    ] {
        let at = h.spawn(natpmp_telling(told));
        let out = detect(
            &h,
            &format!("[\"router.natpmp:{at}\", \"router.natpmp\"]"),
            "allow_private = true",
        );
        assert!(out.contains(needle), "{out}");
        assert!(
            out.contains("IPv4: 198.51.101.2 (from router.natpmp)"),
            "{out}"
        );
    }

    // No UPnP on the LAN: SSDP finds nothing, within its wait.
    router.kill().unwrap();
    router.wait().unwrap();
    let out = detect(&h, "[\"router.upnp\"]", "");
    assert!(out.contains("no internet gateway answered SSDP"), "{out}");
}
