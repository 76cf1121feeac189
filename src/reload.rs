//! PURE: what changed between two validated configs, one line per key, for the log of a
//! SIGHUP reload. Secrets are never shown: a changed token or notification URL is named, not
//! printed.

use std::fmt::Debug;
use std::time::Duration;

use crate::config::{Config, RecordConfig};

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

/// What differs in one record that exists in both.
fn record_changes(a: &RecordConfig, b: &RecordConfig) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if a.zone != b.zone {
        keys.push("zone");
    }
    if a.zone_id != b.zone_id {
        keys.push("zone_id");
    }
    if a.ipv4 != b.ipv4 {
        keys.push("ipv4");
    }
    if a.ipv6 != b.ipv6 {
        keys.push("ipv6");
    }
    if a.ttl != b.ttl {
        keys.push("ttl");
    }
    if a.proxied != b.proxied {
        keys.push("proxied");
    }
    if a.comment != b.comment {
        keys.push("comment");
    }
    if a.ownership != b.ownership {
        keys.push("ownership");
    }
    if a.delete_on_stop != b.delete_on_stop {
        keys.push("delete_on_stop");
    }
    keys
}

/// One line per changed key, in file order; empty when nothing changed.
pub fn diff(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (&old.cloudflare, &new.cloudflare);
    if a.credentials != b.credentials {
        use crate::config::Credentials::{GlobalKey, Token};
        out.push(
            match (&a.credentials, &b.credentials) {
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
        &mut out,
        "cloudflare.api_url",
        &a.api_url,
        &b.api_url,
        Clone::clone,
    );
    field(
        &mut out,
        "cloudflare.ca_file",
        &a.ca_file,
        &b.ca_file,
        |p| {
            p.as_ref()
                .map_or_else(|| "unset".to_owned(), |p| p.display().to_string())
        },
    );
    field(
        &mut out,
        "cloudflare.request_timeout",
        &a.request_timeout,
        &b.request_timeout,
        dur,
    );
    field(
        &mut out,
        "cloudflare.max_retries",
        &a.max_retries,
        &b.max_retries,
        ToString::to_string,
    );

    let (a, b) = (&old.detect, &new.detect);
    field(&mut out, "detect.ipv4", &a.ipv4, &b.ipv4, |v| list(v));
    field(&mut out, "detect.ipv6", &a.ipv6, &b.ipv6, |v| list(v));
    field(&mut out, "detect.timeout", &a.timeout, &b.timeout, dur);
    field(
        &mut out,
        "detect.trace_url",
        &a.trace_urls,
        &b.trace_urls,
        |v| v.join(", "),
    );

    let (a, b) = (&old.schedule, &new.schedule);
    field(&mut out, "schedule.interval", &a.interval, &b.interval, dur);
    field(&mut out, "schedule.cron", &a.cron, &b.cron, opt);
    field(&mut out, "schedule.jitter", &a.jitter, &b.jitter, dur);
    field(
        &mut out,
        "schedule.cycle_deadline",
        &a.cycle_deadline,
        &b.cycle_deadline,
        dur,
    );
    field(
        &mut out,
        "schedule.shutdown_grace",
        &a.shutdown_grace,
        &b.shutdown_grace,
        dur,
    );
    field(
        &mut out,
        "schedule.update_on_start",
        &a.update_on_start,
        &b.update_on_start,
        ToString::to_string,
    );

    let (a, b) = (&old.state, &new.state);
    field(&mut out, "state.dir", &a.dir, &b.dir, |p| {
        p.display().to_string()
    });
    field(&mut out, "state.max_age", &a.max_age, &b.max_age, dur);

    for r in &new.records {
        match old.records.iter().find(|o| o.name == r.name) {
            None => out.push(format!("record {}: added", r.name)),
            Some(o) => {
                let keys = record_changes(o, r);
                if !keys.is_empty() {
                    out.push(format!("record {}: {} changed", r.name, keys.join(", ")));
                }
            }
        }
    }
    for o in &old.records {
        if !new.records.iter().any(|r| r.name == o.name) {
            out.push(format!(
                "record {}: removed (its DNS records are left as they are)",
                o.name
            ));
        }
    }

    field(
        &mut out,
        "metrics.listen",
        &old.metrics.listen,
        &new.metrics.listen,
        |l| l.map_or_else(|| "off".to_owned(), |a| a.to_string()),
    );
    let (a, b) = (&old.notify, &new.notify);
    if a.alerts != b.alerts {
        out.push(format!("alerts: {} → {}", dbg(&a.alerts), dbg(&b.alerts)));
    }
    if a.targets != b.targets {
        let labels = |t: &[crate::notify::Target]| {
            list(&t.iter().map(|t| t.label.clone()).collect::<Vec<_>>())
        };
        out.push(format!(
            "notify: {} → {}",
            labels(&a.targets),
            labels(&b.targets)
        ));
    }
    if a.monitors != b.monitors {
        let labels = |m: &[crate::notify::Monitor]| {
            list(&m.iter().map(|m| m.label.clone()).collect::<Vec<_>>())
        };
        out.push(format!(
            "monitor: {} → {}",
            labels(&a.monitors),
            labels(&b.monitors)
        ));
    }
    if old.log != new.log {
        out.push(format!(
            "log.quiet: {} → {} (takes effect at the next start)",
            old.log.quiet, new.log.quiet
        ));
    }
    out
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
