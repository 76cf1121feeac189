//! Conformance: the emulator's bodies against the captured fixtures and the OpenAPI subset.

// Test code: helpers panic on unexpected failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::oas::{Oas, is_rfc3339};
use common::*;
use ddflare_emulator::{Emulator, Plan, RecordSpec, TokenScope, ZoneOptions};
use serde_json::{Value, json};

const ABSENT_ID: &str = "0123456789abcdef0123456789abcdef";

fn without(mut v: Value, pointer_parent: &str, key: &str) -> Value {
    if let Some(obj) = v.pointer_mut(pointer_parent).and_then(Value::as_object_mut) {
        obj.remove(key);
    }
    v
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn oas_checker_rejects_violations() {
    let oas = Oas::load();
    let record = oas.component("dns-records_dns-record");
    let good = json!({
        "id": "372e67954025e0ba6aaa6d586b9e0b59", "name": "example.com", "type": "A",
        "content": "198.51.100.4", "proxiable": true, "proxied": false, "ttl": 120,
        "created_on": "2014-01-01T05:20:00Z", "modified_on": "2014-01-01T05:20:00Z",
        "meta": {}, "tags": [], "comment": "x"
    });
    oas.assert_valid(record, &good);
    let broken: [(&str, Value); 4] = [
        ("content", json!("not-an-ip")),
        ("ttl", json!(10)),
        ("type", json!("MX")), // MX requires priority: no oneOf branch matches
        ("created_on", json!("yesterday")),
    ];
    for (key, value) in broken {
        let mut bad = good.clone();
        bad[key] = value;
        assert!(
            !oas.violations(record, &bad).is_empty(),
            "{key} should fail"
        );
    }
    let mut bad = good;
    bad.as_object_mut().unwrap().remove("proxiable");
    assert!(!oas.violations(record, &bad).is_empty(), "required");
    assert!(is_rfc3339("2025-10-25T12:48:34.17977Z"));
    assert!(!is_rfc3339("2025-10-25 12:48:34Z"));
    // The checker accepts the real fixtures it should.
    let collection = oas.component("dns-records_dns_response_collection");
    oas.assert_valid(collection, &fixture("dns_records_list_page1.json"));
}

/// The 2025 capture's zone, rebuilt record by record.
async fn capture_zone() -> (ddflare_emulator::Running, Value) {
    let capture = fixture("dns_records_list_capture_2025.json");
    let mut emu = Emulator::new();
    emu.zone("jnishant.com");
    emu.token(EDIT, TokenScope::edit_all());
    for r in capture["result"].as_array().unwrap() {
        let spec = RecordSpec {
            proxied: Some(r["proxied"].as_bool().unwrap()),
            priority: r["priority"].as_u64().map(|p| p as u16),
            ..RecordSpec::new(
                r["name"].as_str().unwrap(),
                r["type"].as_str().unwrap(),
                r["content"].as_str().unwrap(),
            )
        };
        emu.try_record("jnishant.com", spec).unwrap();
    }
    (start(emu).await, capture)
}

#[tokio::test]
async fn list_matches_2025_capture_keys_types_values_and_order() {
    let (running, capture) = capture_zone().await;
    let resp = get(&running, &records_path(&running, "jnishant.com"), EDIT).await;
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_same_shape(
        &without(body.clone(), "", "result"),
        &without(capture.clone(), "", "result"),
        "envelope",
    );
    assert_eq!(body["result_info"], capture["result_info"]);
    let ours = body["result"].as_array().unwrap();
    let theirs = capture["result"].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    for r in ours {
        assert!(is_hex32(r["id"].as_str().unwrap()));
        assert!(is_rfc3339(r["created_on"].as_str().unwrap()));
        assert!(
            r["created_on"].as_str().unwrap().contains('.'),
            "fractional seconds"
        );
        let twin = theirs
            .iter()
            .find(|t| {
                t["name"] == r["name"] && t["type"] == r["type"] && t["content"] == r["content"]
            })
            .unwrap_or_else(|| panic!("no capture twin for {r}"));
        assert_eq!(key_kinds(r), key_kinds(twin), "{}", r["name"]);
        for key in [
            "proxiable",
            "proxied",
            "ttl",
            "settings",
            "meta",
            "comment",
            "tags",
            "priority",
        ] {
            assert_eq!(
                r.get(key),
                twin.get(key),
                "{key} of {} {}",
                r["type"],
                r["name"]
            );
        }
        for gone in ["zone_id", "zone_name", "locked", "data"] {
            assert!(r.get(gone).is_none(), "{gone} must not be emitted");
        }
    }
    // Key order, checked on the raw text, for an A record and an MX record.
    let capture_text = fixture_text("dns_records_list_capture_2025.json");
    for rtype in ["\"A\"", "\"MX\""] {
        let at = |text: &str| {
            let type_pos = text.find(&format!("\"type\":{rtype}")).unwrap();
            text[..type_pos].rfind("{\"id\"").unwrap()
        };
        assert_eq!(
            raw_key_order(&resp.text, at(&resp.text)),
            raw_key_order(&capture_text, at(&capture_text)),
            "key order of {rtype}"
        );
    }
    // Against the 2024-08 OAS the real capture and the emulator deviate in the same,
    // single way: `comment: null` where the schema says string.
    let oas = Oas::load();
    let schema = oas.response("/zones/{zone_id}/dns_records", "get", "200");
    let ours_v = oas.violations(schema, &body);
    let theirs_v = oas.violations(schema, &capture);
    assert_eq!(ours_v.len(), 10);
    assert!(
        ours_v
            .iter()
            .all(|v| v.ends_with("comment: expected string, got null")),
        "{ours_v:?}"
    );
    let mut a = ours_v.clone();
    let mut b = theirs_v;
    a.sort();
    b.sort();
    assert_eq!(a, b);
    running.shutdown().await;
}

/// SDK-era fixtures (2014) carry `data` (gone); the current shape adds `settings`,
/// `comment`, `tags`. Everything else must match in name and type.
fn assert_record_like_sdk_fixture(ours: &Value, fixture_record: &Value) {
    let ours_k = key_kinds(ours);
    let theirs_k = key_kinds(fixture_record);
    for (k, t) in &theirs_k {
        if k == "data" {
            continue;
        }
        assert_eq!(ours_k.get(k), Some(t), "key {k}");
    }
    for k in ours_k.keys() {
        assert!(
            theirs_k.contains_key(k)
                || ["settings", "comment", "tags", "comment_modified_on"].contains(&k.as_str()),
            "unexpected key {k}"
        );
    }
}

#[tokio::test]
async fn create_get_patch_delete_match_fixtures_and_schema() {
    let running = start(standard()).await;
    let oas = Oas::load();
    let path = records_path(&running, "example.com");
    let single = oas.component("dns-records_dns_response_single");

    let created = post(
        &running,
        &path,
        EDIT,
        json!({"name":"xn--138h","type":"A","content":"198.51.100.4","ttl":120,"comment":"hi"}),
    )
    .await;
    assert_eq!(created.status, 200);
    let fx = fixture("dns_record_create_response.json");
    let body = created.json();
    assert_same_shape(
        &without(body.clone(), "", "result"),
        &without(fx.clone(), "", "result"),
        "envelope",
    );
    assert_record_like_sdk_fixture(&body["result"], &fx["result"]);
    assert_eq!(body["result"]["name"], "xn--138h.example.com");
    assert!(is_rfc3339(
        body["result"]["comment_modified_on"].as_str().unwrap()
    ));
    oas.assert_valid(single, &body);
    let id = body["result"]["id"].as_str().unwrap().to_owned();

    let got = get(&running, &format!("{path}/{id}"), EDIT).await.json();
    assert_record_like_sdk_fixture(
        &got["result"],
        &fixture("dns_record_get_response.json")["result"],
    );
    assert_eq!(got["result"], body["result"]);
    oas.assert_valid(single, &got);

    let patched = call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"content":"203.0.113.7"})),
    )
    .await
    .json();
    assert_record_like_sdk_fixture(
        &patched["result"],
        &fixture("dns_record_patch_response.json")["result"],
    );
    assert_eq!(patched["result"]["content"], "203.0.113.7");
    oas.assert_valid(single, &patched);

    let deleted = call(
        &running,
        "DELETE",
        &format!("{path}/{id}"),
        Some(EDIT),
        None,
    )
    .await;
    assert_eq!(deleted.status, 200);
    let mut fx = fixture("dns_record_delete_response.json");
    fx["result"]["id"] = json!(id);
    assert_eq!(deleted.json(), fx);
    oas.assert_valid(
        oas.response(
            "/zones/{zone_id}/dns_records/{dns_record_id}",
            "delete",
            "200",
        ),
        &fx,
    );
    running.shutdown().await;
}

