use std::collections::HashMap;

use super::out::q;
use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/import")
            .join(name),
    )
    .unwrap()
}

/// The output loads in ddflare (token from the environment, as the comments say).
fn loads(toml: &str) -> crate::config::Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ddflare.toml");
    std::fs::write(&path, toml).unwrap();
    let env: HashMap<String, String> = [(
        "CLOUDFLARE_API_TOKEN".to_owned(),
        "importTESTtoken_0123456789abcdefghijklm".to_owned(),
    )]
    .into();
    let opts = crate::config::LoadOptions {
        explicit: true,
        strict: false,
    };
    match crate::config::load(&path, opts, &env) {
        Ok(l) => l.config,
        Err(e) => panic!("{e}\n--- the import:\n{toml}"),
    }
}

fn env_file(from: From, name: &str, inline: bool) -> String {
    convert(from, &Input::Text(fixture(name)), inline).unwrap()
}

#[test]
fn favonia_readme_compose() {
    let out = env_file(From::Favonia, "favonia-compose.env", false);
    assert!(!out.contains("YOUR-CLOUDFLARE-API-TOKEN"), "{out}");
    assert!(out.contains("CLOUDFLARE_API_TOKEN"), "{out}");
    let c = loads(&out);
    let names: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["example.org", "www.example.org", "example.io"]);
    assert!(out.contains("[defaults]\nproxied = true"), "{out}");

    let inline = env_file(From::Favonia, "favonia-compose.env", true);
    assert!(
        inline.contains("api_token = \"YOUR-CLOUDFLARE-API-TOKEN\""),
        "{inline}"
    );
}

#[test]
fn favonia_static_test_setup() {
    let out = env_file(From::Favonia, "favonia-test-static.env", false);
    assert!(out.contains("ipv4 = [\"static:203.0.113.10\"]"), "{out}");
    assert!(out.contains("ipv6 = [\"static:2001:db8::10\"]"), "{out}");
    loads(&out);
}

#[test]
fn favonia_secret_file_interface_and_comment() {
    let out = env_file(From::Favonia, "favonia-secret-iface.env", false);
    assert!(
        out.contains("api_token_file = \"/run/secrets/cloudflare_api_token\""),
        "{out}"
    );
    assert!(out.contains("ipv4 = [\"interface:eth0\"]"), "{out}");
    assert!(out.contains("ipv6 = [\"none\"]"), "{out}");
    assert!(out.contains("comment = \"managed-by-ddns-a\""), "{out}");
    assert!(
        out.contains("# not carried over: MANAGED_RECORDS_COMMENT_REGEX"),
        "{out}"
    );
    // The token file does not exist here: check the text only, then load without it.
    let without_file = out.replace("api_token_file", "# api_token_file");
    loads(&without_file);
}

#[test]
fn timothymiller_compose() {
    let out = env_file(From::Timothymiller, "timothymiller-compose.env", false);
    assert!(out.contains("interval = \"5m\""), "{out}");
    assert!(out.contains("ttl = \"auto\""), "{out}");
    assert!(out.contains("proxied = false"), "{out}");
    assert!(
        out.contains("DDFLARE_MONITOR=\"$HEALTHCHECKS $UPTIMEKUMA\""),
        "{out}"
    );
    // The documented placeholder `discord://token@webhook-id` has no numeric id.
    assert!(out.contains("# not carried over: a SHOUTRRR URL"), "{out}");
    assert!(
        !out.contains("your-uuid") && !out.contains("your-token"),
        "{out}"
    );
    loads(&out);

    let inline = env_file(From::Timothymiller, "timothymiller-compose.env", true);
    let c = loads(&inline);
    assert_eq!(c.notify.monitors.len(), 2, "{inline}");
}

#[test]
fn shoutrrr_urls_carry_over_inline_and_by_reference() {
    let pairs = vec![
        ("DOMAINS".to_owned(), "home.example.org".to_owned()),
        (
            "SHOUTRRR".to_owned(),
            "discord://tok@123456\nntfy://:tk_x@ntfy.example.com/ddns\nteams://a@b".to_owned(),
        ),
    ];
    let out = env::convert(From::Favonia, &pairs, true, false).render();
    assert!(out.contains("DDFLARE_NOTIFY"), "{out}");
    assert!(out.contains("found the scheme `teams`"), "{out}");
    assert!(!out.contains("tk_x") && !out.contains("tok@"), "{out}");
    let out = env::convert(From::Favonia, &pairs, true, true).render();
    assert_eq!(loads(&out).notify.targets.len(), 2, "{out}");
}

