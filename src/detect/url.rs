//! `url:URL`: GETs a "what is my IP" service that answers the address as plain text
//! (icanhazip, ipify, ifconfig.co, …). The connection is forced to the provider's family, so
//! asking for IPv6 over an IPv4-only path fails instead of answering the IPv4 address.
//! `url4:`/`url6:` force the connection to that family instead (a router's page reached over
//! IPv4 that shows the IPv6 address); the answer must still be of the list's family.
//! Credentials in the URL (`http://admin:PW@router.lan/ip`) are sent as HTTP basic auth and
//! never shown: the provider's name redacts them (see `crate::text`).

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use super::fetch::{Fetcher, parse_url};
use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family, failure, snippet};
use super::spec::{Family, url_prefix};
use crate::http::{HttpSetupError, Tls};
use crate::text;

/// The largest body accepted. An address is at most 39 characters (45 for an IPv4-mapped
/// IPv6 address); anything near this is an error page.
pub const MAX_BODY: usize = 1024;

pub struct UrlProvider {
    name: String,
    url: Url,
    /// The family of the answer (the list's); the fetcher's is the connection's.
    family: Family,
    fetcher: Fetcher,
}

/// The name only: the URL may hold a password.
impl std::fmt::Debug for UrlProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlProvider")
            .field("name", &self.name)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

impl UrlProvider {
    /// `url` as written after `url:`; `timeout` bounds one request.
    pub fn new(
        url: &str,
        family: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        Self::build(None, url, family, family, tls, timeout)
    }

    /// `url4:` (`via` IPv4) or `url6:`: the connection uses `via`, the answer must be `family`.
    pub fn with_connection_family(
        url: &str,
        family: Family,
        via: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        Self::build(Some(via), url, family, via, tls, timeout)
    }

    /// The name is the spec as [`ProviderSpec`](super::ProviderSpec) shows it: the URL's
    /// userinfo, query values and token-shaped path words redacted. The URL itself keeps
    /// them: reqwest sends a URL's userinfo as HTTP basic auth (a router's status page).
    fn build(
        written_via: Option<Family>,
        url: &str,
        family: Family,
        via: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        let name = format!("{}:{}", url_prefix(written_via), text::url(url));
        Ok(UrlProvider {
            url: parse_url(&name, url)?,
            family,
            fetcher: Fetcher::new(tls, via, timeout)?,
            name,
        })
    }
}

impl IpProvider for UrlProvider {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let body = self
                .fetcher
                .get(&self.url, MAX_BODY)
                .await
                .map_err(|e| e.into_detect(self.name(), self.fetcher.timeout()))?;
            let addr = parse_ip_body(&body).map_err(failure(self.name()))?;
            ensure_family(self.family, self.name(), addr).map(Found::from)
        })
    }
}

