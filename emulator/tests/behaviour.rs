//! Behaviour: paging, filters, names, PATCH/PUT, batch, token scopes, verify variants,
//! legacy keys, the request log, mutation events and the admin API.

// Test code: helpers panic on unexpected failures by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::*;
use ddflare_emulator::{
    Emulator, InactiveVerify, Plan, RecordSpec, TokenScope, TokenStatus, ZoneOptions,
};
use serde_json::{Value, json};

fn ids(body: &Value) -> Vec<String> {
    body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn names(body: &Value) -> Vec<String> {
    body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_walks_every_record_once() {
    let mut emu = standard();
    for i in 0..7 {
        emu.record(
            "example.com",
            &format!("h{i}"),
            "A",
            &format!("192.0.2.{i}"),
        );
    }
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let body = get(&running, &format!("{path}?per_page=3&page={page}"), READ)
            .await
            .json();
        let info = &body["result_info"];
        assert_eq!(info["total_count"], 7);
        assert_eq!(info["total_pages"], 3);
        assert_eq!(
            info["count"].as_u64().unwrap() as usize,
            body["result"].as_array().unwrap().len()
        );
        seen.extend(ids(&body));
        if page >= info["total_pages"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
    let beyond = get(&running, &format!("{path}?per_page=3&page=4"), READ)
        .await
        .json();
    assert_eq!(beyond["result"], json!([]));
    assert_eq!(beyond["result_info"]["page"], 4);
    // Defaults and clamping.
    let all = get(&running, &path, READ).await.json();
    assert_eq!(all["result_info"]["per_page"], 100);
    let tiny = get(&running, &format!("{path}?per_page=0"), READ)
        .await
        .json();
    assert_eq!(tiny["result_info"]["per_page"], 1);
    assert_eq!(tiny["result_info"]["total_pages"], 7);
    let zones = get(&running, "/zones?per_page=1", READ).await.json();
    assert_eq!(zones["result_info"]["per_page"], 5);
    let zones = get(&running, "/zones?per_page=1000", READ).await.json();
    assert_eq!(zones["result_info"]["per_page"], 50);
    running.shutdown().await;
}

#[tokio::test]
async fn filters_are_case_insensitive_and_combine() {
    let mut emu = Emulator::new();
    emu.zone_with(
        "example.com",
        ZoneOptions {
            plan: Plan::Pro,
            ..ZoneOptions::default()
        },
    );
    emu.token(EDIT, TokenScope::edit_all());
    let spec = |name: &str, rtype: &str, content: &str| RecordSpec::new(name, rtype, content);
    emu.try_record(
        "example.com",
        RecordSpec {
            comment: Some("Managed by DDflare".into()),
            ..spec("home", "A", "203.0.113.7")
        },
    )
    .unwrap();
    emu.try_record(
        "example.com",
        RecordSpec {
            proxied: Some(true),
            ..spec("home", "AAAA", "2001:db8::7")
        },
    )
    .unwrap();
    emu.try_record(
        "example.com",
        RecordSpec {
            tags: vec!["owner:ddflare".into()],
            ..spec("office", "A", "198.51.100.4")
        },
    )
    .unwrap();
    emu.try_record("example.com", spec("home", "TXT", "ownership=ddflare"))
        .unwrap();
    emu.try_record("example.com", spec("www", "CNAME", "home.example.com"))
        .unwrap();
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    let q = |query: &'static str| {
        let running = &running;
        let path = path.clone();
        async move {
            let resp = get(running, &format!("{path}?{query}"), EDIT).await;
            assert_eq!(resp.status, 200, "{query}: {}", resp.text);
            let body = resp.json();
            let mut got: Vec<String> = body["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r["type"].as_str().unwrap(),
                        r["name"].as_str().unwrap()
                    )
                })
                .collect();
            got.sort();
            got
        }
    };
    assert_eq!(
        q("type=A&name=HOME.Example.com").await,
        ["A home.example.com"]
    );
    assert_eq!(
        q("type=a&name.exact=home.example.com").await,
        ["A home.example.com"]
    );
    assert_eq!(
        q("name=home").await,
        Vec::<String>::new(),
        "no qualification in filters"
    );
    assert_eq!(q("name.startswith=OFF").await, ["A office.example.com"]);
    assert_eq!(
        q("name.endswith=w.example.com&type=CNAME").await,
        ["CNAME www.example.com"]
    );
    assert_eq!(q("name.contains=ffic").await, ["A office.example.com"]);
    assert_eq!(q("content=2001:DB8::7").await, ["AAAA home.example.com"]);
    assert_eq!(q("content.exact=203.0.113.7").await, ["A home.example.com"]);
    assert_eq!(
        q("content.contains=DDFLARE").await,
        ["TXT home.example.com"]
    );
    assert_eq!(q("proxied=true").await, ["AAAA home.example.com"]);
    assert_eq!(
        q("comment=managed%20by%20ddflare").await,
        ["A home.example.com"]
    );
    assert_eq!(
        q("comment.exact=Managed+by+DDflare").await,
        ["A home.example.com"]
    );
    assert_eq!(q("comment.present&type=A").await, ["A home.example.com"]);
    assert_eq!(q("comment.absent&type=A").await, ["A office.example.com"]);
    assert_eq!(q("comment.contains=by").await, ["A home.example.com"]);
    assert_eq!(q("tag=owner:DDFLARE").await, ["A office.example.com"]);
    assert_eq!(q("tag=owner").await, ["A office.example.com"]);
    assert_eq!(q("tag.absent=owner&type=A").await, ["A home.example.com"]);
    // Repeated names: AND by default (nothing has two names), OR with match=any.
    assert_eq!(
        q("name=office.example.com&name=www.example.com").await,
        Vec::<String>::new()
    );
    assert_eq!(
        q("name=office.example.com&name=www.example.com&match=any").await,
        ["A office.example.com", "CNAME www.example.com"]
    );
    assert_eq!(
        q("name.exact=office.example.com&name.exact=WWW.example.com&match=any").await,
        ["A office.example.com", "CNAME www.example.com"]
    );
    // match=any applies to every filter, type included (documented as logical OR).
    assert_eq!(
        q("type=CNAME&name=office.example.com&match=any").await,
        ["A office.example.com", "CNAME www.example.com"]
    );
    // Order and direction.
    let body = get(
        &running,
        &format!("{path}?type=A&order=content&direction=desc"),
        EDIT,
    )
    .await
    .json();
    assert_eq!(body["result"][0]["content"], "203.0.113.7");
    let body = get(&running, &format!("{path}?order=name"), EDIT)
        .await
        .json();
    assert_eq!(names(&body).first().unwrap(), "home.example.com");
    assert_eq!(names(&body).last().unwrap(), "www.example.com");
    running.shutdown().await;
}