#[tokio::test]
async fn token_verify_matches_fixtures_and_schema() {
    let mut emu = standard();
    emu.token(
        "windowed",
        TokenScope::edit_all().with_window("2018-07-01T05:20:00Z", "2020-01-01T00:00:00Z"),
    );
    let running = start(emu).await;
    let oas = Oas::load();
    let schema = oas.response("/user/tokens/verify", "get", "200");

    let valid = get(&running, "/user/tokens/verify", EDIT).await;
    assert_eq!(valid.status, 200);
    let body = valid.json();
    assert!(is_hex32(body["result"]["id"].as_str().unwrap()));
    for name in [
        "tokens_verify_valid.json",
        "tokens_verify_valid_capture_2026.json",
    ] {
        let mut fx = fixture(name);
        fx["result"]["id"] = body["result"]["id"].clone();
        assert_eq!(body, fx, "{name}");
    }
    oas.assert_valid(schema, &body);

    let windowed = get(&running, "/user/tokens/verify", "windowed")
        .await
        .json();
    for name in [
        "tokens_verify_valid_with_expiry.json",
        "tokens_verify_valid_sdk_fixture.json",
    ] {
        let mut fx = fixture(name);
        fx["result"]["id"] = windowed["result"]["id"].clone();
        assert_eq!(windowed["result"], fx["result"], "{name}");
        assert_same_shape(&windowed["errors"], &fx["errors"], "errors");
    }
    oas.assert_valid(schema, &windowed);
    running.shutdown().await;
}

