//! Token and Global API Key sources, their precedence and conflicts, the checks of their values,
//! and that no message or `Debug` output ever shows them.

use super::*;

#[test]
fn token_file_is_trimmed_and_checked() {
    let f = token_file(&format!("{TOKEN}\n\n"), 0o600);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    );
    let l = ok(&text);
    assert_eq!(
        l.config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN
    );
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);

    let bad = token_file(&format!("Bearer {TOKEN}\n"), 0o600);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        bad.path().display()
    );
    let e = err(&text);
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_token_file: the token in `",
        None,
    );
    expect(&e, "Bearer", None);
}

#[cfg(unix)]
#[test]
fn loose_token_file_warns() {
    let f = token_file(TOKEN, 0o644);
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    );
    let l = ok(&text);
    assert_eq!(l.warnings.len(), 1);
    assert!(l.warnings[0].contains("chmod 600"), "{}", l.warnings[0]);
    assert_no_token(&l.warnings[0]);
}

#[test]
fn unreadable_token_file_names_path_and_os_error() {
    let text =
        format!("[cloudflare]\napi_token_file = \"/nonexistent/ddflare-token\"\n{ONE_RECORD}");
    let e = err(&text);
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_token_file: cannot read `/nonexistent/ddflare-token`",
        None,
    );
    expect(&e, "os error 2", None);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[cloudflare]\napi_token_file = \"{}\"\n{ONE_RECORD}",
        dir.path().display()
    );
    expect(&err(&text), "cannot read", Some(2));
    let e = err_env(
        ONE_RECORD,
        &env(&[("CLOUDFLARE_API_TOKEN_FILE", "/nonexistent/t")]),
    );
    expect(
        &e,
        "CLOUDFLARE_API_TOKEN_FILE: cannot read `/nonexistent/t`",
        None,
    );
}

#[test]
fn a_token_given_as_a_path_is_not_echoed() {
    let text = format!("[cloudflare]\napi_token_file = \"{TOKEN}\"\n{ONE_RECORD}");
    expect(&err(&text), "looks like the token itself", Some(2));
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN_FILE", TOKEN)]));
    expect(&e, "CLOUDFLARE_API_TOKEN_FILE", None);
}

#[test]
fn token_source_precedence_and_conflicts() {
    let f = token_file(TOKEN2, 0o600);
    let path = f.path().display().to_string();
    let file = with_token(ONE_RECORD);
    // env token > env token file > file
    assert_eq!(
        ok_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN2)]))
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    assert_eq!(
        ok_env(&file, &env(&[("CLOUDFLARE_API_TOKEN_FILE", &path)]))
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    let e = err_env(
        &file,
        &env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN2),
            ("CLOUDFLARE_API_TOKEN_FILE", &path),
        ]),
    );
    expect(
        &e,
        "expected only one of CLOUDFLARE_API_TOKEN and CLOUDFLARE_API_TOKEN_FILE",
        None,
    );
    let both =
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\napi_token_file = \"{path}\"\n{ONE_RECORD}");
    let e = err(&both);
    expect(
        &e,
        "ddflare.toml:3: cloudflare.api_token_file: expected either api_token or api_token_file, found both (api_token on line 2)",
        None,
    );
    // Empty token variables are errors, not "unset".
    expect(
        &err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", "")])),
        "CLOUDFLARE_API_TOKEN: expected an API token, found an empty value",
        None,
    );
    expect(
        &err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN_FILE", "")])),
        "CLOUDFLARE_API_TOKEN_FILE: expected the path",
        None,
    );
    expect(
        &err(&format!("[cloudflare]\napi_token = \"\"\n{ONE_RECORD}")),
        "empty value",
        Some(2),
    );
}

#[test]
fn systemd_credential_is_the_last_resort() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cloudflare_api_token"),
        format!("{TOKEN2}\n"),
    )
    .unwrap();
    let d = dir.path().display().to_string();
    let e = env(&[("CREDENTIALS_DIRECTORY", &d)]);
    assert_eq!(
        ok_env(ONE_RECORD, &e)
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN2
    );
    assert_eq!(
        ok_env(&with_token(ONE_RECORD), &e)
            .config
            .cloudflare
            .credentials
            .token()
            .map_or("", |t| t.expose()),
        TOKEN
    );
    // A credentials directory without the credential is not an error by itself.
    let empty = tempfile::tempdir().unwrap();
    let e = env(&[("CREDENTIALS_DIRECTORY", &empty.path().display().to_string())]);
    expect(&err_env(ONE_RECORD, &e), "found none", None);
    // A bad credential is reported with its path.
    std::fs::write(dir.path().join("cloudflare_api_token"), "short").unwrap();
    let e = err_env(ONE_RECORD, &env(&[("CREDENTIALS_DIRECTORY", &d)]));
    expect(&e, "CREDENTIALS_DIRECTORY: credential `", None);
}

