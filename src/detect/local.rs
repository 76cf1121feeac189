//! `local`: the source address the kernel would pick to reach the internet, for a host that
//! has a public address on one of its interfaces (a server, a router). A UDP socket is
//! `connect`ed to a public address (the family's first `[detect] dns_servers`): that only
//! selects a route, no packet is sent. Behind NAT this gives a private address, which the
//! bogon filter then refuses with a message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::UdpSocket;

use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family, failure};
use super::spec::Family;

#[derive(Debug)]
pub struct LocalProvider {
    /// Where a packet would go; `None` when no address of the family is configured.
    target: Option<SocketAddr>,
    family: Family,
}

impl LocalProvider {
    pub fn new(target: Option<SocketAddr>, family: Family) -> Self {
        LocalProvider { target, family }
    }
}

impl IpProvider for LocalProvider {
    fn name(&self) -> String {
        "local".to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure(self.name());
            let Some(target) = self.target else {
                return Err(failed(format!(
                    "detect.dns_servers has no {} address to route towards",
                    self.family
                )));
            };
            let unspecified = match self.family {
                Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            let socket = UdpSocket::bind(SocketAddr::new(unspecified, 0))
                .await
                .map_err(|e| failed(format!("cannot open a UDP socket: {e}")))?;
            socket
                .connect(target)
                .await
                .map_err(|e| failed(format!("no route to {target} over {}: {e}", self.family)))?;
            let local = socket
                .local_addr()
                .map_err(|e| failed(format!("cannot read the socket's address: {e}")))?;
            ensure_family(self.family, self.name(), local.ip()).map(Found::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_route_to_loopback_starts_at_loopback() {
        let p = LocalProvider::new(Some("127.0.0.1:53".parse().unwrap()), Family::V4);
        assert_eq!(p.name(), "local");
        assert_eq!(
            p.detect().await.unwrap().addr,
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        let p = LocalProvider::new(Some("[::1]:53".parse().unwrap()), Family::V6);
        assert_eq!(
            p.detect().await.unwrap().addr,
            "::1".parse::<IpAddr>().unwrap()
        );
    }

    #[tokio::test]
    async fn without_a_target_or_a_route_it_says_so() {
        let p = LocalProvider::new(None, Family::V6);
        let err = p.detect().await.unwrap_err().to_string();
        assert_eq!(
            err,
            "local: detect.dns_servers has no IPv6 address to route towards"
        );
    }
}
