//! `ddflare status`: what the cache in the state directory says, read without any network
//! call: each configured record with its published address and when Cloudflare last confirmed
//! it, when the cache will be re-read, and when the next round is due. PURE: [`render`] turns
//! a config, a state and the time into the text and the exit status.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::detect::Family;
use crate::state::{self, State};

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

fn when(t: SystemTime, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(t);
    match now.duration_since(t) {
        Ok(ago) => format!(
            "{stamp} ({} ago)",
            humantime::format_duration(Duration::from_secs(ago.as_secs()))
        ),
        Err(e) => format!(
            "{stamp} (in {})",
            humantime::format_duration(Duration::from_secs(e.duration().as_secs()))
        ),
    }
}

/// The zone a record is in: as the cache found it (its id when the name is unknown), else as
/// configured.
fn zone_of(state: &State, rec: &crate::config::RecordConfig) -> Option<String> {
    state
        .zones
        .get(&rec.name)
        .map(|z| {
            if z.name.is_empty() {
                z.id.clone()
            } else {
                z.name.clone()
            }
        })
        .or_else(|| rec.zone.clone())
}

fn rfc3339(unix: u64) -> String {
    humantime::format_rfc3339_seconds(at(unix)).to_string()
}

/// `status --json`: the same facts as [`render`] for scripts, with stable field names
/// (docs/operations.md), and whether every configured (name, type) is in the cache. Times are
/// RFC 3339 in UTC; what is unknown is `null`.
pub fn json(config: &Config, state: &State, now: SystemTime) -> (serde_json::Value, bool) {
    use serde_json::json;
    let now_unix = crate::clock::unix(now);
    let mut complete = true;
    let mut future = false;
    let mut records = Vec::new();
    let mut synced = Vec::new();
    for rec in &config.records {
        for family in Family::ALL {
            let wanted = match family {
                Family::V4 => rec.ipv4,
                Family::V6 => rec.ipv6,
            };
            if !wanted {
                continue;
            }
            let rtype = family.record_type();
            let entry = state.records.get(&state::key(&rec.name, rtype));
            complete &= entry.is_some();
            if let Some(e) = entry {
                future |= e.from_the_future(now_unix);
                synced.push(e.synced_at);
            }
            records.push(json!({
                "name": rec.name,
                "type": rtype,
                "zone": zone_of(state, rec),
                "address": entry.map(|e| e.content.to_string()),
                "confirmed_at": entry.map(|e| rfc3339(e.synced_at)),
                "confirmed_unix": entry.map(|e| e.synced_at),
            }));
        }
    }
    let newest = synced.iter().max().copied();
    let oldest = synced.iter().min().copied();
    // A confirmation from the future (a clock ahead, an edited file): due now.
    let reread = if future {
        Some(rfc3339(now_unix))
    } else {
        oldest.map(|o| rfc3339(o.saturating_add(config.state.max_age.as_secs())))
    };
    let next = crate::schedule::next_fire(&config.schedule, now);
    let value = json!({
        "state_file": crate::state::path(&config.state.dir).display().to_string(),
        "complete": complete,
        "records": records,
        "last_confirmed_at": newest.map(rfc3339),
        "reread_after": reread,
        "max_age_seconds": config.state.max_age.as_secs(),
        "next_round": {
            "at": next.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            "cron": config.schedule.cron.as_ref().map(ToString::to_string),
            "interval_seconds": next.is_none().then_some(config.schedule.interval.as_secs()),
            "jitter_seconds": config.schedule.jitter.as_secs(),
        },
    });
    (value, complete)
}

