//! PURE: what changed between two validated configs, one line per key, for the log of a
//! SIGHUP reload. Secrets are never shown: a changed token or notification URL is named, not
//! printed.

use std::fmt::Debug;
use std::time::Duration;

use crate::cloudflare::{CloudflareConfig, Credentials};
use crate::config::{Config, RecordConfig};
use crate::detect::{DetectConfig, Filters, Strategy};
use crate::logging::LogConfig;
use crate::metrics::MetricsConfig;
use crate::notify::{Monitor, NotifyConfig, Target};
use crate::privileges::ProcessConfig;
use crate::push::{PushClient, PushConfig};
use crate::schedule::ScheduleConfig;
use crate::state::StateConfig;

fn dur(d: &Duration) -> String {
    humantime::format_duration(*d).to_string()
}

fn list<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn field<T: PartialEq>(
    out: &mut Vec<String>,
    key: &str,
    a: &T,
    b: &T,
    show: impl Fn(&T) -> String,
) {
    if a != b {
        out.push(format!("{key}: {} → {}", show(a), show(b)));
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "unset".to_owned(), ToString::to_string)
}

fn dbg<T: Debug>(v: &T) -> String {
    format!("{v:?}")
}

fn strategy(s: &Strategy) -> String {
    match s {
        Strategy::Fallback => "fallback",
        Strategy::Agree => "agree",
    }
    .to_owned()
}

/// What differs in one record that exists in both. Every field is named, so that a new one
/// does not compile until it is decided here.
fn record_changes(a: &RecordConfig, b: &RecordConfig) -> Vec<&'static str> {
    // The name is how the two were paired.
    let RecordConfig {
        name: _,
        zone,
        zone_id,
        ipv4,
        ipv6,
        ttl,
        proxied,
        comment,
        ipv6_host,
        ownership,
        delete_on_stop,
        credentials,
    } = b;
    let mut keys = Vec::new();
    let mut key = |changed: bool, name: &'static str| {
        if changed {
            keys.push(name);
        }
    };
    key(a.zone != *zone, "zone");
    key(a.zone_id != *zone_id, "zone_id");
    key(a.ipv4 != *ipv4, "ipv4");
    key(a.ipv6 != *ipv6, "ipv6");
    key(a.ttl != *ttl, "ttl");
    key(a.proxied != *proxied, "proxied");
    key(a.comment != *comment, "comment");
    key(a.ipv6_host != *ipv6_host, "ipv6_host");
    key(a.ownership != *ownership, "ownership");
    key(a.delete_on_stop != *delete_on_stop, "delete_on_stop");
    key(a.credentials != *credentials, "credentials");
    keys
}

/// One line per changed key, in file order; empty when nothing changed.
///
/// Each section is destructured without `..`: a field added to a config type does not
/// compile until this diff says how its change is logged (a SIGHUP that changed only an
/// unlisted field used to log nothing).
pub fn diff(old: &Config, new: &Config) -> Vec<String> {
    let Config {
        cloudflare,
        detect,
        schedule,
        state,
        records,
        lists,
        metrics,
        notify,
        log,
        process,
        push,
        gateway_locations,
    } = new;
    let mut out = Vec::new();
    cloudflare_changes(&mut out, &old.cloudflare, cloudflare);
    detect_changes(&mut out, &old.detect, detect);
    schedule_changes(&mut out, &old.schedule, schedule);
    state_changes(&mut out, &old.state, state);
    records_changes(&mut out, &old.records, records);
    if old.lists != *lists {
        let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
        out.push(format!("[[list]]: now {}", names.join(", ")));
    }
    metrics_changes(&mut out, &old.metrics, metrics);
    notify_changes(&mut out, &old.notify, notify);
    log_changes(&mut out, &old.log, log);
    process_changes(&mut out, &old.process, process);
    push_changes(&mut out, old.push.as_ref(), push.as_ref());
    for g in gateway_locations {
        match old
            .gateway_locations
            .iter()
            .find(|o| o.location_id == g.location_id)
        {
            None => out.push(format!("gateway_location {}: added", g.location_id)),
            Some(o) if o != g => out.push(format!("gateway_location {}: changed", g.location_id)),
            Some(_) => {}
        }
    }
    for o in &old.gateway_locations {
        if !gateway_locations
            .iter()
            .any(|g| g.location_id == o.location_id)
        {
            out.push(format!(
                "gateway_location {}: removed (its networks are left as they are)",
                o.location_id
            ));
        }
    }
    out
}

