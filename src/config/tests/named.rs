//! `[[credentials]]`: named tokens, their sources (file key, secret file, environment, systemd
//! credential), their names, and the records that name them.

use super::*;

fn named(c: &Config) -> Vec<(String, String, Option<PathBuf>)> {
    c.cloudflare
        .named
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                n.credentials.token().map_or("", |t| t.expose()).to_owned(),
                n.token_file.clone(),
            )
        })
        .collect()
}

#[test]
fn a_record_names_its_credentials_and_old_configs_load_unchanged() {
    let f = token_file(&format!("{TOKEN2}\n"), 0o600);
    let text = with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token_file = \"{}\"\n\n[[record]]\nname = \"vpn.work.example\"\ncredentials = \"work\"\n{ONE_RECORD}",
        f.path().display()
    ));
    let l = ok(&text);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(
        named(&l.config),
        [(
            "work".to_owned(),
            TOKEN2.to_owned(),
            Some(f.path().to_owned())
        )]
    );
    assert_eq!(l.config.records[0].credentials.as_deref(), Some("work"));
    assert_eq!(l.config.records[1].credentials, None);
    assert_eq!(
        l.config.cloudflare.credentials.token().map(|t| t.expose()),
        Some(TOKEN)
    );
    // Without [[credentials]]: nothing named, as before.
    let l = ok(&with_token(ONE_RECORD));
    assert!(l.config.cloudflare.named.is_empty());
    assert_eq!(l.config.records[0].credentials, None);
}

#[test]
fn an_unknown_credentials_name_names_the_record_and_lists_the_defined() {
    let text = with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token = \"{TOKEN2}\"\n[[credentials]]\nname = \"home\"\napi_token = \"{TOKEN2}\"\n[[record]]\nname = \"a.example.com\"\ncredentials = \"wrok\"\n"
    ));
    let e = err(&text);
    expect(&e, "record[1].credentials", Some(11));
    expect(&e, "\"wrok\"", None);
    expect(&e, "defined: work, home", None);
    let e = err(&with_token(
        "[[record]]\nname = \"a.example.com\"\ncredentials = \"work\"\n",
    ));
    expect(&e, "no [[credentials]] table defines any", Some(5));
}

#[test]
fn names_are_checked_and_unique() {
    for (name, part) in [
        ("Work", "lowercase"),
        ("", "1 to 64"),
        ("a b", "lowercase"),
        ("file", "not ending in `file`"),
        ("work_file", "not ending in `file`"),
    ] {
        let e = err(&with_token(&format!(
            "[[credentials]]\nname = \"{name}\"\napi_token = \"{TOKEN2}\"\n{ONE_RECORD}"
        )));
        expect(&e, "credentials[1].name", Some(4));
        expect(&e, part, None);
    }
    // `a-b` and `a_b` share a variable.
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"a-b\"\napi_token = \"{TOKEN2}\"\n[[credentials]]\nname = \"a_b\"\napi_token = \"{TOKEN2}\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[2].name", Some(7));
    expect(&e, "CLOUDFLARE_API_TOKEN_A_B", None);
    let e = err(&with_token(&format!(
        "[[credentials]]\napi_token = \"{TOKEN2}\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1]: expected a `name` key", Some(3));
}

#[test]
fn exactly_one_token_source_and_its_checks() {
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token = \"{TOKEN2}\"\napi_token_file = \"/x\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1].api_token_file", Some(6));
    expect(&e, "found both", None);
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"work\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1]", Some(3));
    expect(&e, "CLOUDFLARE_API_TOKEN_WORK", None);
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token = \"Bearer {TOKEN2}\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1].api_token", Some(5));
    // The same file checks as [cloudflare]'s: unreadable, not a regular file, loose mode.
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token_file = \"/nonexistent/t\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1].api_token_file: cannot read", Some(5));
    let e = err(&with_token(&format!(
        "[[credentials]]\nname = \"work\"\napi_token_file = \"/tmp\"\n{ONE_RECORD}"
    )));
    expect(&e, "credentials[1].api_token_file", Some(5));
    #[cfg(unix)]
    {
        let loose = token_file(TOKEN2, 0o644);
        let l = ok(&with_token(&format!(
            "[[credentials]]\nname = \"work\"\napi_token_file = \"{}\"\n{ONE_RECORD}",
            loose.path().display()
        )));
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("chmod 600"), "{}", l.warnings[0]);
        // A link to the secret is fine (a Kubernetes secret mount).
        let dir = tempfile::tempdir().unwrap();
        let secret = token_file(TOKEN2, 0o600);
        let link = dir.path().join("work");
        std::os::unix::fs::symlink(secret.path(), &link).unwrap();
        let l = ok(&with_token(&format!(
            "[[credentials]]\nname = \"work\"\napi_token_file = \"{}\"\n{ONE_RECORD}",
            link.display()
        )));
        assert_eq!(named(&l.config)[0].1, TOKEN2);
    }
}

