//! `[[list]]` end to end: the real binary keeps an account IP list of the emulator holding the
//! current addresses, never touching items it does not own.

use ddflare_emulator::{Fault, TokenScope};

use crate::support::{Harness, TOKEN, assert_exit};

const RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

fn with_lists() -> Harness {
    Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all().with_lists());
    })
}

fn list_config(h: &Harness) -> String {
    format!(
        "{RECORD}[[list]]\naccount_id = \"{}\"\nname = \"home_ips\"\ndescription = \"home\"\n",
        h.emu.account_id()
    )
}

/// (ip, comment) of every item of `home_ips`, sorted.
fn items(h: &Harness) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = h
        .emu
        .list_items("home_ips")
        .into_iter()
        .map(|i| (i.ip, i.comment))
        .collect();
    v.sort();
    v
}

fn ours(ip: &str) -> (String, Option<String>) {
    (ip.to_owned(), Some("managed by ddflare".to_owned()))
}

fn list_requests(h: &Harness) -> Vec<String> {
    h.requests()
        .into_iter()
        .filter(|r| r.contains("/rules/lists"))
        .collect()
}

#[test]
fn a_list_is_created_and_kept_in_sync_with_foreign_items_untouched() {
    let h = with_lists();
    // Someone's own items, one of them holding the address ddflare will later move to.
    h.emu
        .add_list_item("home_ips", "198.51.100.0/24", Some("office"));
    h.emu.add_list_item("home_ips", "192.0.2.9", None);
    h.write_config(Some("203.0.113.7"), Some("2001:db8::7"), &list_config(&h));

    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("list:home_ips A 203.0.113.7 created"), "{out}");
    assert!(
        out.contains("list:home_ips AAAA 2001:db8::7 created"),
        "{out}"
    );
    let foreign = [
        ("192.0.2.9".to_owned(), None),
        ("198.51.100.0/24".to_owned(), Some("office".to_owned())),
    ];
    let mut want = vec![ours("2001:db8::7"), ours("203.0.113.7")];
    want.extend(foreign.iter().cloned());
    want.sort();
    assert_eq!(items(&h), want);

    // Unchanged addresses, warm cache: not one list call.
    h.emu.clear_requests();
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(list_requests(&h), Vec::<String>::new());

    // The IPv4 address changes: ours is replaced, the foreign items stay.
    h.write_config(Some("203.0.113.8"), Some("2001:db8::7"), &list_config(&h));
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("list:home_ips A 203.0.113.7 → 203.0.113.8 updated"),
        "{out}"
    );
    assert!(
        out.contains("list:home_ips AAAA 2001:db8::7 unchanged"),
        "{out}"
    );
    let mut want = vec![ours("2001:db8::7"), ours("203.0.113.8")];
    want.extend(foreign.iter().cloned());
    want.sort();
    assert_eq!(items(&h), want);
    // The cached list id: no listing of the account's lists.
    let reqs = list_requests(&h);
    assert!(
        !reqs.iter().any(|r| r.ends_with("/rules/lists")),
        "{reqs:?}"
    );

    // IPv6 detection now fails (its provider reads a file that is not there): its item is
    // left alone, and the round has IPv4 only.
    let missing = h.dir.path().join("no-such-address");
    h.write_config(Some("203.0.113.8"), Some("2001:db8::7"), &list_config(&h));
    let text = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "[\"static:2001:db8::7\"]",
        &format!("[\"file:{}\"]", missing.display()),
    );
    std::fs::write(h.config_path(), text).unwrap();
    let _ = h.ddflare(&["once"]).output().unwrap();
    assert!(items(&h).contains(&ours("2001:db8::7")), "{:?}", items(&h));

    // IPv6 turned off in [detect]: the list is IPv4 only now, our IPv6 item goes.
    h.write_config(Some("203.0.113.8"), None, &list_config(&h));
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    let mut want = vec![ours("203.0.113.8")];
    want.extend(foreign.iter().cloned());
    want.sort();
    assert_eq!(items(&h), want);
}