#[tokio::test]
async fn names_are_qualified_like_cloudflare() {
    let running = start(standard()).await;
    let path = records_path(&running, "example.com");
    for (sent, stored) in [
        ("home", "home.example.com"),
        ("@", "example.com"),
        ("HOME2.Example.COM", "home2.example.com"),
        ("mail.wangjihe.cf", "mail.wangjihe.cf.example.com"),
        ("trailing.example.com.", "trailing.example.com"),
    ] {
        let body = post(
            &running,
            &path,
            EDIT,
            json!({"name":sent,"type":"A","content":"192.0.2.1"}),
        )
        .await
        .json();
        assert_eq!(body["result"]["name"], stored, "{sent}");
    }
    let stored: Vec<String> = running
        .records("example.com")
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert!(stored.contains(&"mail.wangjihe.cf.example.com".to_owned()));
    running.shutdown().await;
}

#[tokio::test]
async fn patch_keeps_and_put_resets() {
    let mut emu = Emulator::new();
    emu.zone_with(
        "example.com",
        ZoneOptions {
            plan: Plan::Pro,
            ..ZoneOptions::default()
        },
    );
    emu.token(EDIT, TokenScope::edit_all());
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    let created = post(&running, &path, EDIT, json!({
        "name":"home","type":"A","content":"203.0.113.7","ttl":300,"comment":"ddflare","tags":["owner:me"]
    })).await.json()["result"].clone();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["ttl"], 300);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let patched = call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"content":"198.51.100.4"})),
    )
    .await
    .json()["result"]
        .clone();
    assert_eq!(patched["content"], "198.51.100.4");
    for kept in [
        "ttl",
        "comment",
        "tags",
        "proxied",
        "name",
        "created_on",
        "comment_modified_on",
    ] {
        assert_eq!(patched[kept], created[kept], "PATCH must keep {kept}");
    }
    assert_ne!(patched["modified_on"], created["modified_on"]);

    let patched = call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"comment":null})),
    )
    .await
    .json()["result"]
        .clone();
    assert_eq!(patched["comment"], Value::Null);
    assert!(patched.get("comment_modified_on").is_none());

    let put = call(
        &running,
        "PUT",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"name":"home","type":"A","content":"203.0.113.9"})),
    )
    .await
    .json()["result"]
        .clone();
    assert_eq!(put["content"], "203.0.113.9");
    assert_eq!(put["ttl"], 1, "PUT resets ttl");
    assert_eq!(put["tags"], json!([]), "PUT resets tags");
    assert_eq!(put["proxied"], false);
    assert_eq!(put["id"], created["id"]);
    assert_eq!(put["created_on"], created["created_on"]);

    let typed = call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"type":"AAAA","content":"2001:db8::1"})),
    )
    .await;
    assert_eq!(
        (typed.status, typed.code()),
        (400, 9025),
        "type changes are past end of life"
    );

    let del = call(
        &running,
        "DELETE",
        &format!("{path}/{id}"),
        Some(EDIT),
        None,
    )
    .await;
    assert_eq!(del.status, 200);
    let gone = get(&running, &format!("{path}/{id}"), EDIT).await;
    assert_eq!((gone.status, gone.code()), (404, 81044));
    let gone = call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"content":"192.0.2.1"})),
    )
    .await;
    assert_eq!((gone.status, gone.code()), (404, 81044));
    let bad_id = get(&running, &format!("{path}/12345"), EDIT).await;
    assert_eq!((bad_id.status, bad_id.code()), (400, 7003));
    assert!(
        bad_id.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("/client/v4{path}/12345"))
    );
    running.shutdown().await;
}

