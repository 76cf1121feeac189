//! Which addresses may be published. Global unicast always; a private-use address (RFC 1918,
//! CGNAT, ULA, documentation) only with `detect.allow_private` (DNS for a LAN or a lab);
//! everything else never. "Never" is what no client anywhere can use as the address of this
//! host: loopback, unspecified, broadcast, multicast, link-local (it needs the interface,
//! which DNS cannot carry), reserved, an IPv4 address dressed as IPv6 (mapped, compatible,
//! NAT64), a tunnel address that belongs to the tunnel rather than the host (Teredo, 6to4 of
//! a non-public IPv4 address), an anycast service's address, an identifier that is not
//! routed (ORCHID). The ranges are IANA's IPv4 and IPv6 special-purpose registries plus
//! multicast and what lies outside 2000::/3. Pure: the [`Detector`](super::Detector) asks
//! [`refused`] about every answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What `detect.allow_private` can do about a range. Ordered: a caller choosing among
/// addresses prefers global (`None`), then `Private`, then `Never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Private use, reachable inside a network: published with `allow_private`.
    Private,
    /// Never the address by which anyone reaches this host: never published.
    Never,
}

/// Why an address is not global unicast: the range it falls in, named for a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bogon {
    /// The range in CIDR notation, e.g. `100.64.0.0/10`.
    pub range: &'static str,
    /// What the range is, e.g. `carrier-grade NAT (RFC 6598)`.
    pub what: &'static str,
    pub kind: Kind,
}

impl Bogon {
    /// The address is in 100.64.0.0/10: the host is behind carrier-grade NAT.
    pub fn is_cgnat(&self) -> bool {
        self.range == "100.64.0.0/10"
    }

    /// Why the address is refused and what to do, for the provider's error.
    pub fn explain(&self) -> String {
        let (range, what) = (self.range, self.what);
        match self.kind {
            Kind::Private if self.is_cgnat() => format!(
                "which is in {range} ({what}): this host is behind carrier-grade NAT, so its \
                 IPv4 address is shared with other customers of the ISP and cannot be reached \
                 from outside; ask the ISP for a public IPv4 address, or use IPv6 only \
                 (ipv4 = \"none\")"
            ),
            Kind::Private => format!(
                "which is in {range} ({what}), not a public address: it is never published; set \
                 detect.allow_private = true to publish private addresses (DNS for a LAN)"
            ),
            Kind::Never => format!(
                "which is in {range} ({what}): no client can reach this host there, so it is \
                 never published, not even with detect.allow_private; the provider is wrong \
                 or looking at the wrong interface: use another one"
            ),
        }
    }
}

const fn private(range: &'static str, what: &'static str) -> Bogon {
    Bogon {
        range,
        what,
        kind: Kind::Private,
    }
}

const fn never(range: &'static str, what: &'static str) -> Bogon {
    Bogon {
        range,
        what,
        kind: Kind::Never,
    }
}

const ANYCAST: &str = "an anycast service's address, never one host's";

