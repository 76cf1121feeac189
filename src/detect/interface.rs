//! `interface:NAME`: an address configured on a local interface, read over netlink, with
//! its prefix length (for IPv6 prefix mode). For IPv6, temporary (privacy), deprecated,
//! tentative and DAD-failed addresses are skipped, and link-local never qualifies: publishing
//! a privacy address that expires in a day is the classic mistake. Among what is left a stable,
//! global, long-lived one is preferred. Choosing is pure ([`pick`]); reading is thin.

use std::cmp::Reverse;
use std::net::IpAddr;

use super::bogon;
use super::netlink::{self, AddrFlags, IfAddr};
use super::provider::{BoxFuture, DetectError, Found, IpProvider, failure};
use super::spec::Family;

#[derive(Debug)]
pub struct InterfaceProvider {
    name: String,
    family: Family,
    /// Its netlink socket, kept between rounds.
    reader: std::sync::Mutex<netlink::Reader>,
}

impl InterfaceProvider {
    pub fn new(name: &str, family: Family) -> Self {
        InterfaceProvider {
            name: name.to_owned(),
            family,
            reader: std::sync::Mutex::default(),
        }
    }
}

impl IpProvider for InterfaceProvider {
    fn name(&self) -> String {
        format!("interface:{}", self.name)
    }

    fn interface(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure(self.name());
            // On this thread: the read never waits (see `netlink`).
            let read = self
                .reader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .interface_addresses(&self.name)
                .map_err(|e| failed(format!("cannot read the interface over netlink: {e}")))?;
            let Some(addrs) = read else {
                return Err(failed(format!(
                    "there is no interface named `{}` (`ip link` lists them)",
                    self.name
                )));
            };
            let chosen = pick(&addrs, self.family).map_err(&failed)?;
            Ok(Found {
                addr: chosen.addr,
                prefix_len: Some(chosen.prefix_len),
            })
        })
    }
}

/// Why an address on the interface cannot be used at all, if it cannot.
fn unusable(a: &IfAddr) -> Option<&'static str> {
    let f = a.flags;
    match a.addr {
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("link-local"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local"),
        _ if f.contains(AddrFlags::DADFAILED) => Some("duplicate (DAD failed)"),
        _ if f.contains(AddrFlags::TENTATIVE) => Some("tentative (DAD not done yet)"),
        _ if f.contains(AddrFlags::DEPRECATED) || a.preferred == Some(0) => Some("deprecated"),
        // IFA_F_TEMPORARY is IFA_F_SECONDARY's bit; on IPv6 it marks a privacy address.
        IpAddr::V6(_) if f.contains(AddrFlags::SECONDARY) => Some("temporary (privacy)"),
        _ => None,
    }
}

