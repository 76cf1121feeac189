//! Tests of the whole configuration layer: every key, default and environment override, the
//! messages (key, line, hint, never the token), the `tests/bad_config` corpus,
//! `config.example.toml`, and a property test that no input panics the parser.

mod cloudflare;
mod corpora;
mod credentials;
mod detect;
mod environment;
mod expansion;
#[cfg(feature = "idn")]
mod idna;
mod keys;
mod lists;
mod load;
mod manpage;
mod named;
mod operations;
mod properties;
mod records;
mod schedule_state;
mod syntax;
mod without_features;

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::detect::ProviderSpec;

/// Plausible, fake, and distinctive enough to search for in messages.
const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";
const TOKEN2: &str = "Yw8_otherTOKENotherTOKENotherTOKEN-98765";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn with_token(body: &str) -> String {
    format!("[cloudflare]\napi_token = \"{TOKEN}\"\n{body}")
}

const ONE_RECORD: &str = "[[record]]\nname = \"home.example.com\"\n";

fn assert_no_token(text: &str) {
    for t in [TOKEN, TOKEN2] {
        assert!(!text.contains(t), "token leaked: {text}");
        assert!(!text.contains(&t[..12]), "token prefix leaked: {text}");
        assert!(
            !text.contains(&t[t.len() - 12..]),
            "token suffix leaked: {text}"
        );
    }
}

#[track_caller]
fn ok_env(text: &str, e: &HashMap<String, String>) -> Loaded {
    match parse(text, "ddflare.toml", e) {
        Ok(l) => {
            assert_no_token(&format!("{l:?}"));
            l
        }
        Err(err) => panic!("unexpected error:\n{err}"),
    }
}

#[track_caller]
fn ok(text: &str) -> Loaded {
    ok_env(text, &no_env())
}

#[track_caller]
fn err_env(text: &str, e: &HashMap<String, String>) -> ConfigError {
    match parse(text, "ddflare.toml", e) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => {
            assert_no_token(&err.to_string());
            assert_no_token(&format!("{err:?}"));
            err
        }
    }
}

#[track_caller]
fn err(text: &str) -> ConfigError {
    err_env(text, &no_env())
}

/// The message contains `part`, and `ddflare.toml:LINE:` when a line is given.
#[track_caller]
fn expect(e: &ConfigError, part: &str, line: Option<usize>) {
    let shown = e.to_string();
    assert!(shown.contains(part), "expected `{part}` in:\n{shown}");
    if let Some(line) = line {
        assert!(
            shown.contains(&format!("ddflare.toml:{line}:")),
            "expected line {line} in:\n{shown}"
        );
    }
}

fn token_file(content: &str, mode: u32) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
    f
}

/// A Global API Key in the shape Cloudflare issues (37 hex characters); fake.
const KEY: &str = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";
const EMAIL: &str = "me@example.com";

fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "key leaked: {text}");
    assert!(!text.contains(&KEY[..12]), "key prefix leaked: {text}");
    assert!(
        !text.contains(&KEY[KEY.len() - 12..]),
        "key suffix leaked: {text}"
    );
}
