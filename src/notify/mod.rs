//! Notifications and monitors: who hears about rounds, and when.
//!
//! - `target.rs`: PURE: the `[[notify]]` and `[[monitor]]` URLs → [`Target`], [`Monitor`];
//! - `policy.rs`: PURE: a round's end → [`Summary`] → [`Event`]s (address changes, failures
//!   that persist, recovery), and the per-target rate limit;
//! - `message.rs`: PURE: the text of an event and the request each service wants;
//! - `send.rs`: the HTTP edge.
//!
//! This file is the glue: a task that the loop feeds through a bounded channel
//! ([`Notifier`]), so a slow service never delays a round. It pings the monitors at the
//! start and end of every round and sends the events the policy finds to each target that
//! wants them.

mod encoding;
pub mod message;
pub mod policy;
pub mod send;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::metrics::Metrics;
use crate::round::RoundEnd;

pub use message::{Ping, Request};
pub use policy::{Alerts, Event, RateLimit, Summary, Tracker};
pub use send::Sender;
pub use target::{Events, Kind, Monitor, MonitorKind, Target};

/// `[[notify]]`, `[[monitor]]` and `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyConfig {
    pub targets: Vec<Target>,
    pub monitors: Vec<Monitor>,
    pub alerts: Alerts,
}

impl NotifyConfig {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.monitors.is_empty()
    }
}

/// Messages from the loop to the task.
#[derive(Debug)]
enum Msg {
    Start,
    End(Box<RoundEnd>, SystemTime),
    Reconfigure(Box<NotifyConfig>),
}

/// Rounds waiting for the task; past this, messages are dropped (and logged).
const QUEUE: usize = 32;
/// Pause before the one retry of a notification.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// The loop's handle on the notification task. Dropping every clone ends the task once it
/// has sent what is queued.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Msg>,
}

impl Notifier {
    /// Starts the task.
    pub fn spawn(
        config: NotifyConfig,
        sender: Sender,
        metrics: Option<Arc<Metrics>>,
    ) -> (Notifier, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = Task {
            config,
            sender,
            metrics,
            tracker: Tracker::default(),
            limits: Vec::new(),
            down: Vec::new(),
        };
        (
            Notifier { tx },
            tokio::spawn(Box::pin(task.run(rx)) as BoxedTask),
        )
    }

    fn post(&self, msg: Msg) {
        if self.tx.try_send(msg).is_err() {
            warn!(
                "notifications are falling behind (a service is slow); one round's messages were dropped"
            );
        }
    }

    pub fn round_started(&self) {
        self.post(Msg::Start);
    }

    pub fn round_ended(&self, end: &RoundEnd) {
        self.post(Msg::End(Box::new(end.clone()), SystemTime::now()));
    }

    /// New targets, monitors and alert settings; the failure streak is kept.
    pub fn reconfigure(&self, config: NotifyConfig) {
        self.post(Msg::Reconfigure(Box::new(config)));
    }
}

/// Waits at most `grace` for the task to send what is queued (after every [`Notifier`] is
/// dropped).
pub async fn drain(task: JoinHandle<()>, grace: Duration) {
    if tokio::time::timeout(grace, task).await.is_err() {
        warn!(
            grace_secs = grace.as_secs(),
            "notifications still in flight were abandoned"
        );
    }
}

