//! The classifier against every entry of IANA's IPv4 and IPv6 special-purpose address
//! registries (as of 2025), plus multicast, the space outside 2000::/3 and 6to4, at both ends
//! of each range; and against std where std is sure.

use proptest::prelude::*;

use super::*;

/// G: global, published. P: published only with `allow_private`. N: never published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    G,
    P,
    N,
}
use Want::{G, N, P};

fn want(addr: IpAddr) -> Want {
    match (refused(addr, false), refused(addr, true)) {
        (None, None) => G,
        (Some(_), None) => P,
        (Some(a), Some(b)) => {
            assert_eq!(a, b, "{addr}");
            N
        }
        (None, Some(_)) => panic!("{addr}: refused only with allow_private"),
    }
}

/// The first and the last address of a CIDR range.
fn ends(cidr: &str) -> [IpAddr; 2] {
    let (net, len) = cidr.split_once('/').unwrap();
    let len: u32 = len.parse().unwrap();
    match net.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(len).unwrap_or(0);
            let first = u32::from(a) & !host;
            [first, first | host].map(|n| IpAddr::V4(Ipv4Addr::from(n)))
        }
        IpAddr::V6(a) => {
            let host = u128::MAX.checked_shr(len).unwrap_or(0);
            let first = u128::from(a) & !host;
            [first, first | host].map(|n| IpAddr::V6(Ipv6Addr::from(n)))
        }
    }
}

