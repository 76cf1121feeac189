//! `[[gateway_location]]` (issue 14): a Zero Trust Gateway location's IPv4 source network kept
//! on the home address by read-modify-write, against the emulator, whose PUT replaces the
//! whole location (a field left out is lost), as the API's does.

use serde_json::json;

use crate::support::*;

fn networks(h: &Harness, id: &str) -> serde_json::Value {
    h.emu.gateway_location(id).unwrap()["networks"].clone()
}

#[test]
fn a_gateway_location_follows_the_address_keeping_every_other_field() {
    let mut id = String::new();
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, ddflare_emulator::TokenScope::edit_all());
        id = emu.gateway_location(json!({
            "name": "Home",
            "client_default": true,
            "ecs_support": true,
            "endpoints": {"ipv4": {"enabled": true}, "doh": {"enabled": true, "networks": []}},
            "networks": [{"network": "198.51.100.0/24"}],
            "a_field_ddflare_does_not_know": {"kept": 1},
            "doh_subdomain": "abc123",
            "created_at": "2026-01-01T00:00:00Z",
        }));
    });
    let account = h.emu.account_id();
    let write = |v4: &str| {
        h.write_config(
            Some(v4),
            None,
            &format!(
                "[[record]]\nname = \"home.example.com\"\n\n[[gateway_location]]\naccount_id = \"{account}\"\nlocation_id = \"{id}\"\n"
            ),
        )
    };
    write("203.0.113.7");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains(&format!(
            "gateway location {id} network 203.0.113.7 created"
        )),
        "{out}"
    );
    assert_eq!(
        networks(&h, &id),
        json!([{"network": "198.51.100.0/24"}, {"network": "203.0.113.7/32"}])
    );
    let loc = h.emu.gateway_location(&id).unwrap();
    assert_eq!(loc["ecs_support"], true);
    assert_eq!(loc["client_default"], true);
    assert_eq!(loc["endpoints"]["doh"]["enabled"], true);
    assert_eq!(loc["a_field_ddflare_does_not_know"], json!({"kept": 1}));
    assert_eq!(loc["doh_subdomain"], "abc123");

    // Unchanged address: the cache answers, no Gateway call.
    h.emu.clear_requests();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        !h.requests().iter().any(|r| r.contains("/gateway/")),
        "{:?}",
        h.requests()
    );

    // A dashboard edit since (a renamed location, another network), then a new address: the
    // edit is read and kept, ddflare's old /32 replaced, nothing else touched.
    let mut edited = h.emu.gateway_location(&id).unwrap();
    edited["name"] = json!("Home (renamed)");
    edited["networks"]
        .as_array_mut()
        .unwrap()
        .push(json!({"network": "192.0.2.128/25"}));
    h.emu.set_gateway_location(&id, edited);
    write("192.0.2.9");
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("203.0.113.7 → 192.0.2.9 updated"), "{out}");
    assert_eq!(
        networks(&h, &id),
        json!([
            {"network": "198.51.100.0/24"},
            {"network": "192.0.2.128/25"},
            {"network": "192.0.2.9/32"}
        ])
    );
    assert_eq!(
        h.emu.gateway_location(&id).unwrap()["name"],
        "Home (renamed)"
    );

    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    assert!(
        out.contains(&format!("gateway location {id} (Home (renamed)): read ok, networks: 198.51.100.0/24, 192.0.2.128/25, 192.0.2.9/32")),
        "{out}"
    );
}

#[test]
fn a_gateway_location_the_token_cannot_read_fails_the_round_naming_it() {
    let mut id = String::new();
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, ddflare_emulator::TokenScope::edit_all());
        id = emu.gateway_location(json!({"name": "Home"}));
    });
    let other = "0".repeat(32);
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!(
            "[[record]]\nname = \"home.example.com\"\n\n[[gateway_location]]\naccount_id = \"{other}\"\nlocation_id = \"{id}\"\n"
        ),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(out.contains(&format!("gateway location {id}")), "{out}");
    assert!(out.contains("failed"), "{out}");
    // The records are updated all the same.
    assert_eq!(h.records("example.com").len(), 1);
}

#[test]
fn a_config_of_gateway_locations_alone_runs() {
    let mut id = String::new();
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, ddflare_emulator::TokenScope::edit_all());
        id = emu.gateway_location(json!({"name": "Home", "networks": null}));
    });
    let account = h.emu.account_id();
    h.write_config(
        Some("203.0.113.7"),
        Some("2001:db8::7"),
        &format!("[[gateway_location]]\naccount_id = \"{account}\"\nlocation_id = \"{id}\"\n"),
    );
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(networks(&h, &id), json!([{"network": "203.0.113.7/32"}]));
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    assert!(out.contains("networks: 203.0.113.7/32"), "{out}");
}