/// `[push]`: the listener, the proxies, and each client by user (a password is named, never
/// shown).
fn push_changes(out: &mut Vec<String>, a: Option<&PushConfig>, b: Option<&PushConfig>) {
    let (a, b) = match (a, b) {
        (None, None) => return,
        (None, Some(_)) => return out.push("push: added".to_owned()),
        (Some(_), None) => return out.push("push: removed".to_owned()),
        (Some(a), Some(b)) => (a, b),
    };
    let PushConfig {
        listen,
        trusted_proxies,
        clients,
    } = b;
    field(out, "push.listen", &a.listen, listen, ToString::to_string);
    field(
        out,
        "push.trusted_proxies",
        &a.trusted_proxies,
        trusted_proxies,
        |v| list(v),
    );
    for c in clients {
        let PushClient {
            user,
            password,
            hostnames,
        } = c;
        match a.clients.iter().find(|o| o.user == *user) {
            None => out.push(format!("push.client {user}: added")),
            Some(o) => {
                if o.password != *password {
                    out.push(format!("push.client {user}: password changed"));
                }
                field(
                    out,
                    &format!("push.client {user}: hostnames"),
                    &o.hostnames,
                    hostnames,
                    |v| v.join(", "),
                );
            }
        }
    }
    for o in &a.clients {
        if !clients.iter().any(|c| c.user == o.user) {
            out.push(format!("push.client {}: removed", o.user));
        }
    }
}

fn cloudflare_changes(out: &mut Vec<String>, a: &CloudflareConfig, b: &CloudflareConfig) {
    let CloudflareConfig {
        credentials,
        token_file,
        named,
        api_url,
        ca_file,
        request_timeout,
        max_retries,
    } = b;
    // Secrets are named, never shown.
    if a.credentials != *credentials {
        use Credentials::{GlobalKey, Token};
        out.push(
            match (&a.credentials, credentials) {
                (Token(_), Token(_)) => "cloudflare.api_token: changed",
                (GlobalKey { .. }, GlobalKey { .. }) => "cloudflare.api_key: changed",
                (Token(_), GlobalKey { .. }) => {
                    "cloudflare credentials: API token → Global API Key"
                }
                (GlobalKey { .. }, Token(_)) => {
                    "cloudflare credentials: Global API Key → API token"
                }
            }
            .to_owned(),
        );
    }
    field(
        out,
        "cloudflare token file",
        &a.token_file,
        token_file,
        |p| {
            p.as_ref()
                .map_or_else(|| "none".to_owned(), |p| p.display().to_string())
        },
    );
    // Named credentials by name; their tokens are named, never shown.
    for n in named {
        match a.named.iter().find(|o| o.name == n.name) {
            None => out.push(format!("credentials {}: added", n.name)),
            Some(o) if o != n => out.push(format!("credentials {}: token changed", n.name)),
            Some(_) => {}
        }
    }
    for o in &a.named {
        if !named.iter().any(|n| n.name == o.name) {
            out.push(format!("credentials {}: removed", o.name));
        }
    }
    field(out, "cloudflare.api_url", &a.api_url, api_url, Clone::clone);
    field(out, "cloudflare.ca_file", &a.ca_file, ca_file, |p| {
        p.as_ref()
            .map_or_else(|| "unset".to_owned(), |p| p.display().to_string())
    });
    field(
        out,
        "cloudflare.request_timeout",
        &a.request_timeout,
        request_timeout,
        dur,
    );
    field(
        out,
        "cloudflare.max_retries",
        &a.max_retries,
        max_retries,
        ToString::to_string,
    );
}

