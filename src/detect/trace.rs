//! `cloudflare.trace`: GETs `/cdn-cgi/trace` on Cloudflare-served hosts (`[detect] trace_url`)
//! over a connection forced to the family, and reads `ip=` from its `key=value` lines. One
//! host may answer Cloudflare's error 1034 or hang, so the hosts are asked hedged: the next
//! starts after [`HEDGE_DELAY`] or as soon as one fails, and the first valid answer wins. An
//! answer is trusted only when `h=` names the host asked (else something in between
//! answered), WARP is off (else `ip=` is a WARP exit, not this host), and the address is not
//! inside Cloudflare's own ranges (an edge or WARP address, never a customer's).

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use reqwest::Url;

use super::fetch::{FetchError, Fetcher, parse_url};
use super::hedge::hedge;
use super::provider::{
    BoxFuture, DetectError, Found, IpProvider, ensure_family, failure, failure_asking, snippet,
};
use super::spec::Family;
use crate::http::{HttpSetupError, Tls};

/// The largest body accepted. A trace is about 300 bytes; `uag=` echoes our short User-Agent.
pub const MAX_BODY: usize = 4096;

/// How long one host has before the next is asked as well.
pub const HEDGE_DELAY: Duration = Duration::from_millis(500);

const NAME: &str = "cloudflare.trace";

/// Cloudflare's published ranges (cloudflare.com/ips-v4 and /ips-v6). An `ip=` inside them is
/// Cloudflare's own address, never the host's.
const CLOUDFLARE_V4: &[(u32, u8)] = &[
    (0xadf5_3000, 20), // 173.245.48.0/20
    (0x6715_f400, 22), // 103.21.244.0/22
    (0x6716_c800, 22), // 103.22.200.0/22
    (0x671f_0400, 22), // 103.31.4.0/22
    (0x8d65_4000, 18), // 141.101.64.0/18
    (0x6ca2_c000, 18), // 108.162.192.0/18
    (0xbe5d_f000, 20), // 190.93.240.0/20
    (0xbc72_6000, 20), // 188.114.96.0/20
    (0xc5ea_f000, 22), // 197.234.240.0/22
    (0xc629_8000, 17), // 198.41.128.0/17
    (0xa29e_0000, 15), // 162.158.0.0/15
    (0x6810_0000, 13), // 104.16.0.0/13
    (0x6818_0000, 14), // 104.24.0.0/14
    (0xac40_0000, 13), // 172.64.0.0/13
    (0x8300_4800, 22), // 131.0.72.0/22
];

const CLOUDFLARE_V6: &[(u32, u8)] = &[
    (0x2400_cb00, 32), // 2400:cb00::/32
    (0x2606_4700, 32), // 2606:4700::/32
    (0x2803_f800, 32), // 2803:f800::/32
    (0x2405_b500, 32), // 2405:b500::/32
    (0x2405_8100, 32), // 2405:8100::/32
    (0x2a06_98c0, 29), // 2a06:98c0::/29
    (0x2c0f_f248, 32), // 2c0f:f248::/32
];

/// Whether `addr` is one of Cloudflare's own addresses.
pub fn is_cloudflare(addr: IpAddr) -> bool {
    let (top, table) = match addr {
        IpAddr::V4(a) => (u32::from(a), CLOUDFLARE_V4),
        // Every IPv6 range is at most a /32: the first 32 bits decide.
        IpAddr::V6(a) => ((u128::from(a) >> 96) as u32, CLOUDFLARE_V6),
    };
    table.iter().any(|(net, len)| {
        let mask = u32::MAX << (32 - u32::from(*len));
        top & mask == net & mask
    })
}

#[derive(Debug)]
pub struct TraceProvider {
    urls: Vec<Url>,
    fetcher: Fetcher,
}

impl TraceProvider {
    /// `trace_urls` are asked hedged, in this order.
    pub fn new(
        trace_urls: &[String],
        family: Family,
        tls: &Tls,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        let urls = trace_urls
            .iter()
            .map(|u| parse_url(NAME, u))
            .collect::<Result<Vec<_>, _>>()?;
        if urls.is_empty() {
            return Err(HttpSetupError::Client(format!("`{NAME}`: no trace URL")));
        }
        Ok(TraceProvider {
            urls,
            fetcher: Fetcher::new(tls, family, timeout)?,
        })
    }

