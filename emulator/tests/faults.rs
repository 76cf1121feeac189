//! Rate limiting, each injected fault kind, and the trace endpoint's echo of the peer.

// Test code: helpers panic on unexpected failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::*;
use ddflare_emulator::{Emulator, Fault, FaultKind, TokenScope};
use serde_json::json;

#[tokio::test]
async fn rate_limit_budget_per_token_with_retry_after() {
    let mut emu = standard();
    emu.rate_limit(3, Duration::from_secs(60));
    let running = start(emu).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let resp = get(&running, "/zones", EDIT).await;
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("ratelimit-policy").unwrap(),
            "\"default\";q=3;w=60"
        );
        remaining.push(resp.header("ratelimit").unwrap());
    }
    assert!(remaining[0].starts_with("\"default\";r=2;t="));
    assert!(remaining[2].starts_with("\"default\";r=0;t="));
    let limited = get(&running, "/zones", EDIT).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json(), fixture("error_429_971_rate_limited.json"));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let t: u64 = limited
        .header("ratelimit")
        .unwrap()
        .rsplit("t=")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(t, retry);
    // Writes are refused too, and nothing is applied.
    let path = records_path(&running, "example.com");
    assert_eq!(
        post(
            &running,
            &path,
            EDIT,
            json!({"name":"x","type":"A","content":"192.0.2.1"})
        )
        .await
        .status,
        429
    );
    assert!(running.records("example.com").is_empty());
    // Another token has its own budget.
    assert_eq!(get(&running, "/zones", READ).await.status, 200);
    running.reset_rate_limits();
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn rate_limit_window_resets() {
    let mut emu = standard();
    emu.rate_limit(1, Duration::from_secs(1));
    let running = start(emu).await;
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    let limited = get(&running, "/zones", EDIT).await;
    assert_eq!(
        (limited.status, limited.header("retry-after").as_deref()),
        (429, Some("1"))
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn injected_429_and_5xx_then_recovery() {
    let running = start(standard()).await;
    running.add_fault(Fault::rate_limited(Some(7)).path_prefix("/zones"));
    let resp = get(&running, "/zones", EDIT).await;
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after").as_deref(), Some("7"));
    assert_eq!(resp.code(), 971);
    assert!(resp.header("cf-ray").is_some());
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200, "one-shot");

    running.add_fault(Fault::status(503).times(2));
    for _ in 0..2 {
        let resp = get(&running, "/zones", EDIT).await;
        assert_eq!(resp.status, 503);
        assert_eq!(resp.header("content-type").as_deref(), Some("text/html"));
        assert!(resp.text.contains("503 Service Unavailable") && resp.text.contains("cloudflare"));
    }
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);

    running.add_fault(Fault::new(FaultKind::Status {
        status: 500,
        body: Some("{\"oops\":true}".into()),
    }));
    let resp = get(&running, "/zones", EDIT).await;
    assert_eq!((resp.status, resp.json()), (500, json!({"oops": true})));
    running.shutdown().await;
}

#[tokio::test]
async fn faults_match_method_and_path() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    running.add_fault(
        Fault::status(502)
            .method("POST")
            .path_contains("/dns_records"),
    );
    assert_eq!(
        get(&running, &path, EDIT).await.status,
        200,
        "GET is not matched"
    );
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    let hit = post(
        &running,
        &path,
        EDIT,
        json!({"name":"a","type":"A","content":"192.0.2.1"}),
    )
    .await;
    assert_eq!(hit.status, 502);
    assert!(
        running.records("example.com").is_empty(),
        "a faulted request is not applied"
    );
    running.add_fault(Fault::status(500).path_prefix("/client/v4/user"));
    assert_eq!(get(&running, "/user/tokens/verify", EDIT).await.status, 500);
    running.add_fault(Fault::status(500).path_prefix("/zones"));
    running.clear_faults();
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    running.shutdown().await;
}