fn detect_changes(out: &mut Vec<String>, a: &DetectConfig, b: &DetectConfig) {
    let DetectConfig {
        ipv4,
        ipv6,
        timeout,
        strategy: strat,
        allow_private,
        ipv6_prefix_len,
        filters,
        trace_urls,
        dns_servers,
        doh_url,
    } = b;
    field(out, "detect.ipv4", &a.ipv4, ipv4, |v| list(v));
    field(out, "detect.ipv6", &a.ipv6, ipv6, |v| list(v));
    field(out, "detect.strategy", &a.strategy, strat, strategy);
    field(
        out,
        "detect.allow_private",
        &a.allow_private,
        allow_private,
        ToString::to_string,
    );
    field(
        out,
        "detect.ipv6_prefix_len",
        &a.ipv6_prefix_len,
        ipv6_prefix_len,
        ToString::to_string,
    );
    let Filters {
        ipv4_accept,
        ipv4_reject,
        ipv6_accept,
        ipv6_reject,
    } = filters;
    for (key, old, new) in [
        ("detect.ipv4_accept", &a.filters.ipv4_accept, ipv4_accept),
        ("detect.ipv4_reject", &a.filters.ipv4_reject, ipv4_reject),
        ("detect.ipv6_accept", &a.filters.ipv6_accept, ipv6_accept),
        ("detect.ipv6_reject", &a.filters.ipv6_reject, ipv6_reject),
    ] {
        field(out, key, old, new, |v| list(v));
    }
    field(out, "detect.timeout", &a.timeout, timeout, dur);
    field(out, "detect.trace_url", &a.trace_urls, trace_urls, |v| {
        v.join(", ")
    });
    field(
        out,
        "detect.dns_servers",
        &a.dns_servers,
        dns_servers,
        |v| list(v),
    );
    field(out, "detect.doh_url", &a.doh_url, doh_url, Clone::clone);
}

fn schedule_changes(out: &mut Vec<String>, a: &ScheduleConfig, b: &ScheduleConfig) {
    let ScheduleConfig {
        interval,
        cycle_deadline,
        shutdown_grace,
        cron,
        jitter,
        update_on_start,
        timezone,
    } = b;
    field(out, "schedule.interval", &a.interval, interval, dur);
    if a.timezone != *timezone {
        let name =
            |z: &Option<crate::tz::Zone>| z.as_ref().map_or("UTC".to_owned(), |z| z.name.clone());
        out.push(format!(
            "schedule.timezone: {} → {}",
            name(&a.timezone),
            name(timezone)
        ));
    }
    field(out, "schedule.cron", &a.cron, cron, opt);
    field(out, "schedule.jitter", &a.jitter, jitter, dur);
    field(
        out,
        "schedule.cycle_deadline",
        &a.cycle_deadline,
        cycle_deadline,
        dur,
    );
    field(
        out,
        "schedule.shutdown_grace",
        &a.shutdown_grace,
        shutdown_grace,
        dur,
    );
    field(
        out,
        "schedule.update_on_start",
        &a.update_on_start,
        update_on_start,
        ToString::to_string,
    );
}

fn state_changes(out: &mut Vec<String>, a: &StateConfig, b: &StateConfig) {
    let StateConfig { dir, max_age } = b;
    field(out, "state.dir", &a.dir, dir, |p| p.display().to_string());
    field(out, "state.max_age", &a.max_age, max_age, dur);
}

fn records_changes(out: &mut Vec<String>, old: &[RecordConfig], new: &[RecordConfig]) {
    for r in new {
        match old.iter().find(|o| o.name == r.name) {
            None => out.push(format!("record {}: added", r.name)),
            Some(o) => {
                let keys = record_changes(o, r);
                if !keys.is_empty() {
                    out.push(format!("record {}: {} changed", r.name, keys.join(", ")));
                }
            }
        }
    }
    for o in old {
        if !new.iter().any(|r| r.name == o.name) {
            out.push(format!(
                "record {}: removed (its DNS records are left as they are)",
                o.name
            ));
        }
    }
}

fn metrics_changes(out: &mut Vec<String>, a: &MetricsConfig, b: &MetricsConfig) {
    let MetricsConfig { listen } = b;
    field(out, "metrics.listen", &a.listen, listen, |l| {
        l.map_or_else(|| "off".to_owned(), |a| a.to_string())
    });
}

/// Targets and monitors by label only: their URLs hold secrets.
fn notify_changes(out: &mut Vec<String>, a: &NotifyConfig, b: &NotifyConfig) {
    let NotifyConfig {
        targets,
        monitors,
        alerts,
    } = b;
    if a.alerts != *alerts {
        out.push(format!("alerts: {} → {}", dbg(&a.alerts), dbg(alerts)));
    }
    if a.targets != *targets {
        let labels = |t: &[Target]| list(&t.iter().map(|t| t.label.clone()).collect::<Vec<_>>());
        out.push(format!(
            "notify: {} → {}",
            labels(&a.targets),
            labels(targets)
        ));
    }
    if a.monitors != *monitors {
        let labels = |m: &[Monitor]| list(&m.iter().map(|m| m.label.clone()).collect::<Vec<_>>());
        out.push(format!(
            "monitor: {} → {}",
            labels(&a.monitors),
            labels(monitors)
        ));
    }
}