    /// One host: its trace, validated.
    async fn ask(&self, url: &Url) -> Result<IpAddr, DetectError> {
        let failed = failure_asking(NAME, url);
        let body = match self.fetcher.get(url, MAX_BODY).await {
            Ok(body) => body,
            Err(FetchError::Failed(message)) => return Err(failed(message)),
            Err(e) => return Err(e.into_detect(self.name(), self.fetcher.timeout())),
        };
        let addr = parse_trace(
            &String::from_utf8_lossy(&body),
            url.host_str().unwrap_or_default(),
        )
        .map_err(&failed)?;
        if is_cloudflare(addr) {
            return Err(failed(format!(
                "answered `ip={addr}`, one of Cloudflare's own addresses: a Cloudflare proxy or \
                 WARP stands between this host and the internet"
            )));
        }
        ensure_family(self.fetcher.family(), self.name(), addr)
    }
}

impl IpProvider for TraceProvider {
    fn name(&self) -> String {
        NAME.to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let attempts = self
                .urls
                .iter()
                .map(|u| Box::pin(self.ask(u)) as BoxFuture<'_, _>)
                .collect();
            match hedge(attempts, HEDGE_DELAY).await {
                Ok(addr) => Ok(Found::from(addr)),
                Err(mut errors) if errors.len() == 1 => Err(errors.remove(0)),
                Err(errors) => Err(failure(NAME)(
                    errors
                        .iter()
                        .map(|e| match e {
                            DetectError::Failed { message, .. } => message.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                )),
            }
        })
    }
}

/// The address in a `/cdn-cgi/trace` body, checked to be a trace of `expected_host` (the
/// host of the URL asked, as in its `Host` header; a `:port` or IPv6 brackets on either side
/// are tolerated) taken with WARP off.
///
/// Lines are `key=value`, split on the first `=`; the key set is open, so unknown keys and
/// lines without `=` are skipped. `ip`, `h` and `warp` may each appear once.
pub fn parse_trace(body: &str, expected_host: &str) -> Result<IpAddr, String> {
    if body.trim().is_empty() {
        return Err("answered an empty body, not a trace".to_owned());
    }
    let (mut ip, mut h, mut warp) = (None, None, None);
    for line in body.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let slot = match key {
            "ip" => &mut ip,
            "h" => &mut h,
            "warp" => &mut warp,
            _ => continue,
        };
        if slot.replace(value.trim()).is_some() {
            return Err(format!(
                "answered `{key}=` twice, which a trace never does: `{}`",
                snippet(body.trim())
            ));
        }
    }

    let Some(ip) = ip else {
        return Err(format!(
            "answered `{}`, which has no `ip=` line: not a trace",
            snippet(body.trim())
        ));
    };
    let Some(h) = h else {
        return Err(format!(
            "answered a trace without `h=`, so it may not come from `{}`",
            snippet(expected_host)
        ));
    };
    if host_key(h) != host_key(expected_host) {
        return Err(format!(
            "answered a trace for `{}`, not `{}`: something else answered \
             (a proxy or a captive portal?)",
            snippet(h),
            snippet(expected_host)
        ));
    }
    // `on` and `plus` are documented; anything but `off` is some WARP mode, whose `ip=` is
    // Cloudflare's exit and must never be published as this host.
    if let Some(w) = warp
        && w != "off"
    {
        return Err(format!(
            "answered `warp={}`: the address is a Cloudflare WARP exit, not this host's; \
             use another provider while WARP is on",
            snippet(w)
        ));
    }
    ip.parse()
        .map_err(|_| format!("answered `ip={}`, which is not an IP address", snippet(ip)))
}

