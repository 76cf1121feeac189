//! Every key read, and the defaults that apply when it is not: `[defaults]` under a record's own
//! values.

use super::*;

#[test]
fn minimal_file_gets_every_default() {
    let l = ok(&with_token(ONE_RECORD));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = l.config;
    assert_eq!(
        c.cloudflare.credentials.token().map_or("", |t| t.expose()),
        TOKEN
    );
    assert_eq!(c.cloudflare.api_url, "https://api.cloudflare.com/client/v4");
    assert_eq!(c.cloudflare.ca_file, None);
    assert_eq!(c.cloudflare.request_timeout, Duration::from_secs(10));
    assert_eq!(c.cloudflare.max_retries, 3);
    assert_eq!(c.detect.ipv4, vec![ProviderSpec::CloudflareTrace]);
    assert_eq!(c.detect.ipv6, vec![ProviderSpec::CloudflareTrace]);
    assert_eq!(c.detect.timeout, Duration::from_secs(5));
    assert_eq!(
        c.detect.trace_urls,
        [
            "https://api.cloudflare.com/cdn-cgi/trace",
            "https://www.cloudflare.com/cdn-cgi/trace",
            "https://cloudflare.com/cdn-cgi/trace"
        ]
    );
    assert_eq!(c.detect.strategy, crate::detect::Strategy::Fallback);
    assert!(!c.detect.allow_private);
    assert_eq!(c.detect.ipv6_prefix_len, 64);
    assert_eq!(
        c.detect
            .dns_servers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "1.1.1.1:53",
            "1.0.0.1:53",
            "[2606:4700:4700::1111]:53",
            "[2606:4700:4700::1001]:53"
        ]
    );
    assert_eq!(c.detect.doh_url, "https://cloudflare-dns.com/dns-query");
    assert_eq!(c.schedule.interval, Duration::from_secs(300));
    assert_eq!(c.schedule.cycle_deadline, Duration::from_secs(120));
    assert_eq!(c.schedule.shutdown_grace, Duration::from_secs(10));
    assert_eq!(c.state.dir, PathBuf::from("/var/lib/ddflare"));
    assert_eq!(c.state.max_age, Duration::from_secs(6 * 3600));
    assert_eq!(
        c.records,
        vec![RecordConfig {
            name: "home.example.com".into(),
            zone: None,
            zone_id: None,
            ipv4: true,
            ipv6: true,
            ttl: None,
            proxied: None,
            comment: None,
            ipv6_host: None,
            ownership: crate::plan::Ownership::All,
            delete_on_stop: false,
            credentials: None,
        }]
    );
}