fn log_changes(out: &mut Vec<String>, a: &LogConfig, b: &LogConfig) {
    let LogConfig { quiet } = b;
    if a.quiet != *quiet {
        out.push(format!(
            "log.quiet: {} → {quiet} (takes effect at the next start)",
            a.quiet
        ));
    }
}

/// Who ddflare runs as is settled at start; the service keeps the old `[process]` on a
/// reload and says so itself, so these lines show only for a diff of two loaded files.
fn process_changes(out: &mut Vec<String>, a: &ProcessConfig, b: &ProcessConfig) {
    let ProcessConfig {
        user,
        drop_privileges,
    } = b;
    field(out, "process.user", &a.user, user, |u| {
        format!("{u} (takes effect at the next start)")
    });
    field(
        out,
        "process.drop_privileges",
        &a.drop_privileges,
        drop_privileges,
        |d| format!("{d} (takes effect at the next start)"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use std::collections::HashMap;

    const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";

    fn config(body: &str) -> Config {
        let env: HashMap<String, String> =
            [("CLOUDFLARE_API_TOKEN".to_owned(), TOKEN.to_owned())].into();
        match parse(body, "ddflare.toml", &env) {
            Ok(l) => l.config,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    #[cfg(feature = "metrics")]
    fn a_reload_names_what_changed() {
        let old = config(
            "[schedule]\ninterval = \"5m\"\n[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\n",
        );
        let new = config(
            "[schedule]\ncron = \"*/10 * * * *\"\n[metrics]\nlisten = \"127.0.0.1:9489\"\n[[notify]]\nurl = \"ntfy://ntfy.sh/zzTopicSecret\"\n[[record]]\nname = \"a.example.com\"\nttl = 300\n[[record]]\nname = \"c.example.com\"\n",
        );
        let d = diff(&old, &new);
        assert_eq!(
            d,
            vec![
                "schedule.cron: unset → */10 * * * *",
                "record a.example.com: ttl changed",
                "record c.example.com: added",
                "record b.example.com: removed (its DNS records are left as they are)",
                "metrics.listen: off → 127.0.0.1:9489",
                "notify: none → ntfy (ntfy.sh)",
            ]
        );
        assert!(!d.join("\n").contains("zzTopicSecret"));
        assert!(diff(&new, &new).is_empty());
    }

    #[test]
    fn a_reload_names_the_detection_filters() {
        let old =
            config("[detect]\nipv6_reject = \"fd00::/8\"\n[[record]]\nname = \"a.example.com\"\n");
        let new = config(
            "[detect]\nipv6_accept = [\"2001:db8:1::/48\", \"2001:db8:2::/48\"]\n[[record]]\nname = \"a.example.com\"\n",
        );
        assert_eq!(
            diff(&old, &new),
            vec![
                "detect.ipv6_accept: none → 2001:db8:1::/48, 2001:db8:2::/48",
                "detect.ipv6_reject: fd00::/8 → none",
            ]
        );
    }

    #[test]
    fn a_change_of_credentials_is_named_not_shown() {
        let key = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";
        let with_key = |k: &str| {
            let env: HashMap<String, String> = [
                (
                    "CLOUDFLARE_API_EMAIL".to_owned(),
                    "me@example.com".to_owned(),
                ),
                ("CLOUDFLARE_API_KEY".to_owned(), k.to_owned()),
            ]
            .into();
            match parse(
                "[[record]]\nname = \"a.example.com\"\n",
                "ddflare.toml",
                &env,
            ) {
                Ok(l) => l.config,
                Err(e) => panic!("{e}"),
            }
        };
        let token = config("[[record]]\nname = \"a.example.com\"\n");
        let d = diff(&token, &with_key(key));
        assert_eq!(
            d,
            vec!["cloudflare credentials: API token → Global API Key"]
        );
        let other = key.replace('5', "6");
        let d = diff(&with_key(key), &with_key(&other));
        assert_eq!(d, vec!["cloudflare.api_key: changed"]);
        assert!(!d.join("\n").contains(&key[..10]));
    }
}