struct Task {
    config: NotifyConfig,
    sender: Sender,
    metrics: Option<Arc<Metrics>>,
    tracker: Tracker,
    /// Per target, by index.
    limits: Vec<RateLimit>,
    /// Labels of destinations whose last send failed: a destination that stays down is
    /// reported once at `warn`, not every round.
    down: Vec<String>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        self.limits = vec![RateLimit::default(); self.config.targets.len()];
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Start => self.ping(&Ping::Start).await,
                Msg::End(end, now) => {
                    let summary = policy::summarize(&end);
                    self.ping(&Ping::End(summary.clone())).await;
                    let events = self.tracker.observe(&self.config.alerts, &summary, now);
                    for event in &events {
                        self.notify(event, now).await;
                    }
                }
                Msg::Reconfigure(config) => {
                    // Targets that stay keep their rate-limit window.
                    self.limits = config
                        .targets
                        .iter()
                        .map(|t| {
                            self.config
                                .targets
                                .iter()
                                .position(|old| old == t)
                                .and_then(|i| self.limits.get(i).cloned())
                                .unwrap_or_default()
                        })
                        .collect();
                    self.config = *config;
                }
            }
        }
    }

    fn count(&self, kind: &str, result: &'static str) {
        if let Some(m) = &self.metrics {
            m.notification(kind, result);
        }
    }

    fn outcome(&mut self, label: &str, what: &str, result: &Result<u16, String>) {
        let was_down = self.down.iter().any(|d| d == label);
        match result {
            Ok(_) => {
                if was_down {
                    self.down.retain(|d| d != label);
                    info!(to = %label, "{what} delivered again");
                } else {
                    debug!(to = %label, "{what} delivered");
                }
            }
            Err(e) if was_down => debug!(to = %label, "{what} still failing: {e}"),
            Err(e) => {
                self.down.push(label.to_owned());
                warn!(to = %label, "{what} failed: {e}; later failures of this destination are logged at debug level until it answers again");
            }
        }
    }

    async fn ping(&mut self, ping: &Ping) {
        let monitors = self.config.monitors.clone();
        for m in &monitors {
            let Some(req) = message::ping(m, ping) else {
                continue;
            };
            let result = self.sender.send(&req).await;
            self.count(
                m.kind.name(),
                if result.is_ok() { "sent" } else { "failed" },
            );
            self.outcome(&m.label, "monitor ping", &result);
        }
    }

    async fn notify(&mut self, event: &Event, now: SystemTime) {
        let targets = self.config.targets.clone();
        let max = self.config.alerts.max_per_hour;
        for (i, t) in targets.iter().enumerate() {
            let wanted = match event {
                Event::Changed(_) => t.events.change,
                Event::Failing { .. } => t.events.failure,
                Event::Recovered { .. } => t.events.recovery,
            };
            if !wanted {
                continue;
            }
            let Some(limit) = self.limits.get_mut(i) else {
                continue;
            };
            if !limit.allow(now, max) {
                warn!(to = %t.label, max_per_hour = max, event = event.class(), "notification dropped: rate limit reached");
                self.count(t.kind.name(), "rate_limited");
                continue;
            }
            let suppressed = std::mem::take(&mut limit.suppressed);
            let mut result = Ok(0);
            for req in message::requests(t, event, now, suppressed) {
                let r = self.sender.send_retrying(&req, RETRY_PAUSE).await;
                if r.is_err() {
                    result = r;
                }
            }
            self.count(
                t.kind.name(),
                if result.is_ok() { "sent" } else { "failed" },
            );
            self.outcome(
                &t.label,
                &format!("{} notification", event.class()),
                &result,
            );
        }
    }
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Tls;
    use crate::round::{Line, Outcome, RoundReport};
    use ddflare_emulator::Recorder;

    fn changed(to: &str, from: &str) -> RoundEnd {
        RoundEnd::Done(RoundReport {
            lines: vec![Line {
                name: "home.example.com".into(),
                rtype: "A",
                content: to.parse().unwrap(),
                outcome: Outcome::Updated { from: from.into() },
            }]
            .into(),
            retry_after: None,
            api_calls: 2,
        })
    }

    fn all() -> Events {
        Events::default()
    }

    /// Each shoutrrr form, sent to a local server: the exact method, path and query, auth and
    /// content type, and body.
    #[tokio::test]
    async fn shoutrrr_forms_send_the_exact_request() {
        use crate::notify::message::requests;
        use crate::notify::policy::{Change, Event};

        let rec = Recorder::start().await.unwrap();
        let server = rec.url("");
        let a = rec.addr();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let event = Event::Changed(vec![Change {
            name: "home.example.com".into(),
            rtype: "A",
            from: Some("198.51.100.4".into()),
            to: "203.0.113.7".parse().unwrap(),
        }]);
        let title = "ddflare: home.example.com A → 203.0.113.7";
        let text = "home.example.com A 198.51.100.4 → 203.0.113.7";
        let json = "application/json";
        // (url, server, method, path, authorization, content type, body)
        type Case<'a> = (
            String,
            bool,
            &'a str,
            String,
            Option<&'a str>,
            &'a str,
            String,
        );
        let cases: Vec<Case> = vec![
            (
                "discord://dtok@42?splitlines=no".into(),
                true,
                "POST",
                "/api/webhooks/42/dtok".into(),
                None,
                json,
                format!(r#"{{"content":"**{title}**\n{text}","username":"ddflare"}}"#),
            ),
            (
                "slack://hook:T1-B2-S3@webhook?color=good&botname=x".into(),
                true,
                "POST",
                "/services/T1/B2/S3".into(),
                None,
                json,
                format!(r#"{{"text":"*{title}*\n{text}"}}"#),
            ),
            (
                "slack://xoxb:123-456-abc@C001CH4NN3L?title=x".into(),
                true,
                "POST",
                "/api/chat.postMessage".into(),
                Some("Bearer xoxb-123-456-abc"),
                json,
                format!(r#"{{"channel":"C001CH4NN3L","text":"*{title}*\n{text}"}}"#),
            ),
            (
                "telegram://7:bot-tok@telegram?chats=99&preview=no".into(),
                true,
                "POST",
                "/bot7:bot-tok/sendMessage".into(),
                None,
                json,
                format!(
                    r#"{{"chat_id":"99","disable_web_page_preview":true,"text":"{title}\n\n{text}"}}"#
                ),
            ),
            (
                format!("gotify://{a}/AppTok?priority=1&disabletls=yes"),
                false,
                "POST",
                "/message".into(),
                None,
                json,
                format!(r#"{{"message":"{text}","priority":5,"title":"{title}"}}"#),
            ),
            (
                format!("ntfy://alice:s3cret@{a}/ddns?scheme=http"),
                false,
                "POST",
                "/".into(),
                Some("Basic YWxpY2U6czNjcmV0"),
                json,
                format!(
                    r#"{{"message":"{text}","priority":3,"tags":["globe_with_meridians"],"title":"{title}","topic":"ddns"}}"#
                ),
            ),
            (
                format!("ntfy://:tk_abc@{a}/ddns?scheme=http"),
                false,
                "POST",
                "/".into(),
                Some("Bearer tk_abc"),
                json,
                format!(
                    r#"{{"message":"{text}","priority":3,"tags":["globe_with_meridians"],"title":"{title}","topic":"ddns"}}"#
                ),
            ),
            (
                "pushover://shoutrrr:apptok@UserKey1/?devices=d1,d2&priority=1&title=x".into(),
                true,
                "POST",
                "/1/messages.json".into(),
                None,
                json,
                format!(
                    r#"{{"device":"d1,d2","message":"{text}","priority":1,"title":"{title}","token":"apptok","user":"UserKey1"}}"#
                ),
            ),
            (
                format!("zulip+http://bot%40z.example:k3y@{a}/?stream=ops&topic=dns"),
                false,
                "POST",
                "/api/v1/messages".into(),
                Some("Basic Ym90QHouZXhhbXBsZTprM3k="),
                "application/x-www-form-urlencoded",
                "type=stream&to=ops&topic=dns&content=%2A%2Addflare%3A%20home.example.com%20A%20%E2%86%92%20203.0.113.7%2A%2A%0Ahome.example.com%20A%20198.51.100.4%20%E2%86%92%20203.0.113.7".into(),
            ),
            (
                format!("matrix://:syt_tok@{a}/?rooms=!r1:example.org&disableTLS=yes"),
                false,
                "PUT",
                "/_matrix/client/v3/rooms/%21r1%3Aexample.org/send/m.room.message/ddflare-1780000000000000000-0".into(),
                Some("Bearer syt_tok"),
                json,
                format!(r#"{{"body":"{title}\n{text}","msgtype":"m.text"}}"#),
            ),
            (
                format!("generic://{a}/hook?disabletls=yes&_contenttype=kept&@X-Api-Key=k1"),
                false,
                "POST",
                "/hook?contenttype=kept".into(),
                None,
                "text/plain; charset=utf-8",
                format!("{title}\n{text}"),
            ),
            (
                format!("generic+http://{a}/ha?template=json&messagekey=content&$source=ddflare&method=PUT"),
                false,
                "PUT",
                "/ha".into(),
                None,
                json,
                String::new(),
            ),
        ];
        let sender = Sender::new(&Tls::new(None).unwrap()).unwrap();
        for (url, with_server, method, path, authorization, content_type, body) in cases {
            rec.clear();
            let server = with_server.then_some(server.as_str());
            let t = Target::parse(&url, server, all()).unwrap_or_else(|e| panic!("{url}: {e}"));
            for r in requests(&t, &event, now, 0) {
                sender
                    .send(&r)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
            }
            let got = rec.requests();
            assert_eq!(got.len(), 1, "{url}");
            let g = &got[0];
            assert_eq!(g.method, method, "{url}");
            assert_eq!(g.path, path, "{url}");
            assert_eq!(g.header("authorization"), authorization, "{url}");
            assert_eq!(g.header("content-type"), Some(content_type), "{url}");
            if url.contains("template=json") {
                let v: serde_json::Value = serde_json::from_str(&g.body).unwrap();
                assert_eq!(v["content"], text, "{url}");
                assert_eq!(v["title"], title, "{url}");
                assert_eq!(v["source"], "ddflare", "{url}");
                assert_eq!(v["event"], "change", "{url}");
                assert!(v.get("message").is_none(), "{url}");
            } else if content_type == json {
                let want: serde_json::Value = serde_json::from_str(&body).unwrap();
                let v: serde_json::Value = serde_json::from_str(&g.body).unwrap();
                assert_eq!(v, want, "{url}");
            } else {
                assert_eq!(g.body, body, "{url}");
            }
            if url.contains("X-Api-Key") {
                assert_eq!(g.header("x-api-key"), Some("k1"));
            }
        }
    }

    /// Every kind of target and both monitors against local servers that record what they
    /// get: method, path, headers and body.
    #[tokio::test]
    async fn every_service_gets_its_request_on_change_failure_and_recovery() {
        let rec = Recorder::start().await.unwrap();
        let server = rec.url("");
        let targets = vec![
            Target::parse(&rec.url("/hook"), None, all()).unwrap(),
            Target::parse(&format!("ntfy+http://tk@{}/ddns", rec.addr()), None, all()).unwrap(),
            Target::parse(&format!("gotify+http://{}/AppTok", rec.addr()), None, all()).unwrap(),
            Target::parse("discord://42/dtoken", Some(&server), all()).unwrap(),
            Target::parse("slack://T1/B2/S3", Some(&server), all()).unwrap(),
            Target::parse(
                "telegram://7:bot-tok@telegram?chats=99",
                Some(&server),
                all(),
            )
            .unwrap(),
            // Wants recoveries only.
            Target::parse(
                &rec.url("/quiet"),
                None,
                Events::parse(&["recovery".into()]).unwrap(),
            )
            .unwrap(),
        ];
        let monitors = vec![
            Monitor::parse(&rec.url("/hc/uuid"), None).unwrap(),
            Monitor::parse(&rec.url("/api/push/kuma"), None).unwrap(),
        ];
        let alerts = Alerts {
            after_failed_rounds: 2,
            ..Alerts::default()
        };
        let metrics = Arc::new(Metrics::new(SystemTime::now(), Duration::from_secs(600)));
        let sender = Sender::new(&Tls::new(None).unwrap()).unwrap();
        let (n, task) = Notifier::spawn(
            NotifyConfig {
                targets,
                monitors,
                alerts,
            },
            sender,
            Some(metrics.clone()),
        );

        // Round 1: an address change.
        n.round_started();
        n.round_ended(&changed("203.0.113.7", "198.51.100.4"));
        let got = rec.until(1 + 1 + 6 + 1, Duration::from_secs(10)).await;
        let paths: Vec<String> = got
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(
            paths,
            vec![
                "POST /hc/uuid/start",
                "POST /hc/uuid",
                "GET /api/push/kuma?status=up&msg=ok%3A+1+record%28s%29+up+to+date%3B+changed%3A+home.example.com+A+198.51.100.4+%E2%86%92+203.0.113.7&ping=",
                "POST /hook",
                "POST /",
                "POST /message",
                "POST /api/webhooks/42/dtoken",
                "POST /services/T1/B2/S3",
                "POST /bot7:bot-tok/sendMessage",
            ]
        );
        let json = |i: usize| serde_json::from_str::<serde_json::Value>(&got[i].body).unwrap();
        assert_eq!(json(3)["event"], "change");
        assert_eq!(json(3)["changes"][0]["from"], "198.51.100.4");
        assert_eq!(got[3].header("content-type"), Some("application/json"));
        assert!(got[3].header("user-agent").unwrap().starts_with("ddflare/"));
        assert_eq!(got[4].header("authorization"), Some("Bearer tk"));
        assert_eq!(json(4)["topic"], "ddns");
        assert_eq!(
            json(4)["title"],
            "ddflare: home.example.com A → 203.0.113.7"
        );
        assert_eq!(got[5].header("x-gotify-key"), Some("AppTok"));
        assert!(
            json(6)["content"]
                .as_str()
                .unwrap()
                .contains("198.51.100.4 → 203.0.113.7")
        );
        assert!(
            json(7)["text"]
                .as_str()
                .unwrap()
                .contains("198.51.100.4 → 203.0.113.7")
        );
        assert_eq!(json(8)["chat_id"], "99");
        assert_eq!(
            got[1].body,
            "ok: 1 record(s) up to date; changed: home.example.com A 198.51.100.4 → 203.0.113.7"
        );

        // Rounds 2 and 3 fail: one alert after the second, with the reason in /fail.
        rec.clear();
        n.round_ended(&RoundEnd::NothingDetected);
        let got = rec.until(2, Duration::from_secs(10)).await;
        assert_eq!(
            got.len(),
            2,
            "only the monitors hear of one failed round: {got:?}"
        );
        assert_eq!(got[0].path, "/hc/uuid/fail");
        assert_eq!(
            got[0].body,
            "no address could be detected\n  hint: check the host's connectivity and the providers in [detect]"
        );
        assert!(got[1].path.contains("status=down"));
        rec.clear();
        n.round_ended(&RoundEnd::NothingDetected);
        let got = rec.until(2 + 6, Duration::from_secs(10)).await;
        let hook = got.iter().find(|r| r.path == "/hook").unwrap();
        let v: serde_json::Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(v["event"], "failure");
        assert_eq!(v["failure"]["rounds"], 2);
        assert!(!got.iter().any(|r| r.path == "/quiet"));

        // Round 4 works: a recovery to everyone, the recovery-only target included.
        rec.clear();
        n.round_ended(&RoundEnd::Done(RoundReport::default()));
        let got = rec.until(2 + 7, Duration::from_secs(10)).await;
        let quiet = got.iter().find(|r| r.path == "/quiet").unwrap();
        assert!(
            quiet.body.contains("\"event\":\"recovery\""),
            "{}",
            quiet.body
        );

        drop(n);
        drain(task, Duration::from_secs(5)).await;
        let s = metrics.snapshot();
        assert_eq!(s.notifications[&("ntfy".to_owned(), "sent")], 3);
        assert_eq!(s.notifications[&("healthchecks".to_owned(), "sent")], 5);
    }

    #[tokio::test]
    async fn a_flapping_address_is_rate_limited_and_the_next_message_says_so() {
        let rec = Recorder::start().await.unwrap();
        let config = NotifyConfig {
            targets: vec![Target::parse(&rec.url("/hook"), None, all()).unwrap()],
            monitors: Vec::new(),
            alerts: Alerts {
                max_per_hour: 2,
                ..Alerts::default()
            },
        };
        let metrics = Arc::new(Metrics::new(SystemTime::now(), Duration::from_secs(600)));
        let (n, task) = Notifier::spawn(
            config.clone(),
            Sender::new(&Tls::new(None).unwrap()).unwrap(),
            Some(metrics.clone()),
        );
        for i in 0..5 {
            n.round_ended(&changed(&format!("203.0.113.{i}"), "198.51.100.4"));
        }
        // A reload keeps the window of a target that stays; a new target starts afresh.
        let mut more = config;
        more.targets
            .push(Target::parse(&rec.url("/second"), None, all()).unwrap());
        n.reconfigure(more);
        n.round_ended(&changed("203.0.113.9", "203.0.113.4"));
        drop(n);
        drain(task, Duration::from_secs(10)).await;
        let got = rec.requests();
        let count = |p: &str| got.iter().filter(|r| r.path == p).count();
        assert_eq!((count("/hook"), count("/second")), (2, 1), "{got:?}");
        let last: serde_json::Value = serde_json::from_str(&got[2].body).unwrap();
        assert_eq!(last["changes"][0]["to"], "203.0.113.9");
        assert_eq!(
            metrics.snapshot().notifications[&("webhook".to_owned(), "rate_limited")],
            4
        );
    }

    #[tokio::test]
    async fn a_refusing_service_is_retried_once_and_counted() {
        let rec = Recorder::start().await.unwrap();
        rec.set_status(500);
        let metrics = Arc::new(Metrics::new(SystemTime::now(), Duration::from_secs(600)));
        let (n, task) = Notifier::spawn(
            NotifyConfig {
                targets: vec![Target::parse(&rec.url("/hook"), None, all()).unwrap()],
                ..NotifyConfig::default()
            },
            Sender::new(&Tls::new(None).unwrap()).unwrap(),
            Some(metrics.clone()),
        );
        n.round_ended(&changed("203.0.113.7", "198.51.100.4"));
        drop(n);
        drain(task, Duration::from_secs(10)).await;
        assert_eq!(rec.requests().len(), 2);
        assert_eq!(
            metrics.snapshot().notifications[&("webhook".to_owned(), "failed")],
            1
        );
    }
}
