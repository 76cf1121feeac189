//! Tests of the whole configuration layer: every key, default and environment override, the
//! messages (key, line, hint, never the token), the `tests/bad_config` corpus,
//! `config.example.toml`, and a property test that no input panics the parser.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::detect::ProviderSpec;

/// Plausible, fake, and distinctive enough to search for in messages.
const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";
const TOKEN2: &str = "Yw8_otherTOKENotherTOKENotherTOKEN-98765";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn with_token(body: &str) -> String {
    format!("[cloudflare]\napi_token = \"{TOKEN}\"\n{body}")
}

const ONE_RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

fn assert_no_token(text: &str) {
    for t in [TOKEN, TOKEN2] {
        assert!(!text.contains(t), "token leaked: {text}");
        assert!(!text.contains(&t[..12]), "token prefix leaked: {text}");
        assert!(
            !text.contains(&t[t.len() - 12..]),
            "token suffix leaked: {text}"
        );
    }
}

#[track_caller]
fn ok_env(text: &str, e: &HashMap<String, String>) -> Loaded {
    match parse(text, "ddflare.toml", e) {
        Ok(l) => {
            assert_no_token(&format!("{l:?}"));
            l
        }
        Err(err) => panic!("unexpected error:\n{err}"),
    }
}

#[track_caller]
fn ok(text: &str) -> Loaded {
    ok_env(text, &no_env())
}

#[track_caller]
fn err_env(text: &str, e: &HashMap<String, String>) -> ConfigError {
    match parse(text, "ddflare.toml", e) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => {
            assert_no_token(&err.to_string());
            assert_no_token(&format!("{err:?}"));
            err
        }
    }
}

#[track_caller]
fn err(text: &str) -> ConfigError {
    err_env(text, &no_env())
}

/// The message contains `part`, and `ddflare.toml:LINE:` when a line is given.
#[track_caller]
fn expect(e: &ConfigError, part: &str, line: Option<usize>) {
    let shown = e.to_string();
    assert!(shown.contains(part), "expected `{part}` in:\n{shown}");
    if let Some(line) = line {
        assert!(
            shown.contains(&format!("ddflare.toml:{line}:")),
            "expected line {line} in:\n{shown}"
        );
    }
}

// ---------------------------------------------------------------- defaults and every key

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
        }]
    );
}

#[test]
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

// ---------------------------------------------------------------- cloudflare

#[test]
fn api_url_rules() {
    let c = |url: &str| {
        let text = with_token(&format!("api_url = \"{url}\"\n{ONE_RECORD}"));
        parse(&text, "ddflare.toml", &no_env())
    };
    let l = c("http://127.0.0.1:8787/client/v4/").unwrap();
    assert_eq!(
        l.config.cloudflare.api_url,
        "http://127.0.0.1:8787/client/v4"
    );
    assert_eq!(
        l.config.detect.trace_urls,
        ["http://127.0.0.1:8787/cdn-cgi/trace"]
    );
    assert!(c("http://localhost:1/v4").is_ok());
    assert!(c("http://[::1]:1/v4").is_ok());
    let e = c("http://example.com/client/v4").unwrap_err();
    expect(&e, "cloudflare.api_url", Some(3));
    expect(&e, "https", None);
    expect(
        &c("ftp://x.example/").unwrap_err(),
        "expected an http(s) URL",
        Some(3),
    );
    expect(&c("").unwrap_err(), "cloudflare.api_url", Some(3));
}

