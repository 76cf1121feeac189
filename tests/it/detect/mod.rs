//! Address detection with real parts: network namespaces (interfaces, netlink, NAT) and real
//! DNS servers (BIND 9, dnsdist over TLS).

mod dns_servers;
mod netns;