/// Every entry of the IPv4 special-purpose registry, and multicast.
const IANA_V4: &[(&str, Want, &str)] = &[
    ("0.0.0.0/8", N, "\"this network\" (RFC 791)"),
    ("0.0.0.0/32", N, "\"this host on this network\" (RFC 1122)"),
    ("10.0.0.0/8", P, "private use (RFC 1918)"),
    ("100.64.0.0/10", P, "shared address space, CGNAT (RFC 6598)"),
    ("127.0.0.0/8", N, "loopback (RFC 1122)"),
    ("169.254.0.0/16", N, "link local (RFC 3927)"),
    ("172.16.0.0/12", P, "private use (RFC 1918)"),
    ("192.0.0.0/24", N, "IETF protocol assignments (RFC 6890)"),
    (
        "192.0.0.0/29",
        N,
        "IPv4 service continuity prefix (RFC 7335)",
    ),
    ("192.0.0.8/32", N, "IPv4 dummy address (RFC 7600)"),
    ("192.0.0.9/32", N, "PCP anycast (RFC 7723)"),
    ("192.0.0.10/32", N, "TURN anycast (RFC 8155)"),
    ("192.0.0.170/32", N, "NAT64/DNS64 discovery (RFC 7050)"),
    ("192.0.0.171/32", N, "NAT64/DNS64 discovery (RFC 7050)"),
    ("192.0.2.0/24", P, "documentation, TEST-NET-1 (RFC 5737)"),
    ("192.31.196.0/24", N, "AS112-v4 (RFC 7535)"),
    ("192.52.193.0/24", N, "AMT (RFC 7450)"),
    (
        "192.88.99.0/24",
        N,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    ("192.88.99.2/32", N, "6a44 relay anycast (RFC 6751)"),
    ("192.168.0.0/16", P, "private use (RFC 1918)"),
    ("192.175.48.0/24", N, "direct delegation AS112 (RFC 7534)"),
    ("198.18.0.0/15", N, "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", P, "documentation, TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", P, "documentation, TEST-NET-3 (RFC 5737)"),
    ("240.0.0.0/4", N, "reserved (RFC 1112)"),
    ("255.255.255.255/32", N, "limited broadcast (RFC 919)"),
    ("224.0.0.0/4", N, "multicast (RFC 5771)"),
];

/// Every entry of the IPv6 special-purpose registry, multicast, and the rest outside
/// 2000::/3 that the addressing architecture names.
const IANA_V6: &[(&str, Want, &str)] = &[
    ("::1/128", N, "loopback (RFC 4291)"),
    ("::/128", N, "unspecified (RFC 4291)"),
    ("::ffff:0:0/96", N, "IPv4-mapped (RFC 4291)"),
    ("64:ff9b::/96", N, "IPv4-IPv6 translation (RFC 6052)"),
    (
        "64:ff9b:1::/48",
        N,
        "local-use IPv4-IPv6 translation (RFC 8215)",
    ),
    ("100::/64", N, "discard-only (RFC 6666)"),
    ("100:0:0:1::/64", N, "dummy IPv6 prefix (RFC 9780)"),
    ("2001::/23", N, "IETF protocol assignments (RFC 2928)"),
    ("2001::/32", N, "Teredo (RFC 4380)"),
    ("2001:1::1/128", N, "PCP anycast (RFC 7723)"),
    ("2001:1::2/128", N, "TURN anycast (RFC 8155)"),
    ("2001:1::3/128", N, "DNS-SD SRP anycast (RFC 9665)"),
    ("2001:2::/48", N, "benchmarking (RFC 5180)"),
    ("2001:3::/32", N, "AMT (RFC 7450)"),
    ("2001:4:112::/48", N, "AS112-v6 (RFC 7535)"),
    ("2001:10::/28", N, "deprecated ORCHID (RFC 4843)"),
    ("2001:20::/28", N, "ORCHIDv2 (RFC 7343)"),
    ("2001:30::/28", N, "drone remote ID entity tags (RFC 9374)"),
    ("2001:db8::/32", P, "documentation (RFC 3849)"),
    ("2620:4f:8000::/48", N, "direct delegation AS112 (RFC 7534)"),
    ("3fff::/20", P, "documentation (RFC 9637)"),
    ("5f00::/16", N, "SRv6 SIDs (RFC 9602)"),
    ("fc00::/7", P, "unique local (RFC 4193)"),
    ("fe80::/10", N, "link-local unicast (RFC 4291)"),
    ("::/96", N, "IPv4-compatible, deprecated (RFC 4291)"),
    ("fec0::/10", N, "site-local, deprecated (RFC 3879)"),
    ("ff00::/8", N, "multicast (RFC 4291)"),
    ("4000::/2", N, "unassigned, outside 2000::/3"),
    ("8000::/1", N, "unassigned, outside 2000::/3"),
];

#[test]
fn every_iana_special_purpose_range_at_both_ends() {
    for (cidr, expected, what) in IANA_V4.iter().chain(IANA_V6) {
        for addr in ends(cidr) {
            assert_eq!(want(addr), *expected, "{addr} in {cidr} ({what})");
        }
    }
}

#[test]
fn just_outside_the_ranges_is_global() {
    for a in [
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.255",
        "192.0.3.0",
        "192.88.98.255",
        "192.88.100.0",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2000::1",
        "2001:200::",
        "2001:4860:4860::8888",
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::1",
        "2606:4700:4700::1111",
        "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff",
        "2a00:1450::1",
        "3ffe::1",
        "3fff:1000::1",
        "2003::1",
    ] {
        assert_eq!(want(a.parse().unwrap()), G, "{a}");
    }
}

#[test]
fn six_to_four_follows_its_ipv4_address() {
    for (a, expected) in [
        ("2002:808:808::1", G),
        ("2002:101:101:1::5", G),
        ("2002::1", N),
        ("2002:a00:1::1", N),
        ("2002:c0a8:102::1", N),
        ("2002:6440:1::1", N),
        ("2002:cb00:7107::1", N),
        ("2002:7f00:1::1", N),
        ("2002:e000:1::1", N),
        ("2002:ffff:ffff:ffff::1", N),
    ] {
        assert_eq!(want(a.parse().unwrap()), expected, "{a}");
    }
}

#[test]
fn ranges_are_named() {
    let range = |s: &str| not_global(s.parse().unwrap()).map(|b| b.range);
    for (a, r) in [
        ("0.0.0.0", "0.0.0.0/8"),
        ("100.127.255.254", "100.64.0.0/10"),
        ("192.0.0.9", "192.0.0.0/24"),
        ("255.255.255.255", "255.255.255.255/32"),
        ("240.0.0.1", "240.0.0.0/4"),
        ("::8.8.8.8", "::/96"),
        ("::ffff:8.8.8.8", "::ffff:0:0/96"),
        ("64:ff9b::808:808", "64:ff9b::/96"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/32"),
        ("2001:5::1", "2001::/23"),
        ("2001:2::1", "2001:2::/48"),
        ("2002:a00:1::1", "2002::/16"),
        ("3fff:0fff::1", "3fff::/20"),
        ("5f00::1", "5f00::/16"),
        ("1::1", "outside 2000::/3"),
    ] {
        assert_eq!(range(a), Some(r), "{a}");
    }
}

#[test]
fn the_explanation_says_whether_allow_private_helps() {
    let say = |s: &str| not_global(s.parse().unwrap()).unwrap().explain();
    assert!(say("10.0.0.1").contains("set detect.allow_private = true"));
    assert!(say("fd00::1").contains("set detect.allow_private = true"));
    for a in ["127.0.0.1", "169.254.1.1", "::ffff:10.0.0.1", "2001::1"] {
        let s = say(a);
        assert!(s.contains("not even with detect.allow_private"), "{s}");
    }
    let cgnat = say("100.100.1.1");
    assert!(cgnat.contains("carrier-grade NAT") && !cgnat.contains("allow_private"));
    assert!(!not_global("10.0.0.1".parse().unwrap()).unwrap().is_cgnat());
}

proptest! {
    /// Whatever std considers non-global, ddflare does too, and never publishes what std
    /// calls loopback, link-local, multicast, broadcast or unspecified.
    #[test]
    fn agrees_with_std_where_std_is_sure(bits in any::<u32>()) {
        let a = Ipv4Addr::from(bits);
        if a.is_private() || a.is_documentation() {
            prop_assert!(not_global_v4(a).is_some(), "{}", a);
        }
        if a.is_loopback() || a.is_link_local() || a.is_multicast() || a.is_broadcast()
            || a.is_unspecified()
        {
            prop_assert!(refused(IpAddr::V4(a), true).is_some(), "{}", a);
        }
    }

    #[test]
    fn v6_outside_2000_is_never_global(bits in any::<u128>()) {
        let a = Ipv6Addr::from(bits);
        if bits >> 125 != 1 {
            prop_assert!(not_global_v6(a).is_some(), "{}", a);
        }
        if a.is_unique_local() {
            prop_assert!(not_global_v6(a).is_some(), "{}", a);
        }
        if a.is_loopback() || a.is_multicast() || a.is_unspecified()
            || a.is_unicast_link_local() || a.to_ipv4_mapped().is_some()
        {
            prop_assert!(refused(IpAddr::V6(a), true).is_some(), "{}", a);
        }
    }

    /// An IPv4 address hidden in IPv6 is never published, whatever it is.
    #[test]
    fn embedded_ipv4_is_never_published(v4 in any::<u32>()) {
        let v4 = Ipv4Addr::from(v4);
        for a in [v4.to_ipv6_mapped(), v4.to_ipv6_compatible(),
                  Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(u32::from(v4)))] {
            prop_assert!(refused(IpAddr::V6(a), true).is_some(), "{}", a);
        }
    }
}
