//! PURE: what an event says, and the HTTP request each service wants for it. Nothing here
//! sends: [`requests`] and [`ping`] return [`Request`]s for `send.rs`.
//!
//! The generic webhook's JSON (documented in docs/operations.md, "The generic webhook"):
//!
//! ```json
//! {
//!   "event": "change" | "failure" | "recovery",
//!   "title": "…", "message": "…",
//!   "time": "2026-06-01T10:07:30Z",
//!   "version": "0.1.0",
//!   "changes": [{"name": "home.example.com", "type": "A", "from": "198.51.100.4", "to": "203.0.113.7"}],
//!   "failure": {"rounds": 3, "since": "…", "reminder": false,
//!               "errors": [{"record": "home.example.com A", "error": "…", "hint": "…"}]},
//!   "suppressed": 0
//! }
//! ```
//! `changes` is present for `change`, `failure` for `failure` and `recovery` (without
//! `errors` for the latter); `from` is null for a new record; `suppressed` counts the
//! messages the rate limit dropped for this target since the last one sent.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::encoding::{base64, form, pct_encode};
use super::policy::{Change, Event, Failure, Summary};
use super::target::{Kind, Monitor, MonitorKind, Target};

/// Failures listed in one message; the rest are counted.
const MAX_FAILURES: usize = 10;