#[test]
fn missing_token_says_how_to_make_one() {
    let e = err(ONE_RECORD);
    expect(
        &e,
        "ddflare.toml: cloudflare.api_token: expected an API token, found none",
        None,
    );
    expect(&e, "My Profile → API Tokens", None);
    expect(&e, "Zone → DNS → Edit", None);
    expect(&e, "api_token_file", None);
    expect(&e, "CLOUDFLARE_API_TOKEN", None);
}

#[test]
fn bad_tokens_never_leak() {
    let bad = [
        format!("\\\"{TOKEN}\\\""),
        format!("'{TOKEN}'"),
        format!("CLOUDFLARE_API_TOKEN={TOKEN}"),
        format!("Bearer {TOKEN}"),
        format!("{TOKEN} {TOKEN2}"),
        format!("{TOKEN}%"),
        format!("{TOKEN}{TOKEN}{TOKEN}{TOKEN}{TOKEN}{TOKEN}"),
        TOKEN[..15].to_owned(),
    ];
    for b in &bad {
        let text = format!("[cloudflare]\napi_token = \"{b}\"\n{ONE_RECORD}");
        let e = err(&text);
        expect(&e, "ddflare.toml:2: cloudflare.api_token: ", None);
        let raw = b.replace("\\\"", "\"");
        let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN", &raw)]));
        expect(&e, "CLOUDFLARE_API_TOKEN: ", None);
        let f = token_file(&raw, 0o600);
        let e = err_env(
            ONE_RECORD,
            &env(&[("CLOUDFLARE_API_TOKEN_FILE", &f.path().display().to_string())]),
        );
        expect(&e, "CLOUDFLARE_API_TOKEN_FILE: the token in", None);
    }
}

#[test]
fn tokens_do_not_leak_from_broken_files() {
    let cases = [
        format!("[cloudflare]\napi_token = {TOKEN}\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\napi_token = \"{TOKEN2}\"\n"),
        format!("[cloudflare]\ntoken = \"{TOKEN}\"\n"),
        format!("[cloudflare]\napi_token = [\"{TOKEN}\"]\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\nmax_retries = \"{TOKEN}\"\n"),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\n[[record]]\nname = \"{TOKEN}\"\n"),
        format!(
            "[cloudflare]\napi_token = \"{TOKEN}\"\n[[record]]\nname = \"a.example.com\"\ncomment = \"{TOKEN}{}\"\n",
            "x".repeat(80)
        ),
        format!("[cloudflare]\napi_token = \"{TOKEN}\"\n[detect]\nipv4 = [\"{TOKEN}\"]\n"),
    ];
    for text in &cases {
        // `err` checks Display and Debug.
        err(text);
    }
}

fn global_key(c: &Config) -> Option<(&str, &str)> {
    match &c.cloudflare.credentials {
        Credentials::GlobalKey { email, key } => Some((email.as_str(), key.expose())),
        Credentials::Token(_) => None,
    }
}

#[test]
fn a_global_key_given_as_a_token_is_refused_with_the_way_to_use_it() {
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_TOKEN", KEY)]));
    expect(
        &e,
        "CLOUDFLARE_API_TOKEN: expected an API token, found what looks like a Global API Key",
        None,
    );
    expect(&e, "CLOUDFLARE_API_EMAIL and CLOUDFLARE_API_KEY", None);
    assert_no_key(&e.to_string());
    assert!(!e.to_string().contains("cannot use"), "{e}");
}

#[test]
fn the_global_key_is_read_from_the_file_and_the_environment() {
    let file = format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}");
    let l = ok(&file);
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let dbg = format!("{l:?}");
    assert_no_key(&dbg);
    // Env only, and env over the file, part by part.
    let l = ok_env(
        ONE_RECORD,
        &env(&[("CLOUDFLARE_API_EMAIL", EMAIL), ("CLOUDFLARE_API_KEY", KEY)]),
    );
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    let l = ok_env(&file, &env(&[("CLOUDFLARE_API_EMAIL", "you@example.org")]));
    assert_eq!(global_key(&l.config), Some(("you@example.org", KEY)));
    // A key file, from the file or the environment.
    let f = token_file(&format!("{KEY}\n"), 0o600);
    let path = f.path().display().to_string();
    let text =
        format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key_file = \"{path}\"\n{ONE_RECORD}");
    assert_eq!(global_key(&ok(&text).config), Some((EMAIL, KEY)));
    let l = ok_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY_FILE", &path),
        ]),
    );
    assert_eq!(global_key(&l.config), Some((EMAIL, KEY)));
    // The advice to use a token instead, given at every start, never holds the key.
    let w = l
        .config
        .cloudflare
        .credentials
        .warning()
        .unwrap_or_default();
    assert!(w.contains("Global API Key"), "{w}");
    for step in [
        "My Profile → API Tokens → Create Token",
        "\"Edit zone DNS\"",
        "Zone Resources",
    ] {
        assert!(w.contains(step), "{step} missing from {w}");
    }
    assert_no_key(&w);
    assert_eq!(
        ok(&with_token(ONE_RECORD))
            .config
            .cloudflare
            .credentials
            .warning(),
        None
    );
}