#[tokio::test]
async fn validation_rules_by_plan_and_content() {
    let mut emu = standard();
    emu.zone_with(
        "example.org",
        ZoneOptions {
            plan: Plan::Enterprise,
            ..ZoneOptions::default()
        },
    );
    let running = start(emu).await;
    let free = records_path(&running, "example.com");
    let ent = records_path(&running, "example.org");
    let code = |resp: Resp| (resp.status, resp.code());

    let aaaa = post(
        &running,
        &free,
        EDIT,
        json!({"name":"v6","type":"AAAA","content":"2001:DB8:0:0::7"}),
    )
    .await
    .json();
    assert_eq!(
        aaaa["result"]["content"], "2001:db8::7",
        "AAAA content is canonicalised"
    );
    let private = post(
        &running,
        &free,
        EDIT,
        json!({"name":"lan","type":"A","content":"192.168.1.10"}),
    )
    .await
    .json();
    assert_eq!(private["result"]["proxiable"], false);
    let proxied = post(
        &running,
        &free,
        EDIT,
        json!({"name":"px","type":"A","content":"192.0.2.9","proxied":true,"ttl":3600}),
    )
    .await
    .json();
    assert_eq!(
        (
            proxied["result"]["proxied"].clone(),
            proxied["result"]["ttl"].clone()
        ),
        (json!(true), json!(1))
    );

    let ttl30 = json!({"name":"t","type":"A","content":"192.0.2.1","ttl":30});
    assert_eq!(
        code(post(&running, &free, EDIT, ttl30.clone()).await),
        (400, 9021)
    );
    assert_eq!(
        post(&running, &ent, EDIT, ttl30).await.status,
        200,
        "Enterprise allows 30"
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"name":"t","type":"A","content":"192.0.2.1","ttl":59})
            )
            .await
        ),
        (400, 9021)
    );
    assert_eq!(
        post(
            &running,
            &free,
            EDIT,
            json!({"name":"t","type":"A","content":"192.0.2.1","ttl":86400})
        )
        .await
        .status,
        200
    );

    let long = "x".repeat(101);
    let c = post(
        &running,
        &free,
        EDIT,
        json!({"name":"c","type":"TXT","content":"x","comment":long}),
    )
    .await;
    assert_eq!(code(c), (400, 9313));
    assert_eq!(
        post(
            &running,
            &ent,
            EDIT,
            json!({"name":"c","type":"TXT","content":"x","comment":long})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"name":"m","type":"A","content":"::1"})
            )
            .await
        ),
        (400, 9005)
    );
    assert_eq!(
        code(post(&running, &free, EDIT, json!({"name":"m","type":"A"})).await),
        (400, 9005)
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"type":"A","content":"192.0.2.1"})
            )
            .await
        ),
        (400, 9000)
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"name":"m","type":"TXT","content":"x","proxied":true})
            )
            .await
        ),
        (400, 9004)
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"name":"m","type":"A","content":"127.0.0.1","proxied":true})
            )
            .await
        ),
        (400, 9003)
    );
    assert_eq!(
        code(
            post(
                &running,
                &free,
                EDIT,
                json!({"name":"m","type":"A","content":"192.0.2.1","proxied":"true"})
            )
            .await
        ),
        (400, 9003)
    );
    let mx = post(
        &running,
        &free,
        EDIT,
        json!({"name":"@","type":"MX","content":"mail.example.com","priority":10}),
    )
    .await
    .json();
    assert_eq!(mx["result"]["priority"], 10);
    let not_json = call(&running, "POST", &free, Some(EDIT), None).await;
    assert_eq!(not_json.status, 400);
    running.shutdown().await;
}

