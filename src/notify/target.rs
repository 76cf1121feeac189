//! PURE: notification and monitor URLs as written in `[[notify]]` and `[[monitor]]`, parsed
//! into where to send what. The URLs hold secrets (webhook tokens, bot tokens, ntfy topics),
//! so a [`Target`] keeps them in [`Secret`]s and shows itself by kind and host only; an error
//! about a URL never quotes it.
//!
//! ddflare's forms and shoutrrr's (docs/configuration.md, "Notification URLs", lists both):
//! `https://…` (ddflare's JSON webhook; Discord and Slack webhook URLs recognised),
//! `generic://`, `ntfy://`, `gotify://`, `discord://`, `slack://`, `telegram://`,
//! `pushover://`, `zulip://`, `matrix://`. Where the two forms differ, the userinfo decides
//! (`discord://TOKEN@ID` vs `ID/TOKEN`; ntfy's `:TOKEN@` and `USER:PASS@` vs `TOKEN@`;
//! Slack's `hook:`/`xoxb:`).
//!
//! `server` replaces the public host of Discord, Slack, Telegram and Pushover (a proxy, a self-hosted
//! Bot API server, a test server).

use std::fmt;

use super::encoding::{pct_decode, query_pairs};
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
    /// shoutrrr's generic webhook (`generic://`, `generic+https://`).
    Generic(Box<Generic>),
    Ntfy {
        topic: Secret,
    },
    Gotify,
    Discord,
    Slack,
    /// Slack's Bot API (`chat.postMessage` with a `xoxb-` token).
    SlackBot {
        channel: String,
    },
    /// One message per chat.
    Telegram {
        chats: Vec<String>,
    },
    Pushover {
        user: Secret,
        /// Comma-separated device names; all devices when absent.
        devices: Option<String>,
        priority: Option<i8>,
    },
    Zulip {
        stream: String,
        topic: String,
    },
    /// One message per room id.
    Matrix {
        rooms: Vec<String>,
    },
}

/// What a shoutrrr `generic://` URL asks for besides its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generic {
    pub method: &'static str,
    /// `template=json`: a JSON object (ddflare's webhook JSON, title and message under
    /// `title_key` and `message_key`, plus `fields`); otherwise the plain text.
    pub json: bool,
    pub title_key: String,
    pub message_key: String,
    /// `$key=value` query items: extra JSON fields.
    pub fields: Vec<(String, String)>,
    /// `@Name=value` query items: extra headers (may hold credentials).
    pub headers: Vec<(String, Secret)>,
    /// `contenttype=`; by default `application/json` for JSON, else `text/plain; charset=utf-8`.
    pub content_type: Option<String>,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Generic(_) => "generic",
            Kind::Ntfy { .. } => "ntfy",
            Kind::Gotify => "gotify",
            Kind::Discord => "discord",
            Kind::Slack | Kind::SlackBot { .. } => "slack",
            Kind::Telegram { .. } => "telegram",
            Kind::Pushover { .. } => "pushover",
            Kind::Zulip { .. } => "zulip",
            Kind::Matrix { .. } => "matrix",
        }
    }
}

/// A notification target.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// Where the request goes (ntfy: the server root; Telegram: the `sendMessage` URL; Matrix:
    /// the homeserver root).
    pub endpoint: Secret,
    /// A bearer token (ntfy, Slack's Bot API, Matrix), an app token (Gotify, Pushover).
    pub token: Option<Secret>,
    /// `USER:PASSWORD` for HTTP basic auth (ntfy, Zulip).
    pub basic: Option<Secret>,
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

const EXPECTED: &str = "expected a notification URL: https://… (JSON webhook), generic://HOST/PATH, ntfy://HOST/TOPIC, gotify://HOST/TOKEN, discord://ID/TOKEN (or TOKEN@ID), slack://T/B/SECRET (or hook:…@webhook, xoxb:…@CHANNEL), telegram://TOKEN@telegram?chats=ID, pushover://:TOKEN@USER, zulip://BOT_EMAIL:KEY@HOST?stream=S or matrix://:TOKEN@HOST?rooms=!ROOM (docs/configuration.md lists the forms)";

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