#[test]
fn a_failed_bulk_operation_is_reported_and_retried_next_round() {
    let h = with_lists();
    h.write_config(Some("203.0.113.7"), None, &list_config(&h));
    h.emu.add_fault(
        Fault::bulk_failed("This list is at the maximum number of items")
            .method("POST")
            .path_contains("/items"),
    );
    let out = h.ddflare(&["once"]).output().unwrap();
    let shown = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("list:home_ips A 203.0.113.7 failed"),
        "{shown}"
    );
    assert!(
        shown.contains("This list is at the maximum number of items"),
        "{shown}"
    );
    assert!(items(&h).is_empty());
    // The next round tries again (the failure is not cached) and succeeds.
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("list:home_ips A 203.0.113.7 created"), "{out}");
    assert_eq!(items(&h), vec![ours("203.0.113.7")]);
}

#[test]
fn check_names_the_missing_list_permission() {
    // A DNS-only token: the records pass, the list does not.
    let h = Harness::new(&["example.com"]);
    h.emu.add_list_item("home_ips", "192.0.2.9", None);
    h.write_config(Some("203.0.113.7"), None, &list_config(&h));
    let out = h.ddflare(&["check"]).output().unwrap();
    let shown = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("zone example.com: DNS edit allowed"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "hint: the token lacks the permission Account → Account Filter Lists → Edit on account {}",
            h.emu.account_id()
        )),
        "{shown}"
    );
    // With the permission: the description written back unchanged proves it.
    let h = with_lists();
    h.emu.add_list_item("home_ips", "192.0.2.9", None);
    h.write_config(Some("203.0.113.7"), None, &list_config(&h));
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    assert!(
        out.contains("list home_ips: edit allowed (Account → Account Filter Lists → Edit)"),
        "{out}"
    );
    assert!(out.contains("all checks passed"), "{out}");
    assert_eq!(items(&h), vec![("192.0.2.9".to_owned(), None)]);
}

#[test]
fn a_list_entry_older_than_max_age_is_read_again_and_a_dashboard_deletion_repaired() {
    let h = with_lists();
    h.write_config(Some("203.0.113.7"), None, &list_config(&h));
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    // Age the list's cache entry past state.max_age (6 h by default).
    let path = h.state_dir().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for entry in state["lists"].as_object_mut().unwrap().values_mut() {
        entry["synced_at"] = serde_json::json!(1_000_000_000u64);
    }
    std::fs::write(&path, state.to_string()).unwrap();
    // Meanwhile someone deleted ddflare's item in the dashboard.
    let id = h.emu.list_items("home_ips")[0].id.clone();
    h.emu.delete_list_item("home_ips", &id);
    h.emu.clear_requests();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(out.contains("list:home_ips A 203.0.113.7 created"), "{out}");
    assert_eq!(items(&h), vec![ours("203.0.113.7")]);
    let reqs = list_requests(&h);
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("GET") && r.ends_with("/items")),
        "{reqs:?}"
    );
}

#[test]
fn a_list_is_kept_with_the_credentials_it_names() {
    // [cloudflare]'s token edits DNS only; the `lists` token alone may edit the account's lists.
    const LISTS: &str = "lists-token-0123456789-abcdefABCDEF_xyz0";
    let h = Harness::with(&["example.com"], |emu| {
        emu.token(TOKEN, TokenScope::edit_all());
        emu.token(LISTS, TokenScope::edit_all().with_lists());
    });
    let config = format!(
        "[[credentials]]\nname = \"lists\"\napi_token = \"{LISTS}\"\n\n{}credentials = \"lists\"\n",
        list_config(&h)
    );
    h.write_config(Some("203.0.113.7"), None, &config);
    std::fs::set_permissions(
        h.config_path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(items(&h), vec![ours("203.0.113.7")], "{out}");
    let out = assert_exit(&h.ddflare(&["check"]).output().unwrap(), 0);
    assert!(
        out.contains("credentials `lists`: list home_ips: edit allowed"),
        "{out}"
    );
    // The same list with [cloudflare]'s token: refused, naming the permission.
    h.write_config(Some("203.0.113.8"), None, &list_config(&h));
    let out = h.ddflare(&["once"]).output().unwrap();
    let shown = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("Account Filter Lists"), "{shown}");
    assert_eq!(items(&h), vec![ours("203.0.113.7")]);
}

#[test]
fn a_config_of_lists_alone_runs() {
    let h = with_lists();
    h.write_config(
        Some("203.0.113.7"),
        None,
        &format!(
            "[[list]]\naccount_id = \"{}\"\nname = \"home_ips\"\n",
            h.emu.account_id()
        ),
    );
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(items(&h), vec![ours("203.0.113.7")], "{out}");
    assert!(h.records("example.com").is_empty());
}