#[test]
fn the_environment_and_the_systemd_credential_give_named_tokens() {
    let text = with_token(&format!(
        "[[credentials]]\nname = \"home-lab\"\napi_token = \"{TOKEN}\"\n{ONE_RECORD}"
    ));
    let l = ok_env(
        &text,
        &env(&[("CLOUDFLARE_API_TOKEN_HOME_LAB", &format!("{TOKEN2}\n"))]),
    );
    assert_eq!(named(&l.config)[0].1, TOKEN2, "the environment wins");
    let f = token_file(TOKEN2, 0o600);
    let path = f.path().display().to_string();
    let l = ok_env(
        &text,
        &env(&[("CLOUDFLARE_API_TOKEN_HOME_LAB_FILE", &path)]),
    );
    assert_eq!(named(&l.config)[0].2, Some(f.path().to_owned()));
    let e = err_env(
        &text,
        &env(&[
            ("CLOUDFLARE_API_TOKEN_HOME_LAB", TOKEN2),
            ("CLOUDFLARE_API_TOKEN_HOME_LAB_FILE", &path),
        ]),
    );
    expect(
        &e,
        "CLOUDFLARE_API_TOKEN_HOME_LAB_FILE: expected only one",
        None,
    );
    let e = err_env(&text, &env(&[("CLOUDFLARE_API_TOKEN_HOME_LAB", "short")]));
    expect(&e, "CLOUDFLARE_API_TOKEN_HOME_LAB:", None);

    // systemd: LoadCredential=cloudflare_api_token_home-lab:/path.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cloudflare_api_token_home-lab"), TOKEN2).unwrap();
    let text = with_token(&format!(
        "[[credentials]]\nname = \"home-lab\"\n{ONE_RECORD}"
    ));
    let d = dir.path().display().to_string();
    let l = ok_env(&text, &env(&[("CREDENTIALS_DIRECTORY", &d)]));
    assert_eq!(named(&l.config)[0].1, TOKEN2);
    assert_eq!(
        named(&l.config)[0].2,
        Some(dir.path().join("cloudflare_api_token_home-lab"))
    );
}

#[test]
fn cloudflare_needs_no_token_when_every_record_names_credentials() {
    let text = format!(
        "[[credentials]]\nname = \"a\"\napi_token = \"{TOKEN2}\"\n[[record]]\nname = \"x.example.com\"\ncredentials = \"a\"\n"
    );
    let l = ok(&text);
    assert_eq!(
        l.config.cloudflare.credentials.token().map(|t| t.expose()),
        Some(TOKEN2)
    );
    let e = err(&format!("{text}{ONE_RECORD}"));
    expect(&e, "expected an API token, found none", None);
}

#[test]
fn named_tokens_are_scrubbed_from_errors() {
    // An error after the tokens were read does not show them, even quoted back.
    let text = format!(
        "[[credentials]]\nname = \"a\"\napi_token = \"{TOKEN2}\"\n[[record]]\nname = \"{TOKEN2}.example.com\"\ncredentials = \"a\"\nttl = 5\n"
    );
    let e = err(&text);
    assert_no_token(&e.to_string());
}

#[test]
fn gateway_locations_are_checked_and_name_their_credentials() {
    const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
    const LOCATION: &str = "ed35569b41ce4d1facfe683550f54086";
    let table = |body: &str| {
        with_token(&format!(
            "[[credentials]]\nname = \"zt\"\napi_token = \"{TOKEN2}\"\n{ONE_RECORD}[[gateway_location]]\n{body}"
        ))
    };
    let l = ok(&table(&format!(
        "account_id = \"{ACCOUNT}\"\nlocation_id = \"{LOCATION}\"\ncredentials = \"zt\"\n"
    )));
    assert_eq!(
        l.config.gateway_locations,
        [GatewayLocation {
            account_id: ACCOUNT.into(),
            location_id: LOCATION.into(),
            credentials: Some("zt".into()),
        }]
    );
    let e = err(&table(&format!("account_id = \"{ACCOUNT}\"\n")));
    expect(
        &e,
        "gateway_location[1]: expected a `location_id` key",
        Some(8),
    );
    let e = err(&table(&format!(
        "account_id = \"{ACCOUNT}\"\nlocation_id = \"Home\"\n"
    )));
    expect(&e, "gateway_location[1].location_id", Some(10));
    let e = err(&table(&format!(
        "account_id = \"{ACCOUNT}\"\nlocation_id = \"{LOCATION}\"\ncredentials = \"nope\"\n"
    )));
    expect(&e, "gateway_location[1].credentials", Some(11));
    expect(&e, "defined: zt", None);
    let twice = format!("account_id = \"{ACCOUNT}\"\nlocation_id = \"{LOCATION}\"\n");
    let e = err(&table(&format!("{twice}[[gateway_location]]\n{twice}")));
    expect(&e, "gateway_location[2].location_id", Some(13));
    // A location alone is enough (no record needed).
    let l = ok(&with_token(&format!(
        "[[gateway_location]]\naccount_id = \"{ACCOUNT}\"\nlocation_id = \"{LOCATION}\"\n"
    )));
    assert!(l.config.records.is_empty());
}