#[test]
fn max_retries_and_request_timeout() {
    let c = |line: &str| {
        parse(
            &with_token(&format!("{line}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    assert_eq!(
        c("max_retries = 0").unwrap().config.cloudflare.max_retries,
        0
    );
    assert_eq!(
        c("max_retries = 10").unwrap().config.cloudflare.max_retries,
        10
    );
    expect(
        &c("max_retries = 11").unwrap_err(),
        "expected an integer from 0 to 10, found 11",
        Some(3),
    );
    expect(&c("max_retries = -1").unwrap_err(), "found -1", Some(3));
    expect(
        &c("max_retries = \"3\"").unwrap_err(),
        "cloudflare.max_retries",
        Some(3),
    );
    expect(
        &c("max_retries = 2.5").unwrap_err(),
        "expected an integer",
        Some(3),
    );
    expect(
        &c("request_timeout = \"0s\"").unwrap_err(),
        "greater than zero",
        Some(3),
    );
    expect(
        &c("request_timeout = 10").unwrap_err(),
        "add a unit",
        Some(3),
    );
}

#[test]
fn ca_file_must_exist() {
    let text = with_token(&format!("ca_file = \"/nonexistent/ca.pem\"\n{ONE_RECORD}"));
    let e = err(&text);
    expect(&e, "cloudflare.ca_file", Some(3));
    expect(&e, "/nonexistent/ca.pem", None);
    let dir = tempfile::tempdir().unwrap();
    let text = with_token(&format!(
        "ca_file = \"{}\"\n{ONE_RECORD}",
        dir.path().display()
    ));
    expect(&err(&text), "directory", Some(3));
}

// ---------------------------------------------------------------- detect

#[test]
fn provider_lists() {
    let c = |body: &str| {
        parse(
            &with_token(&format!("[detect]\n{body}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let l = c("ipv4 = \"none\"").unwrap();
    assert!(l.config.detect.ipv4.is_empty());
    assert!(
        !l.config.records[0].ipv4,
        "a family without providers is off"
    );
    assert!(l.config.records[0].ipv6);
    assert!(
        c("ipv6 = [\"none\"]")
            .unwrap()
            .config
            .detect
            .ipv6
            .is_empty()
    );
    assert_eq!(
        c("ipv4 = \"cloudflare.trace\"").unwrap().config.detect.ipv4,
        vec![ProviderSpec::CloudflareTrace]
    );
    expect(
        &c("ipv4 = [\"none\", \"cloudflare.trace\"]").unwrap_err(),
        "mixed",
        Some(4),
    );
    expect(&c("ipv4 = []").unwrap_err(), "empty list", Some(4));
    expect(
        &c("ipv6 = [\"ipify\"]").unwrap_err(),
        "detect.ipv6",
        Some(4),
    );
    expect(&c("ipv6 = [1]").unwrap_err(), "detect.ipv6", Some(4));
    expect(&c("ipv4 = true").unwrap_err(), "detect.ipv4", Some(4));
    let e = c("ipv4 = \"none\"\nipv6 = \"none\"").unwrap_err();
    expect(&e, "nothing to update", Some(5));
    expect(
        &c("timeout = \"0s\"").unwrap_err(),
        "detect.timeout",
        Some(4),
    );
    expect(
        &c("trace_url = \"trace\"").unwrap_err(),
        "detect.trace_url",
        Some(4),
    );
    assert_eq!(
        c("trace_url = \"http://10.0.0.1/cdn-cgi/trace\"")
            .unwrap()
            .config
            .detect
            .trace_urls,
        ["http://10.0.0.1/cdn-cgi/trace"]
    );
}

#[test]
fn timeouts_longer_than_the_deadline_warn() {
    let l = ok(&with_token(&format!(
        "[detect]\ntimeout = \"3m\"\n{ONE_RECORD}"
    )));
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(
        l.warnings[0].contains("ddflare.toml:4: detect.timeout"),
        "{}",
        l.warnings[0]
    );
}

// ---------------------------------------------------------------- schedule and state

#[test]
fn durations_and_minimum_interval() {
    let c = |body: &str| {
        parse(
            &with_token(&format!("[schedule]\n{body}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    assert_eq!(
        c("interval = \"10s\"").unwrap().config.schedule.interval,
        Duration::from_secs(10)
    );
    assert_eq!(
        c("interval = \"1h 30m\"").unwrap().config.schedule.interval,
        Duration::from_secs(5400)
    );
    expect(
        &c("interval = \"9s\"").unwrap_err(),
        "expected at least 10s, found 9s",
        Some(4),
    );
    expect(
        &c("interval = \"0s\"").unwrap_err(),
        "schedule.interval",
        Some(4),
    );
    expect(&c("interval = \"300\"").unwrap_err(), "add a unit", Some(4));
    expect(&c("interval = 300").unwrap_err(), "add a unit", Some(4));
    expect(
        &c("interval = \"5 minutes later\"").unwrap_err(),
        "5 minutes later",
        Some(4),
    );
    expect(
        &c("interval = \"-5m\"").unwrap_err(),
        "schedule.interval",
        Some(4),
    );
    expect(
        &c("interval = \"500days\"").unwrap_err(),
        "at most",
        Some(4),
    );
    expect(
        &c("cycle_deadline = \"0s\"").unwrap_err(),
        "schedule.cycle_deadline",
        Some(4),
    );
    assert_eq!(
        c("shutdown_grace = \"0s\"")
            .unwrap()
            .config
            .schedule
            .shutdown_grace,
        Duration::ZERO
    );
    assert_eq!(
        c("shutdown_grace = \"500ms\"")
            .unwrap()
            .config
            .schedule
            .shutdown_grace,
        Duration::from_millis(500)
    );
}

#[test]
fn state_dir_precedence() {
    let base = with_token(ONE_RECORD);
    let file = with_token(&format!(
        "[state]\ndir = \"/from/file\"\nmax_age = \"2h\"\n{ONE_RECORD}"
    ));
    let sd = env(&[("STATE_DIRECTORY", "/run/a:/run/b")]);
    assert_eq!(ok_env(&base, &sd).config.state.dir, PathBuf::from("/run/a"));
    let l = ok_env(&file, &sd);
    assert_eq!(l.config.state.dir, PathBuf::from("/from/file"));
    assert_eq!(l.config.state.max_age, Duration::from_secs(7200));
    let both = env(&[
        ("STATE_DIRECTORY", "/run/a"),
        ("DDFLARE_STATE_DIR", "/from/env"),
    ]);
    assert_eq!(
        ok_env(&file, &both).config.state.dir,
        PathBuf::from("/from/env")
    );
    let empty = env(&[("DDFLARE_STATE_DIR", ""), ("STATE_DIRECTORY", "")]);
    assert_eq!(
        ok_env(&base, &empty).config.state.dir,
        PathBuf::from("/var/lib/ddflare")
    );
    expect(
        &err(&with_token(&format!("[state]\ndir = \"\"\n{ONE_RECORD}"))),
        "state.dir",
        Some(4),
    );
    expect(
        &err(&with_token(&format!(
            "[state]\nmax_age = \"0s\"\n{ONE_RECORD}"
        ))),
        "state.max_age",
        Some(4),
    );
}

// ---------------------------------------------------------------- TTL, proxied, comment

#[test]
fn ttl_edge_values_in_the_file() {
    let c = |v: &str| {
        parse(
            &with_token(&format!("[defaults]\nttl = {v}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let ttl_of = |v: &str| c(v).unwrap().config.records[0].ttl;
    expect(&c("29").unwrap_err(), "found 29", Some(4));
    expect(&c("29").unwrap_err(), "defaults.ttl", None);
    for v in ["30", "59"] {
        let l = c(v).unwrap();
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("Enterprise"), "{}", l.warnings[0]);
        assert!(
            l.warnings[0].contains("ddflare.toml:4: defaults.ttl"),
            "{}",
            l.warnings[0]
        );
    }
    assert_eq!(ttl_of("60"), Some(Ttl::Seconds(60)));
    assert!(c("60").unwrap().warnings.is_empty());
    assert_eq!(ttl_of("86400"), Some(Ttl::Seconds(86400)));
    expect(&c("86401").unwrap_err(), "found 86401", Some(4));
    assert_eq!(ttl_of("\"auto\""), Some(Ttl::Auto));
    assert_eq!(ttl_of("\"AUTO\""), Some(Ttl::Auto));
    expect(&c("-1").unwrap_err(), "found -1", Some(4));
    expect(&c("0").unwrap_err(), "found 0", Some(4));
    expect(&c("1").unwrap_err(), "write \"auto\"", Some(4));
    expect(&c("\"5m\"").unwrap_err(), "ttl = 300", Some(4));
    expect(&c("\"300\"").unwrap_err(), "remove the quotes", Some(4));
    expect(&c("true").unwrap_err(), "defaults.ttl", Some(4));
    expect(&c("3.5").unwrap_err(), "defaults.ttl", Some(4));
    expect(
        &c("99999999999999999999").unwrap_err(),
        "ddflare.toml:4",
        None,
    );
    assert_eq!(Ttl::Auto.api_value(), 1);
    assert_eq!(Ttl::Seconds(300).api_value(), 300);
}

#[test]
fn per_record_ttl_errors_name_the_record() {
    let text = with_token(
        "[[record]]\nname = \"a.example.com\"\n\n[[record]]\nname = \"b.example.com\"\nttl = 10\n",
    );
    let e = err(&text);
    expect(&e, "ddflare.toml:8: record[2].ttl: ", None);
    assert_eq!(e.key(), "record[2].ttl");
    assert_eq!(e.line(), Some(8));
}

#[test]
fn comment_rules() {
    let c = |v: &str| {
        parse(
            &with_token(&format!("[defaults]\ncomment = {v}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    let hundred = "x".repeat(100);
    assert_eq!(
        c(&format!("\"{hundred}\"")).unwrap().config.records[0].comment,
        Some(hundred.clone())
    );
    expect(
        &c(&format!("\"{hundred}y\"")).unwrap_err(),
        "found 101",
        Some(4),
    );
    expect(&c("\"a\\nb\"").unwrap_err(), "line break", Some(4));
    expect(&c("\"a\\rb\"").unwrap_err(), "line break", Some(4));
    expect(&c("5").unwrap_err(), "defaults.comment", Some(4));
}

#[test]
fn proxied_must_be_a_boolean() {
    let e = err(&with_token("[defaults]\nproxied = \"yes\"\n"));
    expect(
        &e,
        "ddflare.toml:4: defaults.proxied: expected a boolean, found string \"yes\"",
        None,
    );
    expect(&e, "hint: write true or false", None);
}

// ---------------------------------------------------------------- records

#[test]
fn names_are_normalized() {
    let text = with_token(
        "[[record]]\nname = \"bücher.example\"\n[[record]]\nname = \"Home.Example.COM.\"\n[[record]]\nname = \"*.example.com\"\nzone = \"Example.com.\"\n",
    );
    let c = ok(&text).config;
    let names: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["xn--bcher-kva.example", "home.example.com", "*.example.com"]
    );
    assert_eq!(c.records[2].zone.as_deref(), Some("example.com"));
    let idn_zone =
        with_token("[[record]]\nname = \"www.bücher.example\"\nzone = \"BÜCHER.example\"\n");
    assert_eq!(
        ok(&idn_zone).config.records[0].zone.as_deref(),
        Some("xn--bcher-kva.example")
    );
}

#[test]
fn bad_names() {
    let c = |name: &str| err(&with_token(&format!("[[record]]\nname = \"{name}\"\n")));
    expect(&c("localhost"), "record[1].name", Some(4));
    expect(&c("localhost"), "single label", None);
    expect(&c("a..example.com"), "empty label", Some(4));
    expect(&c(""), "empty string", Some(4));
    expect(&c("a.*.example.com"), "`*`", Some(4));
    expect(&c("https://home.example.com"), "without a scheme", Some(4));
    expect(&c("192.0.2.1"), "IP address", Some(4));
    expect(
        &c(&format!("{}.com", "a".repeat(64))),
        "at most 63",
        Some(4),
    );
    expect(&c("under score!.com"), "whitespace", Some(4));
}

#[test]
fn zone_and_zone_id() {
    let c = |extra: &str| {
        err(&with_token(&format!(
            "[[record]]\nname = \"home.example.com\"\n{extra}\n"
        )))
    };
    expect(&c("zone = \"example.org\""), "record[1].zone", Some(5));
    expect(&c("zone = \"ample.com\""), "found \"ample.com\"", Some(5));
    expect(&c("zone = \"*.example.com\""), "wildcard", Some(5));
    expect(&c("zone_id = \"xyz\""), "32 lowercase hexadecimal", Some(5));
    expect(
        &c("zone_id = \"023E105F4ECEF8AD9CA31A8372D0C353\""),
        "lowercase",
        Some(5),
    );
    let same = with_token("[[record]]\nname = \"example.com\"\nzone = \"example.com\"\n");
    assert_eq!(
        ok(&same).config.records[0].zone.as_deref(),
        Some("example.com")
    );
}

#[test]
fn duplicates_missing_names_and_no_records() {
    let dup = with_token(
        "[[record]]\nname = \"home.example.com\"\n\n[[record]]\nname = \"HOME.example.com.\"\n",
    );
    let e = err(&dup);
    expect(&e, "ddflare.toml:7: record[2].name", None);
    expect(&e, "record[1] on line 4", None);
    let e = err(&with_token("[[record]]\nzone = \"example.com\"\n"));
    expect(&e, "ddflare.toml:3: record[1]: expected a `name` key", None);
    let e = err(&with_token(""));
    expect(
        &e,
        "ddflare.toml: record: expected at least one [[record]]",
        None,
    );
    expect(&e, "DDFLARE_RECORDS", None);
}

#[test]
fn a_record_needs_a_family() {
    let e = err(&with_token(
        "[[record]]\nname = \"home.example.com\"\nipv4 = false\nipv6 = false\n",
    ));
    expect(
        &e,
        "ddflare.toml:3: record[1]: expected at least one address family",
        None,
    );
    let e = err(&with_token(
        "[detect]\nipv6 = \"none\"\n[defaults]\nipv4 = false\n[[record]]\nname = \"home.example.com\"\n",
    ));
    expect(&e, "record[1]", Some(7));
    expect(&e, "detect.ipv6 is \"none\"", None);
    let l = ok(&with_token(
        "[detect]\nipv6 = \"none\"\n[[record]]\nname = \"home.example.com\"\nipv6 = true\n",
    ));
    assert!(!l.config.records[0].ipv6);
    assert_eq!(l.warnings.len(), 1);
    assert!(
        l.warnings[0].contains("ddflare.toml:7: record[1].ipv6: has no effect"),
        "{}",
        l.warnings[0]
    );
}

// ---------------------------------------------------------------- unknown keys, types, syntax

#[test]
fn unknown_keys_at_each_level() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("colour = 1\n", "colour: unknown key", 1, "the tables are"),
        (
            "[cloudfare]\n",
            "cloudfare: unknown table",
            1,
            "did you mean `cloudflare`?",
        ),
        (
            "[cloudflare]\napi_tokne = \"x\"\n",
            "cloudflare.api_tokne: unknown key",
            2,
            "did you mean `api_token`?",
        ),
        (
            "[detect]\nipv_4 = \"none\"\n",
            "detect.ipv_4: unknown key",
            2,
            "did you mean `ipv4`?",
        ),
        (
            "[schedule]\nintervall = \"5m\"\n",
            "schedule.intervall: unknown key",
            2,
            "did you mean `interval`?",
        ),
        (
            "[state]\ndirectory = \"/x\"\n",
            "state.directory: unknown key",
            2,
            "the keys of [state] are",
        ),
        (
            "[defaults]\ninterval = \"5m\"\n",
            "defaults.interval: unknown key",
            2,
            "belongs in [schedule]",
        ),
        (
            "[[records]]\nname = \"a.example.com\"\n",
            "records: unknown table",
            1,
            "[[record]]",
        ),
        (
            "[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\nzoneid = \"x\"\n",
            "record[2].zoneid: unknown key",
            5,
            "did you mean `zone_id`?",
        ),
    ];
    for (text, part, line, hint) in cases {
        let e = err(text);
        expect(&e, part, Some(*line));
        expect(&e, hint, None);
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = err("[defaults]\nttl = 300\nproxied = tru\n");
    expect(&e, "ddflare.toml:3:11: ", None);
    expect(&e, "TOML syntax error", None);
    let e = err("[defaults]\nttl = 1\nttl = 2\n");
    expect(
        &e,
        "ddflare.toml:3:1: defaults.ttl: TOML syntax error: duplicate key",
        None,
    );
    let e = err("[defaults\n");
    expect(&e, "ddflare.toml:1:", None);
    let e = err("[record]\nname = \"a.example.com\"\n");
    expect(&e, "hint: write `[[record]]`", Some(1));
}

#[test]
fn bom_and_crlf_are_fine() {
    let text = format!("\u{feff}{}", with_token(ONE_RECORD).replace('\n', "\r\n"));
    assert_eq!(ok(&text).config.records.len(), 1);
}

// ---------------------------------------------------------------- environment

#[test]
fn env_overrides_win_over_the_file() {
    let text = with_token(
        r#"api_url = "https://file.example/client/v4"
[detect]
ipv4 = "none"
[schedule]
interval = "10m"
[state]
dir = "/from/file"
[defaults]
ttl = 120
proxied = false
comment = "file"
[[record]]
name = "file.example.com"
ttl = 600
proxied = false
comment = "rec"
"#,
    );
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN2),
        ("DDFLARE_RECORDS", "a.example.com, bücher.example ,"),
        ("DDFLARE_IPV4", "static:192.0.2.1, cloudflare.trace"),
        ("DDFLARE_IPV6", "none"),
        ("DDFLARE_INTERVAL", "30s"),
        ("DDFLARE_TTL", "auto"),
        ("DDFLARE_PROXIED", "yes"),
        ("DDFLARE_COMMENT", "from env"),
        ("DDFLARE_STATE_DIR", "/from/env"),
        ("DDFLARE_API_URL", "http://127.0.0.1:9999/client/v4"),
    ]);
    let l = ok_env(&text, &e);
    let c = &l.config;
    assert_eq!(
        c.cloudflare.credentials.token().map_or("", |t| t.expose()),
        TOKEN2
    );
    assert_eq!(c.cloudflare.api_url, "http://127.0.0.1:9999/client/v4");
    assert_eq!(c.detect.trace_urls, ["http://127.0.0.1:9999/cdn-cgi/trace"]);
    assert_eq!(c.detect.ipv4.len(), 2);
    assert!(c.detect.ipv6.is_empty());
    assert_eq!(c.schedule.interval, Duration::from_secs(30));
    assert_eq!(c.state.dir, PathBuf::from("/from/env"));
    let names: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a.example.com", "xn--bcher-kva.example"]);
    for r in &c.records {
        assert_eq!(r.ttl, Some(Ttl::Auto));
        assert_eq!(r.proxied, Some(true));
        assert_eq!(r.comment.as_deref(), Some("from env"));
        assert!(r.ipv4 && !r.ipv6);
        assert_eq!(r.zone, None);
    }
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("DDFLARE_RECORDS: replaces the 1 [[record]]")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn env_ttl_proxied_comment_override_per_record_values() {
    let text = with_token(
        "[[record]]\nname = \"a.example.com\"\nttl = 600\nproxied = true\ncomment = \"rec\"\n",
    );
    let e = env(&[
        ("DDFLARE_TTL", "60"),
        ("DDFLARE_PROXIED", "0"),
        ("DDFLARE_COMMENT", " "),
    ]);
    let r = &ok_env(&text, &e).config.records[0];
    assert_eq!(r.ttl, Some(Ttl::Seconds(60)));
    assert_eq!(r.proxied, Some(false));
    assert_eq!(r.comment.as_deref(), Some(" "));
}

#[test]
fn empty_env_values_are_ignored() {
    let e = env(&[
        ("DDFLARE_RECORDS", ""),
        ("DDFLARE_IPV4", ""),
        ("DDFLARE_IPV6", ""),
        ("DDFLARE_INTERVAL", ""),
        ("DDFLARE_TTL", ""),
        ("DDFLARE_PROXIED", ""),
        ("DDFLARE_COMMENT", ""),
        ("DDFLARE_STATE_DIR", ""),
        ("DDFLARE_API_URL", ""),
        ("STATE_DIRECTORY", ""),
        ("CREDENTIALS_DIRECTORY", ""),
    ]);
    let l = ok_env(&with_token(ONE_RECORD), &e);
    assert_eq!(l.config, ok(&with_token(ONE_RECORD)).config);
}

#[test]
fn env_errors_name_the_variable() {
    let base = with_token(ONE_RECORD);
    let cases: &[(&str, &str, &str)] = &[
        ("DDFLARE_TTL", "5m", "DDFLARE_TTL: expected \"auto\""),
        ("DDFLARE_TTL", "29", "DDFLARE_TTL: expected"),
        ("DDFLARE_TTL", "86401", "found 86401"),
        ("DDFLARE_TTL", "-1", "found -1"),
        (
            "DDFLARE_PROXIED",
            "maybe",
            "DDFLARE_PROXIED: expected true/false",
        ),
        (
            "DDFLARE_INTERVAL",
            "5",
            "DDFLARE_INTERVAL: expected a duration",
        ),
        (
            "DDFLARE_INTERVAL",
            "9s",
            "DDFLARE_INTERVAL: expected at least 10s",
        ),
        (
            "DDFLARE_IPV4",
            "none,cloudflare.trace",
            "DDFLARE_IPV4: expected either \"none\" alone",
        ),
        ("DDFLARE_IPV6", "ipify", "DDFLARE_IPV6: expected a provider"),
        (
            "DDFLARE_API_URL",
            "http://api.example/",
            "DDFLARE_API_URL: expected an https URL",
        ),
        (
            "DDFLARE_COMMENT",
            "a\nb",
            "DDFLARE_COMMENT: expected a comment on a single line",
        ),
        (
            "DDFLARE_RECORDS",
            "ok.example.com,localhost",
            "DDFLARE_RECORDS: entry 2 (\"localhost\")",
        ),
        (
            "DDFLARE_RECORDS",
            "a.example.com,A.example.com.",
            "found \"a.example.com\" again",
        ),
        (
            "DDFLARE_RECORDS",
            " , ,",
            "DDFLARE_RECORDS: expected comma-separated record names",
        ),
    ];
    for (var, value, part) in cases {
        let e = err_env(&base, &env(&[(var, value)]));
        expect(&e, part, None);
        assert!(e.location().is_none(), "{e}");
    }
}

#[test]
fn env_ttl_warning_names_the_variable() {
    let l = ok_env(&with_token(ONE_RECORD), &env(&[("DDFLARE_TTL", "45")]));
    assert_eq!(l.config.records[0].ttl, Some(Ttl::Seconds(45)));
    assert!(
        l.warnings.iter().any(|w| w.starts_with("DDFLARE_TTL: ")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn env_only_configuration() {
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
    ]);
    let c = ok_env("", &e).config;
    assert_eq!(c.records.len(), 1);
    assert_eq!(
        c.cloudflare.credentials.token().map_or("", |t| t.expose()),
        TOKEN
    );
    let e2 = env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]);
    expect(&err_env("", &e2), "expected at least one [[record]]", None);
    let e3 = env(&[("DDFLARE_RECORDS", "home.example.com")]);
    expect(
        &err_env("", &e3),
        "cloudflare.api_token: expected an API token, found none",
        None,
    );
}

// ---------------------------------------------------------------- token sources and checks

fn token_file(content: &str, mode: u32) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
    f
}

#[test]
fn token_file_is_trimmed_and_checked() {
    let f = token_file(&format!("{TOKEN}\n\n"), 0o600);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    );
    let l = ok(&text);
    assert_eq!(
        l.config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN
    );
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);

    let bad = token_file(&format!("Bearer {TOKEN}\n"), 0o600);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        bad.path().display()
    );
    let e = err(&text);
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_token_file: the token in `",
        None,
    );
    expect(&e, "Bearer", None);
}

#[cfg(unix)]
#[test]
fn loose_token_file_warns() {
    let f = token_file(TOKEN, 0o644);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    );
    let l = ok(&text);
    assert_eq!(l.warnings.len(), 1);
    assert!(l.warnings[0].contains("chmod 600"), "{}", l.warnings[0]);
    assert_no_token(&l.warnings[0]);
}

#[test]
fn unreadable_token_file_names_path_and_os_error() {
    let text =
        format!("[cloudflare]\napi_token_file = \"/nonexistent/ddflare-token\"\n{ONE_RECORD}");
    let e = err(&text);
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_token_file: cannot read `/nonexistent/ddflare-token`",
        None,
    );
    expect(&e, "os error 2", None);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        dir.path().display()
    );
    expect(&err(&text), "cannot read", Some(2));
    let e = err_env(
        ONE_RECORD,
        &env(&[("CLOUDFLARE_API_TOKEN_FILE", "/nonexistent/t")]),
    );
    expect(
        &e,
        "CLOUDFLARE_API_TOKEN_FILE: cannot read `/nonexistent/t`",
        None,
    );
}

#[test]
fn a_token_given_as_a_path_is_not_echoed() {
    let text = format!("[cloudflare]\napi_token_file = \"{TOKEN}\"\n{ONE_RECORD}");
    expect(&err(&text), "looks like the token itself", Some(2));
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN_FILE", TOKEN)]));
    expect(&e, "CLOUDFLARE_API_TOKEN_FILE", None);
}

#[test]
fn token_source_precedence_and_conflicts() {
    let f = token_file(TOKEN2, 0o600);
    let path = f.path().display().to_string();
    let file = with_token(ONE_RECORD);
    // env token > env token file > file
    assert_eq!(
        ok_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN2)]))
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    assert_eq!(
        ok_env(&file, &env(&[("CLOUDFLARE_API_TOKEN_FILE", &path)]))
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    let e = err_env(
        &file,
        &env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN2),
            ("CLOUDFLARE_API_TOKEN_FILE", &path),
        ]),
    );
    expect(
        &e,
        "expected only one of CLOUDFLARE_API_TOKEN and CLOUDFLARE_API_TOKEN_FILE",
        None,
    );
    let both =
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\napi_token_file = \"{path}\"\n{ONE_RECORD}");
    let e = err(&both);
    expect(
        &e,
        "ddflare.toml:3: cloudflare.api_token_file: expected either api_token or api_token_file, found both (api_token on line 2)",
        None,
    );
    // Empty token variables are errors, not "unset".
    expect(
        &err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", "")])),
        "CLOUDFLARE_API_TOKEN: expected an API token, found an empty value",
        None,
    );
    expect(
        &err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN_FILE", "")])),
        "CLOUDFLARE_API_TOKEN_FILE: expected the path",
        None,
    );
    expect(
        &err(&format!("[cloudflare]\napi_token = \"\"\n{ONE_RECORD}")),
        "empty value",
        Some(2),
    );
}

#[test]
fn systemd_credential_is_the_last_resort() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cloudflare_api_token"),
        format!("{TOKEN2}\n"),
    )
    .unwrap();
    let d = dir.path().display().to_string();
    let e = env(&[("CREDENTIALS_DIRECTORY", &d)]);
    assert_eq!(
        ok_env(ONE_RECORD, &e)
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    assert_eq!(
        ok_env(&with_token(ONE_RECORD), &e)
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN
    );
    // A credentials directory without the credential is not an error by itself.
    let empty = tempfile::tempdir().unwrap();
    let e = env(&[("CREDENTIALS_DIRECTORY", &empty.path().display().to_string())]);
    expect(&err_env(ONE_RECORD, &e), "found none", None);
    // A bad credential is reported with its path.
    std::fs::write(dir.path().join("cloudflare_api_token"), "short").unwrap();
    let e = err_env(ONE_RECORD, &env(&[("CREDENTIALS_DIRECTORY", &d)]));
    expect(&e, "CREDENTIALS_DIRECTORY: credential `", None);
}

#[test]
fn missing_token_says_how_to_make_one() {
    let e = err(ONE_RECORD);
    expect(
        &e,
        "ddflare.toml: cloudflare.api_token: expected an API token, found none",
        None,
    );
    expect(&e, "My Profile → API Tokens", None);
    expect(&e, "Zone → DNS → Edit", None);
    expect(&e, "api_token_file", None);
    expect(&e, "CLOUDFLARE_API_TOKEN", None);
}

#[test]
fn bad_tokens_never_leak() {
    let bad = [
        format!("\\\"{TOKEN}\\\""),
        format!("'{TOKEN}'"),
        format!("CLOUDFLARE_API_TOKEN={TOKEN}"),
        format!("Bearer {TOKEN}"),
        format!("{TOKEN} {TOKEN2}"),
        format!("{TOKEN}%"),
        format!("{TOKEN}{TOKEN}{TOKEN}{TOKEN}{TOKEN}{TOKEN}"),
        TOKEN[..15].to_owned(),
    ];
    for b in &bad {
        let text = format!("[cloudflare]\napi_token = \"{b}\"\n{ONE_RECORD}");
        let e = err(&text);
        expect(&e, "ddflare.toml:2: cloudflare.api_token: ", None);
        let raw = b.replace("\\\"", "\"");
        let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN", &raw)]));
        expect(&e, "CLOUDFLARE_API_TOKEN: ", None);
        let f = token_file(&raw, 0o600);
        let e = err_env(
            ONE_RECORD,
            &env(&[("CLOUDFLARE_API_TOKEN_FILE", &f.path().display().to_string())]),
        );
        expect(&e, "CLOUDFLARE_API_TOKEN_FILE: the token in", None);
    }
}

#[test]
fn tokens_do_not_leak_from_broken_files() {
    let cases = [
        format!("[cloudflare]\napi_token = {TOKEN}\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\napi_token = \"{TOKEN2}\"\n"),
        format!("[cloudflare]\ntoken = \"{TOKEN}\"\n"),
        format!("[cloudflare]\napi_token = [\"{TOKEN}\"]\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\nmax_retries = \"{TOKEN}\"\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\n[[record]]\nname = \"{TOKEN}\"\n"),
        format!(
            "[cloudflare]\napi_token = \"{TOKEN}\"\n[[record]]\nname = \"a.example.com\"\ncomment = \"{TOKEN}{}\"\n",
            "x".repeat(80)
        ),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\n[detect]\nipv4 = [\"{TOKEN}\"]\n"),
    ];
    for text in &cases {
        // `err` checks Display and Debug.
        err(text);
    }
}

/// A Global API Key in the shape Cloudflare issues (37 hex characters); fake.
const KEY: &str = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";
const EMAIL: &str = "me@example.com";

fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "key leaked: {text}");
    assert!(!text.contains(&KEY[..12]), "key prefix leaked: {text}");
    assert!(
        !text.contains(&KEY[KEY.len() - 12..]),
        "key suffix leaked: {text}"
    );
}

fn global_key(c: &Config) -> Option<(&str, &str)> {
    match &c.cloudflare.credentials {
        Credentials::GlobalKey { email, key } => Some((email.as_str(), key.expose())),
        Credentials::Token(_) => None,
    }
}

#[test]
fn a_global_key_given_as_a_token_is_refused_with_the_way_to_use_it() {
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN", KEY)]));
    expect(
        &e,
        "CLOUDFLARE_API_TOKEN: expected an API token, found what looks like a Global API Key",
        None,
    );
    expect(&e, "CLOUDFLARE_API_EMAIL and CLOUDFLARE_API_KEY", None);
    assert_no_key(&e.to_string());
    assert!(!e.to_string().contains("cannot use"), "{e}");
}

#[test]
fn the_global_key_is_read_from_the_file_and_the_environment() {
    let file = format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}");
    let l = ok(&file);
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let dbg = format!("{l:?}");
    assert_no_key(&dbg);
    // Env only, and env over the file, part by part.
    let l = ok_env(
        ONE_RECORD,
        &env(&[("CLOUDFLARE_API_EMAIL", EMAIL), ("CLOUDFLARE_API_KEY", KEY)]),
    );
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    let l = ok_env(&file, &env(&[("CLOUDFLARE_API_EMAIL", "you@example.org")]));
    assert_eq!(global_key(&l.config), Some(("you@example.org", KEY)));
    // A key file, from the file or the environment.
    let f = token_file(&format!("{KEY}\n"), 0o600);
    let path = f.path().display().to_string();
    let text =
        format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key_file = \"{path}\"\n{ONE_RECORD}");
    assert_eq!(global_key(&ok(&text).config), Some((EMAIL, KEY)));
    let l = ok_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY_FILE", &path),
        ]),
    );
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    // The advice to use a token instead, given at every start, never holds the key.
    let w = l
        .config
        .cloudflare
        .credentials
        .warning()
        .unwrap_or_default();
    assert!(w.contains("Global API Key"), "{w}");
    for step in [
        "My Profile → API Tokens → Create Token",
        "\"Edit zone DNS\"",
        "Zone Resources",
    ] {
        assert!(w.contains(step), "{step} missing from {w}");
    }
    assert_no_key(&w);
    assert_eq!(
        ok(&with_token(ONE_RECORD))
            .config
            .cloudflare
            .credentials
            .warning(),
        None
    );
}