#[test]
#[cfg(feature = "dns-detect")]
fn detection_keys_are_read_and_checked() {
    let text = with_token(
        r#"
[detect]
ipv4 = ["cloudflare.dns", "local", "interface:eth0"]
ipv6 = ["cloudflare.doh", "url6:https://ip.example/", "file:/run/wan6"]
strategy = "agree"
allow_private = true
ipv6_prefix_len = 56
trace_url = ["https://a.example/cdn-cgi/trace", "https://b.example/cdn-cgi/trace/"]
dns_servers = ["192.0.2.53", "192.0.2.54:5353", "[2001:db8::53]:53", "2001:db8::54"]
doh_url = "https://doh.example/dns-query"

[[record]]
name = "nas.example.com"
ipv6_host = "mac(00:11:22:33:44:55)"

[[record]]
name = "cam.example.com"
ipv6_host = "::1234"
"#,
    );
    let l = ok(&text);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let d = &l.config.detect;
    assert_eq!(
        d.ipv4,
        vec![
            ProviderSpec::CloudflareDns,
            ProviderSpec::Local,
            ProviderSpec::Interface("eth0".into())
        ]
    );
    assert_eq!(
        d.ipv6,
        vec![
            ProviderSpec::CloudflareDoh,
            ProviderSpec::Url {
                url: "https://ip.example/".into(),
                via: Some(crate::detect::Family::V6)
            },
            ProviderSpec::File("/run/wan6".into())
        ]
    );
    assert_eq!(d.strategy, crate::detect::Strategy::Agree);
    assert!(d.allow_private);
    assert_eq!(d.ipv6_prefix_len, 56);
    assert_eq!(
        d.trace_urls,
        [
            "https://a.example/cdn-cgi/trace",
            "https://b.example/cdn-cgi/trace"
        ]
    );
    assert_eq!(
        d.dns_servers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "192.0.2.53:53",
            "192.0.2.54:5353",
            "[2001:db8::53]:53",
            "[2001:db8::54]:53"
        ]
    );
    assert_eq!(d.doh_url, "https://doh.example/dns-query");
    let hosts: Vec<String> = l
        .config
        .records
        .iter()
        .map(|r| r.ipv6_host.map(|h| h.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(hosts, ["mac(00:11:22:33:44:55)", "::1234"]);

    let c = |body: &str| {
        parse(
            &with_token(&format!("{body}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    // Line numbers: 1 [cloudflare], 2 api_token, 3 [detect], 4 the key.
    let cases = [
        (
            "[detect]\nstrategy = \"majority\"",
            "detect.strategy: expected \"fallback\" or \"agree\", not \"majority\"",
            4,
        ),
        (
            "[detect]\nstrategy = \"agree\"",
            "detect.strategy: expected at least two IPv4 providers with strategy = \"agree\", found one",
            4,
        ),
        (
            "[detect]\nstrategy = \"agree\"\nipv4 = [\"cloudflare.trace\", \"cloudflare.dns\"]\nipv6 = \"cloudflare.trace\"",
            "detect.ipv6: expected at least two IPv6",
            6,
        ),
        (
            "[detect]\nallow_private = \"yes\"",
            "detect.allow_private",
            4,
        ),
        (
            "[detect]\nipv6_prefix_len = 0",
            "detect.ipv6_prefix_len: expected a prefix length from 1 to 127, found 0",
            4,
        ),
        ("[detect]\nipv6_prefix_len = 128", "found 128", 4),
        (
            "[detect]\ndns_servers = [\"one.one.one.one\"]",
            "detect.dns_servers: expected an IP address with an optional port",
            4,
        ),
        (
            "[detect]\ndns_servers = []",
            "expected at least one server address",
            4,
        ),
        (
            "[detect]\ndns_servers = \"1.1.1.1\"\nipv6 = \"cloudflare.dns\"",
            "detect.ipv6: `cloudflare.dns` needs an IPv6 address in detect.dns_servers",
            5,
        ),
        (
            "[detect]\ndns_servers = \"2001:db8::1\"\nipv4 = \"local\"",
            "`local` needs an IPv4 address",
            5,
        ),
        ("[detect]\ndoh_url = \"dns.example\"", "detect.doh_url", 4),
        (
            "[detect]\ntrace_url = []",
            "detect.trace_url: expected at least one URL",
            4,
        ),
        (
            "[detect]\ntrace_url = [\"https://a.example/\", \"nope\"]",
            "detect.trace_url",
            4,
        ),
        (
            "[detect]\nipv4 = \"interface:\"",
            "`interface:` followed by an interface name",
            4,
        ),
        (
            "[detect]\nipv4 = \"file:wan.txt\"",
            "`file:` followed by an absolute path",
            4,
        ),
    ];
    for (body, needle, line) in cases {
        expect(&c(body).unwrap_err(), needle, Some(line));
    }
    let e = parse(
        &with_token("[[record]]\nname = \"a.example.com\"\nipv6_host = \"1234\"\n"),
        "ddflare.toml",
        &no_env(),
    )
    .unwrap_err();
    expect(
        &e,
        "record[1].ipv6_host: expected an IPv6 host part such as \"::1234\"",
        Some(5),
    );
    let l = ok(&with_token(
        "[[record]]\nname = \"a.example.com\"\nipv6 = false\nipv6_host = \"::1\"\n",
    ));
    assert!(
        l.warnings[0].contains("record[1].ipv6_host") && l.warnings[0].contains("has no effect"),
        "{:?}",
        l.warnings
    );
}

#[test]
fn every_key_is_read() {
    let ca = tempfile::NamedTempFile::new().unwrap();
    let ca_path = ca.path().display().to_string();
    let text = format!(
        r#"
[cloudflare]
api_token = "{TOKEN}"
api_url = "https://cf.example.net:8443/client/v4/"
ca_file = "{ca_path}"
request_timeout = "20s"
max_retries = 5

[detect]
ipv4 = ["static:203.0.113.7", "url:https://ip.example/"]
ipv6 = "none"
timeout = "3s"
trace_url = "https://trace.example/cdn-cgi/trace"

[schedule]
interval = "1h30m"
cycle_deadline = "1m"
shutdown_grace = "0s"

[state]
dir = "/srv/ddflare"
max_age = "1d"

[defaults]
ttl = 300
proxied = true
comment = "hello"
ipv4 = true
ipv6 = false

[[record]]
name = "a.example.com"
zone = "example.com"
zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
ttl = "auto"
proxied = false
comment = ""
"#
    );
    let c = ok(&text).config;
    assert_eq!(
        c.cloudflare.api_url,
        "https://cf.example.net:8443/client/v4"
    );
    assert_eq!(c.cloudflare.ca_file, Some(ca.path().to_path_buf()));
    assert_eq!(c.cloudflare.request_timeout, Duration::from_secs(20));
    assert_eq!(c.cloudflare.max_retries, 5);
    let addr: IpAddr = "203.0.113.7".parse().unwrap();
    assert_eq!(
        c.detect.ipv4,
        vec![
            ProviderSpec::Static(addr),
            ProviderSpec::Url {
                url: "https://ip.example/".into(),
                via: None
            }
        ]
    );
    assert!(c.detect.ipv6.is_empty());
    assert_eq!(c.detect.timeout, Duration::from_secs(3));
    assert_eq!(c.detect.trace_urls, ["https://trace.example/cdn-cgi/trace"]);
    assert_eq!(c.schedule.interval, Duration::from_secs(5400));
    assert_eq!(c.schedule.cycle_deadline, Duration::from_secs(60));
    assert_eq!(c.schedule.shutdown_grace, Duration::ZERO);
    assert_eq!(c.state.dir, PathBuf::from("/srv/ddflare"));
    assert_eq!(c.state.max_age, Duration::from_secs(86400));
    let r = &c.records[0];
    assert_eq!(r.zone.as_deref(), Some("example.com"));
    assert_eq!(
        r.zone_id.as_deref(),
        Some("023e105f4ecef8ad9ca31a8372d0c353")
    );
    assert_eq!(r.ttl, Some(Ttl::Auto));
    assert_eq!(r.proxied, Some(false));
    assert_eq!(r.comment.as_deref(), Some(""));
    assert!(r.ipv4);
    assert!(!r.ipv6);
}

#[test]
fn defaults_apply_unless_the_record_overrides() {
    let text = with_token(
        r#"
[defaults]
ttl = 120
proxied = true
comment = "managed by ddflare"
ipv6 = false

[[record]]
name = "a.example.com"

[[record]]
name = "b.example.com"
ttl = 600
proxied = false
comment = "b"
ipv6 = true
ipv4 = false
"#,
    );
    let c = ok(&text).config;
    let (a, b) = (&c.records[0], &c.records[1]);
    assert_eq!(a.ttl, Some(Ttl::Seconds(120)));
    assert_eq!(a.proxied, Some(true));
    assert_eq!(a.comment.as_deref(), Some("managed by ddflare"));
    assert!(a.ipv4 && !a.ipv6);
    assert_eq!(b.ttl, Some(Ttl::Seconds(600)));
    assert_eq!(b.proxied, Some(false));
    assert_eq!(b.comment.as_deref(), Some("b"));
    assert!(!b.ipv4 && b.ipv6);
}
