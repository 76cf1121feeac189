//! PURE: notification and monitor URLs as written in `[[notify]]` and `[[monitor]]`, parsed
//! into where to send what. The URLs hold secrets (webhook tokens, bot tokens, ntfy topics),
//! so a [`Target`] keeps them in [`Secret`]s and shows itself by kind and host only; an error
//! about a URL never quotes it.
//!
//! | `url` | sends |
//! |---|---|
//! | `https://…`, `http://…` | the generic JSON webhook (Discord and Slack webhook URLs are recognised) |
//! | `ntfy://[TOKEN@]HOST[:PORT]/TOPIC` | ntfy (`ntfy+http://` for plain HTTP) |
//! | `gotify://HOST[:PORT][/PATH]/APP_TOKEN` | Gotify (`gotify+http://`) |
//! | `discord://WEBHOOK_ID/WEBHOOK_TOKEN` | a Discord webhook |
//! | `slack://T…/B…/SECRET` | a Slack incoming webhook |
//! | `telegram://BOT_TOKEN@telegram?chats=CHAT[,CHAT]` | Telegram `sendMessage` per chat |
//!
//! `server` replaces the public host of Discord, Slack and Telegram (a proxy, a self-hosted
//! Bot API server, a test server).

use std::fmt;

use crate::secret::Secret;

/// Which events a target wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Events {
    pub change: bool,
    pub failure: bool,
    pub recovery: bool,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            change: true,
            failure: true,
            recovery: true,
        }
    }
}

impl Events {
    /// From a list of `change`, `failure`, `recovery`.
    pub fn parse(items: &[String]) -> Result<Events, String> {
        if items.is_empty() {
            return Err(
                "expected at least one of \"change\", \"failure\", \"recovery\", found an empty list"
                    .to_owned(),
            );
        }
        let mut e = Events {
            change: false,
            failure: false,
            recovery: false,
        };
        for item in items {
            match item.trim().to_ascii_lowercase().as_str() {
                "change" | "changes" => e.change = true,
                "failure" | "failures" => e.failure = true,
                "recovery" => e.recovery = true,
                other => {
                    return Err(format!(
                        "expected \"change\", \"failure\" or \"recovery\", found \"{}\"",
                        other.escape_debug()
                    ));
                }
            }
        }
        Ok(e)
    }
}

/// What format a target speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Webhook,
    Ntfy {
        topic: Secret,
    },
    Gotify,
    Discord,
    Slack,
    /// One message per chat.
    Telegram {
        chats: Vec<String>,
    },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Ntfy { .. } => "ntfy",
            Kind::Gotify => "gotify",
            Kind::Discord => "discord",
            Kind::Slack => "slack",
            Kind::Telegram { .. } => "telegram",
        }
    }
}

/// A notification target.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// Where the POST goes (ntfy: the server root; Telegram: the `sendMessage` URL).
    pub endpoint: Secret,
    /// A bearer token (ntfy) or an app token (Gotify).
    pub token: Option<Secret>,
    pub events: Events,
    /// `kind (host)`, for logs.
    pub label: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({}, {:?})", self.label, self.events)
    }
}

/// A URL taken apart by hand: custom schemes have no standard host rules (a Discord webhook
/// id is all digits, a Telegram token holds a colon).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// `host[:port]`.
    authority: &'a str,
    /// Without the leading `/`; empty when none.
    path: &'a str,
    query: Option<&'a str>,
}

fn split(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, authority) = match auth.rsplit_once('@') {
        Some((u, a)) => (Some(u), a),
        None => (None, auth),
    };
    Some(Parts {
        scheme,
        userinfo,
        authority,
        path: path.trim_end_matches('/'),
        query,
    })
}

fn host_of(authority: &str) -> &str {
    match authority.find(']') {
        Some(i) if authority.starts_with('[') => &authority[..=i],
        _ => authority.split(':').next().unwrap_or(authority),
    }
}

/// `host[:port]` with a DNS name, an IPv4 address or a bracketed IPv6 address.
fn valid_authority(a: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = a.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, after)) => (h.parse::<std::net::Ipv6Addr>().is_ok(), after),
            None => return false,
        }
    } else {
        let h = a.split(':').next().unwrap_or(a);
        let ok = !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        (ok, &a[h.len()..])
    };
    host_ok
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok()))
}

const EXPECTED: &str = "expected a notification URL: https://… (JSON webhook), ntfy://HOST/TOPIC, gotify://HOST/TOKEN, discord://ID/TOKEN, slack://T/B/SECRET or telegram://TOKEN@telegram?chats=ID";