#[test]
fn process_env_reads_only_known_variables() {
    let env: HashMap<String, String> = [
        ("DOMAINS".to_owned(), "a.example.org".to_owned()),
        (
            "IP6_DOMAINS".to_owned(),
            "a.example.org,v6.example.org".to_owned(),
        ),
        ("IP4_DOMAINS".to_owned(), "v4.example.org".to_owned()),
        ("PATH".to_owned(), "/usr/bin".to_owned()),
        ("UPDATE_CRON".to_owned(), "@once".to_owned()),
        ("PROXIED".to_owned(), "is(a.example.org)".to_owned()),
    ]
    .into();
    let out = convert(From::Favonia, &Input::Env(&env), false).unwrap();
    assert!(!out.contains("PATH"), "{out}");
    assert!(out.contains("not carried over: UPDATE_CRON=@once"), "{out}");
    assert!(out.contains("not carried over: PROXIED="), "{out}");
    let c = loads(&out);
    let r: Vec<(&str, bool, bool)> = c
        .records
        .iter()
        .map(|r| (r.name.as_str(), r.ipv4, r.ipv6))
        .collect();
    assert_eq!(
        r,
        [
            ("a.example.org", true, true),
            ("v4.example.org", true, false),
            ("v6.example.org", false, true)
        ]
    );
    assert!(convert(From::Ddclient, &Input::Env(&env), false).is_err());
}

#[test]
fn ddclient_documented_cloudflare_example() {
    // The documentation's placeholder e-mail, filled in as a user would.
    let text = fixture("ddclient.conf.in").replace("your-login-email", "owner@example.com");
    let out = convert(From::Ddclient, &Input::Text(text), false).unwrap();
    assert!(!out.contains("APIKey"), "{out}");
    assert!(out.contains("api_email = \"owner@example.com\""), "{out}");
    assert!(out.contains("interval = \"300s\""), "{out}");
    for skipped in [
        "syslog=yes",
        "mail=root",
        "mail-failure=root",
        "pid=",
        "ssl=yes",
    ] {
        assert!(
            out.contains(&format!("# not carried over: {skipped}")),
            "{skipped}: {out}"
        );
    }
    assert!(out.contains("zone = \"domain.tld\""), "{out}");
    // A Global API Key: the key comes from CLOUDFLARE_API_KEY.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ddflare.toml");
    std::fs::write(&path, &out).unwrap();
    let env: HashMap<String, String> = [(
        "CLOUDFLARE_API_KEY".to_owned(),
        "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291".to_owned(),
    )]
    .into();
    let opts = crate::config::LoadOptions {
        explicit: true,
        strict: false,
    };
    let c = crate::config::load(&path, opts, &env)
        .unwrap_or_else(|e| panic!("{e}\n{out}"))
        .config;
    let names: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["domain.tld", "my.domain.tld"]);
}

#[test]
fn ddclient_token_web_and_other_protocols() {
    let text = fixture("ddclient-token.conf");
    let out = convert(From::Ddclient, &Input::Text(text.clone()), false).unwrap();
    assert!(
        !out.contains("my-api-token") && !out.contains("secret-pw"),
        "{out}"
    );
    assert!(out.contains("ipv4 = [\"cloudflare.trace\"]"), "{out}");
    assert!(out.contains("ipv6 = [\"none\"]"), "{out}");
    assert!(
        out.contains("not carried over: your-dynamic-host.dyndns.org (protocol=dyndns2"),
        "{out}"
    );
    assert!(out.contains("ttl = \"auto\""), "{out}");
    loads(&out);
    let inline = convert(From::Ddclient, &Input::Text(text), true).unwrap();
    assert!(inline.contains("api_token = \"my-api-token\""), "{inline}");
    assert!(
        convert(
            From::Ddclient,
            &Input::Text("protocol=dyndns2 h.example".into()),
            false
        )
        .is_err()
    );
}

#[test]
fn ddclient_syntax_quotes_comments_continuations() {
    let l = logical_lines_for_test("a=1, \\\n b='x # y' # c\nhost1,host2\n");
    assert_eq!(l.len(), 2);
    let out = convert(
        From::Ddclient,
        &Input::Text("protocol = cloudflare, zone=ex.org, login=token, password=\"p w\" h.ex.org, h2.ex.org\n".into()),
        true,
    )
    .unwrap();
    assert!(out.contains("api_token = \"p w\""), "{out}");
    assert!(out.contains("name = \"h2.ex.org\""), "{out}");
}

fn logical_lines_for_test(s: &str) -> Vec<String> {
    ddclient::logical_lines_pub(s)
}

#[test]
fn tz_becomes_the_cron_time_zone() {
    let pairs = |cron: &str| {
        vec![
            ("DOMAINS".to_owned(), "a.example.org".to_owned()),
            ("UPDATE_CRON".to_owned(), cron.to_owned()),
            ("TZ".to_owned(), "Europe/Berlin".to_owned()),
        ]
    };
    let out = env::convert(From::Favonia, &pairs("0 4 * * *"), true, false).render();
    assert!(
        out.contains("cron = \"0 4 * * *\"\ntimezone = \"Europe/Berlin\""),
        "{out}"
    );
    if Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        let c = loads(&out);
        assert!(c.schedule.timezone.is_some());
    }
    let out = env::convert(From::Favonia, &pairs("@every 5m"), true, false).render();
    assert!(out.contains("not carried over: TZ"), "{out}");
}

#[test]
fn toml_strings_are_escaped() {
    assert_eq!(q("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    assert_eq!(From::parse("Favonia"), Some(From::Favonia));
    assert_eq!(From::parse("x"), None);
}