#[test]
fn token_and_key_together_name_both() {
    let both = format!(
        "[cloudflare]\napi_token = \"{TOKEN}\"\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"
    );
    let e = err(&both);
    expect(
        &e,
        "ddflare.toml:4: cloudflare.api_key: expected either an API token or a Global API Key, found both (`cloudflare.api_token` on line 2 and `cloudflare.api_key` on line 4)",
        None,
    );
    assert_no_key(&e.to_string());
    let e = err_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN),
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY", KEY),
        ]),
    );
    expect(
        &e,
        "CLOUDFLARE_API_KEY: expected either an API token or a Global API Key, found both (`CLOUDFLARE_API_TOKEN` and `CLOUDFLARE_API_KEY`)",
        None,
    );
    // Across the layers too: a token in the environment and a key in the file.
    let file = format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}");
    let e = err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]));
    expect(
        &e,
        "found both (`CLOUDFLARE_API_TOKEN` and `cloudflare.api_key` on line 3)",
        None,
    );
    assert_no_key(&format!("{e:?}"));
}

#[test]
fn email_and_key_come_together() {
    let e = err(&format!("[cloudflare]\napi_key = \"{KEY}\"\n{ONE_RECORD}"));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_key: expected `api_email` (or CLOUDFLARE_API_EMAIL) with the Global API Key, found none",
        None,
    );
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\n{ONE_RECORD}"
    ));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_email: expected `api_key` or `api_key_file`",
        None,
    );
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_EMAIL", EMAIL)]));
    expect(&e, "CLOUDFLARE_API_EMAIL: expected `api_key`", None);
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_KEY", KEY)]));
    expect(&e, "CLOUDFLARE_API_KEY: expected `api_email`", None);
    // An email left beside a token: the hint says to remove it.
    let e = err(&format!(
        "[cloudflare]\napi_token = \"{TOKEN}\"\napi_email = \"{EMAIL}\"\n{ONE_RECORD}"
    ));
    expect(&e, "an API token needs no email", Some(3));
    // Both forms of the key, in one layer.
    let f = token_file(KEY, 0o600);
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\napi_key_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    ));
    expect(
        &e,
        "expected either api_key or api_key_file, found both (api_key on line 3)",
        Some(4),
    );
    let e = err_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY", KEY),
            ("CLOUDFLARE_API_KEY_FILE", &f.path().display().to_string()),
        ]),
    );
    expect(
        &e,
        "expected only one of CLOUDFLARE_API_KEY and CLOUDFLARE_API_KEY_FILE",
        None,
    );
}