/// An `http(s)://host…` URL, checked enough that reqwest takes it. The message never quotes it.
pub fn http_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("expected an http(s) URL, found one that does not parse ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "expected an http(s) URL, found the scheme `{}`",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("expected an http(s) URL with a host".to_owned());
    }
    Ok(parsed)
}

fn base(scheme: &str, authority: &str) -> Result<(&'static str, String), String> {
    if !valid_authority(authority) {
        return Err(format!(
            "expected `{scheme}://HOST[:PORT]/…`, found no valid host"
        ));
    }
    let http = if scheme.ends_with("+http") {
        "http"
    } else {
        "https"
    };
    Ok((http, format!("{http}://{authority}")))
}

/// The scheme and host of a base URL given by `server`, without a trailing slash.
fn server_base(server: &str) -> Result<String, String> {
    let u = http_url(server).map_err(|e| format!("`server`: {e}"))?;
    let mut s = u.as_str().trim_end_matches('/').to_owned();
    if u.query().is_some() {
        return Err("`server`: expected no query".to_owned());
    }
    if s.is_empty() {
        s = u.origin().ascii_serialization();
    }
    Ok(s)
}

fn nonempty_segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

impl Target {
    /// Parses `url` (with the optional `server` override) for the `events` wanted.
    pub fn parse(url: &str, server: Option<&str>, events: Events) -> Result<Target, String> {
        let url = url.trim();
        let Some(p) = split(url) else {
            return Err(format!("{EXPECTED}, found no `scheme://`"));
        };
        let scheme = p.scheme.to_ascii_lowercase();
        let fixed_host = matches!(scheme.as_str(), "discord" | "slack" | "telegram");
        if server.is_some() && !fixed_host {
            return Err("`server` only applies to discord://, slack:// and telegram:// URLs: the other URLs name their server".to_owned());
        }
        let with_server = |default: &str| -> Result<String, String> {
            match server {
                Some(s) => server_base(s),
                None => Ok(default.to_owned()),
            }
        };
        let target = |kind: Kind, endpoint: String, token: Option<String>, host: &str| Target {
            label: format!("{} ({host})", kind.name()),
            kind,
            endpoint: Secret::new(endpoint),
            token: token.map(Secret::new),
            events,
        };
        match scheme.as_str() {
            "http" | "https" => {
                let u = http_url(url)?;
                let host = u.host_str().unwrap_or_default().to_owned();
                let path = u.path();
                let kind = if matches!(host.as_str(), "discord.com" | "discordapp.com")
                    && path.starts_with("/api/webhooks/")
                {
                    Kind::Discord
                } else if host == "hooks.slack.com" && path.starts_with("/services/") {
                    Kind::Slack
                } else {
                    Kind::Webhook
                };
                Ok(target(kind, u.to_string(), None, &host))
            }
            "ntfy" | "ntfy+http" => {
                let (_, root) = base(&scheme, p.authority)?;
                let segs = nonempty_segments(p.path);
                let [topic] = segs.as_slice() else {
                    return Err("expected `ntfy://[TOKEN@]HOST/TOPIC` (for ntfy.sh: ntfy://ntfy.sh/TOPIC), found no single topic".to_owned());
                };
                if !topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                {
                    return Err("expected an ntfy topic of letters, digits, `-` and `_`".to_owned());
                }
                let token = p.userinfo.filter(|t| !t.is_empty()).map(str::to_owned);
                Ok(target(
                    Kind::Ntfy {
                        topic: Secret::new(*topic),
                    },
                    root,
                    token,
                    host_of(p.authority),
                ))
            }
            "gotify" | "gotify+http" => {
                let (_, root) = base(&scheme, p.authority)?;
                let mut segs = nonempty_segments(p.path);
                let Some(token) = segs.pop() else {
                    return Err(
                        "expected `gotify://HOST[/PATH]/APP_TOKEN`, found no token".to_owned()
                    );
                };
                let prefix: String = segs.iter().map(|s| format!("/{s}")).collect();
                Ok(target(
                    Kind::Gotify,
                    format!("{root}{prefix}/message"),
                    Some(token.to_owned()),
                    host_of(p.authority),
                ))
            }
            "discord" => {
                let mut all = vec![p.authority];
                all.extend(nonempty_segments(p.path));
                let [id, token] = all.as_slice() else {
                    return Err("expected `discord://WEBHOOK_ID/WEBHOOK_TOKEN` (from the webhook URL …/api/webhooks/ID/TOKEN)".to_owned());
                };
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                    return Err(
                        "expected `discord://WEBHOOK_ID/WEBHOOK_TOKEN` with a numeric id"
                            .to_owned(),
                    );
                }
                let root = with_server("https://discord.com")?;
                Ok(target(
                    Kind::Discord,
                    format!("{root}/api/webhooks/{id}/{token}"),
                    None,
                    "discord.com",
                ))
            }
            "slack" => {
                let mut all = vec![p.authority];
                all.extend(nonempty_segments(p.path));
                if all.len() != 3 || all.iter().any(|s| s.is_empty()) {
                    return Err("expected `slack://T…/B…/SECRET` (the three parts of the webhook URL after /services/)".to_owned());
                }
                let root = with_server("https://hooks.slack.com")?;
                Ok(target(
                    Kind::Slack,
                    format!("{root}/services/{}", all.join("/")),
                    None,
                    "hooks.slack.com",
                ))
            }
            "telegram" => {
                let token = p.userinfo.unwrap_or_default();
                let (id, secret) = token.split_once(':').unwrap_or(("", ""));
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) || secret.is_empty() {
                    return Err("expected `telegram://BOT_TOKEN@telegram?chats=CHAT_ID`, where BOT_TOKEN is what @BotFather gave (digits, `:`, then letters)".to_owned());
                }
                let chats: Vec<String> = p
                    .query
                    .unwrap_or_default()
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("chats="))
                    .flat_map(|v| v.split(','))
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect();
                if chats.is_empty() {
                    return Err("expected `?chats=CHAT_ID[,CHAT_ID]` after the telegram URL (a numeric chat id or @channel)".to_owned());
                }
                let root = with_server("https://api.telegram.org")?;
                Ok(target(
                    Kind::Telegram { chats },
                    format!("{root}/bot{token}/sendMessage"),
                    None,
                    "api.telegram.org",
                ))
            }
            other => Err(format!(
                "{EXPECTED}, found the scheme `{}`",
                other.escape_debug()
            )),
        }
    }
}

