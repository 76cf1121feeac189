//! `cloudflare.doh`: the `whoami.cloudflare.` TXT CH question of `cloudflare.dns`, sent as
//! DNS over HTTPS (RFC 8484: a POST of the wire-format message, `application/dns-message`)
//! to `[detect] doh_url` over a connection forced to the family. For networks that block or
//! hijack port 53.

use std::time::Duration;

use reqwest::Url;

use super::dns::{Whoami, parse_whoami, whoami_query};
use super::fetch::{Fetcher, parse_url};
use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family, failure_asking};
use super::spec::Family;
use crate::http::{HttpSetupError, Tls};

/// RFC 8484's media type.
pub const DNS_MESSAGE: &str = "application/dns-message";

/// The largest answer accepted; a whoami answer is about 80 bytes.
pub const MAX_BODY: usize = 4096;

const NAME: &str = "cloudflare.doh";

#[derive(Debug)]
pub struct DohProvider {
    url: Url,
    fetcher: Fetcher,
}

impl DohProvider {
    pub fn new(
        doh_url: &str,
        family: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        Ok(DohProvider {
            url: parse_url(NAME, doh_url)?,
            fetcher: Fetcher::new(tls, family, timeout)?,
        })
    }
}

impl IpProvider for DohProvider {
    fn name(&self) -> String {
        NAME.to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure_asking(NAME, &self.url);
            // Id 0, as RFC 8484 §4.1 asks, so caches can share answers.
            let query = whoami_query(0).map_err(&failed)?;
            let body = self
                .fetcher
                .post(&self.url, DNS_MESSAGE, query, MAX_BODY)
                .await
                .map_err(|e| e.into_detect(self.name(), self.fetcher.timeout()))?;
            match parse_whoami(&body, 0).map_err(&failed)? {
                Whoami::Addr(addr) => {
                    ensure_family(self.fetcher.family(), self.name(), addr).map(Found::from)
                }
                Whoami::Truncated => Err(failed(
                    "answered a truncated message, which DoH never needs".to_owned(),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::detect::dns::tests::answer;
    use crate::detect::test_server::{Reply, TestServer};

    fn provider(server: &TestServer, family: Family) -> DohProvider {
        let tls = Tls::new(None).unwrap();
        DohProvider::new(
            &server.url("/dns-query"),
            family,
            &tls,
            Duration::from_secs(5),
        )
        .unwrap()
    }

    /// A DoH endpoint that answers the POSTed query with the peer's address.
    fn echo(req: &crate::detect::test_server::Request) -> Reply {
        let ok = req.header("content-type") == Some(DNS_MESSAGE)
            && req.header("accept") == Some(DNS_MESSAGE)
            && req.method == "POST";
        if !ok {
            return Reply::text(415, "unsupported media type");
        }
        assert_eq!(req.body, whoami_query(0).unwrap());
        Reply::bytes(
            200,
            DNS_MESSAGE,
            answer(&req.body, &[&req.peer.ip().to_string()], false),
        )
    }

    #[tokio::test]
    async fn posts_a_dns_message_and_reads_the_answer() {
        let server = TestServer::v4(echo).await;
        let p = provider(&server, Family::V4);
        assert_eq!(p.name(), "cloudflare.doh");
        assert_eq!(
            p.detect().await.unwrap().addr,
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        let server = TestServer::v6(echo).await;
        let p = provider(&server, Family::V6);
        assert_eq!(
            p.detect().await.unwrap().addr,
            "::1".parse::<IpAddr>().unwrap()
        );
    }

    #[tokio::test]
    async fn refuses_an_html_page_and_errors() {
        let server = TestServer::v4(|_| Reply::text(200, "<html>captive portal</html>")).await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(err.to_string().contains("not a DNS message"), "{err}");
        let server = TestServer::v4(|_| Reply::text(415, "")).await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(err.to_string().contains("415"), "{err}");
        let server = TestServer::v4(|_| Reply::huge(10 * 1024 * 1024, false)).await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(err.to_string().contains("more than 4096 bytes"), "{err}");
    }
}
