//! Environment overrides: they win over the file, empty ones are ignored, errors name the variable,
//! and a configuration may come from the environment alone.

use super::*;

#[test]
#[cfg(feature = "idn")]
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