#[test]
fn bad_keys_and_emails_are_explained_without_echo() {
    for (given, part) in [
        (format!("'{KEY}'"), "quotes"),
        (KEY[..20].to_owned(), "found 20 characters"),
        (TOKEN.to_owned(), "looks like an API token"),
        (format!("{KEY} {KEY}"), "whitespace"),
    ] {
        let text =
            format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{given}\"\n{ONE_RECORD}");
        let e = err(&text);
        expect(&e, "ddflare.toml:3: cloudflare.api_key: ", None);
        expect(&e, part, None);
        assert_no_key(&e.to_string());
        assert_no_key(&format!("{e:?}"));
        let e = err_env(
            ONE_RECORD,
            &env(&[
                ("CLOUDFLARE_API_EMAIL", EMAIL),
                ("CLOUDFLARE_API_KEY", &given),
            ]),
        );
        expect(&e, "CLOUDFLARE_API_KEY: ", None);
        assert_no_key(&e.to_string());
        let f = token_file(&given, 0o600);
        let e = err_env(
            ONE_RECORD,
            &env(&[
                ("CLOUDFLARE_API_EMAIL", EMAIL),
                ("CLOUDFLARE_API_KEY_FILE", &f.path().display().to_string()),
            ]),
        );
        expect(&e, "CLOUDFLARE_API_KEY_FILE: the key in", None);
        assert_no_key(&e.to_string());
    }
    let e = err(&format!(
        "[cloudflare]\napi_email = \"me\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"
    ));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_email: expected an email address",
        None,
    );
    // A key given where its file's path belongs is not echoed.
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\napi_key_file = \"{KEY}\"\n{ONE_RECORD}"
    ));
    expect(&e, "looks like the key itself", Some(3));
    assert_no_key(&e.to_string());
    // A broken file with an inline key does not show it either.
    let e = err(&format!("[cloudflare]\napi_key = {KEY}\n"));
    assert_no_key(&e.to_string());
}

