//! Address detection with real parts: network namespaces (interfaces, netlink, NAT), real
//! DNS servers (BIND 9, dnsdist over TLS), a real router (miniupnpd: UPnP IGD, NAT-PMP, PCP),
//! and garbage from echo services.

mod dns_servers;
mod garbage;
pub(crate) mod netns;
mod router;