#[test]
fn token_and_key_together_name_both() {
    let both = format!(
        "[cloudflare]\napi_token = \"{TOKEN}\"\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"
    );
    let e = err(&both);
    expect(
        &e,
        "ddflare.toml:4: cloudflare.api_key: expected either an API token or a Global API Key, found both (`cloudflare.api_token` on line 2 and `cloudflare.api_key` on line 4)",
        None,
    );
    assert_no_key(&e.to_string());
    let e = err_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN),
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY", KEY),
        ]),
    );
    expect(
        &e,
        "CLOUDFLARE_API_KEY: expected either an API token or a Global API Key, found both (`CLOUDFLARE_API_TOKEN` and `CLOUDFLARE_API_KEY`)",
        None,
    );
    // Across the layers too: a token in the environment and a key in the file.
    let file = format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}");
    let e = err_env(&file, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]));
    expect(
        &e,
        "found both (`CLOUDFLARE_API_TOKEN` and `cloudflare.api_key` on line 3)",
        None,
    );
    assert_no_key(&format!("{e:?}"));
}

#[test]
fn email_and_key_come_together() {
    let e = err(&format!("[cloudflare]\napi_key = \"{KEY}\"\n{ONE_RECORD}"));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_key: expected `api_email` (or CLOUDFLARE_API_EMAIL) with the Global API Key, found none",
        None,
    );
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\n{ONE_RECORD}"
    ));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_email: expected `api_key` or `api_key_file`",
        None,
    );
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_EMAIL", EMAIL)]));
    expect(&e, "CLOUDFLARE_API_EMAIL: expected `api_key`", None);
    let e = err_env(ONE_RECORD, &env(&[("CLOUDFLARE_API_KEY", KEY)]));
    expect(&e, "CLOUDFLARE_API_KEY: expected `api_email`", None);
    // An email left beside a token: the hint says to remove it.
    let e = err(&format!(
        "[cloudflare]\napi_token = \"{TOKEN}\"\napi_email = \"{EMAIL}\"\n{ONE_RECORD}"
    ));
    expect(&e, "an API token needs no email", Some(3));
    // Both forms of the key, in one layer.
    let f = token_file(KEY, 0o600);
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\napi_key_file = \"{}\"\n{ONE_RECORD}",
        f.path().display()
    ));
    expect(
        &e,
        "expected either api_key or api_key_file, found both (api_key on line 3)",
        Some(4),
    );
    let e = err_env(
        ONE_RECORD,
        &env(&[
            ("CLOUDFLARE_API_EMAIL", EMAIL),
            ("CLOUDFLARE_API_KEY", KEY),
            ("CLOUDFLARE_API_KEY_FILE", &f.path().display().to_string()),
        ]),
    );
    expect(
        &e,
        "expected only one of CLOUDFLARE_API_KEY and CLOUDFLARE_API_KEY_FILE",
        None,
    );
}

#[test]
fn bad_keys_and_emails_are_explained_without_echo() {
    for (given, part) in [
        (format!("'{KEY}'"), "quotes"),
        (KEY[..20].to_owned(), "found 20 characters"),
        (TOKEN.to_owned(), "looks like an API token"),
        (format!("{KEY} {KEY}"), "whitespace"),
    ] {
        let text =
            format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{given}\"\n{ONE_RECORD}");
        let e = err(&text);
        expect(&e, "ddflare.toml:3: cloudflare.api_key: ", None);
        expect(&e, part, None);
        assert_no_key(&e.to_string());
        assert_no_key(&format!("{e:?}"));
        let e = err_env(
            ONE_RECORD,
            &env(&[
                ("CLOUDFLARE_API_EMAIL", EMAIL),
                ("CLOUDFLARE_API_KEY", &given),
            ]),
        );
        expect(&e, "CLOUDFLARE_API_KEY: ", None);
        assert_no_key(&e.to_string());
        let f = token_file(&given, 0o600);
        let e = err_env(
            ONE_RECORD,
            &env(&[
                ("CLOUDFLARE_API_EMAIL", EMAIL),
                ("CLOUDFLARE_API_KEY_FILE", &f.path().display().to_string()),
            ]),
        );
        expect(&e, "CLOUDFLARE_API_KEY_FILE: the key in", None);
        assert_no_key(&e.to_string());
    }
    let e = err(&format!(
        "[cloudflare]\napi_email = \"me\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"
    ));
    expect(
        &e,
        "ddflare.toml:2: cloudflare.api_email: expected an email address",
        None,
    );
    // A key given where its file's path belongs is not echoed.
    let e = err(&format!(
        "[cloudflare]\napi_email = \"{EMAIL}\"\napi_key_file = \"{KEY}\"\n{ONE_RECORD}"
    ));
    expect(&e, "looks like the key itself", Some(3));
    assert_no_key(&e.to_string());
    // A broken file with an inline key does not show it either.
    let e = err(&format!("[cloudflare]\napi_key = {KEY}\n"));
    assert_no_key(&e.to_string());
}

#[test]
fn loaded_debug_hides_the_token() {
    let l = ok(&with_token(ONE_RECORD));
    let dbg = format!("{l:?}");
    assert!(dbg.contains("redacted"));
    assert_no_token(&dbg);
}