#[test]
fn loaded_debug_hides_the_token() {
    let l = ok(&with_token(ONE_RECORD));
    let dbg = format!("{l:?}");
    assert!(dbg.contains("redacted"));
    assert_no_token(&dbg);
}

#[test]
fn process_user_and_drop_privileges() {
    use crate::privileges::RunAs;
    let c = ok(&with_token(ONE_RECORD)).config;
    assert_eq!(
        c.process.user,
        RunAs::Ids {
            uid: 65534,
            gid: 65534
        }
    );
    assert!(c.process.drop_privileges);
    let text = with_token(&format!("[process]\nuser = \"ddflare\"\n{ONE_RECORD}"));
    assert_eq!(ok(&text).config.process.user, RunAs::Name("ddflare".into()));
    let l = ok_env(&text, &env(&[("DDFLARE_USER", "1000:1000")]));
    assert_eq!(
        l.config.process.user,
        RunAs::Ids {
            uid: 1000,
            gid: 1000
        }
    );
    let l = ok_env(&text, &env(&[("DDFLARE_DROP_PRIVILEGES", "false")]));
    assert!(!l.config.process.drop_privileges);
    assert!(
        l.warnings[0].contains("process.user: has no effect"),
        "{:?}",
        l.warnings
    );
    let e = err(&with_token(&format!(
        "[process]\nuser = \"0:0\"\n{ONE_RECORD}"
    )));
    expect(
        &e,
        "ddflare.toml:4: process.user: expected an unprivileged user, found 0:0 (root)",
        None,
    );
    expect(&e, "drop_privileges = false", None);
    let e = err_env(&with_token(ONE_RECORD), &env(&[("DDFLARE_USER", "65534")]));
    expect(
        &e,
        "DDFLARE_USER: expected \"uid:gid\" or a user name, found the lone number 65534",
        None,
    );
    let e = err_env(
        &with_token(ONE_RECORD),
        &env(&[("DDFLARE_DROP_PRIVILEGES", "nah")]),
    );
    expect(&e, "DDFLARE_DROP_PRIVILEGES: expected true/false", None);
    let e = err(&with_token(&format!(
        "[process]\ndrop_privileges = \"no\"\n{ONE_RECORD}"
    )));
    expect(&e, "process.drop_privileges", Some(4));
    let e = err(&with_token(&format!(
        "[process]\nusr = \"nobody\"\n{ONE_RECORD}"
    )));
    expect(&e, "did you mean `user`?", Some(4));
}

