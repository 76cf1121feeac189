//! Address detection with real parts: network namespaces (interfaces, netlink, NAT) and real
//! DNS servers (BIND 9, dnsdist over TLS), and garbage from echo services.

mod dns_servers;
mod garbage;
pub(crate) mod netns;