/// IPv4 ranges that are not global unicast, most specific first where they nest.
const V4: &[(u32, u8, Bogon)] = &[
    (0x0000_0000, 8, never("0.0.0.0/8", "\"this network\"")),
    (0x0a00_0000, 8, private("10.0.0.0/8", "private (RFC 1918)")),
    (
        0x6440_0000,
        10,
        private("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ),
    (0x7f00_0000, 8, never("127.0.0.0/8", "loopback")),
    (0xa9fe_0000, 16, never("169.254.0.0/16", "link-local")),
    (
        0xac10_0000,
        12,
        private("172.16.0.0/12", "private (RFC 1918)"),
    ),
    (
        0xc000_0000,
        24,
        never("192.0.0.0/24", "IETF protocol assignments"),
    ),
    (0xc000_0200, 24, private("192.0.2.0/24", "documentation")),
    (0xc01f_c400, 24, never("192.31.196.0/24", ANYCAST)),
    (0xc034_c100, 24, never("192.52.193.0/24", ANYCAST)),
    (
        0xc058_6300,
        24,
        never("192.88.99.0/24", "6to4 relay anycast"),
    ),
    (
        0xc0a8_0000,
        16,
        private("192.168.0.0/16", "private (RFC 1918)"),
    ),
    (0xc0af_3000, 24, never("192.175.48.0/24", ANYCAST)),
    (0xc612_0000, 15, never("198.18.0.0/15", "benchmarking")),
    (0xc633_6400, 24, private("198.51.100.0/24", "documentation")),
    (0xcb00_7100, 24, private("203.0.113.0/24", "documentation")),
    (0xe000_0000, 4, never("224.0.0.0/4", "multicast")),
    (
        0xffff_ffff,
        32,
        never("255.255.255.255/32", "limited broadcast"),
    ),
    (0xf000_0000, 4, never("240.0.0.0/4", "reserved")),
];

/// IPv6 ranges inside global unicast (2000::/3) that are still not global, most specific
/// first. 2002::/16 (6to4) is decided by its embedded IPv4 address, in [`not_global_v6`].
const V6_IN_2000: &[(u128, u8, Bogon)] = &[
    (
        0x2001_0000_u128 << 96,
        32,
        never("2001::/32", "Teredo: the tunnel's address, not the host's"),
    ),
    (0x2001_0001_u128 << 96, 32, never("2001:1::/32", ANYCAST)),
    (
        0x2001_0002_0000_u128 << 80,
        48,
        never("2001:2::/48", "benchmarking"),
    ),
    (0x2001_0003_u128 << 96, 32, never("2001:3::/32", ANYCAST)),
    (
        0x2001_0004_0112_u128 << 80,
        48,
        never("2001:4:112::/48", ANYCAST),
    ),
    (
        0x2001_0010_u128 << 96,
        28,
        never("2001:10::/28", "ORCHID, an identifier that is not routed"),
    ),
    (
        0x2001_0020_u128 << 96,
        28,
        never("2001:20::/28", "ORCHIDv2, an identifier that is not routed"),
    ),
    (
        0x2001_0030_u128 << 96,
        28,
        never(
            "2001:30::/28",
            "drone entity tags, identifiers that are not routed",
        ),
    ),
    (
        0x2001_u128 << 112,
        23,
        never("2001::/23", "IETF protocol assignments"),
    ),
    (
        0x2001_0db8_u128 << 96,
        32,
        private("2001:db8::/32", "documentation"),
    ),
    (
        0x2620_004f_8000_u128 << 80,
        48,
        never("2620:4f:8000::/48", ANYCAST),
    ),
    (
        0x3fff_u128 << 112,
        20,
        private("3fff::/20", "documentation"),
    ),
];

/// IPv6 ranges outside 2000::/3, named when well known.
const V6_OUTSIDE: &[(u128, u8, Bogon)] = &[
    (0, 128, never("::/128", "unspecified")),
    (1, 128, never("::1/128", "loopback")),
    (
        0xffff_u128 << 32,
        96,
        never("::ffff:0:0/96", "IPv4-mapped IPv6"),
    ),
    (0, 96, never("::/96", "IPv4-compatible IPv6 (deprecated)")),
    (
        0x0064_ff9b_u128 << 96,
        96,
        never("64:ff9b::/96", "NAT64 (an IPv4 address in disguise)"),
    ),
    (
        0x0064_ff9b_0001_u128 << 80,
        48,
        never("64:ff9b:1::/48", "local-use NAT64"),
    ),
    (0x0100_u128 << 112, 64, never("100::/64", "discard-only")),
    (
        0x0100_0000_0000_0001_u128 << 64,
        64,
        never("100:0:0:1::/64", "dummy prefix"),
    ),
    (
        0x5f00_u128 << 112,
        16,
        never("5f00::/16", "segment routing (SRv6) SIDs"),
    ),
    (
        0xfc_u128 << 120,
        7,
        private("fc00::/7", "unique local (ULA)"),
    ),
    (0xfe80_u128 << 112, 10, never("fe80::/10", "link-local")),
    (
        0xfec0_u128 << 112,
        10,
        never("fec0::/10", "site-local (deprecated)"),
    ),
    (0xff_u128 << 120, 8, never("ff00::/8", "multicast")),
];

const NOT_2000: Bogon = never("outside 2000::/3", "not global unicast");

const SIX_TO_FOUR: Bogon = never(
    "2002::/16",
    "6to4 of an IPv4 address that is not public, unreachable",
);

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
    if in_v6(a, 0x2002_u128 << 112, 16) {
        // 6to4 (RFC 3056) carries the IPv4 address of its site in bits 16..48: reachable
        // through the relays when that address is public, by nobody otherwise.
        let [_, _, a1, a2, a3, a4, ..] = addr.octets();
        return not_global_v4(Ipv4Addr::new(a1, a2, a3, a4)).map(|_| SIX_TO_FOUR);
    }
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

/// `None` when `addr` is global unicast; else the range it is in.
pub fn not_global(addr: IpAddr) -> Option<Bogon> {
    match addr {
        IpAddr::V4(a) => not_global_v4(a),
        IpAddr::V6(a) => not_global_v6(a),
    }
}

/// `None` when `addr` may be published under `allow_private`; else why not.
pub fn refused(addr: IpAddr, allow_private: bool) -> Option<Bogon> {
    not_global(addr).filter(|b| !allow_private || b.kind == Kind::Never)
}

#[cfg(test)]
mod tests;