#[tokio::test]
async fn zones_match_fixtures_and_schema() {
    let mut emu = standard();
    emu.zone_with(
        "example.org",
        ZoneOptions {
            plan: Plan::Enterprise,
            ..ZoneOptions::default()
        },
    );
    let running = start(emu).await;
    let oas = Oas::load();

    let empty = get(&running, "/zones?name=nope.example", EDIT).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json(), fixture("zones_list_empty.json"));

    let list = get(&running, "/zones?name=EXAMPLE.com", EDIT).await.json();
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["result_info"],
        json!({"page":1,"per_page":20,"count":1,"total_count":1,"total_pages":1})
    );
    oas.assert_valid(oas.response("/zones", "get", "200"), &list);

    let id = running.zone_id("example.com").unwrap();
    assert!(is_hex32(&id));
    let details = get(&running, &format!("/zones/{id}"), EDIT).await.json();
    oas.assert_valid(oas.response("/zones/{zone_id}", "get", "200"), &details);
    assert_eq!(details["result"], list["result"][0]);
    let fx = fixture("zone_details_response.json");
    // `verification_key` exists only on partial zones; `name_servers` is required by
    // the OAS (the SDK fixture omits it). Everything else: same keys, same types.
    let mut expected = key_kinds(&fx["result"]);
    expected.remove("verification_key");
    expected.insert("name_servers".into(), "array");
    assert_eq!(key_kinds(&details["result"]), expected);
    for nested in ["meta", "owner", "account", "plan"] {
        assert_same_shape(&details["result"][nested], &fx["result"][nested], nested);
    }
    assert_same_shape(
        &without(details.clone(), "", "result"),
        &without(fx, "", "result"),
        "envelope",
    );
    assert_eq!(details["result"]["name"], "example.com");
    assert_eq!(details["result"]["status"], "active");
    running.shutdown().await;
}