/// `http(s)://authority`: plain HTTP for a `+http` scheme or when `plain` (shoutrrr's
/// `disabletls=yes`, ntfy's `scheme=http`).
fn base(scheme: &str, authority: &str, plain: bool) -> Result<(&'static str, String), String> {
    if !valid_authority(authority) {
        return Err(format!(
            "expected `{scheme}://HOST[:PORT]/…`, found no valid host"
        ));
    }
    let http = if plain || scheme.ends_with("+http") {
        "http"
    } else {
        "https"
    };
    Ok((http, format!("{http}://{authority}")))
}

/// shoutrrr's yes/no values.
fn yes(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "1" | "on"
    )
}

/// The decoded query items, keys in lower case (shoutrrr's keys are case-insensitive).
fn params(query: Option<&str>) -> Vec<(String, String)> {
    query_pairs(query)
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], keys: &[&str]) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| keys.contains(&k.as_str()))
        .map(|(_, v)| v.as_str())
}

/// A comma-separated list, trimmed, empties dropped.
fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
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
        let fixed_host = matches!(
            scheme.as_str(),
            "discord" | "slack" | "telegram" | "pushover"
        );
        if server.is_some() && !fixed_host {
            return Err("`server` only applies to discord://, slack://, telegram:// and pushover:// URLs: the other URLs name their server".to_owned());
        }
        let with_server = |default: &str| -> Result<String, String> {
            match server {
                Some(s) => server_base(s),
                None => Ok(default.to_owned()),
            }
        };
        let q = params(p.query);
        let plain = param(&q, &["disabletls"]).is_some_and(yes)
            || param(&q, &["scheme"]).is_some_and(|v| v.eq_ignore_ascii_case("http"));
        // USER and PASSWORD of `USER:PASSWORD@`, decoded; `None` without a colon.
        let user_pass = p
            .userinfo
            .and_then(|u| u.split_once(':'))
            .map(|(u, pw)| (pct_decode(u), pct_decode(pw)));
        let target = |kind: Kind, endpoint: String, token: Option<String>, host: &str| Target {
            label: format!("{} ({host})", kind.name()),
            kind,
            endpoint: Secret::new(endpoint),
            token: token.map(Secret::new),
            basic: None,
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
            "generic" | "generic+http" | "generic+https" => generic(&scheme, url, &p, plain)
                .map(|(kind, endpoint, host)| target(kind, endpoint, None, &host)),
            "ntfy" | "ntfy+http" => {
                let (_, root) = base(&scheme, p.authority, plain)?;
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
                // `TOKEN@` (ddflare) has no colon; shoutrrr's `:TOKEN@` and `USER:PASSWORD@`
                // have one: an empty user means a token.
                let (token, basic) = match &user_pass {
                    None => (p.userinfo.filter(|t| !t.is_empty()).map(pct_decode), None),
                    Some((u, pw)) if u.is_empty() => {
                        (Some(pw.clone()).filter(|t| !t.is_empty()), None)
                    }
                    Some((u, pw)) => (None, Some(format!("{u}:{pw}"))),
                };
                let mut t = target(
                    Kind::Ntfy {
                        topic: Secret::new(*topic),
                    },
                    root,
                    token,
                    host_of(p.authority),
                );
                t.basic = basic.map(Secret::new);
                Ok(t)
            }
            "gotify" | "gotify+http" => {
                let (_, root) = base(&scheme, p.authority, plain)?;
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
                // shoutrrr's `TOKEN@ID` has userinfo; ddflare's `ID/TOKEN` has none.
                let (id, token) = match p.userinfo {
                    Some(token) => {
                        if !nonempty_segments(p.path).is_empty() {
                            return Err("expected `discord://TOKEN@WEBHOOK_ID` (shoutrrr's form) with nothing after the id".to_owned());
                        }
                        (p.authority, token)
                    }
                    None => {
                        let mut all = vec![p.authority];
                        all.extend(nonempty_segments(p.path));
                        let [id, token] = all.as_slice() else {
                            return Err("expected `discord://WEBHOOK_ID/WEBHOOK_TOKEN` (from the webhook URL …/api/webhooks/ID/TOKEN)".to_owned());
                        };
                        (*id, *token)
                    }
                };
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                    return Err(
                        "expected `discord://WEBHOOK_ID/WEBHOOK_TOKEN` or `discord://TOKEN@WEBHOOK_ID` with a numeric id"
                            .to_owned(),
                    );
                }
                if token.is_empty() {
                    return Err("expected a webhook token in the discord URL".to_owned());
                }
                let root = with_server("https://discord.com")?;
                let mut endpoint = format!("{root}/api/webhooks/{id}/{token}");
                if let Some(thread) = param(&q, &["thread_id", "threadid"])
                    .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()))
                {
                    endpoint.push_str(&format!("?thread_id={thread}"));
                }
                Ok(target(Kind::Discord, endpoint, None, "discord.com"))
            }
            "slack" => slack(&p, user_pass.as_ref(), &with_server)
                .map(|(kind, endpoint, token, host)| target(kind, endpoint, token, host)),
            "telegram" => {
                let token = p.userinfo.unwrap_or_default();
                let (id, secret) = token.split_once(':').unwrap_or(("", ""));
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) || secret.is_empty() {
                    return Err("expected `telegram://BOT_TOKEN@telegram?chats=CHAT_ID`, where BOT_TOKEN is what @BotFather gave (digits, `:`, then letters)".to_owned());
                }
                let chats = list(param(&q, &["chats", "channels"]));
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
            "pushover" => {
                let Some((_, token)) = user_pass.as_ref().filter(|(_, t)| !t.is_empty()) else {
                    return Err("expected `pushover://shoutrrr:API_TOKEN@USER_KEY` (any user name, the application's token as the password)".to_owned());
                };
                let user = p.authority;
                if user.is_empty() || !user.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(
                        "expected `pushover://shoutrrr:API_TOKEN@USER_KEY` with the user (or group) key as the host"
                            .to_owned(),
                    );
                }
                let priority = match param(&q, &["priority"]) {
                    None | Some("") => None,
                    Some(v) => match v.trim().parse::<i8>() {
                        Ok(n) if (-2..=1).contains(&n) => Some(n),
                        _ => {
                            return Err("expected `priority` between -2 and 1 in the pushover URL"
                                .to_owned());
                        }
                    },
                };
                let devices = Some(list(param(&q, &["devices", "device"])).join(","))
                    .filter(|d| !d.is_empty());
                let root = with_server("https://api.pushover.net")?;
                Ok(target(
                    Kind::Pushover {
                        user: Secret::new(user),
                        devices,
                        priority,
                    },
                    format!("{root}/1/messages.json"),
                    Some(token.clone()),
                    "api.pushover.net",
                ))
            }
            "zulip" | "zulip+http" => {
                let (_, root) = base(&scheme, p.authority, plain)?;
                let Some((mail, key)) = user_pass
                    .as_ref()
                    .filter(|(m, k)| m.contains('@') && !k.is_empty())
                else {
                    return Err("expected `zulip://BOT_EMAIL:BOT_KEY@HOST/?stream=STREAM&topic=TOPIC` (the `@` of the e-mail written %40)".to_owned());
                };
                let Some(stream) = param(&q, &["stream"]).filter(|s| !s.trim().is_empty()) else {
                    return Err(
                        "expected `?stream=STREAM` in the zulip URL (ddflare posts to a stream)"
                            .to_owned(),
                    );
                };
                let topic = param(&q, &["topic", "title"])
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or("ddflare");
                let mut t = target(
                    Kind::Zulip {
                        stream: stream.trim().to_owned(),
                        topic: topic.trim().to_owned(),
                    },
                    format!("{root}/api/v1/messages"),
                    None,
                    host_of(p.authority),
                );
                t.basic = Some(Secret::new(format!("{mail}:{key}")));
                Ok(t)
            }
            "matrix" | "matrix+http" => {
                let (_, root) = base(&scheme, p.authority, plain)?;
                let token = match &user_pass {
                    Some((u, t)) if u.is_empty() && !t.is_empty() => t.clone(),
                    Some((u, _)) if !u.is_empty() => {
                        return Err("a matrix URL with a user name asks for a password login, which ddflare does not do: give an access token instead, `matrix://:ACCESS_TOKEN@HOST/?rooms=!ROOM_ID`".to_owned());
                    }
                    _ => {
                        return Err(
                            "expected `matrix://:ACCESS_TOKEN@HOST/?rooms=!ROOM_ID[,!ROOM_ID]`"
                                .to_owned(),
                        );
                    }
                };
                let rooms = list(param(&q, &["rooms", "room"]));
                if rooms.is_empty() {
                    return Err("expected `?rooms=!ROOM_ID[,!ROOM_ID]` in the matrix URL (ddflare does not send to every joined room)".to_owned());
                }
                if rooms.iter().any(|r| !r.starts_with('!')) {
                    return Err("expected room ids (`!…:server`, under the room's Settings → Advanced) in `rooms`; ddflare does not look up aliases (`#…`)".to_owned());
                }
                Ok(target(
                    Kind::Matrix { rooms },
                    root,
                    Some(token),
                    host_of(p.authority),
                ))
            }
            other => Err(format!(
                "{EXPECTED}, found the scheme `{}`",
                other.escape_debug()
            )),
        }
    }
}

