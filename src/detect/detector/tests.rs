use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;

use super::*;
use crate::detect::interface::InterfaceProvider;
use crate::detect::static_ip::StaticProvider;
use crate::detect::test_server::{Reply, TestServer};
use crate::detect::url::UrlProvider;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The tests answer documentation addresses, which are not global: allow them here; the
/// bogon tests turn the filter on.
fn config(ipv4: Vec<ProviderSpec>, ipv6: Vec<ProviderSpec>, timeout: Duration) -> DetectConfig {
    DetectConfig {
        ipv4,
        ipv6,
        timeout,
        strategy: Strategy::Fallback,
        allow_private: true,
        ipv6_prefix_len: 64,
        filters: crate::detect::Filters::default(),
        trace_urls: vec!["https://api.cloudflare.com/cdn-cgi/trace".to_owned()],
        dns_servers: vec!["127.0.0.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()],
        doh_url: "https://cloudflare-dns.com/dns-query".to_owned(),
    }
}

fn lenient(timeout: Duration) -> Policy {
    Policy {
        allow_private: true,
        ..Policy::with_timeout(timeout)
    }
}

fn detector(ipv4: Vec<ProviderSpec>, ipv6: Vec<ProviderSpec>) -> Detector {
    let tls = Tls::new(None).unwrap();
    Detector::new(&config(ipv4, ipv6, Duration::from_secs(5)), &tls).unwrap()
}

fn url(server: &TestServer) -> ProviderSpec {
    ProviderSpec::Url {
        url: server.url("/"),
        via: None,
    }
}

fn failures(result: Result<Detection, DetectError>) -> Vec<DetectError> {
    match result {
        Err(DetectError::AllFailed { failures, .. }) => failures,
        other => panic!("expected AllFailed, got {other:?}"),
    }
}

/// Answers a fixed address without checking its family, to prove the Detector checks.
struct Careless(IpAddr);

impl IpProvider for Careless {
    fn name(&self) -> String {
        "careless".to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        let addr = self.0;
        Box::pin(async move { Ok(Found::from(addr)) })
    }
}

#[test]
fn streak_logs_once_per_streak() {
    let mut s = Streak::default();
    assert_eq!(s.success(), StreakLog::Quiet);
    assert_eq!(s.failure(), StreakLog::FirstFailure);
    assert_eq!(s.failure(), StreakLog::StillFailing(2));
    assert_eq!(s.failure(), StreakLog::StillFailing(3));
    assert_eq!(s.success(), StreakLog::Recovered(3));
    assert_eq!(s.success(), StreakLog::Quiet);
    // A new streak warns again.
    assert_eq!(s.failure(), StreakLog::FirstFailure);
    assert_eq!(s.success(), StreakLog::Recovered(1));
}

#[test]
fn streak_saturates() {
    let mut s = Streak {
        failures: u32::MAX - 1,
    };
    assert_eq!(s.failure(), StreakLog::StillFailing(u32::MAX));
    assert_eq!(s.failure(), StreakLog::StillFailing(u32::MAX));
    assert_eq!(s.success(), StreakLog::Recovered(u32::MAX));
}

#[test]
fn builds_every_kind_from_the_config() {
    let d = detector(
        vec![
            ProviderSpec::CloudflareTrace,
            ProviderSpec::Url {
                url: "https://ipv4.icanhazip.com/".into(),
                via: None,
            },
            ProviderSpec::Static(ip("203.0.113.7")),
        ],
        vec![ProviderSpec::CloudflareTrace],
    );
    assert_eq!(d.families(), vec![Family::V4, Family::V6]);
    assert_eq!(
        d.provider_names(Family::V4),
        [
            "cloudflare.trace",
            "url:https://ipv4.icanhazip.com/",
            "static:203.0.113.7"
        ]
    );
    assert_eq!(d.provider_names(Family::V6), ["cloudflare.trace"]);

    let d = detector(vec![], vec![ProviderSpec::Static(ip("2001:db8::7"))]);
    assert_eq!(d.families(), vec![Family::V6]);
    assert!(detector(vec![], vec![]).families().is_empty());
}

#[test]
fn refuses_an_unparsable_url() {
    let tls = Tls::new(None).unwrap();
    let cfg = config(
        vec![ProviderSpec::Url {
            url: "https://exa mple.com/".into(),
            via: None,
        }],
        vec![],
        Duration::from_secs(5),
    );
    let err = Detector::new(&cfg, &tls).unwrap_err();
    assert!(
        err.to_string().contains("`url:https://exa mple.com/`"),
        "{err}"
    );

    let mut cfg = config(
        vec![ProviderSpec::CloudflareTrace],
        vec![],
        Duration::from_secs(5),
    );
    cfg.trace_urls = vec!["not a url".into()];
    let err = Detector::new(&cfg, &tls).unwrap_err();
    assert!(err.to_string().contains("cloudflare.trace"), "{err}");
}

#[tokio::test]
async fn static_answers() {
    let d = detector(vec![ProviderSpec::Static(ip("203.0.113.7"))], vec![]);
    assert_eq!(
        d.detect(Family::V4).await.unwrap(),
        Detection {
            addr: ip("203.0.113.7"),
            prefix_len: 32,
            provider: "static:203.0.113.7".into()
        }
    );
}

#[tokio::test]
async fn a_family_without_providers() {
    let d = detector(vec![ProviderSpec::Static(ip("203.0.113.7"))], vec![]);
    assert!(matches!(
        d.detect(Family::V6).await,
        Err(DetectError::NoProvider(Family::V6))
    ));
}

#[tokio::test]
async fn falls_back_to_the_next_provider() {
    let down = TestServer::v4(|_| Reply::text(503, "maintenance")).await;
    let up = TestServer::v4(|_| Reply::text(200, "198.51.100.4\n")).await;
    let d = detector(vec![url(&down), url(&up)], vec![]);
    let got = d.detect(Family::V4).await.unwrap();
    assert_eq!(got.addr, ip("198.51.100.4"));
    assert_eq!(got.provider, format!("url:{}", up.url("/")));
    assert_eq!((down.hits(), up.hits()), (1, 1));
}

#[tokio::test]
async fn the_first_answer_wins() {
    let first = TestServer::v4(|_| Reply::text(200, "198.51.100.4")).await;
    let second = TestServer::v4(|_| Reply::text(200, "198.51.100.5")).await;
    let d = detector(vec![url(&first), url(&second)], vec![]);
    assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("198.51.100.4"));
    assert_eq!(second.hits(), 0);
}