#[tokio::test]
async fn batch_order_results_and_atomicity() {
    let mut emu = standard();
    let a = emu.record("example.com", "a", "A", "192.0.2.1");
    let b = emu.record("example.com", "b", "A", "192.0.2.2");
    let c = emu.record("example.com", "c", "A", "192.0.2.3");
    let running = start(emu).await;
    let path = format!("{}/batch", records_path(&running, "example.com"));
    let before = running.records("example.com");

    // The post re-creates the record the delete removes (only possible because deletes
    // run first); the put overrides the patch of the same record (puts after patches).
    // Keys are deliberately listed in the opposite order.
    let resp = post(
        &running,
        &path,
        EDIT,
        json!({
            "posts": [{"name":"a","type":"A","content":"192.0.2.1"}],
            "puts": [{"id":b,"name":"b","type":"A","content":"192.0.2.22"}],
            "patches": [{"id":b,"content":"192.0.2.20","ttl":120}, {"id":c,"proxied":true}],
            "deletes": [{"id":a}]
        }),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let result = &resp.json()["result"];
    assert_eq!(result["deletes"][0]["id"], a);
    assert_eq!(
        result["deletes"][0]["content"], "192.0.2.1",
        "deletes echo full records"
    );
    assert_eq!(result["patches"].as_array().unwrap().len(), 2);
    assert_eq!(result["patches"][0]["ttl"], 120);
    assert_eq!(result["puts"][0]["content"], "192.0.2.22");
    assert_eq!(result["puts"][0]["ttl"], 1, "put resets the patched ttl");
    assert_eq!(result["posts"][0]["name"], "a.example.com");
    let single = get(
        &running,
        &format!("{}/{c}", records_path(&running, "example.com")),
        EDIT,
    )
    .await
    .json();
    assert_eq!(
        key_kinds(&result["patches"][1]),
        key_kinds(&single["result"])
    );
    assert_eq!(running.records("example.com").len(), 3);

    // All or nothing: a valid delete and a bad post → nothing applied; the first error
    // in execution order (the patch's TTL) wins over the post listed first.
    let snapshot = running.records("example.com");
    let resp = post(
        &running,
        &path,
        EDIT,
        json!({
            "posts": [{"name":"x","type":"A","content":"not-an-ip"}],
            "patches": [{"id":c,"ttl":7}],
            "deletes": [{"id":b}]
        }),
    )
    .await;
    assert_eq!((resp.status, resp.code()), (400, 9021));
    assert_eq!(resp.json()["result"], Value::Null);
    assert_eq!(running.records("example.com"), snapshot);
    let resp = post(
        &running,
        &path,
        EDIT,
        json!({"deletes": [{"id":b}, {"id":"0123456789abcdef0123456789abcdef"}]}),
    )
    .await;
    assert_eq!((resp.status, resp.code()), (400, 81044));
    assert_eq!(running.records("example.com"), snapshot);
    // Identical posts within one batch collide.
    let resp = post(&running, &path, EDIT, json!({"posts": [
        {"name":"n","type":"A","content":"192.0.2.5"}, {"name":"n","type":"A","content":"192.0.2.5"}]})).await;
    assert_eq!(resp.code(), 81058);
    assert_eq!(running.records("example.com"), snapshot);
    assert_ne!(before, snapshot);
    running.shutdown().await;
}

#[tokio::test]
async fn batch_limit_empty_probe_and_permissions() {
    let mut small = standard();
    small.batch_limit(3);
    let running = start(standard()).await;
    let small = start(small).await;
    let path = format!("{}/batch", records_path(&running, "example.com"));
    let posts = |n: usize| json!({"posts": (0..n).map(|i| json!({"name":format!("h{i}"),"type":"TXT","content":"x"})).collect::<Vec<_>>()});
    let small_path = format!("{}/batch", records_path(&small, "example.com"));
    assert_eq!(post(&small, &small_path, EDIT, posts(3)).await.status, 200);
    let over = post(&small, &small_path, EDIT, posts(4)).await;
    assert_eq!(over.status, 400);
    assert_eq!(small.records("example.com").len(), 3);
    // Free plan default: 200.
    assert_eq!(post(&running, &path, EDIT, posts(200)).await.status, 200);
    let over = post(&running, &path, EDIT, json!({"deletes": (0..201).map(|_| json!({"id":"0123456789abcdef0123456789abcdef"})).collect::<Vec<_>>()})).await;
    assert_eq!(over.status, 400);
    assert_ne!(over.code(), 81044, "the limit is checked before the items");

    let empty = post(&running, &path, EDIT, json!({})).await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.json()["result"],
        json!({"deletes":[],"patches":[],"puts":[],"posts":[]})
    );
    assert_eq!(post(&running, &path, SCOPED, json!({})).await.status, 200);
    let ro = post(&running, &path, READ, json!({})).await;
    assert_eq!((ro.status, ro.code()), (403, 10000));
    let net = format!("{}/batch", records_path(&running, "example.net"));
    let foreign = post(&running, &net, SCOPED, json!({})).await;
    assert_eq!((foreign.status, foreign.code()), (403, 10000));
    running.shutdown().await;
    small.shutdown().await;
}