#[tokio::test]
async fn empty_list_and_paging_result_info_match_fixtures() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    assert_eq!(
        get(&running, &path, EDIT).await.json(),
        fixture("dns_records_list_empty.json")
    );
    for i in 0..5 {
        post(
            &running,
            &path,
            EDIT,
            json!({"name":format!("sub{i}"),"type":"A","content":"198.51.100.5"}),
        )
        .await;
    }
    for page in [1, 2] {
        let body = get(&running, &format!("{path}?per_page=3&page={page}"), EDIT)
            .await
            .json();
        let fx = fixture(&format!("dns_records_list_page{page}.json"));
        assert_eq!(body["result_info"], fx["result_info"], "page {page}");
        assert_eq!(
            body["result"].as_array().unwrap().len(),
            fx["result"].as_array().unwrap().len()
        );
    }
    running.shutdown().await;
}

/// One error case: the request, the HTTP status CONTRACT.md gives, and the fixture.
struct Case {
    what: &'static str,
    status: u16,
    fixture: &'static str,
    resp: Resp,
}

async fn error_cases() -> Vec<Case> {
    let mut emu = standard();
    let mut legacy = standard();
    legacy.wrapped_validation_errors(true);
    emu.rate_limit(1, std::time::Duration::from_secs(60));
    emu.token("second", TokenScope::edit_all());
    let running = start(emu).await;
    let legacy = start(legacy).await;
    let path = records_path(&running, "example.com");
    let legacy_path = records_path(&legacy, "example.com");
    let net = running.zone_id("example.net").unwrap();
    let mut cases = Vec::new();
    let mut push = |what, status, fixture, resp| {
        cases.push(Case {
            what,
            status,
            fixture,
            resp,
        })
    };

    // Each request below uses its own credential, since the budget is 1 per token.
    push(
        "verify without Authorization",
        400,
        "error_1001_missing_authorization_header.json",
        call(&running, "GET", "/user/tokens/verify", None, None).await,
    );
    push(
        "verify with a malformed token",
        400,
        "error_6003_6111_malformed_authorization.json",
        get(&running, "/user/tokens/verify", "abc def").await,
    );
    push(
        "verify with a wrong token",
        401,
        "tokens_verify_invalid_1000.json",
        get(&running, "/user/tokens/verify", WRONG).await,
    );
    push(
        "zones with a wrong token",
        403,
        "error_9109_invalid_access_token.json",
        get(&running, "/zones", "another-wrong-token").await,
    );
    push(
        "zones with a malformed token",
        400,
        "error_6003_6111_malformed_authorization.json",
        get(&running, "/zones", "bad/token").await,
    );
    let legacy_headers = client()
        .get(format!("{}/zones", running.base_url()))
        .header("X-Auth-Email", "not-an-email")
        .header("X-Auth-Key", "not a key")
        .send()
        .await
        .unwrap();
    push(
        "zones with malformed legacy headers",
        400,
        "error_6003_6102_6103_bad_legacy_key_headers.json",
        read(legacy_headers).await,
    );
    push(
        "records of a malformed zone id",
        400,
        "error_7003_bad_zone_identifier.json",
        get(&running, "/zones/example.es/dns_records", EDIT).await,
    );
    push(
        "records of a foreign zone id",
        403,
        "error_10000_authentication_error.json",
        get(&running, &format!("/zones/{net}/dns_records"), SCOPED).await,
    );
    push(
        "absent record id",
        404,
        "error_81044_record_not_found.json",
        get(&running, &format!("{path}/{ABSENT_ID}"), READ).await,
    );
    push(
        "invalid A content",
        400,
        "error_9005_invalid_ipv4_content.json",
        post(
            &running,
            &path,
            "second",
            json!({"name":"a","type":"A","content":"1.2.3"}),
        )
        .await,
    );
    push(
        "rate limited",
        429,
        "error_429_971_rate_limited.json",
        get(&running, "/zones", EDIT).await,
    );
    // Legacy (pre-2024-10) wrapping, on the second emulator.
    push(
        "TTL out of range, wrapped",
        400,
        "error_1004_9021_ttl_out_of_range_2024.json",
        post(
            &legacy,
            &legacy_path,
            EDIT,
            json!({"name":"a","type":"A","content":"192.0.2.1","ttl":30}),
        )
        .await,
    );
    push(
        "tags on a Free zone, wrapped",
        400,
        "error_1004_9300_tags_quota_2023.json",
        post(
            &legacy,
            &legacy_path,
            EDIT,
            json!({"name":"a","type":"A","content":"192.0.2.1","tags":["a:b"]}),
        )
        .await,
    );
    post(
        &legacy,
        &legacy_path,
        EDIT,
        json!({"name":"dup","type":"A","content":"192.0.2.1"}),
    )
    .await;
    push(
        "identical record (never wrapped)",
        400,
        "error_81058_identical_record_exists.json",
        post(
            &legacy,
            &legacy_path,
            EDIT,
            json!({"name":"dup","type":"A","content":"192.0.2.1"}),
        )
        .await,
    );
    cases
}