#[tokio::test]
async fn all_failing_lists_each_provider() {
    let down = TestServer::v4(|_| Reply::text(500, "")).await;
    let html = TestServer::v4(|_| Reply::text(200, "<html>")).await;
    let d = detector(vec![url(&down), url(&html)], vec![]);
    let err = d.detect(Family::V4).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("no IPv4 provider answered: "), "{text}");
    assert!(
        text.contains("answered HTTP 500 Internal Server Error; "),
        "{text}"
    );
    assert!(text.contains("answered `<html>`"), "{text}");
    assert_eq!(failures(Err(err)).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_slow_provider_times_out_and_the_next_answers() {
    let slow =
        TestServer::v4(|_| Reply::text(200, "198.51.100.4").after(Duration::from_secs(30))).await;
    let tls = Tls::new(None).unwrap();
    let timeout = Duration::from_millis(300);
    let d = Detector::new(&config(vec![url(&slow)], vec![], timeout), &tls).unwrap();
    let started = Instant::now();
    let failures = failures(d.detect(Family::V4).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&failures[..], [DetectError::Timeout { timeout: t, .. }] if *t == timeout),
        "{failures:?}"
    );

    // The same under the Detector's own timeout, with a patient client.
    let patient =
        UrlProvider::new(&slow.url("/"), Family::V4, &tls, Duration::from_secs(60)).unwrap();
    let d = Detector::with_providers(
        lenient(timeout),
        vec![
            Box::new(patient),
            Box::new(StaticProvider::new(ip("203.0.113.9"), Family::V4)),
        ],
        vec![],
    );
    let started = Instant::now();
    let got = d.detect(Family::V4).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(got.addr, ip("203.0.113.9"));
    assert!(matches!(
        d.slots(Family::V4)[0].streak(),
        Streak { failures: 1 }
    ));
}

