//! `[metrics]`, `[alerts]`, `[[notify]]`, `[[monitor]]`, `[log]` and `[process]`, from the file and
//! from the environment; notification URLs never shown.

use super::*;

#[test]
fn operations_are_off_by_default() {
    let c = ok(&with_token(ONE_RECORD)).config;
    assert_eq!(c.metrics.listen, None);
    assert!(c.notify.is_empty());
    assert_eq!(c.notify.alerts, crate::notify::Alerts::default());
    assert!(!c.log.quiet);
    assert_eq!(c.schedule.cron, None);
    assert_eq!(c.schedule.jitter, Duration::ZERO);
    assert!(c.schedule.update_on_start);
}

#[test]
#[cfg(feature = "metrics")]
fn operation_keys_are_read() {
    let text = with_token(&format!(
        "[schedule]\ncron = \"*/10 * * * *\"\njitter = \"20s\"\nupdate_on_start = false\n\
         [metrics]\nlisten = \"[::1]:9489\"\n\
         [alerts]\nafter_failed_rounds = 5\nafter = \"1h\"\nremind_every = \"0s\"\nmax_per_hour = 4\n\
         [log]\nquiet = true\n\
         [[notify]]\nurl = \"ntfy://ntfy.sh/topic-{TOKEN2}\"\nevents = [\"change\"]\n\
         [[notify]]\nurl = \"discord://1/tok\"\nserver = \"http://127.0.0.1:1\"\n\
         [[monitor]]\nurl = \"https://hc-ping.com/u\"\n{ONE_RECORD}"
    ));
    let c = ok(&text).config;
    assert_eq!(
        c.schedule.cron.as_ref().map(ToString::to_string).as_deref(),
        Some("*/10 * * * *")
    );
    assert_eq!(c.schedule.jitter, Duration::from_secs(20));
    assert!(!c.schedule.update_on_start);
    assert_eq!(c.metrics.listen, Some("[::1]:9489".parse().unwrap()));
    let a = &c.notify.alerts;
    assert_eq!(
        (
            a.after_failed_rounds,
            a.after,
            a.remind_every,
            a.max_per_hour
        ),
        (5, Duration::from_secs(3600), None, 4)
    );
    assert!(c.log.quiet);
    assert_eq!(c.notify.targets.len(), 2);
    assert!(c.notify.targets[0].events.change && !c.notify.targets[0].events.failure);
    assert_eq!(
        c.notify.targets[1].endpoint.expose(),
        "http://127.0.0.1:1/api/webhooks/1/tok"
    );
    assert_eq!(c.notify.monitors.len(), 1);
    // The loaded config's Debug shows no notification secret.
    assert!(!format!("{c:?}").contains("topic-"));
}

#[test]
fn operation_errors_name_key_and_line() {
    let cases: &[(&str, &str, usize)] = &[
        (
            "[schedule]\ninterval = \"5m\"\ncron = \"* * * * *\"\n",
            "schedule.cron: expected either `cron` or `interval`, found both (interval on line 4)",
            5,
        ),
        (
            "[schedule]\ncron = \"61 * * * *\"\n",
            "schedule.cron: minute: expected a number from 0 to 59, found 61",
            4,
        ),
        ("[schedule]\ncron = \"0 0 31 2 *\"\n", "never fires", 4),
        (
            "[schedule]\njitter = \"5m\"\n",
            "schedule.jitter: expected less than the time between two rounds (5m), found 5m",
            4,
        ),
        (
            "[schedule]\ncron = \"*/2 * * * *\"\njitter = \"3m\"\n",
            "(2m), found 3m",
            5,
        ),
        (
            "[metrics]\nlisten = \"localhost:9489\"\n",
            "metrics.listen: expected an address and a port",
            4,
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1\"\n",
            "hint: add the port: \"127.0.0.1:9489\"",
            4,
        ),
        (
            "[alerts]\nafter_failed_rounds = 0\n",
            "alerts.after_failed_rounds: expected an integer from 1 to 1000, found 0",
            4,
        ),
        (
            "[alerts]\nmax_per_hour = 100000\n",
            "alerts.max_per_hour: expected an integer from 1 to 3600",
            4,
        ),
        (
            "[alerts]\nafter = \"0s\"\n",
            "alerts.after: expected a duration greater than zero",
            4,
        ),
        (
            "[[notify]]\nevents = [\"change\"]\n",
            "notify[1]: expected a `url` key",
            3,
        ),
        (
            "[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\n[[notify]]\nurl = \"mailto://x\"\n",
            "notify[2].url: expected a notification URL",
            6,
        ),
        (
            "[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\nevents = [\"boom\"]\n",
            "notify[1].events: expected \"change\", \"failure\" or \"recovery\", found \"boom\"",
            5,
        ),
        (
            "[[notify]]\nurl = \"slack://a/b/c\"\nserver = \"ftp://x\"\n",
            "notify[1].server: `server`: expected an http(s) URL",
            5,
        ),
        (
            "[[notify]]\nurll = \"ntfy://ntfy.sh/a\"\n",
            "notify[1].urll: unknown key\nhint: did you mean `url`?",
            4,
        ),
        (
            "[[monitor]]\nurl = \"https://hc-ping.com/u\"\nkind = \"nagios\"\n",
            "monitor[1].kind: `kind`: expected \"healthchecks\" or \"uptime_kuma\"",
            5,
        ),
        (
            "[[monitor]]\nurl = \"hc-ping.com/u\"\n",
            "monitor[1].url: expected an http(s) URL",
            4,
        ),
        (
            "[log]\nquiet = \"yes\"\n",
            "log.quiet: expected a boolean",
            4,
        ),
        (
            "[metric]\nlisten = \"127.0.0.1:1\"\n",
            "did you mean `metrics`?",
            3,
        ),
        ("[schedule]\nquiet = true\n", "`quiet` belongs in [log]", 4),
    ];
    for (body, part, line) in cases {
        let e = err(&with_token(&format!("{body}{ONE_RECORD}")));
        expect(&e, part, Some(*line));
    }
}