// ---------------------------------------------------------------- load()

const EXPLICIT: LoadOptions = LoadOptions {
    explicit: true,
    strict: false,
};
const IMPLICIT: LoadOptions = LoadOptions {
    explicit: false,
    strict: false,
};
const STRICT: LoadOptions = LoadOptions {
    explicit: true,
    strict: true,
};

#[test]
fn load_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("ddflare.toml");
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
    ]);
    assert!(load(&missing, IMPLICIT, &e).is_ok());
    let err = load(&missing, EXPLICIT, &e).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("cannot read the config file"), "{shown}");
    assert!(shown.contains(&missing.display().to_string()), "{shown}");
    assert!(shown.contains("hint: "), "{shown}");
    let err = load(&missing, IMPLICIT, &no_env()).unwrap_err().to_string();
    assert!(err.contains("there is no config file at"), "{err}");
    let err = load(dir.path(), IMPLICIT, &e).unwrap_err().to_string();
    assert!(err.contains("cannot read the config file"), "{err}");
}

#[test]
fn load_reports_the_full_path_and_bad_utf8() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"[defaults]\nttl = 5\n").unwrap();
    let e = load(f.path(), EXPLICIT, &no_env()).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:2: defaults.ttl: ", f.path().display())),
        "{e}"
    );
    let mut g = tempfile::NamedTempFile::new().unwrap();
    g.write_all(b"# ok\n# \xff\n").unwrap();
    let e = load(g.path(), EXPLICIT, &no_env()).unwrap_err().to_string();
    assert!(e.contains(":2: expected UTF-8"), "{e}");
}

#[cfg(unix)]
#[test]
fn load_warns_about_a_readable_inline_token() {
    let loose = token_file(&with_token(ONE_RECORD), 0o644);
    let l = load(loose.path(), EXPLICIT, &no_env()).unwrap();
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    let w = &l.warnings[0];
    let file = loose.path().display().to_string();
    assert!(w.contains(":2: cloudflare.api_token:"), "{w}");
    assert!(
        w.contains(&format!("`{file}` holds the API token inline")),
        "{w}"
    );
    assert!(w.contains("(mode 644)"), "{w}");
    assert!(w.contains(&format!("chmod 600 {file}")), "{w}");
    for fix in [
        "api_token_file",
        "CLOUDFLARE_API_TOKEN_FILE",
        "LoadCredential",
    ] {
        assert!(w.contains(fix), "{fix}: {w}");
    }
    assert_no_token(w);
    let tight = token_file(&with_token(ONE_RECORD), 0o600);
    assert!(
        load(tight.path(), EXPLICIT, &no_env())
            .unwrap()
            .warnings
            .is_empty()
    );
    assert!(load(tight.path(), STRICT, &no_env()).is_ok());
    // Group-readable is readable too.
    let group = token_file(&with_token(ONE_RECORD), 0o640);
    assert!(load(group.path(), EXPLICIT, &no_env()).unwrap().warnings[0].contains("(mode 640)"));
}

#[cfg(unix)]
#[test]
fn strict_refuses_a_readable_secret() {
    let loose = token_file(&with_token(ONE_RECORD), 0o644);
    let file = loose.path().display().to_string();
    let e = load(loose.path(), STRICT, &no_env()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("{file}:2: cloudflare.api_token: refused (--strict): `{file}` holds the API token inline")), "{shown}");
    assert!(shown.contains(&format!("chmod 600 {file}")), "{shown}");
    assert_no_token(&shown);
    // DDFLARE_STRICT says the same; a wrong value is an error of its own.
    assert!(load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "1")])).is_err());
    assert!(load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "0")])).is_ok());
    let e = load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "maybe")])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("DDFLARE_STRICT: expected true/false"),
        "{e}"
    );
    // An inline Global API Key, likewise, named as such.
    let key_file = token_file(
        &format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"),
        0o604,
    );
    let l = load(key_file.path(), EXPLICIT, &no_env()).unwrap();
    assert!(
        l.warnings[0].contains(":3: cloudflare.api_key:"),
        "{:?}",
        l.warnings
    );
    assert!(l.warnings[0].contains("holds the Global API Key inline"));
    assert!(l.warnings[0].contains("api_key_file"));
    assert_no_key(&l.warnings[0]);
    let e = load(key_file.path(), STRICT, &no_env())
        .unwrap_err()
        .to_string();
    assert!(e.contains("refused (--strict)"), "{e}");
    assert_no_key(&e);
    // A token file that others may read: refused too under strict, warned about otherwise.
    let secret = token_file(TOKEN, 0o644);
    let config = token_file(ONE_RECORD, 0o644);
    let vars = env(&[(
        "CLOUDFLARE_API_TOKEN_FILE",
        &secret.path().display().to_string(),
    )]);
    let l = load(config.path(), EXPLICIT, &vars).unwrap();
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(l.warnings[0].contains("can be read by group or others (mode 644)"));
    let e = load(config.path(), STRICT, &vars).unwrap_err().to_string();
    assert!(
        e.starts_with("CLOUDFLARE_API_TOKEN_FILE: refused (--strict): "),
        "{e}"
    );
    // A readable config without a secret in it is fine, strict or not.
    assert!(
        load(
            config.path(),
            STRICT,
            &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)])
        )
        .is_ok()
    );
}

