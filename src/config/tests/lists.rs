//! `[[list]]`: account IP lists, their defaults, and errors that name the key and the line.

use super::*;

const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn with_list(body: &str) -> String {
    with_token(&format!("{ONE_RECORD}[[list]]\n{body}"))
}

#[test]
fn a_list_gets_its_defaults() {
    let l = ok(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"home_ips\"\n"
    )));
    assert_eq!(
        l.config.lists,
        vec![ListConfig {
            account_id: ACCOUNT.into(),
            name: "home_ips".into(),
            description: "addresses of this host, kept by ddflare".into(),
            ipv4: true,
            ipv6: true,
            comment: "managed by ddflare".into(),
            credentials: None,
        }]
    );
    let l = ok(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"home_ips\"\ndescription = \"home\"\nipv6 = false\ncomment = \"mine\"\n"
    )));
    let list = &l.config.lists[0];
    assert_eq!(
        (
            list.description.as_str(),
            list.ipv4,
            list.ipv6,
            list.comment.as_str()
        ),
        ("home", true, false, "mine")
    );
}

#[test]
fn list_errors_name_the_key_and_the_line() {
    // Lines: 1-2 [cloudflare], 3-4 [[record]], 5 [[list]], 6 on.
    let e = err(&with_list("name = \"home_ips\"\n"));
    expect(
        &e,
        "ddflare.toml:5: list[1]: expected a `account_id` key",
        None,
    );
    let e = err(&with_list(
        "account_id = \"023E105F4ECEF8AD9CA31A8372D0C353\"\nname = \"x\"\n",
    ));
    expect(&e, "list[1].account_id", Some(6));
    expect(&e, "write it in lowercase", None);
    let e = err(&with_list("account_id = \"example.com\"\nname = \"x\"\n"));
    expect(
        &e,
        "expected an account ID of 32 lowercase hexadecimal characters",
        Some(6),
    );
    for bad in ["Home", "home-ips", "", "ä"] {
        let e = err(&with_list(&format!(
            "account_id = \"{ACCOUNT}\"\nname = \"{bad}\"\n"
        )));
        expect(&e, "list[1].name", Some(7));
        expect(&e, "lowercase letters, digits or underscores", None);
    }
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"{}\"\n",
        "a".repeat(51)
    )));
    expect(&e, "list[1].name", Some(7));
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"home-ips\"\n"
    )));
    expect(&e, "name = \"home_ips\"", None);
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"x\"\ncomment = \"\"\n"
    )));
    expect(&e, "list[1].comment", Some(8));
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"x\"\ndescription = \"{}\"\n",
        "d".repeat(501)
    )));
    expect(&e, "list[1].description", Some(8));
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"x\"\nipv4 = false\nipv6 = false\n"
    )));
    expect(
        &e,
        "ddflare.toml:5: list[1]: expected `ipv4` or `ipv6`",
        None,
    );
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"x\"\n[[list]]\naccount_id = \"{ACCOUNT}\"\nname = \"x\"\n"
    )));
    expect(&e, "list[2].name", Some(10));
    expect(&e, "first in list[1]", None);
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"x\"\nipv5 = true\n"
    )));
    expect(&e, "ipv5", Some(8));
}

#[test]
fn a_family_without_providers_is_off_with_a_warning() {
    let l = ok(&with_token(&format!(
        "[detect]\nipv6 = \"none\"\n{ONE_RECORD}[[list]]\naccount_id = \"{ACCOUNT}\"\nname = \"x\"\nipv6 = true\n"
    )));
    assert!(!l.config.lists[0].ipv6);
    assert!(l.config.lists[0].ipv4);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.contains("list[1].ipv6") && w.contains("no effect")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn a_list_names_its_credentials_and_an_unknown_name_is_refused() {
    let named = format!(
        "[[credentials]]\nname = \"work\"\napi_token = \"{}\"\n\n",
        "w".repeat(40)
    );
    let l = ok(&format!(
        "{named}{}",
        with_list(&format!(
            "account_id = \"{ACCOUNT}\"\nname = \"home_ips\"\ncredentials = \"work\"\n"
        ))
    ));
    assert_eq!(l.config.lists[0].credentials.as_deref(), Some("work"));
    let e = err(&with_list(&format!(
        "account_id = \"{ACCOUNT}\"\nname = \"home_ips\"\ncredentials = \"home\"\n"
    )))
    .to_string();
    assert!(e.contains("list[1].credentials"), "{e}");
    assert!(e.contains("which no [[credentials]] defines"), "{e}");
}
