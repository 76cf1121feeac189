//! The `cf-emulator` binary: flags, the first stdout line, mutation lines, admin API,
//! clean exit on SIGTERM/SIGINT, HTTPS with `--tls-cert/--tls-key`.

// Test code: helpers panic on unexpected failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_cf-emulator");

struct Proc {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    base: String,
}

async fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines).await;
    let base = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first}"))
        .to_owned();
    assert!(
        (base.starts_with("http://127.0.0.1:") || base.starts_with("https://127.0.0.1:"))
            && base.ends_with("/client/v4"),
        "{base}"
    );
    assert!(!base.contains(":0/"), "the real port is printed");
    Proc { child, lines, base }
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("stdout line in time")
        .unwrap()
        .expect("stdout open")
}

async fn signal(child: &Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args([sig, &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

async fn json_call(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn serves_reports_mutations_and_exits_cleanly_on_sigterm() {
    let mut p = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--zone",
        "example.com",
        "--zone",
        "example.net",
        "--token",
        "full",
        "--read-only-token",
        "ro",
        "--zone-token",
        "scoped:example.com",
    ])
    .await;
    let (_, zones) = json_call(
        "GET",
        &format!("{}/zones?name=example.com", p.base),
        "full",
        None,
    )
    .await;
    let zone = zones["result"][0]["id"].as_str().unwrap().to_owned();
    let records = format!("{}/zones/{zone}/dns_records", p.base);

    let (status, created) = json_call(
        "POST",
        &records,
        "full",
        Some(json!({"name":"home","type":"A","content":"203.0.113.7"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        next_line(&mut p.lines).await,
        "created A home.example.com 203.0.113.7 (ttl 1, proxied false)"
    );
    let id = created["result"]["id"].as_str().unwrap();

    let (status, _) = json_call(
        "PATCH",
        &format!("{records}/{id}"),
        "scoped",
        Some(json!({"content":"198.51.100.4"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        next_line(&mut p.lines).await,
        "updated A home.example.com 203.0.113.7 -> 198.51.100.4"
    );

    let (status, body) = json_call("DELETE", &format!("{records}/{id}"), "ro", None).await;
    assert_eq!((status, &body["errors"][0]["code"]), (403, &json!(10000)));
    let (_, zones) = json_call("GET", &format!("{}/zones", p.base), "scoped", None).await;
    assert_eq!(zones["result"].as_array().unwrap().len(), 1);

    // Admin API: seed, dashboard edit, fault, log.
    let admin = p.base.replace("/client/v4", "/__emulator");
    let http = client();
    let seeded: Value = http
        .post(format!("{admin}/records"))
        .json(&json!({"zone":"example.com","name":"_owner","type":"TXT","content":"someone-else"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        next_line(&mut p.lines).await,
        "created TXT _owner.example.com someone-else (ttl 1, proxied false)"
    );
    let seeded_id = seeded["id"].as_str().unwrap();
    http.put(format!("{admin}/records/{seeded_id}"))
        .json(&json!({"content":"changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        next_line(&mut p.lines).await,
        "updated TXT _owner.example.com someone-else -> changed"
    );
    let listed: Value = http
        .get(format!("{admin}/records?zone=example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "home (the read-only delete was refused) and _owner"
    );
    http.post(format!("{admin}/faults"))
        .json(&json!({"kind":"rate_limited","retry_after":3}))
        .send()
        .await
        .unwrap();
    let limited = client()
        .get(format!("{}/zones", p.base))
        .bearer_auth("full")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let log: Value = http
        .get(format!("{admin}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().last().unwrap()["status"], 429);

    json_call("DELETE", &format!("{records}/{seeded_id}"), "full", None).await;
    assert_eq!(
        next_line(&mut p.lines).await,
        "deleted TXT _owner.example.com changed"
    );

    signal(&p.child, "-TERM").await;
    let status = tokio::time::timeout(Duration::from_secs(20), p.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn exits_zero_on_sigint_right_after_start() {
    let mut p = spawn(&["--listen", "127.0.0.1:0"]).await;
    signal(&p.child, "-INT").await;
    let status = tokio::time::timeout(Duration::from_secs(20), p.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn help_and_bad_arguments() {
    let help = Command::new(BIN).arg("--help").output().await.unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--zone-token"));
    let bad = Command::new(BIN)
        .arg("--frobnicate")
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let bad = Command::new(BIN)
        .args(["--zone-token", "no-colon"])
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn a_state_file_keeps_the_records_across_kill_9_and_a_restart_on_the_same_port() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emulator.json");
    let file_arg = file.to_str().unwrap();
    let args = |listen: &str| {
        vec![
            "--listen".to_owned(),
            listen.to_owned(),
            "--zone".to_owned(),
            "example.com".to_owned(),
            "--token".to_owned(),
            "full".to_owned(),
            "--state-file".to_owned(),
            file_arg.to_owned(),
        ]
    };
    let first_args = args("127.0.0.1:0");
    let mut p = spawn(&first_args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let (_, zones) = json_call(
        "GET",
        &format!("{}/zones?name=example.com", p.base),
        "full",
        None,
    )
    .await;
    let zone = zones["result"][0]["id"].as_str().unwrap().to_owned();
    let records = format!("{}/zones/{zone}/dns_records", p.base);
    let (status, created) = json_call(
        "POST",
        &records,
        "full",
        Some(json!({"name":"home","type":"A","content":"203.0.113.7","comment":"kept"})),
    )
    .await;
    assert_eq!(status, 200);
    let first = created["result"].clone();
    // No goodbye: SIGKILL.
    p.child.kill().await.unwrap();
    p.child.wait().await.unwrap();

    let listen = p.base["http://".len()..p.base.len() - "/client/v4".len()].to_owned();
    let again = args(&listen);
    let p = spawn(&again.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let (_, listed) = json_call("GET", &records, "full", None).await;
    assert_eq!(listed["result"].as_array().unwrap(), &vec![first.clone()]);
    // Ids go on from where they were: never the same one twice.
    let (status, second) = json_call(
        "POST",
        &records,
        "full",
        Some(json!({"name":"nas","type":"A","content":"203.0.113.8"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(second["result"]["id"], first["id"]);
    drop(p);

    // A damaged file is refused at start, naming the flag.
    std::fs::write(&file, "{not json").unwrap();
    let bad = Command::new(BIN)
        .args(["--state-file", file_arg])
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--state-file"));
}

#[tokio::test]
async fn token_expiry_and_client_ip_filter_flags() {
    let mut p = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--zone",
        "example.com",
        "--token",
        "soon",
        "--token-expires",
        "soon:2026-05-01T00:00:00Z",
        "--token-client-ips",
        "elsewhere:192.0.2.0/24,2001:db8::/32",
        "--token-client-ips",
        "here:127.0.0.0/8",
    ])
    .await;
    let (status, body) = json_call(
        "GET",
        &format!("{}/user/tokens/verify", p.base),
        "soon",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["expires_on"], "2026-05-01T00:00:00Z");
    let (status, body) = json_call("GET", &format!("{}/zones", p.base), "elsewhere", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["errors"],
        json!([{"code": 9109, "message": "Cannot use the access token from location: 127.0.0.1"}])
    );
    let (status, _) = json_call("GET", &format!("{}/zones", p.base), "here", None).await;
    assert_eq!(status, 200);
    signal(&p.child, "-TERM").await;
    let status = tokio::time::timeout(Duration::from_secs(20), p.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// A test CA (PEM) and a certificate for `api.cloudflare.com` signed by it, written to a
/// fresh directory as `cert.pem` and `key.pem`.
fn test_pki(dir: &std::path::Path) -> String {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    std::fs::create_dir_all(dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["api.cloudflare.com".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    ca.pem()
}

#[tokio::test]
async fn serves_https_for_api_cloudflare_com_with_a_test_ca() {
    let dir = std::env::temp_dir().join(format!("cf-emulator-tls-{}", std::process::id()));
    let ca = test_pki(&dir);
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let p = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--zone",
        "example.com",
        "--token",
        "full",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .await;
    assert!(p.base.starts_with("https://"), "{}", p.base);
    let addr: std::net::SocketAddr = p.base["https://".len()..]
        .trim_end_matches("/client/v4")
        .parse()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The name a client that cannot be given an API URL would use, resolved to the emulator.
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .resolve("api.cloudflare.com", addr)
        .build()
        .unwrap();
    let base = format!("https://api.cloudflare.com:{}", addr.port());
    let zones: Value = trusting
        .get(format!("{base}/client/v4/zones?name=example.com"))
        .bearer_auth("full")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(zones["result"][0]["name"], "example.com", "{zones}");
    let trace = trusting
        .get(format!("{base}/cdn-cgi/trace"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "h=api.cloudflare.com",
        "visit_scheme=https",
        "tls=TLSv1.3",
        "sni=plaintext",
    ] {
        assert!(trace.lines().any(|l| l == line), "{line} in:\n{trace}");
    }
    let kex = trace.lines().find_map(|l| l.strip_prefix("kex=")).unwrap();
    assert_ne!(kex, "none", "{trace}");
    let requests: Value = trusting
        .get(format!("{base}/__emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests.as_array().unwrap().len(), 2, "{requests}");

    // Verification stays on: without the CA the handshake fails; plain HTTP gets nothing.
    let untrusting = reqwest::Client::builder()
        .resolve("api.cloudflare.com", addr)
        .tls_certs_only([])
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{base}/cdn-cgi/trace"))
            .send()
            .await
            .is_err()
    );
    let plain = client()
        .get(format!("http://{addr}/cdn-cgi/trace"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tls_flags_go_together_and_name_a_bad_file() {
    let alone = Command::new(BIN)
        .args(["--tls-cert", "/nonexistent/cert.pem"])
        .output()
        .await
        .unwrap();
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("go together"));
    let missing = Command::new(BIN)
        .args([
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/cert.pem"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