#[tokio::test]
async fn error_bodies_match_fixtures_statuses_and_schema() {
    let oas = Oas::load();
    let failure = oas.component("dns-records_api-response-common-failure");
    for case in error_cases().await {
        assert_eq!(
            case.resp.status, case.status,
            "{}: {}",
            case.what, case.resp.text
        );
        let body = case.resp.json();
        let fx = fixture(case.fixture);
        if fx.get("messages").is_some() {
            assert_eq!(body, fx, "{}", case.what);
        } else {
            // FAV's mock omits `messages`/`result`; real bodies carry both.
            assert_eq!(body["errors"], fx["errors"], "{}", case.what);
            assert_eq!(
                (&body["messages"], &body["result"]),
                (&json!([]), &Value::Null)
            );
        }
        let cf_ray = case.resp.header("cf-ray").unwrap();
        assert!(cf_ray.len() == 20 && cf_ray.ends_with("-EMU"), "{cf_ray}");
        let violations = oas.violations(failure, &body);
        if case.status == 429 {
            // The live code 971 is below the OAS's `minimum: 1000` for error codes.
            assert_eq!(
                violations,
                vec!["/errors/0/code: 971 < minimum 1000".to_owned()]
            );
            assert!(case.resp.header("retry-after").is_some());
        } else {
            assert!(violations.is_empty(), "{}: {violations:?}", case.what);
        }
    }
}

#[tokio::test]
async fn unwrapped_and_wrapped_errors_have_the_documented_shapes() {
    let mut legacy = standard();
    legacy.wrapped_validation_errors(true);
    let current = start(standard()).await;
    let legacy = start(legacy).await;
    let bad = json!({"name":"a","type":"A","content":"192.0.2.1","ttl":5});
    let now = post(
        &current,
        &records_path(&current, "example.com"),
        EDIT,
        bad.clone(),
    )
    .await
    .json();
    let old = post(&legacy, &records_path(&legacy, "example.com"), EDIT, bad)
        .await
        .json();
    assert_same_shape(
        &now,
        &fixture("error_9999_unwrapped_post_2024-10-01.json"),
        "unwrapped",
    );
    assert_same_shape(
        &old,
        &fixture("error_1004_9999_chain_pre_2024-10-01.json"),
        "wrapped",
    );
    assert_eq!(now["errors"][0]["code"], 9021);
    assert_eq!(old["errors"][0]["error_chain"][0], now["errors"][0]);
}