#[tokio::test]
async fn the_detector_refuses_the_wrong_family() {
    let d = Detector::with_providers(
        lenient(Duration::from_secs(1)),
        vec![
            Box::new(Careless(ip("2001:db8::7"))),
            Box::new(Careless(ip("203.0.113.7"))),
        ],
        vec![Box::new(Careless(ip("203.0.113.7")))],
    );
    let got = d.detect(Family::V4).await.unwrap();
    assert_eq!(got.addr, ip("203.0.113.7"));
    let failures = failures(d.detect(Family::V6).await);
    assert!(
        matches!(
            &failures[..],
            [DetectError::WrongFamily { family: Family::V6, provider, .. }] if provider == "careless"
        ),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_wrong_family_answer_over_http_is_never_returned() {
    let server = TestServer::v4(|_| Reply::text(200, "2001:db8::7")).await;
    let d = detector(vec![url(&server)], vec![]);
    let failures = failures(d.detect(Family::V4).await);
    assert!(
        matches!(&failures[..], [DetectError::WrongFamily { .. }]),
        "{failures:?}"
    );
}

#[tokio::test]
async fn failure_streaks_are_tracked_per_provider() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&healthy);
    let flaky = TestServer::v4(move |_| {
        if flag.load(Ordering::SeqCst) {
            Reply::text(200, "198.51.100.1")
        } else {
            Reply::text(503, "")
        }
    })
    .await;
    let d = Detector::with_providers(
        lenient(Duration::from_secs(5)),
        vec![
            build(
                &url(&flaky),
                Family::V4,
                &BuildContext {
                    tls: &Tls::new(None).unwrap(),
                    timeout: Duration::from_secs(5),
                    trace_urls: &[],
                    dns_servers: &[],
                    doh_url: "https://cloudflare-dns.com/dns-query",
                },
            )
            .unwrap(),
            Box::new(StaticProvider::new(ip("203.0.113.7"), Family::V4)),
        ],
        vec![],
    );
    let streaks = |d: &Detector| -> Vec<u32> {
        d.slots(Family::V4)
            .iter()
            .map(|s| s.streak().failures)
            .collect()
    };

    for round in 1..=3 {
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!(got.addr, ip("203.0.113.7"));
        assert_eq!(streaks(&d), [round, 0]);
    }
    healthy.store(true, Ordering::SeqCst);
    assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("198.51.100.1"));
    assert_eq!(streaks(&d), [0, 0]);
    healthy.store(false, Ordering::SeqCst);
    d.detect(Family::V4).await.unwrap();
    assert_eq!(streaks(&d), [1, 0]);
}

#[tokio::test]
async fn detects_both_families_at_once() {
    let v4 = TestServer::v4(|_| Reply::text(200, "198.51.100.1")).await;
    let v6 = TestServer::v6(|_| Reply::text(200, "2001:db8::1")).await;
    let d = detector(vec![url(&v4)], vec![url(&v6)]);
    let report = d.detect_all().await;
    assert_eq!(
        report.get(Family::V4).unwrap().as_ref().unwrap().addr,
        ip("198.51.100.1")
    );
    assert_eq!(
        report.get(Family::V6).unwrap().as_ref().unwrap().addr,
        ip("2001:db8::1")
    );

    let d = detector(vec![url(&v4)], vec![]);
    let report = d.detect_all().await;
    assert!(report.ipv4.is_some());
    assert!(report.ipv6.is_none());

    // An IPv6 provider pointed at an IPv4-only server fails; IPv4 is unaffected.
    let d = detector(vec![url(&v4)], vec![url(&v4)]);
    let report = d.detect_all().await;
    assert!(report.ipv4.unwrap().is_ok());
    let text = report.ipv6.unwrap().unwrap_err().to_string();
    assert!(text.contains("over IPv6"), "{text}");
}

fn strict(timeout: Duration) -> Policy {
    Policy::with_timeout(timeout)
}

fn fixed(addrs: &[&str]) -> Vec<Box<dyn IpProvider>> {
    addrs
        .iter()
        .map(|a| Box::new(Careless(ip(a))) as Box<dyn IpProvider>)
        .collect()
}