/// A monitor that expects a ping every round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorKind {
    /// Healthchecks.io and compatible: `URL/start`, `URL`, `URL/fail` (body: the reason).
    Healthchecks,
    /// An Uptime Kuma push monitor: `URL?status=up|down&msg=…&ping=`.
    UptimeKuma,
}

impl MonitorKind {
    pub fn name(self) -> &'static str {
        match self {
            MonitorKind::Healthchecks => "healthchecks",
            MonitorKind::UptimeKuma => "uptime_kuma",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Monitor {
    pub kind: MonitorKind,
    /// Without a trailing slash, query or fragment.
    pub url: Secret,
    pub label: String,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Monitor({})", self.label)
    }
}

impl Monitor {
    /// `kind` is `healthchecks` or `uptime_kuma`; when absent, a path containing `/api/push/`
    /// means Uptime Kuma, anything else Healthchecks.
    pub fn parse(url: &str, kind: Option<&str>) -> Result<Monitor, String> {
        let mut u = http_url(url)?;
        let kind = match kind.map(|k| k.trim().to_ascii_lowercase()) {
            None if u.path().contains("/api/push/") => MonitorKind::UptimeKuma,
            None => MonitorKind::Healthchecks,
            Some(k) if k == "healthchecks" => MonitorKind::Healthchecks,
            Some(k) if k == "uptime_kuma" || k == "uptime-kuma" || k == "kuma" => {
                MonitorKind::UptimeKuma
            }
            Some(k) => {
                return Err(format!(
                    "`kind`: expected \"healthchecks\" or \"uptime_kuma\", found \"{}\"",
                    k.escape_debug()
                ));
            }
        };
        // Uptime Kuma shows the push URL with `?status=up&msg=OK&ping=`: ddflare sets those.
        u.set_query(None);
        u.set_fragment(None);
        let host = u.host_str().unwrap_or_default().to_owned();
        let text = u.as_str().trim_end_matches('/').to_owned();
        Ok(Monitor {
            kind,
            url: Secret::new(text),
            label: format!("{} ({host})", kind.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> Target {
        match Target::parse(url, None, Events::default()) {
            Ok(t) => t,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn err(url: &str, server: Option<&str>) -> String {
        match Target::parse(url, server, Events::default()) {
            Ok(t) => panic!("{url} accepted as {t:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn shorthand_urls_expand() {
        let t = ok("ntfy://tk_secret@ntfy.example.com/my-topic_1");
        assert_eq!(t.endpoint.expose(), "https://ntfy.example.com");
        assert_eq!(t.token.as_ref().map(Secret::expose), Some("tk_secret"));
        assert!(matches!(&t.kind, Kind::Ntfy { topic } if topic.expose() == "my-topic_1"));
        assert_eq!(t.label, "ntfy (ntfy.example.com)");
        let t = ok("ntfy+http://127.0.0.1:8080/alerts");
        assert_eq!(t.endpoint.expose(), "http://127.0.0.1:8080");
        assert_eq!(t.token, None);

        let t = ok("gotify://push.example.com/sub/AbCdEf");
        assert_eq!(t.endpoint.expose(), "https://push.example.com/sub/message");
        assert_eq!(t.token.as_ref().map(Secret::expose), Some("AbCdEf"));

        let t = ok("discord://123456/tok-EN_x");
        assert_eq!(t.kind, Kind::Discord);
        assert_eq!(
            t.endpoint.expose(),
            "https://discord.com/api/webhooks/123456/tok-EN_x"
        );
        let t = ok("slack://T000/B000/XXXX");
        assert_eq!(
            t.endpoint.expose(),
            "https://hooks.slack.com/services/T000/B000/XXXX"
        );
        let t = ok(
            "telegram://110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@telegram?chats=-1001,@news",
        );
        assert_eq!(
            t.endpoint.expose(),
            "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage"
        );
        assert!(matches!(&t.kind, Kind::Telegram { chats } if chats == &["-1001", "@news"]));

        assert_eq!(ok("https://hooks.example.com/x?y=1").kind, Kind::Webhook);
        assert_eq!(
            ok("https://discord.com/api/webhooks/1/abc").kind,
            Kind::Discord
        );
        assert_eq!(
            ok("https://hooks.slack.com/services/T/B/X").kind,
            Kind::Slack
        );
    }

    #[test]
    fn server_replaces_the_public_host() {
        let t = Target::parse(
            "discord://1/abc",
            Some("http://127.0.0.1:9000/"),
            Events::default(),
        )
        .unwrap();
        assert_eq!(
            t.endpoint.expose(),
            "http://127.0.0.1:9000/api/webhooks/1/abc"
        );
        assert!(err("ntfy://h/t", Some("http://127.0.0.1")).contains("only applies"));
        assert!(err("slack://a/b/c", Some("ftp://x")).contains("`server`"));
    }

    #[test]
    fn bad_urls_are_named_without_their_secrets() {
        let cases = [
            ("ntfy://ntfy.sh", "no single topic"),
            ("ntfy://ntfy.sh/a/b", "no single topic"),
            ("ntfy://ntfy.sh/bad topic", "letters, digits"),
            ("ntfy:///zzTOKzz", "no valid host"),
            ("gotify://host", "no token"),
            ("discord://abc/zzTOKzz", "numeric id"),
            ("discord://1", "WEBHOOK_TOKEN"),
            ("slack://T/zzTOKzz", "three parts"),
            ("telegram://zzTOKzz@telegram?chats=1", "@BotFather"),
            ("telegram://1:zzTOKzz@telegram", "?chats="),
            ("mailto://zzTOKzz@example.com", "found the scheme `mailto`"),
            ("hooks.example.com/zzTOKzz", "no `scheme://`"),
            ("https://", "does not parse"),
        ];
        for (url, want) in cases {
            let e = err(url, None);
            assert!(e.contains(want), "{url}: {e}");
            assert!(!e.contains("zzTOKzz"), "{url}: {e}");
        }
        let t = ok("telegram://1:zzTOKzz@telegram?chats=5");
        assert!(!format!("{t:?}").contains("zzTOKzz"));
    }

    #[test]
    fn events_lists() {
        let e = Events::parse(&["change".into(), "Recovery".into()]).unwrap();
        assert!(e.change && e.recovery && !e.failure);
        assert!(Events::parse(&[]).is_err());
        assert!(
            Events::parse(&["changed!".into()])
                .unwrap_err()
                .contains("changed!")
        );
    }

    #[test]
    fn monitors() {
        let m = Monitor::parse("https://hc-ping.com/abc-uuid/", None).unwrap();
        assert_eq!(m.kind, MonitorKind::Healthchecks);
        assert_eq!(m.url.expose(), "https://hc-ping.com/abc-uuid");
        let m = Monitor::parse(
            "https://kuma.example.com/api/push/Tk1?status=up&msg=OK&ping=",
            None,
        )
        .unwrap();
        assert_eq!(m.kind, MonitorKind::UptimeKuma);
        assert_eq!(m.url.expose(), "https://kuma.example.com/api/push/Tk1");
        let m = Monitor::parse("http://127.0.0.1:1/x", Some("uptime_kuma")).unwrap();
        assert_eq!(m.kind, MonitorKind::UptimeKuma);
        assert!(Monitor::parse("http://127.0.0.1:1/x", Some("nagios")).is_err());
        assert!(Monitor::parse("ftp://x/y", None).is_err());
    }
}
