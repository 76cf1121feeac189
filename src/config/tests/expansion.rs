//! `${NAME}` in record names and zones through the whole loader (`config/expand.rs` owns the
//! rules): which keys expand, the errors' key and line, and the names that were valid before.

use super::*;

const NODE: (&str, &str) = ("NODE_NAME", "pi-3");

#[test]
fn record_names_and_zones_expand_from_the_environment() {
    let l = ok_env(
        &with_token(
            "[[record]]\nname = \"${NODE_NAME}.nodes.${DOMAIN}\"\nzone = \"${DOMAIN}\"\n\n\
             [[record]]\nname = \"*.${NODE_NAME}.example.com\"\n",
        ),
        &env(&[NODE, ("DOMAIN", "Example.COM")]),
    );
    let names: Vec<_> = l.config.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["pi-3.nodes.example.com", "*.pi-3.example.com"]);
    assert_eq!(l.config.records[0].zone.as_deref(), Some("example.com"));
}

#[test]
fn ddflare_records_entries_expand_one_by_one() {
    let l = ok_env(
        &with_token(""),
        &env(&[
            NODE,
            (
                "DDFLARE_RECORDS",
                "${NODE_NAME}.example.com, static.example.com",
            ),
        ]),
    );
    let names: Vec<_> = l.config.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["pi-3.example.com", "static.example.com"]);
}

#[test]
fn an_unset_variable_names_the_key_the_line_and_the_variable() {
    let e = err(&with_token(
        "\n[[record]]\nname = \"${NODE_NAME}.example.com\"\n",
    ));
    assert_eq!(e.key(), "record[1].name");
    expect(&e, "NODE_NAME", Some(5));
    expect(&e, "is not set", None);
    let e = err_env(
        &with_token(""),
        &env(&[("DDFLARE_RECORDS", "a.example.com,${NODE_NAME}.example.com")]),
    );
    expect(&e, "DDFLARE_RECORDS", None);
    expect(&e, "entry 2", None);
    expect(&e, "is not set", None);
}

#[test]
fn an_expanded_name_that_is_not_a_name_says_what_it_came_from() {
    let e = err_env(
        &with_token("[[record]]\nname = \"${NODE_NAME}.example.com\"\n"),
        &env(&[("NODE_NAME", "node one")]),
    );
    expect(&e, "whitespace", Some(4));
    expect(&e, "expanded from \"${NODE_NAME}.example.com\"", None);
}

#[test]
fn two_records_expanding_to_one_name_are_refused() {
    let e = err_env(
        &with_token(
            "[[record]]\nname = \"${A}.example.com\"\n[[record]]\nname = \"${B}.example.com\"\n",
        ),
        &env(&[("A", "x"), ("B", "x")]),
    );
    expect(&e, "found \"x.example.com\" again", Some(6));
}

#[test]
fn a_token_never_becomes_a_name_or_a_message() {
    let e = err_env(
        &with_token("[[record]]\nname = \"${CLOUDFLARE_API_TOKEN}.example.com\"\n"),
        &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]),
    );
    expect(&e, "ddflare's own CLOUDFLARE_API_TOKEN", Some(4));
}

#[test]
fn other_keys_do_not_expand() {
    // A `$` in a comment was valid before and keeps its meaning.
    let l = ok_env(
        &with_token("[[record]]\nname = \"home.example.com\"\ncomment = \"${NODE_NAME} $5\"\n"),
        &env(&[NODE]),
    );
    assert_eq!(
        l.config.records[0].comment.as_deref(),
        Some("${NODE_NAME} $5")
    );
}