/// A host for comparison: without a `:port`, IPv6 brackets or a trailing dot, lowercased, and
/// an IPv6 literal in canonical form.
fn host_key(s: &str) -> String {
    let s = s.trim();
    let host = if let Some(rest) = s.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(inner, _)| inner)
    } else if s.matches(':').count() == 1 {
        s.split_once(':').map_or(s, |(host, _)| host)
    } else {
        s
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.parse::<Ipv6Addr>() {
        Ok(v6) => v6.to_string(),
        Err(_) => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::test_server::{Reply, TestServer};

    const CAPTURE_2026: &str = include_str!("testdata/cdn_cgi_trace_capture_2026.txt");
    const CAPTURE_2022: &str = include_str!("testdata/cdn_cgi_trace_capture_2022_with_headers.txt");
    const DOCS_EXAMPLE: &str = include_str!("testdata/cdn_cgi_trace_docs_example.txt");

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn fixture_2026() {
        assert_eq!(
            parse_trace(CAPTURE_2026, "cloudflare.com"),
            Ok(ip("111.249.78.157"))
        );
    }

    #[test]
    fn fixture_2022_with_response_headers() {
        // The header lines have no `=` and are skipped.
        assert_eq!(
            parse_trace(CAPTURE_2022, "crypto.cloudflare.com"),
            Ok(ip("173.93.184.37"))
        );
        let err = parse_trace(CAPTURE_2022, "cloudflare.com").unwrap_err();
        assert!(
            err.contains("`crypto.cloudflare.com`, not `cloudflare.com`"),
            "{err}"
        );
    }

    #[test]
    fn fixture_docs_example_has_a_masked_address() {
        assert_eq!(
            parse_trace(DOCS_EXAMPLE, "cloudflare.com"),
            Err("answered `ip=162.159.xxx.xxx`, which is not an IP address".to_owned())
        );
    }

    #[test]
    fn fixtures_with_the_crlf_line_ends() {
        let crlf = CAPTURE_2026.replace('\n', "\r\n");
        assert_eq!(
            parse_trace(&crlf, "cloudflare.com"),
            Ok(ip("111.249.78.157"))
        );
    }

    #[test]
    fn ipv6_answer() {
        let body = "h=[2606:4700:4700::1111]\nip=2001:db8::7\nwarp=off\n";
        assert_eq!(
            parse_trace(body, "[2606:4700:4700::1111]"),
            Ok(ip("2001:db8::7"))
        );
        // Another spelling of the same literal is the same host.
        assert_eq!(
            parse_trace(body, "[2606:4700:4700:0:0:0:0:1111]"),
            Ok(ip("2001:db8::7"))
        );
    }

    #[test]
    fn host_comparison_tolerates_port_case_and_dot() {
        let body = |h: &str| format!("h={h}\nip=203.0.113.7\n");
        for (h, expected) in [
            ("127.0.0.1:8443", "127.0.0.1"),
            ("127.0.0.1", "127.0.0.1:8443"),
            ("API.Cloudflare.com", "api.cloudflare.com"),
            ("api.cloudflare.com.", "api.cloudflare.com"),
            ("[::1]:8443", "[::1]"),
            ("::1", "[::1]"),
        ] {
            assert_eq!(
                parse_trace(&body(h), expected),
                Ok(ip("203.0.113.7")),
                "h={h} expected={expected}"
            );
        }
        for (h, expected) in [
            ("1.1.1.1", "1.0.0.1"),
            ("cloudflare.com", "api.cloudflare.com"),
            ("api.cloudflare.com.evil.example", "api.cloudflare.com"),
            ("[::2]", "[::1]"),
            ("", "api.cloudflare.com"),
        ] {
            assert!(parse_trace(&body(h), expected).is_err(), "h={h}");
        }
    }

    #[test]
    fn values_may_hold_equals_signs_and_unknown_keys_pass() {
        let body = "fl=1\nh=cloudflare.com\nuag=a=b==c\nnewkey=x=y\nip=203.0.113.7\n";
        assert_eq!(parse_trace(body, "cloudflare.com"), Ok(ip("203.0.113.7")));
    }

    #[test]
    fn refuses_warp() {
        for mode in ["on", "plus", "team"] {
            let body = CAPTURE_2026.replace("warp=off", &format!("warp={mode}"));
            let err = parse_trace(&body, "cloudflare.com").unwrap_err();
            assert!(err.contains(&format!("`warp={mode}`")), "{err}");
            assert!(err.contains("WARP exit"), "{err}");
        }
    }

    #[test]
    fn hostile_bodies() {
        let cases: &[(&str, &str)] = &[
            ("", "empty body"),
            ("   \n\n", "empty body"),
            (
                "<html><body>Please log in to the hotel Wi-Fi</body></html>",
                "answered `<html><body>Please log in",
            ),
            (
                "<a href=\"/?ip=203.0.113.7\">x</a>\nh=cloudflare.com",
                "no `ip=`",
            ),
            ("h=cloudflare.com\n", "no `ip=`"),
            ("ip=203.0.113.7\n", "without `h=`"),
            ("h=evil.example\nip=203.0.113.7\n", "for `evil.example`"),
            (
                "h=cloudflare.com\nip=203.0.113.7\nip=198.51.100.1\n",
                "`ip=` twice",
            ),
            (
                "h=cloudflare.com\nh=evil.example\nip=203.0.113.7\n",
                "`h=` twice",
            ),
            ("h=cloudflare.com\nip=\n", "`ip=`, which is not"),
            (
                "h=cloudflare.com\nip=203.0.113.7 198.51.100.1\n",
                "not an IP",
            ),
            ("h=cloudflare.com\nip=203.0.113.7\x1b[0m\n", "\\u{1b}"),
            ("h=cloudflare.com\nip=[2001:db8::1]\n", "not an IP"),
            ("h=cloudflare.com\nip=203.0.113.7\nwarp=on\n", "WARP"),
            ("h=cloudflare.com\nip=203.0.113.7\nwarp=\n", "WARP"),
        ];
        for (body, needle) in cases {
            let err = parse_trace(body, "cloudflare.com").unwrap_err();
            assert!(err.contains(needle), "body {body:?}: {err}");
        }
        // An echo of a long value stays short.
        let long = format!("h={}\nip=203.0.113.7\n", "a".repeat(10_000));
        let err = parse_trace(&long, "cloudflare.com").unwrap_err();
        assert!(err.len() < 250, "{err}");
    }

    fn echo_reply(h: &str, ip: IpAddr, warp: &str) -> Reply {
        Reply::text(
            200,
            format!(
                "fl=1f1\nh={h}\nip={ip}\nts=1772941360.629\nvisit_scheme=http\n\
                 uag=ddflare\ncolo=LHR\nsliver=none\nhttp=http/1.1\nloc=GB\ntls=off\n\
                 sni=off\nwarp={warp}\ngateway=off\nrbi=off\nkex=none\n"
            ),
        )
    }

    /// A trace server that echoes the `Host` header and the real peer address, like the edge.
    fn echo(
        warp: &'static str,
    ) -> impl Fn(&crate::detect::test_server::Request) -> Reply + Send + Sync + 'static {
        move |req| echo_reply(req.header("host").unwrap_or_default(), req.peer.ip(), warp)
    }

    fn provider(server: &TestServer, family: Family) -> TraceProvider {
        let tls = Tls::new(None).unwrap();
        let url = server.url("/cdn-cgi/trace");
        TraceProvider::new(&[url], family, &tls, Duration::from_secs(5)).unwrap()
    }

    #[tokio::test]
    async fn echoes_the_peer_over_ipv4() {
        let server = TestServer::v4(echo("off")).await;
        let p = provider(&server, Family::V4);
        assert_eq!(p.name(), "cloudflare.trace");
        assert_eq!(p.detect().await.unwrap().addr, ip("127.0.0.1"));
    }

    #[tokio::test]
    async fn echoes_the_peer_over_ipv6() {
        let server = TestServer::v6(echo("off")).await;
        let p = provider(&server, Family::V6);
        assert_eq!(p.detect().await.unwrap().addr, ip("::1"));
    }

    #[tokio::test]
    async fn refuses_a_trace_for_another_host() {
        let server =
            TestServer::v4(|req| echo_reply("api.cloudflare.com", req.peer.ip(), "off")).await;
        match provider(&server, Family::V4).detect().await {
            Err(DetectError::Failed { provider, message }) => {
                assert_eq!(provider, "cloudflare.trace");
                assert!(
                    message.contains("for `api.cloudflare.com`, not `127.0.0.1`"),
                    "{message}"
                );
                assert!(message.contains("/cdn-cgi/trace`)"), "{message}");
            }
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn refuses_warp_on() {
        let server = TestServer::v4(echo("on")).await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(err.to_string().contains("`warp=on`"), "{err}");
    }

    #[tokio::test]
    async fn refuses_an_answer_of_the_other_family() {
        let server = TestServer::v4(|req| {
            echo_reply(
                req.header("host").unwrap_or_default(),
                ip("2001:db8::7"),
                "off",
            )
        })
        .await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(
            matches!(
                err,
                DetectError::WrongFamily {
                    family: Family::V4,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn ipv6_cannot_reach_an_ipv4_only_server() {
        let server = TestServer::v4(echo("off")).await;
        let err = provider(&server, Family::V6).detect().await.unwrap_err();
        assert!(err.to_string().contains("over IPv6"), "{err}");
        assert_eq!(server.hits(), 0);
    }

    #[test]
    fn cloudflare_ranges() {
        for a in [
            "173.245.48.1",
            "104.16.0.1",
            "104.27.255.255",
            "172.64.1.1",
            "162.159.200.1",
            "198.41.200.1",
            "2606:4700:4700::1111",
            "2a06:98c1::1",
            "2400:cb00:2049::1",
        ] {
            assert!(is_cloudflare(ip(a)), "{a}");
        }
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "104.28.0.1",
            "2001:db8::1",
            "2a06:98d0::1",
        ] {
            // 1.1.1.1 is Cloudflare's resolver, but not in the published proxy ranges.
            assert!(!is_cloudflare(ip(a)), "{a}");
        }
    }

    #[tokio::test]
    async fn refuses_an_address_of_cloudflare_itself() {
        let server = TestServer::v4(|req| {
            echo_reply(
                req.header("host").unwrap_or_default(),
                ip("104.16.1.2"),
                "off",
            )
        })
        .await;
        let err = provider(&server, Family::V4).detect().await.unwrap_err();
        assert!(
            err.to_string()
                .contains("one of Cloudflare's own addresses"),
            "{err}"
        );
    }

    fn hedged(urls: &[String]) -> TraceProvider {
        let tls = Tls::new(None).unwrap();
        TraceProvider::new(urls, Family::V4, &tls, Duration::from_secs(10)).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_answering_error_1034_is_passed_over_at_once() {
        let broken =
            TestServer::v4(|_| Reply::text(409, "error code: 1034").with_header("cf-ray", "x"))
                .await;
        let good = TestServer::v4(echo("off")).await;
        let p = hedged(&[broken.url("/cdn-cgi/trace"), good.url("/cdn-cgi/trace")]);
        let started = tokio::time::Instant::now();
        assert_eq!(p.detect().await.unwrap().addr, ip("127.0.0.1"));
        assert!(started.elapsed() < HEDGE_DELAY, "{:?}", started.elapsed());
        assert_eq!((broken.hits(), good.hits()), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_host_is_overtaken_after_the_hedge_delay() {
        let hanging = TestServer::v4(|req| {
            echo_reply(req.header("host").unwrap_or_default(), req.peer.ip(), "off")
                .after(Duration::from_secs(30))
        })
        .await;
        let good = TestServer::v4(echo("off")).await;
        let spare = TestServer::v4(echo("off")).await;
        let p = hedged(&[
            hanging.url("/cdn-cgi/trace"),
            good.url("/cdn-cgi/trace"),
            spare.url("/cdn-cgi/trace"),
        ]);
        let started = tokio::time::Instant::now();
        assert_eq!(p.detect().await.unwrap().addr, ip("127.0.0.1"));
        let took = started.elapsed();
        assert!(took >= HEDGE_DELAY && took < HEDGE_DELAY * 3, "{took:?}");
        assert_eq!(spare.hits(), 0, "the first valid answer ends the hedge");
    }

    #[tokio::test]
    async fn every_host_failing_lists_each() {
        let a = TestServer::v4(|_| Reply::text(503, "")).await;
        let b = TestServer::v4(|_| Reply::text(200, "<html>")).await;
        let p = hedged(&[a.url("/cdn-cgi/trace"), b.url("/cdn-cgi/trace")]);
        let err = p.detect().await.unwrap_err().to_string();
        assert!(
            err.starts_with("cloudflare.trace: answered HTTP 503"),
            "{err}"
        );
        assert!(err.contains("; answered `<html>`"), "{err}");
        assert!(err.contains(&a.url("/cdn-cgi/trace")), "{err}");
        assert!(err.contains(&b.url("/cdn-cgi/trace")), "{err}");
    }
}