/// An HTTP request to make. Its URL holds secrets: `Debug` shows the method only.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Request({} [redacted url])", self.method)
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn span(now: SystemTime, since: SystemTime) -> String {
    let secs = now.duration_since(since).unwrap_or_default().as_secs();
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

fn change_line(c: &Change) -> String {
    match &c.from {
        Some(from) => format!("{} {} {from} → {}", c.name, c.rtype, c.to),
        None => format!("{} {} → {} (new record)", c.name, c.rtype, c.to),
    }
}

fn failure_lines(failures: &[Failure]) -> Vec<String> {
    let mut out: Vec<String> = failures
        .iter()
        .take(MAX_FAILURES)
        .map(|f| {
            let mut l = match &f.record {
                Some(r) => format!("{r}: {}", f.error),
                None => f.error.clone(),
            };
            if let Some(h) = &f.hint {
                l.push_str(&format!("\n  hint: {h}"));
            }
            l
        })
        .collect();
    if failures.len() > MAX_FAILURES {
        out.push(format!("… and {} more", failures.len() - MAX_FAILURES));
    }
    out
}

/// The title and the text of an event at `now`.
pub fn text(event: &Event, now: SystemTime) -> (String, String) {
    match event {
        Event::Changed(changes) => {
            let title = match changes.as_slice() {
                [one] => format!("ddflare: {} {} → {}", one.name, one.rtype, one.to),
                many => format!("ddflare: {} DNS records changed", many.len()),
            };
            let body = changes
                .iter()
                .map(change_line)
                .collect::<Vec<_>>()
                .join("\n");
            (title, body)
        }
        Event::Failing {
            rounds,
            since,
            failures,
            reminder,
        } => {
            let title = if *reminder {
                "ddflare: DNS updates still failing"
            } else {
                "ddflare: DNS updates failing"
            };
            let mut body = format!(
                "{rounds} round(s) in a row failed, for {} (since {}).",
                span(now, *since),
                rfc3339(*since)
            );
            for l in failure_lines(failures) {
                body.push('\n');
                body.push_str(&l);
            }
            (title.to_owned(), body)
        }
        Event::Recovered { rounds, since } => (
            "ddflare: DNS updates work again".to_owned(),
            format!(
                "The records are up to date again after {rounds} failed round(s) over {} (since {}).",
                span(now, *since),
                rfc3339(*since)
            ),
        ),
    }
}

fn suppressed_note(suppressed: u32) -> String {
    if suppressed == 0 {
        String::new()
    } else {
        format!("\n({suppressed} earlier message(s) dropped by the rate limit)")
    }
}

/// The generic webhook's body.
pub fn webhook_json(event: &Event, now: SystemTime, suppressed: u32) -> Value {
    let (title, message) = text(event, now);
    let mut v = json!({
        "event": event.class(),
        "title": title,
        "message": message,
        "time": rfc3339(now),
        "version": env!("CARGO_PKG_VERSION"),
        "suppressed": suppressed,
    });
    match event {
        Event::Changed(changes) => {
            v["changes"] = changes
                .iter()
                .map(|c| json!({"name": c.name, "type": c.rtype, "from": c.from, "to": c.to.to_string()}))
                .collect();
        }
        Event::Failing {
            rounds,
            since,
            failures,
            reminder,
        } => {
            v["failure"] = json!({
                "rounds": rounds,
                "since": rfc3339(*since),
                "reminder": reminder,
                "errors": failures.iter().map(|f| json!({"record": f.record, "error": f.error, "hint": f.hint})).collect::<Vec<_>>(),
            });
        }
        Event::Recovered { rounds, since } => {
            v["failure"] = json!({"rounds": rounds, "since": rfc3339(*since)});
        }
    }
    v
}

fn json_post(url: String, body: &Value, headers: Vec<(String, String)>) -> Request {
    let mut headers = headers;
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    Request {
        method: "POST",
        url,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
fn cap(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `authorization`: basic when the target has `USER:PASSWORD`, else bearer when it has a
/// token; none without either.
fn auth(target: &Target) -> Vec<(String, String)> {
    let value = match (&target.basic, &target.token) {
        (Some(b), _) => format!("Basic {}", base64(b.expose().as_bytes())),
        (None, Some(t)) => format!("Bearer {}", t.expose()),
        (None, None) => return Vec::new(),
    };
    vec![("authorization".to_owned(), value)]
}

/// The requests that tell `target` about `event` (Telegram and Matrix: one per chat or room).
pub fn requests(target: &Target, event: &Event, now: SystemTime, suppressed: u32) -> Vec<Request> {
    let (title, body) = text(event, now);
    let body = format!("{body}{}", suppressed_note(suppressed));
    let endpoint = target.endpoint.expose().to_owned();
    match &target.kind {
        Kind::Webhook => vec![json_post(
            endpoint,
            &webhook_json(event, now, suppressed),
            Vec::new(),
        )],
        Kind::Ntfy { topic } => {
            let (priority, tags) = match event {
                Event::Changed(_) => (3, ["globe_with_meridians"]),
                Event::Failing { .. } => (4, ["warning"]),
                Event::Recovered { .. } => (3, ["white_check_mark"]),
            };
            vec![json_post(
                endpoint,
                &json!({"topic": topic.expose(), "title": title, "message": body, "priority": priority, "tags": tags}),
                auth(target),
            )]
        }
        Kind::Gotify => {
            let priority = if matches!(event, Event::Failing { .. }) {
                8
            } else {
                5
            };
            let headers = target
                .token
                .as_ref()
                .map(|t| vec![("x-gotify-key".to_owned(), t.expose().to_owned())])
                .unwrap_or_default();
            vec![json_post(
                endpoint,
                &json!({"title": title, "message": body, "priority": priority}),
                headers,
            )]
        }
        Kind::Discord => vec![json_post(
            endpoint,
            &json!({"username": "ddflare", "content": cap(&format!("**{title}**\n{body}"), 2000)}),
            Vec::new(),
        )],
        Kind::Slack => vec![json_post(
            endpoint,
            &json!({"text": format!("*{title}*\n{body}")}),
            Vec::new(),
        )],
        Kind::Telegram { chats } => chats
            .iter()
            .map(|chat| {
                json_post(
                    endpoint.clone(),
                    &json!({"chat_id": chat, "text": cap(&format!("{title}\n\n{body}"), 4096), "disable_web_page_preview": true}),
                    Vec::new(),
                )
            })
            .collect(),
        Kind::SlackBot { channel } => vec![json_post(
            endpoint,
            &json!({"channel": channel, "text": format!("*{title}*\n{body}")}),
            auth(target),
        )],
        Kind::Pushover {
            user,
            devices,
            priority,
        } => {
            let mut v = json!({
                "token": target.token.as_ref().map(|t| t.expose()).unwrap_or_default(),
                "user": user.expose(),
                "title": cap(&title, 250),
                "message": cap(&body, 1024),
            });
            if let Some(d) = devices {
                v["device"] = json!(d);
            }
            if let Some(p) = priority {
                v["priority"] = json!(p);
            }
            vec![json_post(endpoint, &v, Vec::new())]
        }
        Kind::Zulip { stream, topic } => {
            let mut headers = auth(target);
            headers.push((
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ));
            let content = cap(&format!("**{title}**\n{body}"), 10_000);
            vec![Request {
                method: "POST",
                url: endpoint,
                headers,
                body: form(&[
                    ("type", "stream"),
                    ("to", stream),
                    ("topic", topic),
                    ("content", &content),
                ])
                .into_bytes(),
            }]
        }
        Kind::Matrix { rooms } => {
            // A transaction id unique per message and room (Matrix drops a repeated one).
            let stamp = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            rooms
                .iter()
                .enumerate()
                .map(|(i, room)| {
                    let mut r = json_post(
                        format!(
                            "{endpoint}/_matrix/client/v3/rooms/{}/send/m.room.message/ddflare-{stamp}-{i}",
                            pct_encode(room)
                        ),
                        &json!({"msgtype": "m.text", "body": format!("{title}\n{body}")}),
                        auth(target),
                    );
                    r.method = "PUT";
                    r
                })
                .collect()
        }
        Kind::Generic(g) => {
            let mut headers: Vec<(String, String)> = g
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                .collect();
            let (body, default_type) = if g.json {
                let mut v = webhook_json(event, now, suppressed);
                if let Some(map) = v.as_object_mut() {
                    for (key, wanted) in [("title", &g.title_key), ("message", &g.message_key)] {
                        if key != wanted.as_str()
                            && let Some(x) = map.remove(key)
                        {
                            map.insert(wanted.clone(), x);
                        }
                    }
                    for (k, x) in &g.fields {
                        map.insert(k.clone(), json!(x));
                    }
                }
                (serde_json::to_vec(&v).unwrap_or_default(), "application/json")
            } else {
                (
                    format!("{title}\n{body}").into_bytes(),
                    "text/plain; charset=utf-8",
                )
            };
            headers.push((
                "content-type".to_owned(),
                g.content_type.clone().unwrap_or_else(|| default_type.to_owned()),
            ));
            vec![Request {
                method: g.method,
                url: endpoint,
                headers,
                body,
            }]
        }
    }
}

/// A monitor ping: at the start of a round, or at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ping {
    Start,
    End(Summary),
}

/// One line saying how a round went, for a monitor.
pub fn ping_text(s: &Summary) -> String {
    if s.ok {
        let mut t = format!("ok: {} record(s) up to date", s.unchanged + s.changes.len());
        if !s.changes.is_empty() {
            let changes: Vec<String> = s.changes.iter().map(change_line).collect();
            t.push_str(&format!("; changed: {}", changes.join(", ")));
        }
        t
    } else {
        failure_lines(&s.failures).join("\n")
    }
}

/// The request that tells `monitor` about `ping`; `None` when the monitor has no such ping
/// (Uptime Kuma has no start).
pub fn ping(monitor: &Monitor, ping: &Ping) -> Option<Request> {
    let base = monitor.url.expose();
    match (monitor.kind, ping) {
        (MonitorKind::Healthchecks, Ping::Start) => Some(Request {
            method: "POST",
            url: format!("{base}/start"),
            headers: Vec::new(),
            body: Vec::new(),
        }),
        (MonitorKind::Healthchecks, Ping::End(s)) => Some(Request {
            method: "POST",
            url: if s.ok {
                base.to_owned()
            } else {
                format!("{base}/fail")
            },
            headers: vec![(
                "content-type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )],
            body: ping_text(s).into_bytes(),
        }),
        (MonitorKind::UptimeKuma, Ping::Start) => None,
        (MonitorKind::UptimeKuma, Ping::End(s)) => {
            let mut url = reqwest::Url::parse(base).ok()?;
            url.query_pairs_mut()
                .append_pair("status", if s.ok { "up" } else { "down" })
                .append_pair("msg", &cap(&ping_text(s), 250))
                .append_pair("ping", "");
            Some(Request {
                method: "GET",
                url: url.to_string(),
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::target::Events;
    use std::time::UNIX_EPOCH;

    fn t(mins: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + mins * 60)
    }

    fn change(from: Option<&str>) -> Change {
        Change {
            name: "home.example.com".into(),
            rtype: "A",
            from: from.map(str::to_owned),
            to: "203.0.113.7".parse().unwrap(),
        }
    }

    fn failing() -> Event {
        Event::Failing {
            rounds: 3,
            since: t(0),
            failures: vec![Failure {
                record: Some("home.example.com A".into()),
                error: "the token lacks Zone → DNS → Edit on example.com".into(),
                hint: Some("edit the token".into()),
            }],
            reminder: false,
        }
    }

    #[test]
    fn texts_say_what_changed_and_what_fails() {
        let (title, body) = text(&Event::Changed(vec![change(Some("198.51.100.4"))]), t(0));
        assert_eq!(title, "ddflare: home.example.com A → 203.0.113.7");
        assert_eq!(body, "home.example.com A 198.51.100.4 → 203.0.113.7");
        let (title, body) = text(
            &Event::Changed(vec![change(None), change(Some("198.51.100.4"))]),
            t(0),
        );
        assert_eq!(title, "ddflare: 2 DNS records changed");
        assert!(body.starts_with("home.example.com A → 203.0.113.7 (new record)\n"));
        let (title, body) = text(&failing(), t(10));
        assert_eq!(title, "ddflare: DNS updates failing");
        assert_eq!(
            body,
            "3 round(s) in a row failed, for 10m (since 2026-05-28T20:26:40Z).\nhome.example.com A: the token lacks Zone → DNS → Edit on example.com\n  hint: edit the token"
        );
        let (title, body) = text(
            &Event::Recovered {
                rounds: 4,
                since: t(0),
            },
            t(20),
        );
        assert_eq!(title, "ddflare: DNS updates work again");
        assert!(body.contains("after 4 failed round(s) over 20m"), "{body}");
    }

    #[test]
    fn webhook_json_follows_the_documented_schema() {
        let v = webhook_json(&Event::Changed(vec![change(None)]), t(0), 2);
        assert_eq!(v["event"], "change");
        assert_eq!(v["time"], "2026-05-28T20:26:40Z");
        assert_eq!(v["suppressed"], 2);
        assert_eq!(
            v["changes"],
            json!([{"name": "home.example.com", "type": "A", "from": null, "to": "203.0.113.7"}])
        );
        let v = webhook_json(&failing(), t(10), 0);
        assert_eq!(v["event"], "failure");
        assert_eq!(v["failure"]["rounds"], 3);
        assert_eq!(v["failure"]["errors"][0]["record"], "home.example.com A");
        assert_eq!(v["failure"]["errors"][0]["hint"], "edit the token");
    }

    #[test]
    fn each_service_gets_its_format() {
        let target = |url: &str| Target::parse(url, None, Events::default()).unwrap();
        let ev = Event::Changed(vec![change(Some("198.51.100.4"))]);
        let body = |r: &Request| serde_json::from_slice::<Value>(&r.body).unwrap();

        let r = &requests(&target("ntfy://tok@ntfy.example/topic"), &ev, t(0), 1)[0];
        assert_eq!(r.url, "https://ntfy.example");
        assert!(
            r.headers
                .contains(&("authorization".into(), "Bearer tok".into()))
        );
        assert_eq!(body(r)["topic"], "topic");
        assert!(
            body(r)["message"]
                .as_str()
                .unwrap()
                .contains("1 earlier message(s) dropped")
        );

        let r = &requests(&target("gotify://g.example/AppTok"), &failing(), t(0), 0)[0];
        assert_eq!(r.url, "https://g.example/message");
        assert!(
            r.headers
                .contains(&("x-gotify-key".into(), "AppTok".into()))
        );
        assert_eq!(body(r)["priority"], 8);

        let r = &requests(&target("discord://1/x"), &ev, t(0), 0)[0];
        assert!(
            body(r)["content"]
                .as_str()
                .unwrap()
                .starts_with("**ddflare: ")
        );
        let r = &requests(&target("slack://a/b/c"), &ev, t(0), 0)[0];
        assert!(body(r)["text"].as_str().unwrap().starts_with("*ddflare: "));
        let rs = requests(&target("telegram://1:x@telegram?chats=5,6"), &ev, t(0), 0);
        assert_eq!(rs.len(), 2);
        assert_eq!(body(&rs[1])["chat_id"], "6");
        assert!(!format!("{rs:?}").contains("1:x"));
    }

    #[test]
    fn monitor_pings() {
        let hc = Monitor::parse("https://hc-ping.com/uuid", None).unwrap();
        assert_eq!(
            ping(&hc, &Ping::Start).unwrap().url,
            "https://hc-ping.com/uuid/start"
        );
        let ok = Summary {
            ok: true,
            unchanged: 2,
            ..Summary::default()
        };
        let r = ping(&hc, &Ping::End(ok.clone())).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "https://hc-ping.com/uuid")
        );
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "ok: 2 record(s) up to date"
        );
        let bad = crate::notify::policy::summarize(&crate::round::RoundEnd::NothingDetected);
        let r = ping(&hc, &Ping::End(bad.clone())).unwrap();
        assert_eq!(r.url, "https://hc-ping.com/uuid/fail");
        assert!(
            String::from_utf8(r.body)
                .unwrap()
                .starts_with("no address could be detected")
        );

        let kuma =
            Monitor::parse("https://k.example/api/push/T?status=up&msg=OK&ping=", None).unwrap();
        assert_eq!(ping(&kuma, &Ping::Start), None);
        let r = ping(&kuma, &Ping::End(ok)).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.url,
            "https://k.example/api/push/T?status=up&msg=ok%3A+2+record%28s%29+up+to+date&ping="
        );
        let r = ping(&kuma, &Ping::End(bad)).unwrap();
        assert!(r.url.contains("status=down&msg=no+address"), "{}", r.url);
    }
}