/// The best address of `family` among an interface's addresses: global before private,
/// primary before secondary (IPv4), not optimistic, then static (permanent) before learned,
/// then the longest preferred lifetime, then the lowest address (so the choice is stable).
/// The error lists what was skipped and why.
pub fn pick(addrs: &[IfAddr], family: Family) -> Result<IfAddr, String> {
    let of_family: Vec<&IfAddr> = addrs.iter().filter(|a| family.matches(&a.addr)).collect();
    let best = of_family
        .iter()
        .filter(|a| unusable(a).is_none())
        .min_by_key(|a| {
            (
                bogon::not_global(a.addr).map(|b| b.kind),
                a.flags.contains(AddrFlags::SECONDARY),
                a.flags.contains(AddrFlags::OPTIMISTIC),
                !a.flags.contains(AddrFlags::PERMANENT),
                Reverse(a.preferred.map_or(u64::MAX, u64::from)),
                a.addr,
            )
        });
    if let Some(best) = best {
        return Ok((*best).clone());
    }
    if of_family.is_empty() {
        return Err(format!("the interface has no {family} address"));
    }
    let skipped: Vec<String> = of_family
        .iter()
        .map(|a| format!("{} {}", a.addr, unusable(a).unwrap_or("unusable")))
        .collect();
    Err(format!(
        "the interface has no usable {family} address (skipped: {})",
        skipped.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(addr: &str, len: u8, flags: AddrFlags, preferred: Option<u32>) -> IfAddr {
        IfAddr {
            addr: addr.parse().unwrap(),
            prefix_len: len,
            flags,
            preferred,
        }
    }

    fn perm(addr: &str, len: u8) -> IfAddr {
        a(addr, len, AddrFlags::PERMANENT, None)
    }

    #[test]
    fn skips_privacy_deprecated_tentative_and_link_local() {
        let addrs = vec![
            a("fe80::1", 64, AddrFlags::PERMANENT, None),
            a("2001:db8:1::aaaa", 64, AddrFlags::SECONDARY, Some(86_000)),
            a("2001:db8:1::bbbb", 64, AddrFlags::TENTATIVE, None),
            a("2001:db8:1::cccc", 64, AddrFlags::DEPRECATED, Some(0)),
            a("2001:db8:1::dddd", 64, AddrFlags::empty(), Some(0)),
            a("2001:db8:1::eeee", 64, AddrFlags::DADFAILED, None),
            a("2001:db8:1::5", 64, AddrFlags::MANAGETEMPADDR, Some(14_000)),
        ];
        let got = pick(&addrs, Family::V6).unwrap();
        assert_eq!(got.addr, "2001:db8:1::5".parse::<IpAddr>().unwrap());
        assert_eq!(got.prefix_len, 64);

        let err = pick(&addrs[..6], Family::V6).unwrap_err();
        assert!(err.contains("fe80::1 link-local"), "{err}");
        assert!(
            err.contains("2001:db8:1::aaaa temporary (privacy)"),
            "{err}"
        );
        assert!(err.contains("2001:db8:1::bbbb tentative"), "{err}");
        assert!(err.contains("2001:db8:1::cccc deprecated"), "{err}");
        assert!(err.contains("2001:db8:1::dddd deprecated"), "{err}");
        assert!(err.contains("2001:db8:1::eeee duplicate"), "{err}");
    }

    // The ranking tests need global addresses (documentation ones count as private): these
    // are data only, nothing is contacted.
    #[test]
    fn prefers_global_then_static_then_long_lived() {
        let ula = perm("fd00::1", 64);
        let slaac_short = a("2a00:1:2::1", 64, AddrFlags::empty(), Some(600));
        let slaac_long = a("2a00:1:2::2", 64, AddrFlags::empty(), Some(6000));
        let fixed = perm("2a00:1:2::3", 56);
        let pick6 = |v: &[&IfAddr]| {
            let owned: Vec<IfAddr> = v.iter().map(|a| (*a).clone()).collect();
            pick(&owned, Family::V6).unwrap().addr.to_string()
        };
        assert_eq!(pick6(&[&ula, &slaac_short]), "2a00:1:2::1");
        assert_eq!(pick6(&[&slaac_short, &slaac_long]), "2a00:1:2::2");
        assert_eq!(pick6(&[&slaac_long, &fixed, &ula]), "2a00:1:2::3");
        // Only a ULA: it is returned, and the bogon filter decides (allow_private).
        assert_eq!(pick6(&[&ula]), "fd00::1");
        // Order does not matter; ties go to the lowest address.
        assert_eq!(
            pick6(&[&perm("2a00:1:2::9", 64), &perm("2a00:1:2::4", 64)]),
            "2a00:1:2::4"
        );
    }

    #[test]
    fn ipv4_prefers_global_primary() {
        let addrs = vec![
            perm("192.168.1.2", 24),
            perm("169.254.3.4", 16),
            a(
                "81.2.3.9",
                24,
                AddrFlags::PERMANENT | AddrFlags::SECONDARY,
                None,
            ),
            perm("81.2.3.8", 24),
            perm("2001:db8::1", 64),
        ];
        let got = pick(&addrs, Family::V4).unwrap();
        assert_eq!(got.addr.to_string(), "81.2.3.8");
        assert_eq!(got.prefix_len, 24);
        assert_eq!(
            pick(&addrs[..2], Family::V4).unwrap().addr.to_string(),
            "192.168.1.2"
        );
        assert_eq!(
            pick(&addrs[1..2], Family::V4).unwrap_err(),
            "the interface has no usable IPv4 address (skipped: 169.254.3.4 link-local)"
        );
        assert_eq!(
            pick(&addrs[4..], Family::V4).unwrap_err(),
            "the interface has no IPv4 address"
        );
    }

    #[tokio::test]
    async fn a_missing_interface_is_named() {
        let p = InterfaceProvider::new("nosuchif0", Family::V4);
        let err = p.detect().await.unwrap_err().to_string();
        assert_eq!(
            err,
            "interface:nosuchif0: there is no interface named `nosuchif0` (`ip link` lists them)"
        );
    }

    #[tokio::test]
    async fn loopback_reads_but_is_not_global() {
        let p = InterfaceProvider::new("lo", Family::V4);
        // `lo` is up on any test machine; in a fresh namespace it may be down, then it has no
        // address at all.
        match p.detect().await {
            Ok(found) => {
                assert!(found.addr.is_loopback());
                assert_eq!(found.prefix_len, Some(8));
            }
            Err(e) => assert!(e.to_string().contains("no IPv4 address"), "{e}"),
        }
    }
}