/// Answers a fixed address under its own name, for the agreement tests.
struct Named(&'static str, Result<IpAddr, &'static str>);

impl IpProvider for Named {
    fn name(&self) -> String {
        self.0.to_owned()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        let r = self.1.map(Found::from).map_err(|m| DetectError::Failed {
            provider: self.0.to_owned(),
            message: m.to_owned(),
        });
        Box::pin(async move { r })
    }
}

/// A provider's name and its answer (an address, or a failure message).
type Script<'a> = Vec<(&'static str, Result<&'a str, &'static str>)>;

fn named(list: Script<'_>) -> Vec<Box<dyn IpProvider>> {
    list.into_iter()
        .map(|(n, r)| Box::new(Named(n, r.map(ip))) as Box<dyn IpProvider>)
        .collect()
}

#[tokio::test]
async fn every_bogon_is_refused_and_named() {
    let cases = [
        ("127.0.0.1", "127.0.0.0/8 (loopback)"),
        ("0.0.0.0", "0.0.0.0/8"),
        ("10.1.2.3", "10.0.0.0/8 (private (RFC 1918))"),
        ("172.20.0.1", "172.16.0.0/12"),
        ("192.168.1.10", "192.168.0.0/16"),
        ("169.254.7.7", "169.254.0.0/16 (link-local)"),
        ("224.0.0.251", "224.0.0.0/4 (multicast)"),
        ("255.255.255.255", "255.255.255.255/32 (limited broadcast)"),
        ("203.0.113.7", "203.0.113.0/24 (documentation)"),
        ("198.18.0.9", "198.18.0.0/15 (benchmarking)"),
        ("240.1.2.3", "240.0.0.0/4 (reserved)"),
    ];
    for (addr, why) in cases {
        let d = Detector::with_providers(strict(Duration::from_secs(1)), fixed(&[addr]), vec![]);
        let err = d.detect(Family::V4).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("careless: answered {addr}, which is in {why}")),
            "{err}"
        );
        assert!(err.contains("allow_private"), "{err}");
    }
    let cases6 = [
        ("::1", "::1/128 (loopback)"),
        ("::", "::/128 (unspecified)"),
        ("fe80::1", "fe80::/10 (link-local)"),
        ("fd00::1", "fc00::/7 (unique local (ULA))"),
        ("ff02::1", "ff00::/8 (multicast)"),
        ("::ffff:8.8.8.8", "::ffff:0:0/96 (IPv4-mapped IPv6)"),
        ("64:ff9b::808:808", "64:ff9b::/96 (NAT64"),
        ("2001:db8::7", "2001:db8::/32 (documentation)"),
    ];
    for (addr, why) in cases6 {
        let d = Detector::with_providers(strict(Duration::from_secs(1)), vec![], fixed(&[addr]));
        let err = d.detect(Family::V6).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("answered {addr}, which is in {why}")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn cgnat_is_said_plainly() {
    let d = Detector::with_providers(
        strict(Duration::from_secs(1)),
        fixed(&["100.72.1.9"]),
        vec![],
    );
    let err = d.detect(Family::V4).await.unwrap_err().to_string();
    assert!(
        err.contains("100.64.0.0/10 (carrier-grade NAT (RFC 6598))"),
        "{err}"
    );
    assert!(
        err.contains("this host is behind carrier-grade NAT"),
        "{err}"
    );
    assert!(!err.contains("allow_private"), "{err}");
}

#[tokio::test]
async fn a_bogon_falls_back_to_the_next_provider_and_global_passes() {
    let d = Detector::with_providers(
        strict(Duration::from_secs(1)),
        fixed(&["192.168.1.2", "81.2.3.4"]),
        fixed(&["fd00::5", "2a00:1:2::5"]),
    );
    assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
    assert_eq!(d.detect(Family::V6).await.unwrap().addr, ip("2a00:1:2::5"));
    assert_eq!(d.slots(Family::V4)[0].streak(), Streak { failures: 1 });
}

#[tokio::test]
async fn allow_private_publishes_bogons_of_the_right_family_only() {
    let d = Detector::with_providers(
        lenient(Duration::from_secs(1)),
        fixed(&["2001:db8::1", "192.168.1.2"]),
        vec![],
    );
    let got = d.detect(Family::V4).await.unwrap();
    assert_eq!(got.addr, ip("192.168.1.2"));
}

#[tokio::test]
async fn static_is_filtered_too() {
    let cfg = DetectConfig {
        allow_private: false,
        ..config(
            vec![ProviderSpec::Static(ip("10.0.0.1"))],
            vec![],
            Duration::from_secs(1),
        )
    };
    let d = Detector::new(&cfg, &Tls::new(None).unwrap()).unwrap();
    let err = d.detect(Family::V4).await.unwrap_err().to_string();
    assert!(
        err.contains("static:10.0.0.1: answered 10.0.0.1, which is in 10.0.0.0/8"),
        "{err}"
    );
}

#[tokio::test]
async fn the_prefix_length_comes_from_the_provider_else_the_policy() {
    struct WithPrefix;
    impl IpProvider for WithPrefix {
        fn name(&self) -> String {
            "iface".into()
        }
        fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
            Box::pin(async {
                Ok(Found {
                    addr: "2a00:1:2::5".parse().unwrap(),
                    prefix_len: Some(56),
                })
            })
        }
    }
    let policy = Policy {
        ipv6_prefix_len: 48,
        ..strict(Duration::from_secs(1))
    };
    let d = Detector::with_providers(policy, fixed(&["81.2.3.4"]), vec![Box::new(WithPrefix)]);
    assert_eq!(d.detect(Family::V6).await.unwrap().prefix_len, 56);
    assert_eq!(d.detect(Family::V4).await.unwrap().prefix_len, 32);
    let d = Detector::with_providers(policy, vec![], fixed(&["2a00:1:2::5"]));
    assert_eq!(
        d.detect(Family::V6).await.unwrap().detected(),
        Detected {
            addr: ip("2a00:1:2::5"),
            prefix_len: 48
        }
    );
}

