//! `static:ADDR`: always answers the configured address. For hosts whose public address is
//! known but not discoverable, and for tests.

use std::net::IpAddr;

use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family};
use super::spec::Family;

#[derive(Debug, Clone)]
pub struct StaticProvider {
    addr: IpAddr,
    family: Family,
}

impl StaticProvider {
    pub fn new(addr: IpAddr, family: Family) -> Self {
        StaticProvider { addr, family }
    }
}

impl IpProvider for StaticProvider {
    fn name(&self) -> String {
        format!("static:{}", self.addr)
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        // A `static:` of the other family in this list is a config mistake; it is still
        // refused here, so it can never be published as the wrong record type.
        let answer = ensure_family(self.family, self.name(), self.addr).map(Found::from);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_its_address() {
        let p = StaticProvider::new("203.0.113.7".parse().unwrap(), Family::V4);
        assert_eq!(p.name(), "static:203.0.113.7");
        assert_eq!(
            p.detect().await.unwrap().addr,
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let p = StaticProvider::new("2001:db8::7".parse().unwrap(), Family::V6);
        assert_eq!(
            p.detect().await.unwrap().addr,
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
    }

    #[tokio::test]
    async fn refuses_the_other_family() {
        let p = StaticProvider::new("2001:db8::7".parse().unwrap(), Family::V4);
        assert!(matches!(
            p.detect().await,
            Err(DetectError::WrongFamily {
                family: Family::V4,
                ..
            })
        ));
    }
}