/// The report, and whether every configured (name, type) is in the cache.
pub fn render(config: &Config, state: &State, now: SystemTime) -> (String, bool) {
    let mut out = String::new();
    let mut complete = true;
    let mut newest: Option<u64> = None;
    let mut oldest: Option<u64> = None;
    let mut future = false;
    let width = config
        .records
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0);
    for rec in &config.records {
        for family in Family::ALL {
            let wanted = match family {
                Family::V4 => rec.ipv4,
                Family::V6 => rec.ipv6,
            };
            if !wanted {
                continue;
            }
            let rtype = family.record_type();
            let zone = zone_of(state, rec).unwrap_or_else(|| "?".to_owned());
            match state.records.get(&state::key(&rec.name, rtype)) {
                Some(e) => {
                    future |= e.from_the_future(crate::clock::unix(now));
                    newest = Some(newest.map_or(e.synced_at, |n| n.max(e.synced_at)));
                    oldest = Some(oldest.map_or(e.synced_at, |o| o.min(e.synced_at)));
                    let _ = writeln!(
                        out,
                        "{:width$} {rtype:4} {:39} confirmed {}, zone {zone}",
                        rec.name,
                        e.content.to_string(),
                        when(at(e.synced_at), now),
                    );
                }
                None => {
                    complete = false;
                    let _ = writeln!(
                        out,
                        "{:width$} {rtype:4} {:39} not published yet, or the last try failed",
                        rec.name, "-"
                    );
                }
            }
        }
    }
    match newest {
        Some(n) => {
            let _ = writeln!(out, "last confirmed by Cloudflare: {}", when(at(n), now));
        }
        None => {
            let _ = writeln!(
                out,
                "last confirmed by Cloudflare: never (the cache is empty)"
            );
        }
    }
    if future {
        let _ = writeln!(
            out,
            "records re-read from Cloudflare: at the next round (a confirmation lies in the future: the clock was ahead, or the state file was edited)"
        );
    } else if let Some(o) = oldest {
        let _ = writeln!(
            out,
            "records re-read from Cloudflare: at the first round after {} (state.max_age {})",
            humantime::format_rfc3339_seconds(at(o) + config.state.max_age),
            humantime::format_duration(config.state.max_age)
        );
    }
    match crate::schedule::next_fire(&config.schedule, now) {
        Some(next) => {
            let jitter = if config.schedule.jitter.is_zero() {
                String::new()
            } else {
                format!(
                    " plus up to {} of jitter",
                    humantime::format_duration(config.schedule.jitter)
                )
            };
            let _ = writeln!(
                out,
                "next round: {}{jitter} (cron `{}`, UTC)",
                when(next, now),
                config
                    .schedule
                    .cron
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "next round: {} after the daemon's last one (schedule.interval)",
                humantime::format_duration(config.schedule.interval)
            );
        }
    }
    (out, complete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::Zone;
    use crate::config::parse;
    use crate::state::Entry;
    use std::collections::HashMap;

    fn config(body: &str) -> Config {
        let env: HashMap<String, String> = [(
            "CLOUDFLARE_API_TOKEN".to_owned(),
            "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456".to_owned(),
        )]
        .into();
        match parse(body, "ddflare.toml", &env) {
            Ok(l) => l.config,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_cache_is_shown_per_record_with_times() {
        let c = config(
            "[schedule]\ncron = \"*/5 * * * *\"\n[[record]]\nname = \"home.example.com\"\n[[record]]\nname = \"vpn.example.com\"\nipv6 = false\n",
        );
        let mut st = State::default();
        let t0 = 1_780_000_000;
        st.zones.insert(
            "home.example.com".into(),
            Zone {
                id: "z1".into(),
                name: "example.com".into(),
                status: None,
            },
        );
        st.records.insert(
            state::key("home.example.com", "A"),
            Entry {
                id: "r1".into(),
                content: "203.0.113.7".parse().unwrap(),
                settings: String::new(),
                synced_at: t0,
            },
        );
        let now = at(t0 + 90);
        let (text, complete) = render(&c, &st, now);
        assert!(!complete);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("home.example.com A    203.0.113.7")
                && lines[0]
                    .ends_with("confirmed 2026-05-28T20:26:40Z (1m 30s ago), zone example.com"),
            "{text}"
        );
        assert!(
            lines[1].contains("AAAA") && lines[1].contains("not published yet"),
            "{text}"
        );
        assert!(lines[2].starts_with("vpn.example.com  A"), "{text}");
        assert_eq!(lines.len(), 6, "{text}");
        assert_eq!(
            lines[3],
            "last confirmed by Cloudflare: 2026-05-28T20:26:40Z (1m 30s ago)"
        );
        assert_eq!(
            lines[4],
            "records re-read from Cloudflare: at the first round after 2026-05-29T02:26:40Z (state.max_age 6h)"
        );
        assert_eq!(
            lines[5],
            "next round: 2026-05-28T20:30:00Z (in 1m 50s) (cron `*/5 * * * *`, UTC)"
        );
        let (text, _) = render(
            &config("[[record]]\nname = \"a.example.com\"\n"),
            &State::default(),
            now,
        );
        assert!(text.contains("never (the cache is empty)"), "{text}");
        assert!(
            text.contains("next round: 5m after the daemon's last one"),
            "{text}"
        );
    }

    #[test]
    fn json_has_the_same_facts_with_nulls_for_the_unknown() {
        let c = config(
            "[schedule]\ncron = \"*/5 * * * *\"\n[[record]]\nname = \"home.example.com\"\nzone = \"example.com\"\n",
        );
        let t0 = 1_780_000_000;
        let mut st = State::default();
        st.records.insert(
            state::key("home.example.com", "A"),
            Entry {
                id: "r1".into(),
                content: "203.0.113.7".parse().unwrap(),
                settings: String::new(),
                synced_at: t0,
            },
        );
        let (v, complete) = json(&c, &st, at(t0 + 90));
        assert!(!complete);
        assert_eq!(v["complete"], false);
        let records = v["records"].as_array().unwrap();
        assert_eq!(records.len(), 2, "{v}");
        assert_eq!(records[0]["type"], "A");
        assert_eq!(records[0]["zone"], "example.com");
        assert_eq!(records[0]["address"], "203.0.113.7");
        assert_eq!(records[0]["confirmed_at"], "2026-05-28T20:26:40Z");
        assert_eq!(records[0]["confirmed_unix"], t0);
        assert_eq!(records[1]["type"], "AAAA");
        assert!(records[1]["address"].is_null() && records[1]["confirmed_at"].is_null());
        assert_eq!(v["last_confirmed_at"], "2026-05-28T20:26:40Z");
        assert_eq!(v["reread_after"], "2026-05-29T02:26:40Z");
        assert_eq!(v["next_round"]["at"], "2026-05-28T20:30:00Z");
        assert_eq!(v["next_round"]["cron"], "*/5 * * * *");
        assert!(v["next_round"]["interval_seconds"].is_null());

        // An empty cache and an interval: nothing confirmed, the next round after the last.
        let c = config("[[record]]\nname = \"a.example.com\"\nipv6 = false\n");
        let (v, complete) = json(&c, &State::default(), at(t0));
        assert!(!complete);
        assert!(v["last_confirmed_at"].is_null() && v["reread_after"].is_null());
        assert!(v["records"][0]["zone"].is_null(), "{v}");
        assert!(v["next_round"]["at"].is_null());
        assert_eq!(v["next_round"]["interval_seconds"], 300);
    }
}
