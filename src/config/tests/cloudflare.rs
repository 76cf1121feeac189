//! `[cloudflare]` besides the credentials: the API URL, the request timeout and retries, the CA
//! file.

use super::*;

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