fn agree(ipv4: Vec<Box<dyn IpProvider>>) -> Detector {
    let policy = Policy {
        strategy: Strategy::Agree,
        ..strict(Duration::from_secs(1))
    };
    Detector::with_providers(policy, ipv4, vec![])
}

#[tokio::test]
async fn agree_publishes_what_two_agree_on() {
    let d = agree(named(vec![("a", Ok("81.2.3.4")), ("b", Ok("81.2.3.4"))]));
    let got = d.detect(Family::V4).await.unwrap();
    assert_eq!(got.addr, ip("81.2.3.4"));
    assert_eq!(got.provider, "a + b");

    // Two of three agree: the odd one out is outvoted (and logged).
    let d = agree(named(vec![
        ("a", Ok("81.2.3.4")),
        ("hijacked", Ok("81.9.9.9")),
        ("c", Ok("81.2.3.4")),
    ]));
    let got = d.detect(Family::V4).await.unwrap();
    assert_eq!((got.addr, got.provider.as_str()), (ip("81.2.3.4"), "a + c"));

    // One failing does not matter while two agree.
    let d = agree(named(vec![
        ("a", Err("down")),
        ("b", Ok("81.2.3.4")),
        ("c", Ok("81.2.3.4")),
    ]));
    assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
}

#[tokio::test]
async fn agree_publishes_nothing_without_two_votes() {
    let cases: Vec<(Script<'_>, &str)> = vec![
        (
            vec![("a", Ok("81.2.3.4")), ("b", Ok("81.9.9.9"))],
            "no two IPv4 providers agree: a → 81.2.3.4; b → 81.9.9.9",
        ),
        (
            vec![("a", Ok("81.2.3.4")), ("b", Err("down"))],
            "no two IPv4 providers agree: a → 81.2.3.4; b: down",
        ),
        (
            vec![
                ("a", Ok("81.2.3.4")),
                ("b", Ok("81.9.9.9")),
                ("c", Ok("81.2.3.4")),
                ("d", Ok("81.9.9.9")),
            ],
            "a → 81.2.3.4; b → 81.9.9.9; c → 81.2.3.4; d → 81.9.9.9",
        ),
        (
            // Two agree on a bogon: it never counts.
            vec![
                ("a", Ok("10.0.0.1")),
                ("b", Ok("10.0.0.1")),
                ("c", Ok("81.2.3.4")),
            ],
            "a: answered 10.0.0.1, which is in 10.0.0.0/8",
        ),
    ];
    for (list, needle) in cases {
        let err = agree(named(list)).detect(Family::V4).await.unwrap_err();
        assert!(matches!(err, DetectError::NoAgreement { .. }), "{err:?}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[tokio::test(start_paused = true)]
async fn agree_asks_everyone_at_once() {
    let slow = |a: &'static str| {
        TestServer::v4(move |_| Reply::text(200, a).after(Duration::from_millis(400)))
    };
    let (s1, s2, s3) = (
        slow("81.2.3.4").await,
        slow("81.2.3.4").await,
        slow("81.2.3.4").await,
    );
    let cfg = DetectConfig {
        strategy: Strategy::Agree,
        ..config(
            vec![url(&s1), url(&s2), url(&s3)],
            vec![],
            Duration::from_secs(5),
        )
    };
    let d = Detector::new(&cfg, &Tls::new(None).unwrap()).unwrap();
    let started = Instant::now();
    assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
    assert!(
        started.elapsed() < Duration::from_millis(1100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((s1.hits(), s2.hits(), s3.hits()), (1, 1, 1));
}

#[test]
fn interfaces_are_listed_once() {
    let d = Detector::with_providers(
        strict(Duration::from_secs(1)),
        vec![
            Box::new(InterfaceProvider::new("eth0", Family::V4)),
            Box::new(StaticProvider::new(ip("81.2.3.4"), Family::V4)),
        ],
        vec![
            Box::new(InterfaceProvider::new("eth0", Family::V6)),
            Box::new(InterfaceProvider::new("br-lan", Family::V6)),
        ],
    );
    assert_eq!(
        d.interfaces(),
        [
            (Family::V4, "eth0".to_owned()),
            (Family::V6, "br-lan".to_owned()),
            (Family::V6, "eth0".to_owned())
        ]
    );
}

/// A filtered answer is that provider's failure: `fallback` moves on to the next provider,
/// and the error says which list refused it.
#[tokio::test]
async fn a_filtered_answer_moves_the_fallback_on() {
    use crate::detect::{Cidr, Filters};
    let filters = Filters {
        ipv6_reject: vec![Cidr::parse("fd00::/8").unwrap()],
        ipv4_accept: vec![Cidr::parse("203.0.113.0/24").unwrap()],
        ..Filters::default()
    };
    let d = Detector::with_providers(
        Policy::with_timeout(Duration::from_secs(1)),
        vec![
            Box::new(StaticProvider::new(ip("198.51.100.9"), Family::V4)),
            Box::new(StaticProvider::new(ip("203.0.113.7"), Family::V4)),
        ],
        vec![
            Box::new(StaticProvider::new(ip("fd00::1"), Family::V6)),
            Box::new(StaticProvider::new(ip("2001:db8::1"), Family::V6)),
        ],
    )
    .with_filters(filters);
    // Documentation addresses are bogons: allow them, so only the prefixes decide.
    let d = Detector {
        policy: lenient(Duration::from_secs(1)),
        ..d
    };
    let v4 = d.detect(Family::V4).await.unwrap();
    assert_eq!(v4.addr, ip("203.0.113.7"));
    let v6 = d.detect(Family::V6).await.unwrap();
    assert_eq!(v6.addr, ip("2001:db8::1"));
    match d.attempt(Family::V6, &d.slots(Family::V6)[0]).await {
        Err(e @ DetectError::Filtered { .. }) => assert_eq!(
            e.to_string(),
            "static:fd00::1: answered fd00::1, refused by detect.ipv6_reject (fd00::/8)"
        ),
        other => panic!("{other:?}"),
    }
    match d.attempt(Family::V4, &d.slots(Family::V4)[0]).await {
        Err(e @ DetectError::Filtered { .. }) => assert!(
            e.to_string()
                .ends_with("198.51.100.9, outside every prefix of detect.ipv4_accept"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    // A pushed address passes the same gate.
    assert!(d.admit("push".into(), ip("fd00::2")).is_err());
    assert!(d.admit("push".into(), ip("2001:db8::2")).is_ok());
}