/// The three webhook parts of a Slack URL, or its Bot API channel: `slack://T/B/SECRET` and
/// `slack://NAME@T/B/SECRET` (old shoutrrr, the name ignored), `slack://hook:T-B-SECRET@webhook`
/// and `slack://xoxb:TOKEN@CHANNEL` (shoutrrr). The userinfo tells them apart: `hook:` and
/// `xoxb:`/`xoxp:` are shoutrrr's; anything else (or none) is the three-part form.
fn slack(
    p: &Parts<'_>,
    user_pass: Option<&(String, String)>,
    with_server: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(Kind, String, Option<String>, &'static str), String> {
    match user_pass {
        Some((kind, token)) if kind == "hook" => {
            let parts: Vec<&str> = token.split('-').collect();
            if parts.len() != 3 || parts.iter().any(|s| s.is_empty()) {
                return Err("expected `slack://hook:T…-B…-SECRET@webhook` (the three parts of the webhook URL after /services/, joined by `-`)".to_owned());
            }
            let root = with_server("https://hooks.slack.com")?;
            Ok((
                Kind::Slack,
                format!("{root}/services/{}", parts.join("/")),
                None,
                "hooks.slack.com",
            ))
        }
        Some((kind, token)) if kind.starts_with("xox") => {
            let channel = p.authority;
            if token.is_empty() || channel.is_empty() || !nonempty_segments(p.path).is_empty() {
                return Err(
                    "expected `slack://xoxb:TOKEN@CHANNEL_ID` (a Bot API token and a channel id)"
                        .to_owned(),
                );
            }
            let root = with_server("https://slack.com")?;
            Ok((
                Kind::SlackBot {
                    channel: channel.to_owned(),
                },
                format!("{root}/api/chat.postMessage"),
                Some(format!("{kind}-{token}")),
                "slack.com",
            ))
        }
        _ => {
            let mut all = vec![p.authority];
            all.extend(nonempty_segments(p.path));
            if all.len() != 3 || all.iter().any(|s| s.is_empty()) {
                return Err("expected `slack://T…/B…/SECRET` (the three parts of the webhook URL after /services/) or `slack://hook:T…-B…-SECRET@webhook`".to_owned());
            }
            let root = with_server("https://hooks.slack.com")?;
            Ok((
                Kind::Slack,
                format!("{root}/services/{}", all.join("/")),
                None,
                "hooks.slack.com",
            ))
        }
    }
}

/// shoutrrr's generic webhook: `generic://HOST[:PORT]/PATH` (https unless `disabletls=yes`),
/// `generic+http(s)://…` (the address as is). Its own query items are taken out (`template`,
/// `contenttype`, `method`/`requestmethod`, `titlekey`, `messagekey`, `disabletls`, `title`,
/// `@Header`, `$field`); the rest go on to the target, with a leading `_` removed.
fn generic(
    scheme: &str,
    url: &str,
    p: &Parts<'_>,
    plain: bool,
) -> Result<(Kind, String, String), String> {
    let http = match scheme {
        "generic+http" => "http",
        "generic+https" => "https",
        _ if plain => "http",
        _ => "https",
    };
    let mut g = Generic {
        method: "POST",
        json: false,
        title_key: "title".to_owned(),
        message_key: "message".to_owned(),
        fields: Vec::new(),
        headers: Vec::new(),
        content_type: None,
    };
    let mut forward = Vec::new();
    // The raw query, for the names as written (header names, `$` fields).
    for item in query_pairs(p.query) {
        let (k, v) = item;
        let lower = k.to_ascii_lowercase();
        if let Some(name) = k.strip_prefix('@') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err("expected `@Header-Name=value` in the generic URL".to_owned());
            }
            g.headers.push((kebab(name), Secret::new(v)));
        } else if let Some(field) = k.strip_prefix('$') {
            g.fields.push((field.to_owned(), v));
        } else {
            match lower.as_str() {
                "template" => g.json = v.eq_ignore_ascii_case("json"),
                "contenttype" => g.content_type = Some(v).filter(|c| !c.is_empty()),
                "method" | "requestmethod" => {
                    g.method = match v.to_ascii_uppercase().as_str() {
                        "POST" => "POST",
                        "PUT" => "PUT",
                        "PATCH" => "PATCH",
                        _ => {
                            return Err("expected `method` POST, PUT or PATCH in the generic URL"
                                .to_owned());
                        }
                    }
                }
                "titlekey" => g.title_key = v,
                "messagekey" => g.message_key = v,
                "disabletls" | "title" => {}
                _ => forward.push((k.strip_prefix('_').unwrap_or(&k).to_owned(), v)),
            }
        }
    }
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let mut u =
        http_url(&format!("{http}://{rest}")).map_err(|e| format!("the generic URL: {e}"))?;
    if !forward.is_empty() {
        u.query_pairs_mut().extend_pairs(&forward);
    }
    let host = u.host_str().unwrap_or_default().to_owned();
    Ok((Kind::Generic(Box::new(g)), u.to_string(), host))
}

