//! The client against the real contract: every fixture body in
//! `../shared/cloudflare-api/fixtures/` goes through the same decoder the client uses, with the
//! HTTP status the contract gives for it, and must decode to the right result or error class.

use ddflare::cloudflare::client::decode;
use ddflare::cloudflare::types::{Deleted, ResultInfo};
use ddflare::cloudflare::{ApiError, ErrorKind, Record, TokenInfo, Zone};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::support::contract_dir;

fn fixture(name: &str) -> Vec<u8> {
    let path = contract_dir().join("fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ok<T: DeserializeOwned>(name: &str) -> (T, Option<ResultInfo>) {
    decode::<T>(
        "test",
        StatusCode::OK,
        &HeaderMap::new(),
        None,
        &fixture(name),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn err(name: &str, status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap();
    match decode::<serde_json::Value>("test", status, &HeaderMap::new(), None, &fixture(name)) {
        Ok(v) => panic!("{name} decoded as success: {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn every_json_fixture_is_covered_here() {
    // A new fixture must be added to one of the tests below.
    let covered = [
        "tokens_verify_valid.json",
        "tokens_verify_valid_with_expiry.json",
        "tokens_verify_valid_sdk_fixture.json",
        "tokens_verify_valid_capture_2026.json",
        "tokens_verify_invalid_1000.json",
        "error_6003_6111_malformed_authorization.json",
        "error_1001_missing_authorization_header.json",
        "error_6003_6102_6103_bad_legacy_key_headers.json",
        "error_9109_invalid_access_token.json",
        "error_9109_unauthorized_resource.json",
        "error_10000_authentication_error.json",
        "error_403_10000_forbidden_contextual.json",
        "list_accounts_account_token_unsupported_1001.json",
        "error_429_971_rate_limited.json",
        "error_429_10100_rate_limited_legacy.json",
        "zones_list_empty.json",
        "zone_details_response.json",
        "dns_records_list_page1.json",
        "dns_records_list_page2.json",
        "dns_records_list_search_response.json",
        "dns_record_get_response.json",
        "dns_record_create_response.json",
        "dns_record_patch_response.json",
        "dns_record_delete_response.json",
        "dns_records_list_empty.json",
        "dns_records_list_capture_2025.json",
        "batch_request_docs_example.json",
        "error_81058_identical_record_exists.json",
        "error_81057_record_exists_legacy_2018.json",
        "error_81053_host_exists_legacy_2016.json",
        "error_81044_record_not_found.json",
        "error_7003_bad_zone_identifier.json",
        "error_7003_7000_no_route_legacy.json",
        "error_1002_invalid_dns_record_identifier_2018.json",
        "error_9005_invalid_ipv4_content.json",
        "error_1004_9021_ttl_out_of_range_2024.json",
        "error_1004_9300_tags_quota_2023.json",
        "error_1004_9041_cannot_be_proxied_2020.json",
        "error_1004_9004_type_cannot_be_proxied_2021.json",
        "error_1004_9999_chain_pre_2024-10-01.json",
        "error_9999_unwrapped_post_2024-10-01.json",
        // WAF lists and DoH are outside the DNS client: decoded as plain JSON below.
        "lists_create_response.json",
        "lists_items_create_async_response.json",
        "lists_items_delete_async_response.json",
        "lists_items_ip_page1.json",
        "lists_items_ip_page2.json",
        "lists_list_response.json",
        "doh_json_error_400.json",
        "doh_json_response_example.json",
    ];
    let dir = contract_dir().join("fixtures");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") && !covered.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fixtures not covered: {missing:?}");
}

#[test]
fn token_verify_bodies() {
    for name in [
        "tokens_verify_valid.json",
        "tokens_verify_valid_sdk_fixture.json",
        "tokens_verify_valid_capture_2026.json",
    ] {
        let (t, _): (TokenInfo, _) = ok(name);
        assert_eq!(t.status, "active", "{name}");
        assert_eq!(t.id.len(), 32, "{name}");
    }
    let (t, _): (TokenInfo, _) = ok("tokens_verify_valid_with_expiry.json");
    assert_eq!(t.expires_on.as_deref(), Some("2020-01-01T00:00:00Z"));
    assert_eq!(t.not_before.as_deref(), Some("2018-07-01T05:20:00Z"));
}

#[test]
fn auth_errors_are_classified_by_code_and_status() {
    assert_eq!(
        err("tokens_verify_invalid_1000.json", 401).kind,
        ErrorKind::InvalidToken
    );
    for name in [
        "error_6003_6111_malformed_authorization.json",
        "error_1001_missing_authorization_header.json",
        "error_6003_6102_6103_bad_legacy_key_headers.json",
    ] {
        assert_eq!(
            err(name, 400).kind,
            ErrorKind::MalformedCredentials,
            "{name}"
        );
    }
    let e = err("error_6003_6111_malformed_authorization.json", 400);
    assert_eq!(e.codes(), vec![6003, 6111], "chains are read");
    for name in [
        "error_9109_invalid_access_token.json",
        "error_9109_unauthorized_resource.json",
        "error_10000_authentication_error.json",
        "error_403_10000_forbidden_contextual.json",
    ] {
        let e = err(name, 403);
        assert_eq!(e.kind, ErrorKind::Forbidden, "{name}");
        assert!(e.hint().unwrap().contains("Zone → DNS → Edit"), "{name}");
    }
    let e = err("error_403_10000_forbidden_contextual.json", 403);
    assert!(e.errors[0].documentation_url.is_some());
    let e = err("list_accounts_account_token_unsupported_1001.json", 400);
    assert_eq!(e.codes(), vec![1001]);
}

#[test]
fn rate_limits_current_and_legacy() {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", "17".parse().unwrap());
    headers.insert("cf-ray", "8f1c2d3e4a5b6c7d-AMS".parse().unwrap());
    let body = fixture("error_429_971_rate_limited.json");
    let e = decode::<serde_json::Value>(
        "list",
        StatusCode::TOO_MANY_REQUESTS,
        &headers,
        Some("8f1c2d3e4a5b6c7d-AMS".into()),
        &body,
    )
    .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(17))
        }
    );
    assert!(e.to_string().contains("cf-ray 8f1c2d3e4a5b6c7d-AMS"));
    // The Ratelimit header's t= is the fallback when Retry-After is absent.
    let mut headers = HeaderMap::new();
    headers.insert("ratelimit", "\"default\";r=0;t=42".parse().unwrap());
    let e = decode::<serde_json::Value>("x", StatusCode::TOO_MANY_REQUESTS, &headers, None, &body)
        .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(42))
        }
    );
    assert!(matches!(
        err("error_429_10100_rate_limited_legacy.json", 429).kind,
        ErrorKind::RateLimited { .. }
    ));
}

