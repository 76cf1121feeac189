//! Detection filters (`detect.ipv4_accept`, `ipv4_reject`, `ipv6_accept`, `ipv6_reject`): CIDR
//! lists every provider's answer (and every pushed address) must pass, so a ULA, a VPN's or a
//! second uplink's prefix is never published. PURE.
//!
//! The rule, per family: an address inside any `reject` prefix is refused; otherwise, when the
//! `accept` list is not empty, an address outside all of its prefixes is refused; an empty
//! `accept` list accepts everything. Reject wins over accept because it is the narrower, safer
//! statement: `accept = ["2001:db8::/32"]` with `reject = ["2001:db8:ff::/48"]` carves a
//! hole in the accepted range, which the other order could never express.

use std::fmt;
use std::net::IpAddr;

use super::spec::Family;

/// A prefix: its network address (host bits zero) and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    len: u8,
}

impl Cidr {
    /// `"2001:db8:1::/48"`, `"198.51.100.0/24"`, or a bare address (one host). Host bits set
    /// below the length are refused rather than cleared: `10.1.2.3/8` is more likely a typo.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "expected a prefix such as \"2001:db8:1::/48\" or \"198.51.100.0/24\"")?;
        let bits = Family::of(addr).bits();
        let len = match len {
            None => bits,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= bits)
                .ok_or_else(|| format!("expected a prefix length from 0 to {bits}"))?,
        };
        let cidr = Cidr {
            net: mask(addr, len),
            len,
        };
        if cidr.net != addr {
            return Err(format!(
                "the address has bits set beyond /{len}: did you mean {cidr}?"
            ));
        }
        Ok(cidr)
    }

    pub fn family(&self) -> Family {
        Family::of(self.net)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        Family::of(addr) == self.family() && mask(addr, self.len) == self.net
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.len)
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// The four lists; empty by default (everything passes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub ipv4_accept: Vec<Cidr>,
    pub ipv4_reject: Vec<Cidr>,
    pub ipv6_accept: Vec<Cidr>,
    pub ipv6_reject: Vec<Cidr>,
}

/// Why a filter refused an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Inside this prefix of the family's reject list.
    Rejected(Family, Cidr),
    /// Outside every prefix of the family's accept list.
    NotAccepted(Family),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Rejected(fam, c) => write!(f, "refused by detect.{}_reject ({c})", key(*fam)),
            Refusal::NotAccepted(fam) => {
                write!(f, "outside every prefix of detect.{}_accept", key(*fam))
            }
        }
    }
}

fn key(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

impl Filters {
    /// `Ok` when `addr` may be published (see the module's rule).
    pub fn check(&self, addr: IpAddr) -> Result<(), Refusal> {
        let family = Family::of(addr);
        let (accept, reject) = match family {
            Family::V4 => (&self.ipv4_accept, &self.ipv4_reject),
            Family::V6 => (&self.ipv6_accept, &self.ipv6_reject),
        };
        if let Some(c) = reject.iter().find(|c| c.contains(addr)) {
            return Err(Refusal::Rejected(family, *c));
        }
        if !accept.is_empty() && !accept.iter().any(|c| c.contains(addr)) {
            return Err(Refusal::NotAccepted(family));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_parse_strictly() {
        assert_eq!(c("2001:db8:1::/48").to_string(), "2001:db8:1::/48");
        assert_eq!(c("198.51.100.7").to_string(), "198.51.100.7/32");
        assert_eq!(c("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(c("::/0").to_string(), "::/0");
        assert!(
            Cidr::parse("10.1.2.3/8")
                .unwrap_err()
                .contains("did you mean 10.0.0.0/8?")
        );
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(Cidr::parse("::/129").unwrap_err().contains("0 to 128"));
        for bad in ["", "/8", "10.0.0.0/", "10.0.0.0/-1", "home", "fd00::/4x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn containment_follows_the_length_and_the_family() {
        assert!(c("2001:db8:1::/48").contains(ip("2001:db8:1:ffff::1")));
        assert!(!c("2001:db8:1::/48").contains(ip("2001:db8:2::1")));
        assert!(c("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(!c("::/0").contains(ip("203.0.113.7")));
        assert!(c("203.0.113.7").contains(ip("203.0.113.7")));
        assert!(!c("203.0.113.7").contains(ip("203.0.113.8")));
        assert!(c("203.0.113.0/25").contains(ip("203.0.113.127")));
        assert!(!c("203.0.113.0/25").contains(ip("203.0.113.128")));
    }

    #[test]
    fn reject_wins_and_an_empty_accept_list_accepts_all() {
        let f = Filters {
            ipv6_accept: vec![c("2001:db8::/32")],
            ipv6_reject: vec![c("2001:db8:ff::/48")],
            ipv4_reject: vec![c("100.64.0.0/10")],
            ..Filters::default()
        };
        assert_eq!(f.check(ip("2001:db8:1::1")), Ok(()));
        let hole = f.check(ip("2001:db8:ff::1")).unwrap_err();
        assert_eq!(
            hole.to_string(),
            "refused by detect.ipv6_reject (2001:db8:ff::/48)"
        );
        let outside = f.check(ip("2a00:1::1")).unwrap_err();
        assert_eq!(outside, Refusal::NotAccepted(Family::V6));
        assert_eq!(
            outside.to_string(),
            "outside every prefix of detect.ipv6_accept"
        );
        assert_eq!(f.check(ip("203.0.113.7")), Ok(()));
        assert!(f.check(ip("100.64.1.1")).is_err());
        assert_eq!(Filters::default().check(ip("fd00::1")), Ok(()));
    }
}
