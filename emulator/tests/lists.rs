//! IP lists: the emulator's bodies against the fixtures (lists_*.json, see fixtures/README.md)
//! and the OpenAPI subset; the asynchronous item changes; the list permission.

// Test code: helpers panic on unexpected failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::oas::Oas;
use common::*;
use ddflare_emulator::{Emulator, Fault, TokenScope};
use serde_json::{Value, json};

const LISTS: &str = "lists-token";

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

async fn running() -> (ddflare_emulator::Running, String) {
    let mut emu = standard();
    emu.token(LISTS, TokenScope::edit_all().with_lists());
    let account = emu.account_id();
    (start(emu).await, account)
}

async fn poll_until_done(r: &ddflare_emulator::Running, account: &str, op: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..10 {
        let v = get(
            r,
            &format!("/accounts/{account}/rules/lists/bulk_operations/{op}"),
            LISTS,
        )
        .await
        .json();
        let status = v["result"]["status"].as_str().unwrap().to_owned();
        seen.push(v["result"].clone());
        if status == "completed" || status == "failed" {
            return seen;
        }
    }
    panic!("never ended: {seen:?}");
}

#[tokio::test]
async fn lists_items_and_operations_have_the_fixtures_shapes() {
    let oas = Oas::load();
    let (r, account) = running().await;
    let base = format!("/accounts/{account}/rules/lists");
    let created = post(
        &r,
        &base,
        LISTS,
        json!({"name": "home_ips", "kind": "ip", "description": "home"}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let created = created.json();
    assert_eq!(keys(&created), keys(&fixture("lists_create_response.json")));
    assert_eq!(
        keys(&created["result"]),
        keys(&fixture("lists_create_response.json")["result"])
    );
    // Not checked against the 2024 OpenAPI, whose create response wraps the list in an array:
    // the SDK fixture (and today's SDK type) answer one object.
    let id = created["result"]["id"].as_str().unwrap().to_owned();
    let listed = get(&r, &base, LISTS).await.json();
    assert_eq!(
        keys(&listed["result"][0]),
        keys(&fixture("lists_list_response.json")["result"][0])
    );
    oas.assert_valid(
        oas.response("/accounts/{account_id}/rules/lists", "get", "200"),
        &listed,
    );

    // Items: a POST answers with an operation id and changes nothing until it completes.
    let body = json!([
        {"ip": "192.0.2.1", "comment": "Private IP address"},
        {"ip": "2001:db8::7", "comment": "whole IPv6 address"},
        {"ip": "2001:db8:1::/48"}
    ]);
    let added = post(&r, &format!("{base}/{id}/items"), LISTS, body)
        .await
        .json();
    assert_eq!(
        keys(&added),
        keys(&fixture("lists_items_create_async_response.json"))
    );
    assert_eq!(
        keys(&added["result"]),
        keys(&fixture("lists_items_create_async_response.json")["result"])
    );
    let op = added["result"]["operation_id"].as_str().unwrap().to_owned();
    let statuses = poll_until_done(&r, &account, &op).await;
    let names: Vec<&str> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pending", "running", "completed"]);
    let examples = fixture("lists_bulk_operation_oas_examples.json");
    assert_eq!(keys(&statuses[1]), keys(&examples["running"]["result"]));
    assert_eq!(keys(&statuses[2]), keys(&examples["completed"]["result"]));

    // Cursor pages: page 1 names `after`, the last page does not.
    let p1 = get(&r, &format!("{base}/{id}/items?per_page=2"), LISTS)
        .await
        .json();
    assert_eq!(
        keys(&p1["result"][0]),
        keys(&fixture("lists_items_ip_page1.json")["result"][0])
    );
    let after = p1["result_info"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let p2 = get(
        &r,
        &format!("{base}/{id}/items?per_page=2&cursor={after}"),
        LISTS,
    )
    .await
    .json();
    assert_eq!(p2["result"].as_array().unwrap().len(), 1);
    assert!(p2["result_info"]["cursors"].get("after").is_none());
    assert!(
        fixture("lists_items_ip_page2.json")["result_info"]["cursors"]
            .get("after")
            .is_none()
    );

    // DELETE by id, asynchronous too.
    let first = p1["result"][0]["id"].as_str().unwrap();
    let deleted = call(
        &r,
        "DELETE",
        &format!("{base}/{id}/items"),
        Some(LISTS),
        Some(json!({"items": [{"id": first}]})),
    )
    .await
    .json();
    assert_eq!(
        keys(&deleted["result"]),
        keys(&fixture("lists_items_delete_async_response.json")["result"])
    );
    let op = deleted["result"]["operation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    poll_until_done(&r, &account, &op).await;
    let ips: Vec<String> = r.list_items("home_ips").into_iter().map(|i| i.ip).collect();
    assert_eq!(ips, ["2001:db8::7", "2001:db8:1::/48"]);
}

#[tokio::test]
async fn an_injected_failure_ends_the_operation_failed_and_changes_nothing() {
    let (r, account) = running().await;
    r.add_list_item("home_ips", "192.0.2.1", Some("x"));
    let id = get(&r, &format!("/accounts/{account}/rules/lists"), LISTS)
        .await
        .json()["result"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    r.add_fault(
        Fault::bulk_failed("This list is at the maximum number of items")
            .method("POST")
            .path_contains("/items"),
    );
    let added = post(
        &r,
        &format!("/accounts/{account}/rules/lists/{id}/items"),
        LISTS,
        json!([{"ip": "192.0.2.2"}]),
    )
    .await
    .json();
    let op = added["result"]["operation_id"].as_str().unwrap().to_owned();
    let end = poll_until_done(&r, &account, &op).await.pop().unwrap();
    assert_eq!(end["status"], "failed");
    assert_eq!(end["error"], "This list is at the maximum number of items");
    let examples = fixture("lists_bulk_operation_oas_examples.json");
    assert_eq!(keys(&end), keys(&examples["failed"]["result"]));
    assert_eq!(r.list_items("home_ips").len(), 1);
}

#[tokio::test]
async fn names_ips_and_the_permission_are_checked() {
    let (r, account) = running().await;
    let base = format!("/accounts/{account}/rules/lists");
    // A DNS token without Account Filter Lists → Edit: 403 10000.
    let refused = get(&r, &base, EDIT).await;
    assert_eq!((refused.status, refused.code()), (403, 10000));
    // Another account: the same.
    let other = get(
        &r,
        "/accounts/0123456789abcdef0123456789abcdef/rules/lists",
        LISTS,
    )
    .await;
    assert_eq!(other.status, 403);
    for bad in ["Home", "home-ips", "", &"a".repeat(51)] {
        let resp = post(&r, &base, LISTS, json!({"name": bad, "kind": "ip"})).await;
        assert_eq!(resp.status, 400, "{bad}");
    }
    let id = post(&r, &base, LISTS, json!({"name": "ok_1", "kind": "ip"}))
        .await
        .json()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for bad in ["192.0.2.1/7", "2001:db8::/11", "example.com", "192.0.2.1/x"] {
        let resp = post(
            &r,
            &format!("{base}/{id}/items"),
            LISTS,
            json!([{"ip": bad}]),
        )
        .await;
        assert_eq!(resp.status, 400, "{bad}");
    }
    let _ = Emulator::new();
}