/// The address in a plain-text answer: the body, trimmed of whitespace, must be exactly one
/// IP address. The error says what came back instead.
pub fn parse_ip_body(body: &[u8]) -> Result<IpAddr, String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Err("answered an empty body, not an IP address".to_owned());
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(addr);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > 1 && words.iter().all(|w| w.parse::<IpAddr>().is_ok()) {
        return Err(format!(
            "answered {} addresses (`{}`), expected exactly one",
            words.len(),
            snippet(text)
        ));
    }
    Err(format!(
        "answered `{}`, which is not an IP address",
        snippet(text)
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use tokio::time::Instant;

    use super::*;
    use crate::detect::test_server::{Reply, TestServer};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_one_address() {
        assert_eq!(parse_ip_body(b"203.0.113.7"), Ok(ip("203.0.113.7")));
        assert_eq!(parse_ip_body(b"2001:db8::7"), Ok(ip("2001:db8::7")));
    }

    #[test]
    fn trims_whitespace() {
        assert_eq!(parse_ip_body(b"203.0.113.7\n"), Ok(ip("203.0.113.7")));
        assert_eq!(
            parse_ip_body(b" \t2001:db8::7\r\n\r\n"),
            Ok(ip("2001:db8::7"))
        );
    }

    #[test]
    fn rejects_empty() {
        for body in [&b""[..], b"   ", b"\r\n"] {
            let err = parse_ip_body(body).unwrap_err();
            assert!(err.contains("empty"), "{err}");
        }
    }

    #[test]
    fn rejects_html_and_says_what_came_back() {
        let err =
            parse_ip_body(b"<!DOCTYPE html>\n<html><body>203.0.113.7</body></html>").unwrap_err();
        assert_eq!(
            err,
            "answered `<!DOCTYPE html>\\n<html><body>203.0.113.7</body></html>`, \
             which is not an IP address"
        );
    }

    #[test]
    fn rejects_two_addresses() {
        let err = parse_ip_body(b"203.0.113.7\n203.0.113.8\n").unwrap_err();
        assert_eq!(
            err,
            "answered 2 addresses (`203.0.113.7\\n203.0.113.8`), expected exactly one"
        );
        assert!(parse_ip_body(b"203.0.113.7 2001:db8::1").is_err());
    }

    #[test]
    fn rejects_garbage_with_escaped_truncated_echo() {
        let err = parse_ip_body(b"\x1b[31mred\x07").unwrap_err();
        assert_eq!(
            err,
            "answered `\\u{1b}[31mred\\u{7}`, which is not an IP address"
        );

        let long = "x".repeat(500);
        let err = parse_ip_body(long.as_bytes()).unwrap_err();
        assert!(err.len() < 120, "{err}");
        assert!(err.contains('…'), "{err}");

        let err = parse_ip_body(b"\xff\xfe1.2.3.4").unwrap_err();
        assert!(err.contains('\u{fffd}'), "{err}");
    }

    #[test]
    fn rejects_near_misses() {
        for body in [
            "203.0.113",
            "203.0.113.256",
            "203.0.113.07",
            "[2001:db8::1]",
            "fe80::1%eth0",
            "ip=203.0.113.7",
            "{\"ip\":\"203.0.113.7\"}",
        ] {
            assert!(parse_ip_body(body.as_bytes()).is_err(), "{body}");
        }
    }

    fn provider(server: &TestServer, path: &str, family: Family) -> UrlProvider {
        let tls = Tls::new(None).unwrap();
        UrlProvider::new(&server.url(path), family, &tls, Duration::from_secs(5)).unwrap()
    }

    async fn text_server(body: &'static str) -> TestServer {
        TestServer::v4(move |_| Reply::text(200, body)).await
    }

    #[tokio::test]
    async fn answers_over_ipv4() {
        let server = text_server("203.0.113.7").await;
        let p = provider(&server, "/", Family::V4);
        assert_eq!(p.name(), format!("url:{}", server.url("/")));
        assert_eq!(p.detect().await.unwrap().addr, ip("203.0.113.7"));
        // The client is kept: a second round works the same.
        assert_eq!(p.detect().await.unwrap().addr, ip("203.0.113.7"));
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn answers_over_ipv6() {
        let server = TestServer::v6(|_| Reply::text(200, "2001:db8::7\n")).await;
        let p = provider(&server, "/", Family::V6);
        assert_eq!(p.detect().await.unwrap().addr, ip("2001:db8::7"));
    }

    #[tokio::test]
    async fn trims_the_body() {
        let server = text_server("\r\n  203.0.113.7  \n\n").await;
        let p = provider(&server, "/", Family::V4);
        assert_eq!(p.detect().await.unwrap().addr, ip("203.0.113.7"));
    }

    fn failure(result: Result<Found, DetectError>) -> String {
        match result {
            Err(DetectError::Failed { message, .. }) => message,
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn rejects_an_html_page() {
        let server = text_server("<html><head><title>Login</title></head></html>").await;
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert!(msg.contains("`<html><head><title>Login"), "{msg}");
    }

    #[tokio::test]
    async fn rejects_two_addresses_over_http() {
        let server = text_server("203.0.113.7\n203.0.113.8\n").await;
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert!(msg.contains("2 addresses"), "{msg}");
    }

    #[tokio::test]
    async fn stops_reading_a_huge_body() {
        // No Content-Length: the cap has to work on the stream itself.
        let server = TestServer::v4(|_| Reply::huge(10 * 1024 * 1024, false)).await;
        let started = Instant::now();
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert!(msg.contains("more than 1024 bytes"), "{msg}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn refuses_a_huge_content_length_up_front() {
        let server = TestServer::v4(|_| Reply::huge(10 * 1024 * 1024, true)).await;
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert!(msg.contains("more than 1024 bytes"), "{msg}");
    }

    #[tokio::test]
    async fn refuses_an_error_status() {
        let server = TestServer::v4(|_| Reply::text(500, "upstream down")).await;
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert_eq!(
            msg,
            "answered HTTP 500 Internal Server Error: `upstream down`"
        );

        // A 2xx other than 200 is fine.
        let server = TestServer::v4(|_| Reply::text(203, "203.0.113.7")).await;
        let p = provider(&server, "/", Family::V4);
        assert_eq!(p.detect().await.unwrap().addr, ip("203.0.113.7"));
    }

    #[tokio::test]
    async fn refuses_a_redirect() {
        let server = TestServer::v4(|req| {
            if req.path == "/moved" {
                Reply::text(302, "").with_header("Location", "/target")
            } else {
                Reply::text(200, "203.0.113.7")
            }
        })
        .await;
        let msg = failure(provider(&server, "/moved", Family::V4).detect().await);
        assert!(msg.contains("302 Found"), "{msg}");
        assert!(msg.contains("`/target`"), "{msg}");
        assert!(msg.contains("not followed"), "{msg}");
        assert!(!msg.contains(';'), "{msg}");
        assert_eq!(server.hits(), 1, "the redirect target must not be fetched");
    }

    #[tokio::test]
    async fn ipv6_cannot_reach_an_ipv4_only_server() {
        let server = text_server("203.0.113.7").await;
        let result = provider(&server, "/", Family::V6).detect().await;
        let msg = failure(result);
        assert_eq!(
            msg,
            "cannot connect over IPv6: the URL's host 127.0.0.1 is not an IPv6 address"
        );
        assert_eq!(server.hits(), 0);
    }

    #[tokio::test]
    async fn ipv4_cannot_reach_an_ipv6_only_server() {
        let server = TestServer::v6(|_| Reply::text(200, "203.0.113.7")).await;
        let msg = failure(provider(&server, "/", Family::V4).detect().await);
        assert_eq!(
            msg,
            "cannot connect over IPv4: the URL's host ::1 is not an IPv4 address"
        );
        assert_eq!(server.hits(), 0);
    }

    #[tokio::test]
    async fn refuses_an_answer_of_the_other_family() {
        let server = text_server("2001:db8::7").await;
        let result = provider(&server, "/", Family::V4).detect().await;
        match result {
            Err(DetectError::WrongFamily { addr, family, .. }) => {
                assert_eq!(addr, ip("2001:db8::7"));
                assert_eq!(family, Family::V4);
            }
            other => panic!("expected WrongFamily, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn sends_our_user_agent() {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let seen2 = Arc::clone(&seen);
        let server = TestServer::v4(move |req| {
            *seen2.lock().unwrap() = req.header("user-agent").map(str::to_owned);
            Reply::text(200, "203.0.113.7")
        })
        .await;
        provider(&server, "/", Family::V4).detect().await.unwrap();
        let ua = seen.lock().unwrap().clone().unwrap();
        assert!(ua.starts_with("ddflare/"), "{ua}");
        assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn userinfo_is_sent_as_basic_auth_and_never_shown() {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let seen2 = Arc::clone(&seen);
        let server = TestServer::v4(move |req| {
            *seen2.lock().unwrap() = req.header("authorization").map(str::to_owned);
            Reply::text(500, "down")
        })
        .await;
        let url = server
            .url("/ip?sid=S3cret")
            .replacen("http://", "http://admin:Rtr-pw@", 1);
        let tls = Tls::new(None).unwrap();
        let p = UrlProvider::new(&url, Family::V4, &tls, Duration::from_secs(5)).unwrap();
        let err = p.detect().await.unwrap_err().to_string();
        // base64("admin:Rtr-pw")
        assert_eq!(
            seen.lock().unwrap().as_deref(),
            Some("Basic YWRtaW46UnRyLXB3")
        );
        for shown in [p.name(), err, format!("{p:?}")] {
            assert!(!shown.contains("Rtr-pw"), "{shown}");
            assert!(!shown.contains("S3cret"), "{shown}");
        }
        assert_eq!(
            p.name(),
            format!("url:http://[redacted]@{}/ip?sid=[redacted]", server.addr)
        );
    }

    #[tokio::test]
    async fn url4_asks_over_ipv4_for_the_ipv6_address() {
        // A router's page, reached over IPv4, showing the IPv6 address.
        let server = TestServer::v4(|_| Reply::text(200, "2001:db8::77\n")).await;
        let tls = Tls::new(None).unwrap();
        let p = UrlProvider::with_connection_family(
            &server.url("/"),
            Family::V6,
            Family::V4,
            &tls,
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(p.name(), format!("url4:{}", server.url("/")));
        assert_eq!(p.detect().await.unwrap().addr, ip("2001:db8::77"));
        // The answer must still be of the list's family.
        let p = UrlProvider::with_connection_family(
            &server.url("/"),
            Family::V4,
            Family::V4,
            &tls,
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(matches!(
            p.detect().await,
            Err(DetectError::WrongFamily { .. })
        ));
        // url6: cannot reach an IPv4-only server.
        let p = UrlProvider::with_connection_family(
            &server.url("/"),
            Family::V6,
            Family::V6,
            &tls,
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(failure(p.detect().await).contains("cannot connect over IPv6"));
    }
}
