//! `[schedule]` and `[state]`: durations, the minimum interval, where the state lives.

use super::*;

#[test]
fn durations_and_minimum_interval() {
    let c = |body: &str| {
        parse(
            &with_token(&format!("[schedule]\n{body}\n{ONE_RECORD}")),
            "ddflare.toml",
            &no_env(),
        )
    };
    assert_eq!(
        c("interval = \"10s\"").unwrap().config.schedule.interval,
        Duration::from_secs(10)
    );
    assert_eq!(
        c("interval = \"1h 30m\"").unwrap().config.schedule.interval,
        Duration::from_secs(5400)
    );
    expect(
        &c("interval = \"9s\"").unwrap_err(),
        "expected at least 10s, found 9s",
        Some(4),
    );
    expect(
        &c("interval = \"0s\"").unwrap_err(),
        "schedule.interval",
        Some(4),
    );
    expect(&c("interval = \"300\"").unwrap_err(), "add a unit", Some(4));
    expect(&c("interval = 300").unwrap_err(), "add a unit", Some(4));
    expect(
        &c("interval = \"5 minutes later\"").unwrap_err(),
        "5 minutes later",
        Some(4),
    );
    expect(
        &c("interval = \"-5m\"").unwrap_err(),
        "schedule.interval",
        Some(4),
    );
    expect(
        &c("interval = \"500days\"").unwrap_err(),
        "at most",
        Some(4),
    );
    expect(
        &c("cycle_deadline = \"0s\"").unwrap_err(),
        "schedule.cycle_deadline",
        Some(4),
    );
    assert_eq!(
        c("shutdown_grace = \"0s\"")
            .unwrap()
            .config
            .schedule
            .shutdown_grace,
        Duration::ZERO
    );
    assert_eq!(
        c("shutdown_grace = \"500ms\"")
            .unwrap()
            .config
            .schedule
            .shutdown_grace,
        Duration::from_millis(500)
    );
}

#[test]
fn state_dir_precedence() {
    let base = with_token(ONE_RECORD);
    let file = with_token(&format!(
        "[state]\ndir = \"/from/file\"\nmax_age = \"2h\"\n{ONE_RECORD}"
    ));
    let sd = env(&[("STATE_DIRECTORY", "/run/a:/run/b")]);
    assert_eq!(ok_env(&base, &sd).config.state.dir, PathBuf::from("/run/a"));
    let l = ok_env(&file, &sd);
    assert_eq!(l.config.state.dir, PathBuf::from("/from/file"));
    assert_eq!(l.config.state.max_age, Duration::from_secs(7200));
    let both = env(&[
        ("STATE_DIRECTORY", "/run/a"),
        ("DDFLARE_STATE_DIR", "/from/env"),
    ]);
    assert_eq!(
        ok_env(&file, &both).config.state.dir,
        PathBuf::from("/from/env")
    );
    let empty = env(&[("DDFLARE_STATE_DIR", ""), ("STATE_DIRECTORY", "")]);
    assert_eq!(
        ok_env(&base, &empty).config.state.dir,
        PathBuf::from("/var/lib/ddflare")
    );
    expect(
        &err(&with_token(&format!("[state]\ndir = \"\"\n{ONE_RECORD}"))),
        "state.dir",
        Some(4),
    );
    expect(
        &err(&with_token(&format!(
            "[state]\nmax_age = \"0s\"\n{ONE_RECORD}"
        ))),
        "state.max_age",
        Some(4),
    );
}

#[test]
fn timezone_from_zoneinfo_or_a_config_error_saying_how_to_provide_it() {
    let body = |tz: &str| {
        with_token(&format!(
            "[schedule]\ncron = \"30 2 * * *\"\ntimezone = \"{tz}\"\n{ONE_RECORD}"
        ))
    };
    // No key, or UTC: no zone.
    assert_eq!(ok(&with_token(ONE_RECORD)).config.schedule.timezone, None);
    assert_eq!(ok(&body("UTC")).config.schedule.timezone, None);
    if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        let z = ok(&body("Europe/Berlin")).config.schedule.timezone.unwrap();
        assert_eq!(z.name, "Europe/Berlin");
    } else {
        eprintln!("SKIPPED: /usr/share/zoneinfo/Europe/Berlin missing (Debian package tzdata)");
    }
    // A zone the system lacks (a scratch image): what to mount or install, exit 78.
    let empty = tempfile::tempdir().unwrap();
    let tzdir = env(&[("TZDIR", empty.path().to_str().unwrap())]);
    let e = err_env(&body("Europe/Berlin"), &tzdir);
    expect(&e, "schedule.timezone", Some(5));
    expect(&e, "cannot read the zone Europe/Berlin", None);
    let hint = e.hint_text().unwrap_or_default();
    assert!(
        hint.contains("/usr/share/zoneinfo:/usr/share/zoneinfo:ro"),
        "{hint}"
    );
    assert!(hint.contains("TZDIR"), "{hint}");
    // TZDIR is where zones are read from: a file there that is not TZif is refused.
    std::fs::write(empty.path().join("Bad"), b"not a zone").unwrap();
    expect(&err_env(&body("Bad"), &tzdir), "not a TZif file", Some(5));
    // DDFLARE_TIMEZONE wins over the file, and is named in its errors.
    let e = err_env(
        &body("UTC"),
        &env(&[
            ("DDFLARE_TIMEZONE", "Mars/Olympus"),
            ("TZDIR", empty.path().to_str().unwrap()),
        ]),
    );
    expect(&e, "DDFLARE_TIMEZONE", None);
    // Names that are not zone names never reach the file system.
    for bad in [
        "../../etc/passwd",
        "/etc/localtime",
        "Europe//Berlin",
        "Eur ope",
        "",
    ] {
        expect(&err(&body(bad)), "expected an IANA time zone name", Some(5));
    }
}