#[test]
fn zones() {
    let (zones, info): (Vec<Zone>, _) = ok("zones_list_empty.json");
    assert!(zones.is_empty());
    assert_eq!(info.unwrap().total_pages, Some(0));
    // The SDK fixture uses placeholder values ("foo", "bar"): the shape is what counts.
    let (zone, _): (Zone, _) = ok("zone_details_response.json");
    assert_eq!((zone.id.as_str(), zone.name.as_str()), ("foo", "bar"));
}

#[test]
fn record_lists_and_paging() {
    let (p1, i1): (Vec<Record>, _) = ok("dns_records_list_page1.json");
    let (p2, i2): (Vec<Record>, _) = ok("dns_records_list_page2.json");
    let (i1, i2) = (i1.unwrap(), i2.unwrap());
    assert!(
        i1.page < i1.total_pages.unwrap(),
        "page 1 says there is more"
    );
    assert_eq!(i2.page, i2.total_pages.unwrap(), "page 2 is the last");
    assert!(!p1.is_empty() && !p2.is_empty());
    let (empty, info): (Vec<Record>, _) = ok("dns_records_list_empty.json");
    assert!(empty.is_empty());
    assert_eq!(info.unwrap().total_pages, Some(1));
    let (search, _): (Vec<Record>, _) = ok("dns_records_list_search_response.json");
    assert!(!search.is_empty());
    // Today's shape: comment null, settings/meta objects, MX priority, no zone_id.
    let (capture, _): (Vec<Record>, _) = ok("dns_records_list_capture_2025.json");
    assert_eq!(capture.len(), 10);
    let a = &capture[0];
    assert_eq!(
        (a.rtype.as_str(), a.content.as_str(), a.ttl, a.proxied),
        ("A", "51.20.218.59", 1, true)
    );
    assert_eq!(a.comment, None);
    assert_eq!(capture.iter().filter(|r| r.rtype == "CNAME").count(), 5);
}

#[test]
fn single_record_answers() {
    for name in [
        "dns_record_get_response.json",
        "dns_record_create_response.json",
        "dns_record_patch_response.json",
    ] {
        let (r, _): (Record, _) = ok(name);
        assert_eq!(r.id.len(), 32, "{name}");
        assert!(
            r.content.parse::<std::net::IpAddr>().is_ok() || r.rtype != "A",
            "{name}"
        );
    }
    let (d, _): (Deleted, _) = ok("dns_record_delete_response.json");
    assert_eq!(d.id.len(), 32);
}

