use std::num::NonZeroU32;

use super::*;
use crate::round::Line;
use crate::secret::Secret;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn heads_give_the_query_and_the_two_headers() {
    let h = parse_head(
        b"GET /nic/update?hostname=a.example.com&myip=203.0.113.7 HTTP/1.0\r\nauthorization: Basic dXNlcjpwdw==\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9",
    )
    .unwrap();
    assert_eq!(h.path, "/nic/update");
    assert_eq!(h.query, "hostname=a.example.com&myip=203.0.113.7");
    assert_eq!(h.authorization.as_deref(), Some("Basic dXNlcjpwdw=="));
    assert_eq!(
        h.forwarded_for.as_deref(),
        Some("198.51.100.1, 203.0.113.9")
    );
    assert_eq!(parse_head(b"GET /nic/update HTTP/2"), Err(505));
    assert_eq!(parse_head(b"GET /x HTTP/1.1\r\nno colon"), Err(400));
    assert_eq!(parse_head(b"get /x HTTP/1.1"), Err(400));
}

#[test]
fn basic_auth_and_base64() {
    assert_eq!(
        basic_auth("Basic dXNlcjpwdw=="),
        Some(("user".into(), b"pw".to_vec()))
    );
    // A colon in the password stays in the password.
    assert_eq!(
        basic_auth("basic dTpwOnc="),
        Some(("u".into(), b"p:w".to_vec()))
    );
    assert_eq!(basic_auth("Bearer dXNlcjpwdw=="), None);
    assert_eq!(basic_auth("Basic !!!"), None);
    assert_eq!(basic_auth("Basic dXNlcg=="), None, "no colon");
    assert_eq!(base64("TWFu").unwrap(), b"Man");
    assert_eq!(base64("TWE=").unwrap(), b"Ma");
    assert_eq!(base64("TQ==").unwrap(), b"M");
    assert_eq!(base64("T"), None);
}

#[test]
fn passwords_compare_in_full() {
    assert!(ct_eq(b"secret", b"secret"));
    assert!(!ct_eq(b"secret", b"secreT"));
    assert!(!ct_eq(b"secret", b"secret\0"));
    assert!(!ct_eq(b"", b"x"));
    assert!(ct_eq(b"", b""));
    let plain = Password::Plain(Secret::new("hunter2"));
    assert!(verify(&plain, b"hunter2"));
    assert!(!verify(&plain, b"hunter"));
    // python3 -c "import hashlib,base64;print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',b'hunter2',b'salt',1000)).decode())"
    let hashed = Password::Pbkdf2 {
        iterations: NonZeroU32::new(1000).unwrap(),
        salt: b"salt".to_vec(),
        hash: base64("6bR+qvB+EfiWifJvLhLUslIy4Ocqg4PNHECwdKqh4ho=").unwrap(),
    };
    assert!(verify(&hashed, b"hunter2"));
    assert!(!verify(&hashed, b"hunter3"));
    assert!(!format!("{plain:?}{hashed:?}").contains("hunter"));
}

#[test]
fn queries_list_hosts_and_one_address_per_family() {
    let u = parse_query(
        "system=dyndns&hostname=A.example.com.,b.example.com&myip=203.0.113.7%2C2001%3Adb8%3A%3A1&wildcard=NOCHG",
    )
    .unwrap();
    assert_eq!(u.hostnames, vec!["a.example.com", "b.example.com"]);
    assert_eq!(u.myip, vec![ip("203.0.113.7"), ip("2001:db8::1")]);
    assert!(
        parse_query("hostname=a.example.com&myip=")
            .unwrap()
            .myip
            .is_empty()
    );
    assert_eq!(
        parse_query("myip=203.0.113.7"),
        Err(Refused::Answer(Answer::Notfqdn))
    );
    let many = (0..=MAX_HOSTS)
        .map(|i| format!("h{i}.example.com"))
        .collect::<Vec<_>>();
    assert_eq!(
        parse_query(&format!("hostname={}", many.join(","))),
        Err(Refused::Answer(Answer::Numhost))
    );
    assert!(matches!(
        parse_query("hostname=a.example.com&myip=203.0.113.7,198.51.100.1"),
        Err(Refused::BadIp(_))
    ));
    assert!(matches!(
        parse_query("hostname=a.example.com&myip=nonsense"),
        Err(Refused::BadIp(_))
    ));
    assert!(is_fqdn("home.example.com"));
    assert!(!is_fqdn("home"));
    assert!(!is_fqdn("home..example.com"));
    assert!(!is_fqdn("ho me.example.com"));
}

#[test]
fn the_source_is_the_peer_unless_a_trusted_proxy_names_another() {
    let trusted = vec![crate::detect::Cidr::parse("127.0.0.1").unwrap()];
    let xff = Some("192.0.2.1, 203.0.113.7");
    assert_eq!(source(ip("127.0.0.1"), &trusted, xff), ip("203.0.113.7"));
    assert_eq!(
        source(ip("198.51.100.1"), &trusted, xff),
        ip("198.51.100.1")
    );
    assert_eq!(
        source(ip("::ffff:127.0.0.1"), &trusted, xff),
        ip("203.0.113.7")
    );
    assert_eq!(
        source(ip("127.0.0.1"), &trusted, Some("junk")),
        ip("127.0.0.1")
    );
    assert_eq!(source(ip("127.0.0.1"), &[], xff), ip("127.0.0.1"));
}

#[test]
fn answers_follow_what_cloudflare_confirmed() {
    let line = |name: &str, outcome| Line {
        name: name.into(),
        rtype: "A",
        content: ip("203.0.113.7"),
        outcome,
    };
    let report = RoundReport {
        lines: vec![
            line("a.example.com", Outcome::Created),
            line("b.example.com", Outcome::Cached),
            line("c.example.com", Outcome::Unchanged),
            line(
                "d.example.com",
                Outcome::Failed {
                    error: "x".into(),
                    hint: None,
                },
            ),
            line("e.example.com", Outcome::Planned("created".into())),
        ]
        .into(),
        ..RoundReport::default()
    };
    let a = |n| answer_for(n, Some(&report), "203.0.113.7").to_string();
    assert_eq!(a("a.example.com"), "good 203.0.113.7");
    assert_eq!(a("b.example.com"), "nochg 203.0.113.7");
    assert_eq!(a("c.example.com"), "nochg 203.0.113.7");
    assert_eq!(a("d.example.com"), "dnserr");
    assert_eq!(a("e.example.com"), "911");
    assert_eq!(answer_for("a.example.com", None, "x").to_string(), "911");
}
