//! IPv6 prefix mode: a record's `ipv6_host` (`"::1234"` or `"mac(00:11:22:33:44:55)"`) is
//! joined to the prefix of the detected address, so a router can keep the AAAA records of the
//! hosts behind it right when the ISP hands out a new prefix. Pure arithmetic on `u128`.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// The host part of an address in prefix mode: its bits below the prefix length are used,
/// the bits above (inside the prefix) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Host {
    bits: u128,
    /// The spelling the user wrote, for messages and `Display`.
    mac: Option<[u8; 6]>,
}

impl Ipv6Host {
    /// A host part written as an address, e.g. `::1234`.
    pub fn from_addr(addr: Ipv6Addr) -> Self {
        Ipv6Host {
            bits: u128::from(addr),
            mac: None,
        }
    }

    /// The modified EUI-64 interface identifier of a MAC address (RFC 4291 appendix A):
    /// `ff:fe` in the middle, the universal/local bit flipped.
    pub fn from_mac(mac: [u8; 6]) -> Self {
        let eui = [
            mac[0] ^ 0x02,
            mac[1],
            mac[2],
            0xff,
            0xfe,
            mac[3],
            mac[4],
            mac[5],
        ];
        Ipv6Host {
            bits: u128::from(u64::from_be_bytes(eui)),
            mac: Some(mac),
        }
    }

    /// The host bits as an address (`::211:22ff:fe33:4455` for a MAC).
    pub fn as_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.bits)
    }

    /// `prefix`'s first `prefix_len` bits followed by this host's remaining bits. A length
    /// above 128 counts as 128.
    pub fn apply(&self, prefix: Ipv6Addr, prefix_len: u8) -> Ipv6Addr {
        let mask = prefix_mask(prefix_len);
        Ipv6Addr::from((u128::from(prefix) & mask) | (self.bits & !mask))
    }
}

/// The netmask of a prefix length, as bits.
pub fn prefix_mask(prefix_len: u8) -> u128 {
    match prefix_len {
        0 => 0,
        n if n >= 128 => u128::MAX,
        n => u128::MAX << (128 - u32::from(n)),
    }
}

impl FromStr for Ipv6Host {
    type Err = String;

    /// The error is the "expected …" part of a config message.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let expected = "an IPv6 host part such as \"::1234\" or \"mac(00:11:22:33:44:55)\"";
        if let Some(inner) = t
            .strip_prefix("mac(")
            .or_else(|| t.strip_prefix("MAC("))
            .and_then(|r| r.strip_suffix(')'))
        {
            return parse_mac(inner).map(Ipv6Host::from_mac).ok_or_else(|| {
                format!("{expected}, not `{t}`: the MAC address is not six hex bytes")
            });
        }
        match t.parse::<Ipv6Addr>() {
            Ok(a) => Ok(Ipv6Host::from_addr(a)),
            Err(_) => Err(format!("{expected}, not `{t}`")),
        }
    }
}

impl fmt::Display for Ipv6Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mac {
            Some(m) => write!(
                f,
                "mac({:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x})",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            None => write!(f, "{}", self.as_addr()),
        }
    }
}

/// `00:11:22:33:44:55` or `00-11-22-33-44-55`, any case.
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let sep = if s.contains('-') { '-' } else { ':' };
    let parts: Vec<&str> = s.trim().split(sep).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (slot, part) in out.iter_mut().zip(parts) {
        if part.len() != 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn joins_prefix_and_host() {
        let host: Ipv6Host = "::1234".parse().unwrap();
        assert_eq!(
            host.apply(v6("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 64),
            v6("2001:db8:1:2::1234")
        );
        assert_eq!(
            host.apply(v6("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 56),
            v6("2001:db8:1::1234")
        );
        // Host bits inside the prefix are ignored.
        let wide: Ipv6Host = "::ffff:0:0:0:1234".parse().unwrap();
        assert_eq!(
            wide.apply(v6("2001:db8:1:2::"), 64),
            v6("2001:db8:1:2::1234")
        );
        assert_eq!(
            wide.apply(v6("2001:db8:1:2::"), 48),
            v6("2001:db8:1:ffff::1234")
        );
    }

    #[test]
    fn mac_gives_modified_eui64() {
        // RFC 4291 appendix A's example shape: 00:11:22:33:44:55 -> 0211:22ff:fe33:4455.
        let host: Ipv6Host = "mac(00:11:22:33:44:55)".parse().unwrap();
        assert_eq!(host.as_addr(), v6("::211:22ff:fe33:4455"));
        assert_eq!(
            host.apply(v6("2001:db8:5::9"), 64),
            v6("2001:db8:5:0:211:22ff:fe33:4455")
        );
        // A locally administered MAC loses the bit.
        let local: Ipv6Host = "mac(02-AB-CD-EF-01-23)".parse().unwrap();
        assert_eq!(local.as_addr(), v6("::ab:cdff:feef:123"));
        assert_eq!(local.to_string(), "mac(02:ab:cd:ef:01:23)");
        assert_eq!(host.to_string(), "mac(00:11:22:33:44:55)");
        assert_eq!("::1234".parse::<Ipv6Host>().unwrap().to_string(), "::1234");
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "1234",
            "mac()",
            "mac(00:11:22:33:44)",
            "mac(00:11:22:33:44:55:66)",
            "mac(0:11:22:33:44:55)",
            "mac(zz:11:22:33:44:55)",
            "mac(00:11:22:33:44:55",
            "203.0.113.7",
            "::1234/64",
        ] {
            assert!(s.parse::<Ipv6Host>().is_err(), "{s}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(128), u128::MAX);
        assert_eq!(prefix_mask(200), u128::MAX);
        assert_eq!(prefix_mask(64), u128::MAX << 64);
        assert_eq!(prefix_mask(1), 1 << 127);
    }

    proptest! {
        #[test]
        fn prefix_and_host_bits_come_from_their_sides(p in any::<u128>(), h in any::<u128>(), len in 0u8..=128) {
            let host = Ipv6Host::from_addr(Ipv6Addr::from(h));
            let got = u128::from(host.apply(Ipv6Addr::from(p), len));
            let mask = prefix_mask(len);
            prop_assert_eq!(got & mask, p & mask);
            prop_assert_eq!(got & !mask, h & !mask);
            // Applying again changes nothing; the result keeps the prefix.
            prop_assert_eq!(u128::from(host.apply(Ipv6Addr::from(got), len)), got);
            // The mask is a prefix: ones then zeros, `len` ones.
            prop_assert_eq!(mask.count_ones(), u32::from(len));
            prop_assert_eq!(mask.leading_ones(), u32::from(len));
        }

        #[test]
        fn mac_round_trips_through_display(m in any::<[u8; 6]>()) {
            let host = Ipv6Host::from_mac(m);
            let again: Ipv6Host = host.to_string().parse().unwrap();
            prop_assert_eq!(again, host);
            let bits = u128::from(host.as_addr());
            prop_assert_eq!(bits >> 64, 0);
            prop_assert_eq!((bits >> 24) & 0xffff, 0xfffe);
        }
    }
}