#[test]
fn notification_urls_never_show_in_errors() {
    let secret = "zzNotifySecret123456";
    for body in [
        format!("[[notify]]\nurl = \"discord://abc/{secret}\"\n"),
        format!("[[notify]]\nurl = \"telegram://{secret}@telegram\"\n"),
        format!("[[notify]]\nurl = \"https://x.example/{secret}\"\nevents = 5\n"),
        format!("[[notify]]\nurl = \"https://x.example/{secret}\n"),
        format!("[[monitor]]\nurl = \"gopher://x/{secret}\"\n"),
    ] {
        let e = err(&with_token(&format!("{body}{ONE_RECORD}")));
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
}

#[test]
#[cfg(feature = "metrics")]
fn containers_configure_operations_by_environment() {
    let e = env(&[
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
        (
            "DDFLARE_NOTIFY",
            "ntfy://ntfy.sh/topic1\n  https://hooks.example.com/x?a=1,2",
        ),
        ("DDFLARE_MONITOR", "https://hc-ping.com/0a1b2c3d"),
        ("DDFLARE_METRICS_LISTEN", "0.0.0.0:9489"),
        ("DDFLARE_QUIET", "yes"),
        ("DDFLARE_ALLOW_PRIVATE", "1"),
    ]);
    let l = ok_env("", &e);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = l.config;
    assert_eq!(c.notify.targets.len(), 2);
    assert_eq!(c.notify.monitors.len(), 1);
    assert_eq!(
        c.metrics.listen,
        Some(std::net::SocketAddr::from(([0, 0, 0, 0], 9489)))
    );
    assert!(c.log.quiet);
    assert!(c.detect.allow_private);
}

#[test]
#[cfg(feature = "metrics")]
fn environment_replaces_the_files_operations() {
    let text = with_token(&format!(
        "[detect]\nallow_private = true\n[[notify]]\nurl = \"ntfy://ntfy.sh/a\"\n[[notify]]\nurl = \"ntfy://ntfy.sh/b\"\n[[monitor]]\nurl = \"https://hc-ping.com/u\"\n[metrics]\nlisten = \"127.0.0.1:1\"\n[log]\nquiet = true\n{ONE_RECORD}"
    ));
    let e = env(&[
        ("DDFLARE_NOTIFY", "ntfy://ntfy.sh/c"),
        ("DDFLARE_METRICS_LISTEN", "127.0.0.1:2"),
        ("DDFLARE_QUIET", "false"),
        ("DDFLARE_ALLOW_PRIVATE", "off"),
    ]);
    let l = ok_env(&text, &e);
    assert_eq!(l.config.notify.targets.len(), 1);
    // Not set in the environment: the file's stays.
    assert_eq!(l.config.notify.monitors.len(), 1);
    assert_eq!(l.config.metrics.listen.map(|a| a.port()), Some(2));
    assert!(!l.config.log.quiet);
    assert!(!l.config.detect.allow_private);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.starts_with("DDFLARE_NOTIFY: replaces the 2 [[notify]] table(s)")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn cron_from_the_environment() {
    let base = [
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("DDFLARE_RECORDS", "home.example.com"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        env(&pairs)
    };
    let l = ok_env("", &with(&[("DDFLARE_CRON", "*/10 * * * *")]));
    assert!(l.config.schedule.cron.is_some());
    // It replaces the file's interval, with a warning.
    let l = ok_env(
        "[schedule]\ninterval = \"1h\"\n",
        &with(&[("DDFLARE_CRON", "0 * * * *")]),
    );
    assert!(l.config.schedule.cron.is_some());
    assert!(
        l.warnings
            .iter()
            .any(|w| w.starts_with("DDFLARE_CRON: replaces the file's schedule.cron")),
        "{:?}",
        l.warnings
    );
    let e = err_env("", &with(&[("DDFLARE_CRON", "61 * * * *")]));
    expect(
        &e,
        "DDFLARE_CRON: minute: expected a number from 0 to 59, found 61",
        None,
    );
    let e = err_env(
        "",
        &with(&[("DDFLARE_CRON", "*/5 * * * *"), ("DDFLARE_INTERVAL", "5m")]),
    );
    expect(
        &e,
        "DDFLARE_CRON: expected either DDFLARE_CRON or DDFLARE_INTERVAL, found both",
        None,
    );
}

#[test]
fn environment_operation_errors_name_the_variable_never_the_url() {
    let secret = "zzEnvNotifySecret123456";
    let cases = [
        (
            "DDFLARE_NOTIFY",
            format!("ntfy://ntfy.sh/ok mailto://{secret}"),
            "DDFLARE_NOTIFY: entry 2: expected a notification URL",
        ),
        (
            "DDFLARE_MONITOR",
            format!("hc-ping.com/{secret}"),
            "DDFLARE_MONITOR: entry 1: expected an http(s) URL",
        ),
        (
            "DDFLARE_METRICS_LISTEN",
            "localhost:9489".to_owned(),
            "DDFLARE_METRICS_LISTEN: expected an address and a port",
        ),
        (
            "DDFLARE_QUIET",
            "maybe".to_owned(),
            "DDFLARE_QUIET: expected true/false",
        ),
        (
            "DDFLARE_ALLOW_PRIVATE",
            "maybe".to_owned(),
            "DDFLARE_ALLOW_PRIVATE: expected true/false",
        ),
    ];
    for (var, value, part) in cases {
        let e = env(&[
            ("CLOUDFLARE_API_TOKEN", TOKEN),
            ("DDFLARE_RECORDS", "home.example.com"),
            (var, value.as_str()),
        ]);
        let e = err_env("", &e);
        expect(&e, part, None);
        assert!(!e.to_string().contains(secret), "{e}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
}

#[test]
fn process_user_and_drop_privileges() {
    use crate::privileges::RunAs;
    let c = ok(&with_token(ONE_RECORD)).config;
    assert_eq!(
        c.process.user,
        RunAs::Ids {
            uid: 65534,
            gid: 65534
        }
    );
    assert!(c.process.drop_privileges);
    let text = with_token(&format!("[process]\nuser = \"ddflare\"\n{ONE_RECORD}"));
    assert_eq!(ok(&text).config.process.user, RunAs::Name("ddflare".into()));
    let l = ok_env(&text, &env(&[("DDFLARE_USER", "1000:1000")]));
    assert_eq!(
        l.config.process.user,
        RunAs::Ids {
            uid: 1000,
            gid: 1000
        }
    );
    let l = ok_env(&text, &env(&[("DDFLARE_DROP_PRIVILEGES", "false")]));
    assert!(!l.config.process.drop_privileges);
    assert!(
        l.warnings[0].contains("process.user: has no effect"),
        "{:?}",
        l.warnings
    );
    let e = err(&with_token(&format!(
        "[process]\nuser = \"0:0\"\n{ONE_RECORD}"
    )));
    expect(
        &e,
        "ddflare.toml:4: process.user: expected an unprivileged user, found 0:0 (root)",
        None,
    );
    expect(&e, "drop_privileges = false", None);
    let e = err_env(&with_token(ONE_RECORD), &env(&[("DDFLARE_USER", "65534")]));
    expect(
        &e,
        "DDFLARE_USER: expected \"uid:gid\" or a user name, found the lone number 65534",
        None,
    );
    let e = err_env(
        &with_token(ONE_RECORD),
        &env(&[("DDFLARE_DROP_PRIVILEGES", "nah")]),
    );
    expect(&e, "DDFLARE_DROP_PRIVILEGES: expected true/false", None);
    let e = err(&with_token(&format!(
        "[process]\ndrop_privileges = \"no\"\n{ONE_RECORD}"
    )));
    expect(&e, "process.drop_privileges", Some(4));
    let e = err(&with_token(&format!(
        "[process]\nusr = \"nobody\"\n{ONE_RECORD}"
    )));
    expect(&e, "did you mean `user`?", Some(4));
}