// ---------------------------------------------------------------- corpora

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bad_config")
}

#[test]
fn bad_config_corpus() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "only {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let header = |key: &str| {
            text.lines()
                .take_while(|l| l.starts_with('#'))
                .find_map(|l| {
                    l.strip_prefix(&format!("# {key}:"))
                        .map(|v| v.trim().to_owned())
                })
        };
        let Some(expected) = header("expect") else {
            failures.push(format!("{name}: no `# expect:` line"));
            continue;
        };
        let line = header("line");
        let mut vars: Vec<(String, String)> = Vec::new();
        if let Some(env_line) = header("env") {
            for pair in env_line.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    vars.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        let env_map: HashMap<String, String> = vars.into_iter().collect();
        let outcome = std::panic::catch_unwind(|| parse(&text, &name, &env_map));
        let shown = match outcome {
            Err(_) => {
                failures.push(format!("{name}: panicked"));
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Ok(Err(e)) => e.to_string(),
        };
        if !shown.contains(&expected) {
            failures.push(format!("{name}: expected `{expected}` in:\n{shown}"));
        }
        if let Some(line) = line
            && !shown.contains(&format!("{name}:{line}:"))
        {
            failures.push(format!("{name}: expected line {line} in:\n{shown}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn example_config_is_valid_and_documented() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let l = ok_env(&text, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert!(!l.config.records.is_empty());
    // Without a token from the environment it fails only for the token.
    let e = parse(&text, "config.example.toml", &no_env());
    if let Err(e) = e {
        assert!(e.key().starts_with("cloudflare.api_token"), "{e}");
    }
    // Every key is mentioned in the example.
    for (table, keys) in error::KNOWN_KEYS {
        for key in *keys {
            assert!(
                text.contains(key),
                "config.example.toml does not document `{table}.{key}`"
            );
        }
    }
}

// ---------------------------------------------------------------- operations

#[test]
fn operations_are_off_by_default() {
    let c = ok(&with_token(ONE_RECORD)).config;
    assert_eq!(c.metrics.listen, None);
    assert!(c.notify.is_empty());
    assert_eq!(c.notify.alerts, crate::notify::Alerts::default());
    assert!(!c.log.quiet);
    assert_eq!(c.schedule.cron, None);
    assert_eq!(c.schedule.jitter, Duration::ZERO);
    assert!(c.schedule.update_on_start);
}

#[test]
fn operation_keys_are_read() {
    let text = with_token(&format!(
        "[schedule]\ncron = \"*/10 * * * *\"\njitter = \"20s\"\nupdate_on_start = false\n\
         [metrics]\nlisten = \"[::1]:9489\"\n\
         [alerts]\nafter_failed_rounds = 5\nafter = \"1h\"\nremind_every = \"0s\"\nmax_per_hour = 4\n\
         [log]\nquiet = true\n\
         [[notify]]\nurl = \"ntfy://ntfy.sh/topic-{TOKEN2}\"\nevents = [\"change\"]\n\
         [[notify]]\nurl = \"discord://1/tok\"\nserver = \"http://127.0.0.1:1\"\n\
         [[monitor]]\nurl = \"https://hc-ping.com/u\"\n{ONE_RECORD}"
    ));
    let c = ok(&text).config;
    assert_eq!(
        c.schedule.cron.as_ref().map(ToString::to_string).as_deref(),
        Some("*/10 * * * *")
    );
    assert_eq!(c.schedule.jitter, Duration::from_secs(20));
    assert!(!c.schedule.update_on_start);
    assert_eq!(c.metrics.listen, Some("[::1]:9489".parse().unwrap()));
    let a = &c.notify.alerts;
    assert_eq!(
        (
            a.after_failed_rounds,
            a.after,
            a.remind_every,
            a.max_per_hour
        ),
        (5, Duration::from_secs(3600), None, 4)
    );
    assert!(c.log.quiet);
    assert_eq!(c.notify.targets.len(), 2);
    assert!(c.notify.targets[0].events.change && !c.notify.targets[0].events.failure);
    assert_eq!(
        c.notify.targets[1].endpoint.expose(),
        "http://127.0.0.1:1/api/webhooks/1/tok"
    );
    assert_eq!(c.notify.monitors.len(), 1);
    // The loaded config's Debug shows no notification secret.
    assert!(!format!("{c:?}").contains("topic-"));
}

#[test]
fn operation_errors_name_key_and_line() {
    let cases: &[(&str, &str, usize)] = &[
        (
            "[schedule]\ninterval = \"5m\"\ncron = \"* * * * *\"\n",
            "schedule.cron: expected either `cron` or `interval`, found both (interval on line 4)",
            5,
        ),
        (
            "[schedule]\ncron = \"61 * * * *\"\n",
            "schedule.cron: minute: expected a number from 0 to 59, found 61",
            4,
        ),
        ("[schedule]\ncron = \"0 0 31 2 *\"\n", "never fires", 4),
        (
            "[schedule]\njitter = \"5m\"\n",
            "schedule.jitter: expected less than the time between two rounds (5m), found 5m",
            4,
        ),
        (
            "[schedule]\ncron = \"*/2 * * * *\"\njitter = \"3m\"\n",
            "(2m), found 3m",
            5,
        ),
        (
            "[metrics]\nlisten = \"localhost:9489\"\n",
            "metrics.listen: expected an address and a port",
            4,
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1\"\n",
            "hint: add the port: \"127.0.0.1:9489\"",
            4,
        ),
        (
            "[alerts]\nafter_failed_rounds = 0\n",
            "alerts.after_failed_rounds: expected an integer from 1 to 1000, found 0",
            4,
        ),
        (
            "[alerts]\nmax_per_hour = 100000\n",
            "alerts.max_per_hour: expected an integer from 1 to 3600",
            4,
        ),
        (
            "[alerts]\nafter = \"0s\"\n",
            "alerts.after: expected a duration greater than zero",
            4,
        ),
        (
            "[[notify]]\nevents = [\"change\"]\n",
            "notify[1]: expected a `url` key",
            3,
        ),
        (
            "[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\n[[notify]]\nurl = \"mailto://x\"\n",
            "notify[2].url: expected a notification URL",
            6,
        ),
        (
            "[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\nevents = [\"boom\"]\n",
            "notify[1].events: expected \"change\", \"failure\" or \"recovery\", found \"boom\"",
            5,
        ),
        (
            "[[notify]]\nurl = \"slack://a/b/c\"\nserver = \"ftp://x\"\n",
            "notify[1].server: `server`: expected an http(s) URL",
            5,
        ),
        (
            "[[notify]]\nurll = \"ntfy://ntfy.sh/a\"\n",
            "notify[1].urll: unknown key\nhint: did you mean `url`?",
            4,
        ),
        (
            "[[monitor]]\nurl = \"https://hc-ping.com/u\"\nkind = \"nagios\"\n",
            "monitor[1].kind: `kind`: expected \"healthchecks\" or \"uptime_kuma\"",
            5,
        ),
        (
            "[[monitor]]\nurl = \"hc-ping.com/u\"\n",
            "monitor[1].url: expected an http(s) URL",
            4,
        ),
        (
            "[log]\nquiet = \"yes\"\n",
            "log.quiet: expected a boolean",
            4,
        ),
        (
            "[metric]\nlisten = \"127.0.0.1:1\"\n",
            "did you mean `metrics`?",
            3,
        ),
        ("[schedule]\nquiet = true\n", "`quiet` belongs in [log]", 4),
    ];
    for (body, part, line) in cases {
        let e = err(&with_token(&format!("{body}{ONE_RECORD}")));
        expect(&e, part, Some(*line));
    }
}

#[test]
fn notification_urls_never_show_in_errors() {
    let secret = "zzNotifySecret123456";
    for body in [
        format!("[[notify]]\nurl = \"discord://abc/{secret}\"\n"),
        format!("[[notify]]\nurl = \"telegram://{secret}@telegram\"\n"),
        format!("[[notify]]\nurl = \"https://x.example/{secret}\"\nevents = 5\n"),
        format!("[[notify]]\nurl = \"https://x.example/{secret}\n"),
        format!("[[monitor]]\nurl = \"gopher://x/{secret}\"\n"),
    ] {
        let e = err(&with_token(&format!("{body}{ONE_RECORD}")));
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
}

#[test]
fn containers_configure_operations_by_environment() {
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
        (
            "DDFLARE_NOTIFY",
            "ntfy://ntfy.sh/topic1\n  https://hooks.example.com/x?a=1,2",
        ),
        ("DDFLARE_MONITOR", "https://hc-ping.com/0a1b2c3d"),
        ("DDFLARE_METRICS_LISTEN", "0.0.0.0:9489"),
        ("DDFLARE_QUIET", "yes"),
        ("DDFLARE_ALLOW_PRIVATE", "1"),
    ]);
    let l = ok_env("", &e);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = l.config;
    assert_eq!(c.notify.targets.len(), 2);
    assert_eq!(c.notify.monitors.len(), 1);
    assert_eq!(
        c.metrics.listen,
        Some(std::net::SocketAddr::from(([0, 0, 0, 0], 9489)))
    );
    assert!(c.log.quiet);
    assert!(c.detect.allow_private);
}

#[test]
fn environment_replaces_the_files_operations() {
    let text = with_token(&format!(
        "[detect]\nallow_private = true\n[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\n[[notify]]\nurl = \"ntfy://ntfy.sh/b\"\n[[monitor]]\nurl = \"https://hc-ping.com/u\"\n[metrics]\nlisten = \"127.0.0.1:1\"\n[log]\nquiet = true\n{ONE_RECORD}"
    ));
    let e = env(&[
        ("DDFLARE_NOTIFY", "ntfy://ntfy.sh/c"),
        ("DDFLARE_METRICS_LISTEN", "127.0.0.1:2"),
        ("DDFLARE_QUIET", "false"),
        ("DDFLARE_ALLOW_PRIVATE", "off"),
    ]);
    let l = ok_env(&text, &e);
    assert_eq!(l.config.notify.targets.len(), 1);
    // Not set in the environment: the file's stays.
    assert_eq!(l.config.notify.monitors.len(), 1);
    assert_eq!(l.config.metrics.listen.map(|a| a.port()), Some(2));
    assert!(!l.config.log.quiet);
    assert!(!l.config.detect.allow_private);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.starts_with("DDFLARE_NOTIFY: replaces the 2 [[notify]] table(s)")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn cron_from_the_environment() {
    let base = [
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        env(&pairs)
    };
    let l = ok_env("", &with(&[("DDFLARE_CRON", "*/10 * * * *")]));
    assert!(l.config.schedule.cron.is_some());
    // It replaces the file's interval, with a warning.
    let l = ok_env(
        "[schedule]\ninterval = \"1h\"\n",
        &with(&[("DDFLARE_CRON", "0 * * * *")]),
    );
    assert!(l.config.schedule.cron.is_some());
    assert!(
        l.warnings
            .iter()
            .any(|w| w.starts_with("DDFLARE_CRON: replaces the file's schedule.cron")),
        "{:?}",
        l.warnings
    );
    let e = err_env("", &with(&[("DDFLARE_CRON", "61 * * * *")]));
    expect(
        &e,
        "DDFLARE_CRON: minute: expected a number from 0 to 59, found 61",
        None,
    );
    let e = err_env(
        "",
        &with(&[("DDFLARE_CRON", "*/5 * * * *"), ("DDFLARE_INTERVAL", "5m")]),
    );
    expect(
        &e,
        "DDFLARE_CRON: expected either DDFLARE_CRON or DDFLARE_INTERVAL, found both",
        None,
    );
}

#[test]
fn environment_operation_errors_name_the_variable_never_the_url() {
    let secret = "zzEnvNotifySecret123456";
    let cases = [
        (
            "DDFLARE_NOTIFY",
            format!("ntfy://ntfy.sh/ok mailto://{secret}"),
            "DDFLARE_NOTIFY: entry 2: expected a notification URL",
        ),
        (
            "DDFLARE_MONITOR",
            format!("hc-ping.com/{secret}"),
            "DDFLARE_MONITOR: entry 1: expected an http(s) URL",
        ),
        (
            "DDFLARE_METRICS_LISTEN",
            "localhost:9489".to_owned(),
            "DDFLARE_METRICS_LISTEN: expected an address and a port",
        ),
        (
            "DDFLARE_QUIET",
            "maybe".to_owned(),
            "DDFLARE_QUIET: expected true/false",
        ),
        (
            "DDFLARE_ALLOW_PRIVATE",
            "maybe".to_owned(),
            "DDFLARE_ALLOW_PRIVATE: expected true/false",
        ),
    ];
    for (var, value, part) in cases {
        let e = env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN),
            ("DDFLARE_RECORDS", "home.example.com"),
            (var, value.as_str()),
        ]);
        let e = err_env("", &e);
        expect(&e, part, None);
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
}

// ---------------------------------------------------------------- properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "[cloudflare]\n",
        "[detect]\n",
        "[schedule]\n",
        "[state]\n",
        "[defaults]\n",
        "[metrics]\n",
        "[alerts]\n",
        "[[notify]]\n",
        "[[monitor]]\n",
        "cron = \"*/5 * * * *\"\n",
        "url = \"ntfy://ntfy.sh/t\"\n",
        "listen = \"127.0.0.1:9489\"\n",
        "[[record]]\n",
        "[record]\n",
        "name = \"home.example.com\"\n",
        "name = \"bücher.example\"\n",
        "ttl = 60\n",
        "ttl = \"auto\"\n",
        "ttl = -1\n",
        "ipv4 = \"none\"\n",
        "ipv6 = [\"none\"]\n",
        "ipv4 = false\n",
        "interval = \"5m\"\n",
        "interval = 5\n",
        "api_token = \"abcdefghijklmnopqrstuvwxyz\"\n",
        "api_token_file = \"/nonexistent\"\n",
        "zone = \"example.com\"\n",
        "comment = \"x\"\n",
        "proxied = true\n",
        "= \n",
        "\"\n",
        "[\n",
        "]]\n",
        "é",
        "\u{feff}",
        "\r\n",
        "# c\n",
        "a.b.c = 1\n",
        "record = [{name = \"x.example\"}]\n",
        "'''\n",
        "\"\"\"\n",
        "\t",
        "\0",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse(&text, "p.toml", &HashMap::new());
        }

        #[test]
        fn spliced_fragments_never_panic(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..24)) {
            let text: String = parts.iter().map(|i| FRAGMENTS[*i]).collect();
            let r = parse(&text, "p.toml", &HashMap::new());
            if let Err(e) = r {
                // Messages stay single-purpose: the hint, if any, is on its own line.
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn env_values_never_panic(var in 0usize..12, value in any::<String>()) {
            const VARS: [&str; 12] = [
                "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_TOKEN_FILE", "DDFLARE_RECORDS", "DDFLARE_IPV4",
                "DDFLARE_IPV6", "DDFLARE_INTERVAL", "DDFLARE_TTL", "DDFLARE_PROXIED", "DDFLARE_COMMENT",
                "DDFLARE_STATE_DIR", "DDFLARE_API_URL", "STATE_DIRECTORY",
            ];
            let mut e = HashMap::new();
            e.insert(VARS[var].to_owned(), value);
            let _ = parse(ONE_RECORD, "p.toml", &e);
        }
    }
}