#[tokio::test]
async fn scoped_and_read_only_tokens() {
    let mut emu = standard();
    let rid = emu.record("example.net", "foreign", "TXT", "not ours");
    let running = start(emu).await;
    let zones = get(&running, "/zones", SCOPED).await.json();
    assert_eq!(names(&zones), ["example.com"]);
    assert_eq!(
        zones["result"][0]["permissions"],
        json!(["#dns_records:edit", "#dns_records:read", "#zone:read"])
    );
    let hidden = get(&running, "/zones?name=example.net", SCOPED)
        .await
        .json();
    assert_eq!(
        (
            hidden["result"].clone(),
            hidden["result_info"]["total_pages"].clone()
        ),
        (json!([]), json!(0))
    );
    assert_eq!(
        names(&get(&running, "/zones", EDIT).await.json()),
        ["example.com", "example.net"]
    );

    let net = records_path(&running, "example.net");
    for (method, path, body) in [
        ("GET", net.clone(), None),
        (
            "POST",
            net.clone(),
            Some(json!({"name":"x","type":"A","content":"192.0.2.1"})),
        ),
        ("GET", format!("{net}/{rid}"), None),
        ("DELETE", format!("{net}/{rid}"), None),
        ("GET", net.replace("/dns_records", ""), None),
    ] {
        let resp = call(&running, method, &path, Some(SCOPED), body).await;
        assert_eq!((resp.status, resp.code()), (403, 10000), "{method} {path}");
    }
    let com = records_path(&running, "example.com");
    assert_eq!(get(&running, &com, READ).await.status, 200);
    let id = post(
        &running,
        &com,
        EDIT,
        json!({"name":"h","type":"A","content":"192.0.2.1"}),
    )
    .await
    .json()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path, body) in [
        (
            "POST",
            com.clone(),
            Some(json!({"name":"x","type":"A","content":"192.0.2.1"})),
        ),
        (
            "PATCH",
            format!("{com}/{id}"),
            Some(json!({"content":"192.0.2.2"})),
        ),
        (
            "PUT",
            format!("{com}/{id}"),
            Some(json!({"name":"h","type":"A","content":"192.0.2.2"})),
        ),
        ("DELETE", format!("{com}/{id}"), None),
    ] {
        let resp = call(&running, method, &path, Some(READ), body).await;
        assert_eq!(
            (resp.status, resp.code()),
            (403, 10000),
            "{method} with a read-only token"
        );
    }
    assert_eq!(running.records("example.com")[0].content, "192.0.2.1");
    let perms = get(&running, "/zones?name=example.com", READ).await.json();
    assert_eq!(
        perms["result"][0]["permissions"],
        json!(["#dns_records:read", "#zone:read"])
    );
    running.shutdown().await;
}

