//! `load()`: missing files, the full path, bad UTF-8, and the mode of a file holding a secret (a
//! warning, or a refusal under `--strict`).

use super::*;

const EXPLICIT: LoadOptions = LoadOptions {
    explicit: true,
    strict: false,
};
const IMPLICIT: LoadOptions = LoadOptions {
    explicit: false,
    strict: false,
};
const STRICT: LoadOptions = LoadOptions {
    explicit: true,
    strict: true,
};

#[test]
fn load_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("ddflare.toml");
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
    ]);
    assert!(load(&missing, IMPLICIT, &e).is_ok());
    let err = load(&missing, EXPLICIT, &e).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("cannot read the config file"), "{shown}");
    assert!(shown.contains(&missing.display().to_string()), "{shown}");
    assert!(shown.contains("hint: "), "{shown}");
    let err = load(&missing, IMPLICIT, &no_env()).unwrap_err().to_string();
    assert!(err.contains("there is no config file at"), "{err}");
    let err = load(dir.path(), IMPLICIT, &e).unwrap_err().to_string();
    assert!(err.contains("cannot read the config file"), "{err}");
}

#[test]
fn load_reports_the_full_path_and_bad_utf8() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"[defaults]\nttl = 5\n").unwrap();
    let e = load(f.path(), EXPLICIT, &no_env()).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:2: defaults.ttl: ", f.path().display())),
        "{e}"
    );
    let mut g = tempfile::NamedTempFile::new().unwrap();
    g.write_all(b"# ok\n# \xff\n").unwrap();
    let e = load(g.path(), EXPLICIT, &no_env()).unwrap_err().to_string();
    assert!(e.contains(":2: expected UTF-8"), "{e}");
}

#[cfg(unix)]
#[test]
fn load_warns_about_a_readable_inline_token() {
    let loose = token_file(&with_token(ONE_RECORD), 0o644);
    let l = load(loose.path(), EXPLICIT, &no_env()).unwrap();
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    let w = &l.warnings[0];
    let file = loose.path().display().to_string();
    assert!(w.contains(":2: cloudflare.api_token:"), "{w}");
    assert!(
        w.contains(&format!("`{file}` holds the API token inline")),
        "{w}"
    );
    assert!(w.contains("(mode 644)"), "{w}");
    assert!(w.contains(&format!("chmod 600 {file}")), "{w}");
    for fix in [
        "api_token_file",
        "CLOUDFLARE_API_TOKEN_FILE",
        "LoadCredential",
    ] {
        assert!(w.contains(fix), "{fix}: {w}");
    }
    assert_no_token(w);
    let tight = token_file(&with_token(ONE_RECORD), 0o600);
    assert!(
        load(tight.path(), EXPLICIT, &no_env())
            .unwrap()
            .warnings
            .is_empty()
    );
    assert!(load(tight.path(), STRICT, &no_env()).is_ok());
    // Group-readable is readable too.
    let group = token_file(&with_token(ONE_RECORD), 0o640);
    assert!(load(group.path(), EXPLICIT, &no_env()).unwrap().warnings[0].contains("(mode 640)"));
}

#[cfg(unix)]
#[test]
fn strict_refuses_a_readable_secret() {
    let loose = token_file(&with_token(ONE_RECORD), 0o644);
    let file = loose.path().display().to_string();
    let e = load(loose.path(), STRICT, &no_env()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("{file}:2: cloudflare.api_token: refused (--strict): `{file}` holds the API token inline")), "{shown}");
    assert!(shown.contains(&format!("chmod 600 {file}")), "{shown}");
    assert_no_token(&shown);
    // DDFLARE_STRICT says the same; a wrong value is an error of its own.
    assert!(load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "1")])).is_err());
    assert!(load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "0")])).is_ok());
    let e = load(loose.path(), EXPLICIT, &env(&[("DDFLARE_STRICT", "maybe")])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("DDFLARE_STRICT: expected true/false"),
        "{e}"
    );
    // An inline Global API Key, likewise, named as such.
    let key_file = token_file(
        &format!("[cloudflare]\napi_email = \"{EMAIL}\"\napi_key = \"{KEY}\"\n{ONE_RECORD}"),
        0o604,
    );
    let l = load(key_file.path(), EXPLICIT, &no_env()).unwrap();
    assert!(
        l.warnings[0].contains(":3: cloudflare.api_key:"),
        "{:?}",
        l.warnings
    );
    assert!(l.warnings[0].contains("holds the Global API Key inline"));
    assert!(l.warnings[0].contains("api_key_file"));
    assert_no_key(&l.warnings[0]);
    let e = load(key_file.path(), STRICT, &no_env())
        .unwrap_err()
        .to_string();
    assert!(e.contains("refused (--strict)"), "{e}");
    assert_no_key(&e);
    // A token file that others may read: refused too under strict, warned about otherwise.
    let secret = token_file(TOKEN, 0o644);
    let config = token_file(ONE_RECORD, 0o644);
    let vars = env(&[(
        "CLOUDFLARE_API_TOKEN_FILE",
        &secret.path().display().to_string(),
    )]);
    let l = load(config.path(), EXPLICIT, &vars).unwrap();
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(l.warnings[0].contains("can be read by group or others (mode 644)"));
    let e = load(config.path(), STRICT, &vars).unwrap_err().to_string();
    assert!(
        e.starts_with("CLOUDFLARE_API_TOKEN_FILE: refused (--strict): "),
        "{e}"
    );
    // A readable config without a secret in it is fine, strict or not.
    assert!(
        load(
            config.path(),
            STRICT,
            &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)])
        )
        .is_ok()
    );
}
