//! Which addresses may be published: global unicast only. Everything else (loopback,
//! private, CGNAT, link-local, ULA, multicast, documentation, IPv4-mapped, …) is a "bogon":
//! a provider that answers one is wrong or is looking at the wrong side of a NAT, and a
//! record pointing there would be unreachable. Pure: the [`Detector`](super::Detector) asks
//! [`not_global`] about every answer unless `detect.allow_private` is set.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not global unicast: the range it falls in, named for a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bogon {
    /// The range in CIDR notation, e.g. `100.64.0.0/10`.
    pub range: &'static str,
    /// What the range is, e.g. `carrier-grade NAT (RFC 6598)`.
    pub what: &'static str,
}

impl Bogon {
    /// The address is in 100.64.0.0/10: the host is behind carrier-grade NAT.
    pub fn is_cgnat(&self) -> bool {
        self.range == "100.64.0.0/10"
    }
}

const fn b(range: &'static str, what: &'static str) -> Bogon {
    Bogon { range, what }
}

/// IPv4 ranges that are not global unicast (IANA special-purpose registry), most specific
/// first where they nest.
const V4: &[(u32, u8, Bogon)] = &[
    (0x0000_0000, 8, b("0.0.0.0/8", "\"this network\"")),
    (0x0a00_0000, 8, b("10.0.0.0/8", "private (RFC 1918)")),
    (
        0x6440_0000,
        10,
        b("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ),
    (0x7f00_0000, 8, b("127.0.0.0/8", "loopback")),
    (0xa9fe_0000, 16, b("169.254.0.0/16", "link-local")),
    (0xac10_0000, 12, b("172.16.0.0/12", "private (RFC 1918)")),
    (
        0xc000_0000,
        24,
        b("192.0.0.0/24", "IETF protocol assignments"),
    ),
    (0xc000_0200, 24, b("192.0.2.0/24", "documentation")),
    (0xc058_6300, 24, b("192.88.99.0/24", "6to4 relay anycast")),
    (0xc0a8_0000, 16, b("192.168.0.0/16", "private (RFC 1918)")),
    (0xc612_0000, 15, b("198.18.0.0/15", "benchmarking")),
    (0xc633_6400, 24, b("198.51.100.0/24", "documentation")),
    (0xcb00_7100, 24, b("203.0.113.0/24", "documentation")),
    (0xe000_0000, 4, b("224.0.0.0/4", "multicast")),
    (
        0xffff_ffff,
        32,
        b("255.255.255.255/32", "limited broadcast"),
    ),
    (0xf000_0000, 4, b("240.0.0.0/4", "reserved")),
];

/// IPv6 ranges inside global unicast (2000::/3) that are still not global.
const V6_IN_2000: &[(u128, u8, Bogon)] = &[
    (
        0x2001_0002_0000_u128 << 80,
        48,
        b("2001:2::/48", "benchmarking"),
    ),
    (0x2001_0010_u128 << 96, 28, b("2001:10::/28", "ORCHID")),
    (0x2001_0020_u128 << 96, 28, b("2001:20::/28", "ORCHIDv2")),
    (
        0x2001_0db8_u128 << 96,
        32,
        b("2001:db8::/32", "documentation"),
    ),
    (0x3fff_u128 << 112, 20, b("3fff::/20", "documentation")),
];

/// IPv6 ranges outside 2000::/3, named when well known.
const V6_OUTSIDE: &[(u128, u8, Bogon)] = &[
    (0, 128, b("::/128", "unspecified")),
    (1, 128, b("::1/128", "loopback")),
    (
        0xffff_u128 << 32,
        96,
        b("::ffff:0:0/96", "IPv4-mapped IPv6"),
    ),
    (0, 96, b("::/96", "IPv4-compatible IPv6 (deprecated)")),
    (
        0x0064_ff9b_u128 << 96,
        96,
        b("64:ff9b::/96", "NAT64 (an IPv4 address in disguise)"),
    ),
    (
        0x0064_ff9b_0001_u128 << 80,
        48,
        b("64:ff9b:1::/48", "local-use NAT64"),
    ),
    (0x0100_u128 << 112, 64, b("100::/64", "discard-only")),
    (0xfc_u128 << 120, 7, b("fc00::/7", "unique local (ULA)")),
    (0xfe80_u128 << 112, 10, b("fe80::/10", "link-local")),
    (
        0xfec0_u128 << 112,
        10,
        b("fec0::/10", "site-local (deprecated)"),
    ),
    (0xff_u128 << 120, 8, b("ff00::/8", "multicast")),
];

const NOT_2000: Bogon = b("outside 2000::/3", "not global unicast");

fn in_v4(addr: u32, net: u32, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    addr & mask == net & mask
}

fn in_v6(addr: u128, net: u128, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    addr & mask == net & mask
}

pub fn not_global_v4(addr: Ipv4Addr) -> Option<Bogon> {
    let a = u32::from(addr);
    V4.iter()
        .find(|(net, len, _)| in_v4(a, *net, *len))
        .map(|(_, _, bogon)| *bogon)
}

pub fn not_global_v6(addr: Ipv6Addr) -> Option<Bogon> {
    let a = u128::from(addr);
    if in_v6(a, 0x2_u128 << 124, 3) {
        return V6_IN_2000
            .iter()
            .find(|(net, len, _)| in_v6(a, *net, *len))
            .map(|(_, _, bogon)| *bogon);
    }
    Some(
        V6_OUTSIDE
            .iter()
            .find(|(net, len, _)| in_v6(a, *net, *len))
            .map_or(NOT_2000, |(_, _, bogon)| *bogon),
    )
}

/// `None` when `addr` is global unicast and may be published; else the range it is in.
pub fn not_global(addr: IpAddr) -> Option<Bogon> {
    match addr {
        IpAddr::V4(a) => not_global_v4(a),
        IpAddr::V6(a) => not_global_v6(a),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn range_of(s: &str) -> Option<&'static str> {
        not_global(s.parse().unwrap()).map(|b| b.range)
    }

    #[test]
    fn every_listed_v4_range_is_rejected_at_both_ends() {
        for (net, len, bogon) in V4 {
            let first = Ipv4Addr::from(*net);
            let last = Ipv4Addr::from(net | (u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0)));
            for a in [first, last] {
                assert!(not_global_v4(a).is_some(), "{a} in {}", bogon.range);
            }
        }
    }

    #[test]
    fn v4_cases() {
        for (a, range) in [
            ("0.0.0.0", "0.0.0.0/8"),
            ("10.1.2.3", "10.0.0.0/8"),
            ("100.64.0.1", "100.64.0.0/10"),
            ("100.127.255.254", "100.64.0.0/10"),
            ("127.0.0.1", "127.0.0.0/8"),
            ("169.254.1.1", "169.254.0.0/16"),
            ("172.16.0.1", "172.16.0.0/12"),
            ("172.31.255.255", "172.16.0.0/12"),
            ("192.0.0.8", "192.0.0.0/24"),
            ("192.0.2.1", "192.0.2.0/24"),
            ("192.168.1.1", "192.168.0.0/16"),
            ("198.18.0.1", "198.18.0.0/15"),
            ("198.19.255.255", "198.18.0.0/15"),
            ("198.51.100.7", "198.51.100.0/24"),
            ("203.0.113.7", "203.0.113.0/24"),
            ("224.0.0.1", "224.0.0.0/4"),
            ("239.255.255.250", "224.0.0.0/4"),
            ("240.0.0.1", "240.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255/32"),
        ] {
            assert_eq!(range_of(a), Some(range), "{a}");
        }
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "9.255.255.255",
            "11.0.0.0",
        ] {
            assert_eq!(range_of(a), None, "{a}");
        }
    }

    #[test]
    fn v6_cases() {
        for (a, range) in [
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("::ffff:203.0.113.7", "::ffff:0:0/96"),
            ("::ffff:8.8.8.8", "::ffff:0:0/96"),
            ("::8.8.8.8", "::/96"),
            ("64:ff9b::808:808", "64:ff9b::/96"),
            ("100::1", "100::/64"),
            ("fc00::1", "fc00::/7"),
            ("fd12:3456:789a::1", "fc00::/7"),
            ("fe80::1", "fe80::/10"),
            ("febf::1", "fe80::/10"),
            ("fec0::1", "fec0::/10"),
            ("ff02::1", "ff00::/8"),
            ("2001:db8::7", "2001:db8::/32"),
            ("2001:2::1", "2001:2::/48"),
            ("2001:10::1", "2001:10::/28"),
            ("3fff::1", "3fff::/20"),
            ("4000::1", "outside 2000::/3"),
            ("1::1", "outside 2000::/3"),
        ] {
            assert_eq!(range_of(a), Some(range), "{a}");
        }
        for a in [
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2a00:1450::1",
            "2001:db9::1",
            "2001:3::1",
            "3ffe::1",
            "3fff:1000::1",
            "2000::1",
        ] {
            assert_eq!(range_of(a), None, "{a}");
        }
        assert_eq!(range_of("3fff:0fff::1"), Some("3fff::/20"));
    }

    #[test]
    fn cgnat_is_named() {
        let b = not_global("100.100.1.1".parse().unwrap()).unwrap();
        assert!(b.is_cgnat());
        assert!(!not_global("10.0.0.1".parse().unwrap()).unwrap().is_cgnat());
    }

    proptest! {
        /// Whatever std considers non-global, ddflare does too.
        #[test]
        fn agrees_with_std_where_std_is_sure(bits in any::<u32>()) {
            let a = Ipv4Addr::from(bits);
            if a.is_private() || a.is_loopback() || a.is_link_local() || a.is_multicast()
                || a.is_broadcast() || a.is_documentation() || a.is_unspecified()
            {
                prop_assert!(not_global_v4(a).is_some(), "{}", a);
            }
        }

        #[test]
        fn v6_outside_2000_is_never_global(bits in any::<u128>()) {
            let a = Ipv6Addr::from(bits);
            if bits >> 125 != 1 {
                prop_assert!(not_global_v6(a).is_some(), "{}", a);
            }
            if a.is_loopback() || a.is_multicast() || a.is_unspecified()
                || a.is_unicast_link_local() || a.is_unique_local()
                || a.to_ipv4_mapped().is_some()
            {
                prop_assert!(not_global_v6(a).is_some(), "{}", a);
            }
        }
    }
}
