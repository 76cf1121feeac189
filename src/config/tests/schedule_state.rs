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