#[tokio::test]
async fn conflict_messages_follow_the_contract() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    post(
        &running,
        &path,
        EDIT,
        json!({"name":"c","type":"CNAME","content":"target.example.net"}),
    )
    .await;
    post(
        &running,
        &path,
        EDIT,
        json!({"name":"a","type":"A","content":"192.0.2.1"}),
    )
    .await;
    let a_on_cname = post(
        &running,
        &path,
        EDIT,
        json!({"name":"c","type":"A","content":"192.0.2.1"}),
    )
    .await;
    assert_eq!((a_on_cname.status, a_on_cname.code()), (400, 81054));
    assert!(
        a_on_cname.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("A CNAME record with that host already exists.")
    );
    let cname_on_a = post(
        &running,
        &path,
        EDIT,
        json!({"name":"a","type":"CNAME","content":"x.example.net"}),
    )
    .await;
    assert_eq!((cname_on_a.status, cname_on_a.code()), (400, 81053));
    assert_same_shape(
        &cname_on_a.json(),
        &fixture("error_81053_host_exists_legacy_2016.json"),
        "81053",
    );
    assert_eq!(
        cname_on_a.json()["errors"][0]["message"],
        "An A, AAAA, or CNAME record with that host already exists."
    );
    let proxied = post(
        &running,
        &path,
        EDIT,
        json!({"name":"p","type":"A","content":"10.0.0.1","proxied":true}),
    )
    .await;
    assert_eq!(
        proxied.json()["errors"][0],
        json!({"code":9003,"message":"Target 10.0.0.1 is not allowed for a proxied record."})
    );
    running.shutdown().await;
}

#[tokio::test]
async fn trace_matches_the_2026_capture_layout() {
    let running = start(standard()).await;
    let resp = read(
        client()
            .get(running.trace_url())
            .header("user-agent", "ddflare-test/1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type").unwrap(), "text/plain");
    for (h, v) in [
        ("cache-control", "no-cache"),
        ("access-control-allow-origin", "*"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(
            resp.header(h).as_deref(),
            Some(v),
            "{h} as in the 2022 capture"
        );
    }
    assert!(resp.header("cf-ray").is_some());
    let keys = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_once('=').unwrap().0.to_owned())
            .collect()
    };
    assert_eq!(
        keys(&resp.text),
        keys(&fixture_text("cdn_cgi_trace_capture_2026.txt"))
    );
    assert!(resp.text.ends_with('\n'));
    let map: std::collections::HashMap<_, _> = resp
        .text
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    assert_eq!(map["h"], "127.0.0.1");
    assert_eq!(map["ip"], "127.0.0.1");
    assert_eq!(map["uag"], "ddflare-test/1");
    assert_eq!(map["warp"], "off");
    let (secs, millis) = map["ts"].split_once('.').unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_700_000_000 && millis.len() == 3);
    running.shutdown().await;
}

#[tokio::test]
async fn every_api_response_has_ray_and_rate_limit_headers() {
    let running = start(standard()).await;
    for (path, token) in [
        ("/zones", EDIT),
        ("/zones", WRONG),
        ("/user/tokens/verify", EDIT),
        ("/nope", EDIT),
    ] {
        let resp = get(&running, path, token).await;
        let ray = resp.header("cf-ray").unwrap();
        let (hex, colo) = ray.split_once('-').unwrap();
        assert!(hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && colo == "EMU");
        let rl = resp.header("ratelimit").unwrap();
        assert!(
            rl.starts_with("\"default\";r=") && rl.contains(";t="),
            "{rl}"
        );
        assert_eq!(
            resp.header("ratelimit-policy").unwrap(),
            "\"default\";q=1200;w=300"
        );
        assert!(resp.header("retry-after").is_none());
    }
    running.shutdown().await;
}