#[tokio::test]
async fn verify_variants_and_account_tokens() {
    let mut emu = standard();
    emu.token(
        "expired-200",
        TokenScope::edit_all().with_status(TokenStatus::Expired),
    );
    emu.token(
        "disabled-401",
        TokenScope::edit_all()
            .with_status(TokenStatus::Disabled)
            .with_inactive_verify(InactiveVerify::Invalid),
    );
    emu.token("account", TokenScope::edit_all().account_owned());
    let account = emu.account_id();
    let running = start(emu).await;

    let expired = get(&running, "/user/tokens/verify", "expired-200").await;
    assert_eq!(expired.status, 200);
    assert_eq!(expired.json()["result"]["status"], "expired");
    assert_eq!(expired.json()["messages"], json!([]));
    let disabled = get(&running, "/user/tokens/verify", "disabled-401").await;
    assert_eq!((disabled.status, disabled.code()), (401, 1000));
    for token in ["expired-200", "disabled-401"] {
        let zones = get(&running, "/zones", token).await;
        assert_eq!(
            (zones.status, zones.code()),
            (403, 9109),
            "inactive {token} on /zones"
        );
    }

    let user = get(&running, "/user/tokens/verify", "account").await;
    assert_eq!(
        (user.status, user.code()),
        (401, 1000),
        "account tokens fail the user endpoint"
    );
    let acct = get(
        &running,
        &format!("/accounts/{account}/tokens/verify"),
        "account",
    )
    .await;
    assert_eq!(acct.status, 200);
    assert_eq!(acct.json()["result"]["status"], "active");
    let other = get(
        &running,
        "/accounts/0123456789abcdef0123456789abcdef/tokens/verify",
        "account",
    )
    .await;
    assert_eq!((other.status, other.code()), (401, 1000));
    let user_tok = get(
        &running,
        &format!("/accounts/{account}/tokens/verify"),
        EDIT,
    )
    .await;
    assert_eq!((user_tok.status, user_tok.code()), (401, 1000));
    let malformed = get(&running, "/accounts/not-an-id/tokens/verify", "account").await;
    assert_eq!((malformed.status, malformed.code()), (400, 7003));
    assert_eq!(
        get(&running, "/zones", "account").await.status,
        200,
        "account tokens work on zones"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn legacy_global_key() {
    let key = "0123456789abcdef0123456789abcdef01234";
    let mut emu = standard();
    emu.global_key("me@example.com", key);
    let running = start(emu).await;
    let with = |email: &str, k: &str, method: &str, path: &str, body: Option<Value>| {
        let mut req = client()
            .request(
                method.parse().unwrap(),
                format!("{}{path}", running.base_url()),
            )
            .header("X-Auth-Email", email)
            .header("X-Auth-Key", k);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move { read(req.send().await.unwrap()).await }
    };
    assert_eq!(
        with("me@example.com", key, "GET", "/zones", None)
            .await
            .status,
        200
    );
    let path = records_path(&running, "example.net");
    let created = with(
        "me@example.com",
        key,
        "POST",
        &path,
        Some(json!({"name":"k","type":"A","content":"192.0.2.1"})),
    )
    .await;
    assert_eq!(created.status, 200);
    let unknown = with("you@example.com", key, "GET", "/zones", None).await;
    assert_eq!((unknown.status, unknown.code()), (403, 9103));
    let bad_key = with("me@example.com", "short", "GET", "/zones", None).await;
    assert_eq!(
        bad_key.json()["errors"][0]["error_chain"],
        json!([{"code":6103,"message":"Invalid format for X-Auth-Key header"}])
    );
    let verify = with("me@example.com", key, "GET", "/user/tokens/verify", None).await;
    assert_eq!(
        (verify.status, verify.code()),
        (400, 1001),
        "verify is bearer-only"
    );
    let none = call(&running, "GET", "/zones", None, None).await;
    assert_eq!((none.status, none.code()), (400, 9106));
    running.shutdown().await;
}

#[tokio::test]
async fn request_log_mutation_events_and_dashboard_edits() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut emu = standard();
    let sink = Arc::clone(&events);
    emu.on_mutation(move |m| sink.lock().unwrap().push(m.to_string()));
    let running = start(emu).await;
    let path = records_path(&running, "example.com");
    let id = post(
        &running,
        &path,
        EDIT,
        json!({"name":"home","type":"A","content":"203.0.113.7"}),
    )
    .await
    .json()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &running,
        "PATCH",
        &format!("{path}/{id}"),
        Some(EDIT),
        Some(json!({"content":"198.51.100.4"})),
    )
    .await;
    running.set_record_content("example.com", &id, "192.0.2.44");
    let seen = get(&running, &format!("{path}/{id}"), READ).await.json();
    assert_eq!(
        seen["result"]["content"], "192.0.2.44",
        "dashboard edit is visible"
    );
    call(
        &running,
        "DELETE",
        &format!("{path}/{id}"),
        Some(EDIT),
        None,
    )
    .await;
    get(
        &running,
        &format!("{path}?name=home.example.com&type=A"),
        WRONG,
    )
    .await;
    assert_eq!(
        *events.lock().unwrap(),
        [
            "created A home.example.com 203.0.113.7 (ttl 1, proxied false)",
            "updated A home.example.com 203.0.113.7 -> 198.51.100.4",
            "updated A home.example.com 198.51.100.4 -> 192.0.2.44",
            "deleted A home.example.com 192.0.2.44",
        ]
    );
    let log = running.requests();
    let summary: Vec<(String, u16)> = log.iter().map(|r| (r.method.clone(), r.status)).collect();
    assert_eq!(
        summary,
        [
            ("POST".into(), 200),
            ("PATCH".into(), 200),
            ("GET".into(), 200),
            ("DELETE".into(), 200),
            ("GET".into(), 403)
        ]
    );
    assert_eq!(log[0].path, format!("/client/v4{path}"));
    assert_eq!(log[0].token.as_deref(), Some(EDIT));
    assert!(log[1].body.contains("198.51.100.4"));
    assert_eq!(log[4].query, "name=home.example.com&type=A");
    running.clear_requests();
    assert!(running.requests().is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn admin_http_api() {
    let running = start(standard()).await;
    let admin = running.admin_url();
    let http = client();
    let seeded: Value = http
        .post(format!("{admin}/records"))
        .json(&json!({"zone":"example.com","name":"_acme","type":"TXT","content":"foreign"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = seeded["id"].as_str().unwrap();
    assert_eq!(seeded["name"], "_acme.example.com");
    let list: Value = http
        .get(format!("{admin}/records?zone=example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let bad = http
        .post(format!("{admin}/records"))
        .json(&json!({"zone":"example.com","name":"x","type":"A","content":"nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let edited = http
        .put(format!("{admin}/records/{id}"))
        .json(&json!({"content":"changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    assert_eq!(running.records("example.com")[0].content, "changed");
    assert_eq!(
        http.put(format!("{admin}/records/{}", "f".repeat(32)))
            .json(&json!({"content":"x"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let fault = http
        .post(format!("{admin}/faults"))
        .json(&json!({"path_prefix":"/zones","kind":"status","status":502}))
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), 200);
    assert_eq!(get(&running, "/zones", EDIT).await.status, 502);
    assert_eq!(get(&running, "/zones", EDIT).await.status, 200);
    let log: Value = http
        .get(format!("{admin}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        log.as_array().unwrap().len(),
        2,
        "admin calls are not logged"
    );
    assert_eq!(log[0]["status"], 502);
    assert_eq!(log[0]["fault"], "status");
    let zones: Value = http
        .get(format!("{admin}/zones"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(zones[0]["name"], "example.com");
    assert_eq!(
        http.get(format!("{admin}/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    running.shutdown().await;
}

#[tokio::test]
async fn two_tokens_see_only_their_zones_and_one_owner_shares_the_rate_limit() {
    // Cloudflare counts 1,200 requests / 5 minutes per user, across all of its tokens.
    let mut emu = Emulator::new();
    emu.zone("example.com");
    emu.zone("example.net");
    emu.token("home-token", TokenScope::zones_edit(&["example.com"]));
    emu.token("work-token", TokenScope::zones_edit(&["example.net"]));
    emu.token_owner("home-token", "alice")
        .token_owner("work-token", "alice");
    emu.token("other-user", TokenScope::edit_all());
    emu.rate_limit(3, std::time::Duration::from_secs(300));
    let running = start(emu).await;
    assert_eq!(
        names(&get(&running, "/zones", "home-token").await.json()),
        ["example.com"]
    );
    assert_eq!(
        names(&get(&running, "/zones", "work-token").await.json()),
        ["example.net"]
    );
    assert_eq!(get(&running, "/zones", "home-token").await.status, 200);
    let limited = get(&running, "/zones", "work-token").await;
    assert_eq!((limited.status, limited.code()), (429, 971));
    assert_eq!(get(&running, "/zones", "other-user").await.status, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn a_gateway_location_put_replaces_the_whole_object() {
    let mut emu = standard();
    let account = emu.account_id();
    let id = emu.gateway_location(json!({
        "name": "Home",
        "client_default": false,
        "ecs_support": true,
        "networks": [{"network": "198.51.100.0/24"}],
        "doh_subdomain": "abc123",
        "created_at": "2026-01-01T00:00:00Z",
    }));
    let running = start(emu).await;
    let path = format!("/accounts/{account}/gateway/locations/{id}");
    let got = get(&running, &path, EDIT).await.json();
    assert_eq!(got["result"]["name"], "Home");
    assert_eq!(got["result"]["id"], id.as_str());
    // A PUT without ecs_support resets it; Gateway's own fields stay.
    let put = call(
        &running,
        "PUT",
        &path,
        Some(EDIT),
        Some(json!({"name": "Home", "networks": [{"network": "203.0.113.7/32"}], "doh_subdomain": "forged"})),
    )
    .await;
    assert_eq!(put.status, 200);
    let now = running.gateway_location(&id).unwrap();
    assert_eq!(now["networks"], json!([{"network": "203.0.113.7/32"}]));
    assert!(now.get("ecs_support").is_none());
    assert_eq!(now["doh_subdomain"], "abc123");
    assert_eq!(now["created_at"], "2026-01-01T00:00:00Z");
    for bad in [
        json!({"networks": []}),
        json!({"name": "Home", "networks": [{"network": "10.0.0.0/8"}]}),
        json!({"name": "Home", "networks": [{"network": "2001:db8::1"}]}),
    ] {
        let r = call(&running, "PUT", &path, Some(EDIT), Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = call(
        &running,
        "PUT",
        &path,
        Some(READ),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let missing = format!("/accounts/{account}/gateway/locations/{}", "0".repeat(32));
    assert_eq!(get(&running, &missing, EDIT).await.status, 404);
    running.shutdown().await;
}