#[test]
fn record_errors() {
    assert_eq!(
        err("error_81058_identical_record_exists.json", 400).kind,
        ErrorKind::IdenticalRecord
    );
    assert_eq!(
        err("error_81057_record_exists_legacy_2018.json", 400).kind,
        ErrorKind::IdenticalRecord
    );
    assert_eq!(
        err("error_81053_host_exists_legacy_2016.json", 400).kind,
        ErrorKind::CnameConflict
    );
    assert_eq!(
        err("error_81044_record_not_found.json", 404).kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        err("error_81044_record_not_found.json", 400).kind,
        ErrorKind::NotFound
    );
    for name in [
        "error_7003_bad_zone_identifier.json",
        "error_7003_7000_no_route_legacy.json",
        "error_1002_invalid_dns_record_identifier_2018.json",
    ] {
        let e = err(name, 400);
        assert_eq!(e.kind, ErrorKind::BadIdentifier, "{name}");
        assert!(e.hint().unwrap().contains("zone_id"));
    }
    for (name, code) in [
        ("error_9005_invalid_ipv4_content.json", 9005),
        ("error_1004_9021_ttl_out_of_range_2024.json", 9021),
        ("error_1004_9300_tags_quota_2023.json", 9300),
        ("error_1004_9041_cannot_be_proxied_2020.json", 9041),
        ("error_1004_9004_type_cannot_be_proxied_2021.json", 9004),
        ("error_1004_9999_chain_pre_2024-10-01.json", 9999),
        ("error_9999_unwrapped_post_2024-10-01.json", 9999),
    ] {
        let e = err(name, 400);
        assert_eq!(e.kind, ErrorKind::Rejected, "{name}");
        assert!(e.codes().contains(&code), "{name}: {:?}", e.codes());
        assert!(
            e.to_string().contains(&code.to_string()),
            "{name}: the message names the code"
        );
    }
}

#[test]
fn batch_request_example_uses_the_fields_we_send() {
    // Our BatchRequest serialises the same keys the documented example uses.
    let doc: serde_json::Value =
        serde_json::from_slice(&fixture("batch_request_docs_example.json")).unwrap();
    for key in ["deletes", "patches", "posts"] {
        assert!(doc.get(key).is_some_and(|v| v.is_array()), "{key}");
    }
    let ours = ddflare::cloudflare::BatchRequest {
        deletes: vec![ddflare::cloudflare::IdOnly {
            id: "2bff0ebc4df64beaa44b0dca93e37a28".into(),
        }],
        patches: vec![ddflare::cloudflare::BatchPatch {
            id: "62276440f783445380480484648c1017".into(),
            patch: ddflare::cloudflare::RecordPatch {
                content: Some("192.0.2.46".into()),
                ..Default::default()
            },
        }],
        posts: vec![],
    };
    let v = serde_json::to_value(&ours).unwrap();
    assert_eq!(v["deletes"][0], doc["deletes"][0]);
    assert_eq!(v["patches"][0], doc["patches"][0]);
    assert!(v.get("posts").is_none(), "empty lists are not sent");
}

#[test]
fn other_api_bodies_are_valid_json() {
    for name in [
        "lists_create_response.json",
        "lists_items_create_async_response.json",
        "lists_items_delete_async_response.json",
        "lists_items_ip_page1.json",
        "lists_items_ip_page2.json",
        "lists_list_response.json",
        "doh_json_error_400.json",
        "doh_json_response_example.json",
    ] {
        let _: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
    }
}

#[test]
fn hostile_bodies_fail_cleanly() {
    let h = HeaderMap::new();
    let html = b"<html><body>502 Bad Gateway</body></html>";
    let e = decode::<Vec<Record>>("x", StatusCode::BAD_GATEWAY, &h, None, html).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    let e = decode::<Vec<Record>>("x", StatusCode::OK, &h, None, html).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    let e = decode::<Vec<Record>>("x", StatusCode::OK, &h, None, b"").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    // success:false with HTTP 200 and no error item.
    let body = br#"{"success":false,"errors":[],"messages":[],"result":null}"#;
    let e = decode::<Vec<Record>>("x", StatusCode::OK, &h, None, body).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    // A record missing its id is refused, not half-read.
    let body = br#"{"success":true,"errors":[],"messages":[],"result":[{"name":"a","type":"A","content":"192.0.2.1"}]}"#;
    let e = decode::<Vec<Record>>("x", StatusCode::OK, &h, None, body).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    // Deeply nested JSON is refused by serde_json's recursion limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = decode::<Vec<Record>>("x", StatusCode::OK, &h, None, deep.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
}