/// Every item of a list answer comes twice (the same id), and only list answers change.
#[tokio::test]
async fn duplicate_records_lists_each_record_twice() {
    let mut emu = standard();
    let a = emu.record("example.com", "a", "A", "192.0.2.1");
    let b = emu.record("example.com", "b", "A", "192.0.2.2");
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    running.add_fault(Fault::duplicate_records().path_contains("/dns_records"));
    let resp = get(&running, &path, EDIT).await;
    assert_eq!(resp.status, 200);
    let ids: Vec<String> = resp.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [a.clone(), a, b.clone(), b]);
    assert_eq!(
        running.requests()[0].fault.as_deref(),
        Some("duplicate_records")
    );
    // One-shot, and a non-list answer passes unchanged.
    assert_eq!(
        get(&running, &path, EDIT).await.json()["result"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    running.add_fault(Fault::duplicate_records());
    let verify = get(&running, "/user/tokens/verify", EDIT).await;
    assert_eq!(verify.status, 200);
    assert!(verify.json()["result"].is_object());
    running.shutdown().await;
}

/// A listing of several names with `match=any` answers for the first name alone; one name,
/// `name.exact`, or no name filter are answered in full.
#[tokio::test]
async fn first_name_only_ignores_repeated_names() {
    let mut emu = standard();
    emu.record("example.com", "a", "A", "192.0.2.1");
    emu.record("example.com", "b", "A", "192.0.2.2");
    emu.record("example.com", "c", "TXT", "\"x\"");
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    let names = |resp: &Resp| -> Vec<String> {
        resp.json()["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let multi = format!("{path}?name=a.example.com&name=b.example.com&match=any");
    assert_eq!(
        names(&get(&running, &multi, EDIT).await),
        ["a.example.com", "b.example.com"],
        "without the fault both names are honoured"
    );
    running.add_fault(Fault::first_name_only().times(4));
    assert_eq!(names(&get(&running, &multi, EDIT).await), ["a.example.com"]);
    let reversed = format!("{path}?name=b.example.com&match=any&name=a.example.com");
    assert_eq!(
        names(&get(&running, &reversed, EDIT).await),
        ["b.example.com"]
    );
    let exact = format!("{path}?name.exact=b.example.com");
    assert_eq!(names(&get(&running, &exact, EDIT).await), ["b.example.com"]);
    assert_eq!(names(&get(&running, &path, EDIT).await).len(), 3);
    running.shutdown().await;
}

#[tokio::test]
async fn delay_then_normal_answer() {
    let running = start(standard()).await;
    running.add_fault(Fault::delay(300));
    let t0 = Instant::now();
    let resp = get(&running, "/zones", EDIT).await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status, 200);
    assert_eq!(running.requests()[0].fault.as_deref(), Some("delay"));
    running.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    let url = format!("{}{path}", running.base_url());
    let body = json!({"name":"a","type":"A","content":"192.0.2.1"});

    running.add_fault(Fault::drop_connection());
    let err = client()
        .post(&url)
        .bearer_auth(EDIT)
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() && !err.is_status(), "{err:?}");
    assert!(running.records("example.com").is_empty());
    let log = running.requests();
    assert_eq!(
        (log.len(), log[0].status, log[0].fault.as_deref()),
        (1, 0, Some("drop"))
    );

    // The change happens, the answer is lost.
    running.add_fault(Fault::drop_connection().after_apply());
    assert!(
        client()
            .post(&url)
            .bearer_auth(EDIT)
            .json(&body)
            .send()
            .await
            .is_err()
    );
    assert_eq!(running.records("example.com").len(), 1);
    assert_eq!(get(&running, &path, EDIT).await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn truncated_body_breaks_after_headers() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    let url = format!("{}{path}", running.base_url());

    running.add_fault(Fault::truncated_body());
    let resp = client().get(&url).bearer_auth(EDIT).send().await.unwrap();
    assert_eq!(resp.status(), 200, "headers arrive");
    let promised: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(promised > 0);
    assert!(resp.bytes().await.is_err(), "the body breaks");

    running.add_fault(Fault::truncated_body().after_apply().method("POST"));
    let resp = client()
        .post(&url)
        .bearer_auth(EDIT)
        .json(&json!({"name":"a","type":"A","content":"192.0.2.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.is_err());
    assert_eq!(
        running.records("example.com").len(),
        1,
        "applied before the break"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn malformed_body_and_unsuccessful_200() {
    let running = start(standard()).await;
    running.add_fault(Fault::malformed_body());
    let resp = get(&running, "/zones", EDIT).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(serde_json::from_str::<serde_json::Value>(&resp.text).is_err());

    running.add_fault(Fault::unsuccessful(10001, "Internal error").method("POST"));
    let path = records_path(&running, "example.com");
    let resp = post(
        &running,
        &path,
        EDIT,
        json!({"name":"a","type":"A","content":"192.0.2.1"}),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json(),
        json!({"result":null,"success":false,"errors":[{"code":10001,"message":"Internal error"}],"messages":[]})
    );
    assert!(running.records("example.com").is_empty());
    running.shutdown().await;
}

fn trace_map(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test]
async fn trace_echoes_peer_host_and_overrides() {
    let running = start(standard()).await;
    let text = client()
        .get(running.trace_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let map = trace_map(&text);
    assert_eq!(map["ip"], "127.0.0.1");
    assert_eq!(map["h"], "127.0.0.1");
    // The Host header asked is echoed (port stripped).
    let text = client()
        .get(running.trace_url())
        .header("host", "cloudflare.com")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(trace_map(&text)["h"], "cloudflare.com");
    assert_eq!(running.requests().last().unwrap().path, "/cdn-cgi/trace");
    // Faults apply to the trace too.
    running.add_fault(Fault::status(503).path_prefix("/cdn-cgi/trace"));
    assert_eq!(
        client()
            .get(running.trace_url())
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    running.shutdown().await;

    // IPv6 loopback, when the host has it.
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
    if let Ok(running) = standard().start(v6).await {
        let text = client()
            .get(running.trace_url())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let map = trace_map(&text);
        assert_eq!(map["ip"], "::1");
        assert_eq!(map["h"], "[::1]");
        running.shutdown().await;
    }

    let mut emu = Emulator::new();
    emu.token(EDIT, TokenScope::edit_all());
    emu.trace_ip(IpAddr::from([203, 0, 113, 7]))
        .trace_warp("on");
    let running = start(emu).await;
    let text = client()
        .get(running.trace_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let map = trace_map(&text);
    assert_eq!(
        (map["ip"].as_str(), map["warp"].as_str()),
        ("203.0.113.7", "on")
    );
    running.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let running = start(standard()).await;
    let url = running.base_url();
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    running.shutdown().await;
    assert!(
        client()
            .get(format!("{url}/zones"))
            .bearer_auth(EDIT)
            .send()
            .await
            .is_err()
    );
}