/// `acceptLanguage` → `accept-language` (shoutrrr writes header names in camel case).
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
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
        assert!(
            err("zulip://b%40x:k@h?stream=s", Some("http://127.0.0.1")).contains("only applies")
        );
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

    /// shoutrrr's forms beside ddflare's: the userinfo decides, never a guess on the values.
    #[test]
    fn shoutrrr_forms_are_told_apart_from_ddflares() {
        // discord: TOKEN@ID (shoutrrr) and ID/TOKEN (ddflare) reach the same webhook.
        let a = ok("discord://tok-EN_x@123456");
        let b = ok("discord://123456/tok-EN_x");
        assert_eq!(a.endpoint, b.endpoint);
        assert_eq!(
            a.endpoint.expose(),
            "https://discord.com/api/webhooks/123456/tok-EN_x"
        );
        assert_eq!(
            ok("discord://tok@123?splitlines=no&thread_id=77")
                .endpoint
                .expose(),
            "https://discord.com/api/webhooks/123/tok?thread_id=77"
        );

        // ntfy: no colon = ddflare's bearer token; `:TOKEN` = shoutrrr's token; USER:PASS = basic.
        let t = ok("ntfy://tk_abc@ntfy.example.com/topic");
        assert_eq!(t.token.as_ref().map(Secret::expose), Some("tk_abc"));
        assert_eq!(t.basic, None);
        let t = ok("ntfy://:tk_abc@ntfy.example.com/topic");
        assert_eq!(t.token.as_ref().map(Secret::expose), Some("tk_abc"));
        assert_eq!(t.basic, None);
        let t = ok("ntfy://alice:p%40ss@ntfy.example.com/topic?scheme=http&priority=high");
        assert_eq!(t.token, None);
        assert_eq!(t.basic.as_ref().map(Secret::expose), Some("alice:p@ss"));
        assert_eq!(t.endpoint.expose(), "http://ntfy.example.com");

        // slack: hook:… and xoxb:… are shoutrrr's; anything else is the three-part form.
        let hook = ok(
            "slack://hook:WNA3PBYV6-F20DUQND3RQ-Webc4MAvoacrpPakR8phF0zi@webhook?color=good&title=Great+News&icon=man-scientist&botname=Shoutrrrbot",
        );
        assert_eq!(
            hook.endpoint.expose(),
            "https://hooks.slack.com/services/WNA3PBYV6/F20DUQND3RQ/Webc4MAvoacrpPakR8phF0zi"
        );
        assert_eq!(
            ok("slack://ShoutrrrBot@T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX").endpoint,
            ok("slack://T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX").endpoint
        );
        let bot = ok(
            "slack://xoxb:123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N@C001CH4NN3L?color=good",
        );
        assert_eq!(
            bot.endpoint.expose(),
            "https://slack.com/api/chat.postMessage"
        );
        assert_eq!(
            bot.token.as_ref().map(Secret::expose),
            Some("xoxb-123456789012-1234567890123-4mt0t4l1YL3g1T5L4cK70k3N")
        );
        assert!(matches!(&bot.kind, Kind::SlackBot { channel } if channel == "C001CH4NN3L"));

        // gotify: shoutrrr's disabletls.
        let t = ok("gotify://gotify.example.com:8080/sub/AbC?priority=1&disabletls=yes");
        assert_eq!(
            t.endpoint.expose(),
            "http://gotify.example.com:8080/sub/message"
        );

        let t = ok(
            "pushover://shoutrrr:azGDORePK8gMaC0QOYAMyEEuzJnyUi@uQiRzpo4DXghDmr9QzzfQu27cmVRsG/?devices=droid2,phone&title=x&priority=1",
        );
        assert_eq!(
            t.endpoint.expose(),
            "https://api.pushover.net/1/messages.json"
        );
        assert!(
            matches!(&t.kind, Kind::Pushover { devices: Some(d), priority: Some(1), .. } if d == "droid2,phone")
        );

        let t = ok(
            "zulip://my-bot%40zulipchat.com:correcthorsebatterystable@example.zulipchat.com?stream=foo&topic=bar",
        );
        assert_eq!(
            t.endpoint.expose(),
            "https://example.zulipchat.com/api/v1/messages"
        );
        assert_eq!(
            t.basic.as_ref().map(Secret::expose),
            Some("my-bot@zulipchat.com:correcthorsebatterystable")
        );
        assert_eq!(t.label, "zulip (example.zulipchat.com)");

        let t = ok(
            "matrix://:syt_tok@matrix.example.org:8448/?rooms=!abc:example.org,!def:example.org",
        );
        assert_eq!(t.endpoint.expose(), "https://matrix.example.org:8448");
        assert!(matches!(&t.kind, Kind::Matrix { rooms } if rooms.len() == 2));

        let t = ok(
            "generic://ha.lan:8123/api/webhook/WebhookID?template=json&disabletls=yes&_template=x&keep=1",
        );
        assert_eq!(
            t.endpoint.expose(),
            "http://ha.lan:8123/api/webhook/WebhookID?template=x&keep=1"
        );
        assert!(matches!(&t.kind, Kind::Generic(g) if g.json));
        let t = ok(
            "generic+https://example.com/api/v1/postStuff?@acceptLanguage=tlh-Piqd&contenttype=text/plain",
        );
        assert_eq!(t.endpoint.expose(), "https://example.com/api/v1/postStuff");
        let Kind::Generic(g) = &t.kind else {
            panic!("{t:?}")
        };
        assert_eq!(g.headers[0].0, "accept-language");
        assert_eq!(g.content_type.as_deref(), Some("text/plain"));
    }

    #[test]
    fn bad_shoutrrr_urls_say_what_is_expected_without_secrets() {
        let cases = [
            ("discord://zzTOKzz@abc", "numeric id"),
            ("discord://zzTOKzz@1/extra", "nothing after the id"),
            ("slack://hook:zzTOKzz@webhook", "joined by `-`"),
            ("slack://xoxb:zzTOKzz@", "channel id"),
            ("pushover://zzTOKzz@user", "API_TOKEN@USER_KEY"),
            ("pushover://x:zzTOKzz@u/?priority=2", "between -2 and 1"),
            ("zulip://bot:zzTOKzz@h", "BOT_EMAIL"),
            ("zulip://b%40x:zzTOKzz@h", "?stream="),
            ("matrix://u:zzTOKzz@h/?rooms=!a:h", "access token"),
            ("matrix://:zzTOKzz@h", "?rooms="),
            ("matrix://:zzTOKzz@h/?rooms=%23alias:h", "aliases"),
            (
                "generic://h/p?method=DELETE&k=zzTOKzz",
                "POST, PUT or PATCH",
            ),
            ("teams://zzTOKzz@x", "found the scheme `teams`"),
        ];
        for (url, want) in cases {
            let e = err(url, None);
            assert!(e.contains(want), "{url}: {e}");
            assert!(!e.contains("zzTOKzz"), "{url}: {e}");
        }
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
