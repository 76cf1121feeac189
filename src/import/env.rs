//! favonia's cloudflare-ddns and timothymiller's cloudflare-ddns v2: both are configured by
//! environment variables, mostly the same ones (timothymiller's v2 adopted favonia's names).

use std::collections::BTreeSet;

use super::out::{From, Toml, q, shown};
use crate::notify::target::{Events, Target};

/// The variables read from the process environment (a file's other keys are reported).
pub const KNOWN: &[&str] = &[
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_TOKEN_FILE",
    "CF_API_TOKEN",
    "CF_API_TOKEN_FILE",
    "DOMAINS",
    "IP4_DOMAINS",
    "IP6_DOMAINS",
    "IP4_PROVIDER",
    "IP6_PROVIDER",
    "IP4_POLICY",
    "IP6_POLICY",
    "PROXIED",
    "TTL",
    "UPDATE_CRON",
    "UPDATE_ON_START",
    "DELETE_ON_STOP",
    "CACHE_EXPIRATION",
    "DETECTION_TIMEOUT",
    "UPDATE_TIMEOUT",
    "RECORD_COMMENT",
    "MANAGED_RECORDS_COMMENT_REGEX",
    "SHOUTRRR",
    "HEALTHCHECKS",
    "UPTIMEKUMA",
    "QUIET",
    "EMOJI",
    "TZ",
    "PUID",
    "PGID",
    "WAF_LISTS",
    "WAF_LIST_DESCRIPTION",
    "WAF_LIST_ITEM_COMMENT",
    "MANAGED_WAF_LIST_ITEMS_COMMENT_REGEX",
];

/// `KEY=value` lines of an env file (`export KEY=value` and a compose list's `- KEY=value`
/// too); `#` comments and blank lines skipped; one pair of matching quotes removed.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("- ").unwrap_or(l).trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = [('"', '"'), ('\'', '\'')]
                .iter()
                .find_map(|(a, b)| v.strip_prefix(*a)?.strip_suffix(*b))
                .unwrap_or(v);
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

/// Go's `strconv.ParseBool`, which both tools use.
fn go_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A provider of theirs as ddflare's, or why not.
fn provider(v: &str, v6: bool) -> Result<String, String> {
    let v = v.trim();
    let (kind, arg) = v.split_once(':').unwrap_or((v, ""));
    Ok(match kind {
        "cloudflare.trace" | "cloudflare" => "cloudflare.trace".to_owned(),
        "cloudflare.doh" => "cloudflare.doh".to_owned(),
        "local" => "local".to_owned(),
        "none" => "none".to_owned(),
        "ipify" if v6 => "url:https://api6.ipify.org".to_owned(),
        "ipify" => "url:https://api4.ipify.org".to_owned(),
        "local.iface" if !arg.is_empty() => format!("interface:{arg}"),
        "url" if !arg.is_empty() => format!("url:{arg}"),
        "url.via4" if !arg.is_empty() => format!("url4:{arg}"),
        "url.via6" if !arg.is_empty() => format!("url6:{arg}"),
        "file" if !arg.is_empty() => format!("file:{arg}"),
        "static" | "literal" if !arg.is_empty() && !arg.contains(',') => format!("static:{arg}"),
        "static" | "literal" => {
            return Err("several static addresses (ddflare publishes one per family)".to_owned());
        }
        _ => return Err("a provider ddflare does not have".to_owned()),
    })
}

/// `UPDATE_CRON` as `[schedule]` lines, or why not.
fn schedule(v: &str) -> Result<String, String> {
    let v = v.trim();
    if let Some(d) = v.strip_prefix("@every ") {
        return Ok(format!("interval = {}", q(d.trim())));
    }
    let cron = match v {
        "@once" => {
            return Err("`@once`: run `ddflare once` (from cron or a systemd timer) instead of `ddflare run`".to_owned());
        }
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        v if v.split_whitespace().count() == 5 => v,
        _ => return Err("not a 5-field cron expression or `@every DURATION`".to_owned()),
    };
    Ok(format!("cron = {}", q(cron)))
}

/// Whitespace-separated URLs (favonia takes one per line).
fn urls(v: &str) -> Vec<&str> {
    v.split_whitespace().collect()
}

pub fn convert(tool: From, pairs: &[(String, String)], report_unknown: bool, inline: bool) -> Toml {
    let mut t = Toml::default();
    let who = match tool {
        From::Timothymiller => "timothymiller's cloudflare-ddns (v2, environment variables)",
        _ => "favonia's cloudflare-ddns",
    };
    t.note(format!("ddflare.toml made by `ddflare import` from {who}."));
    t.note("Check it with `ddflare check --config THIS_FILE`; docs/configuration.md explains each key.");
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    };

    // Secrets: by reference unless asked.
    let token = get("CLOUDFLARE_API_TOKEN").map(|v| ("CLOUDFLARE_API_TOKEN", v));
    let token = token.or_else(|| get("CF_API_TOKEN").map(|v| ("CF_API_TOKEN", v)));
    let token_file = get("CLOUDFLARE_API_TOKEN_FILE").or_else(|| get("CF_API_TOKEN_FILE"));
    match (token_file, token) {
        (Some(f), _) => t.put("[cloudflare]", format!("api_token_file = {}", q(f.trim()))),
        (None, Some((_, v))) if inline => {
            t.put("[cloudflare]", format!("api_token = {}", q(v.trim())));
        }
        (None, Some((name, _))) => {
            t.put("[cloudflare]", "# The token is not written here: ddflare reads CLOUDFLARE_API_TOKEN from its environment,".to_owned());
            t.put("[cloudflare]", "# as before; or write it to a file (chmod 600) and set api_token_file. --inline-secrets writes it here.".to_owned());
            if name == "CF_API_TOKEN" {
                t.put(
                    "[cloudflare]",
                    "# Rename CF_API_TOKEN to CLOUDFLARE_API_TOKEN.".to_owned(),
                );
            }
            t.put(
                "[cloudflare]",
                "# api_token_file = \"/run/secrets/cloudflare_api_token\"".to_owned(),
            );
        }
        (None, None) => t.put(
            "[cloudflare]",
            "# No token was given: set CLOUDFLARE_API_TOKEN or api_token_file.".to_owned(),
        ),
    }

    // Detection.
    for (keys, family, v6) in [
        (["IP4_PROVIDER", "IP4_POLICY"], "ipv4", false),
        (["IP6_PROVIDER", "IP6_POLICY"], "ipv6", true),
    ] {
        let Some((key, v)) = keys.iter().find_map(|k| get(k).map(|v| (*k, v))) else {
            continue;
        };
        match provider(v, v6) {
            Ok(p) => t.put("[detect]", format!("{family} = [{}]", q(&p))),
            Err(why) => t.skip(format!("{key}={} ({why})", shown(v))),
        }
    }
    if let Some(v) = get("DETECTION_TIMEOUT") {
        t.put("[detect]", format!("timeout = {}", q(v.trim())));
    }
    if let Some(v) = get("UPDATE_TIMEOUT") {
        t.put("[cloudflare]", format!("request_timeout = {}", q(v.trim())));
    }

    // Schedule.
    let mut cron = false;
    if let Some(v) = get("UPDATE_CRON") {
        match schedule(v) {
            Ok(line) => {
                cron = line.starts_with("cron");
                t.put("[schedule]", line);
            }
            Err(why) => t.skip(format!("UPDATE_CRON={} ({why})", shown(v))),
        }
    }
    match get("TZ").map(str::trim) {
        Some(tz) if cron && !tz.eq_ignore_ascii_case("utc") => {
            t.put("[schedule]", format!("timezone = {}", q(tz)));
        }
        Some(_) if !cron => t.skip("TZ (only the log's times used it; ddflare logs in UTC)"),
        _ => {}
    }
    if let Some(v) = get("UPDATE_ON_START") {
        match go_bool(v) {
            Some(b) => t.put("[schedule]", format!("update_on_start = {b}")),
            None => t.skip(format!("UPDATE_ON_START={} (not a boolean)", shown(v))),
        }
    }
    if let Some(v) = get("CACHE_EXPIRATION") {
        t.put("[state]", format!("max_age = {}", q(v.trim())));
    }

    // Record defaults.
    if let Some(v) = get("PROXIED") {
        match go_bool(v) {
            Some(b) => t.put("[defaults]", format!("proxied = {b}")),
            None => t.skip(format!(
                "PROXIED={} (a per-domain expression: set `proxied` on each [[record]])",
                shown(v)
            )),
        }
    }
    if let Some(v) = get("TTL") {
        match v.trim().parse::<u32>() {
            Ok(1) => t.put("[defaults]", "ttl = \"auto\""),
            Ok(n) if (30..=86400).contains(&n) => t.put("[defaults]", format!("ttl = {n}")),
            _ => t.skip(format!("TTL={} (expected 1 or 30..86400)", shown(v))),
        }
    }
    if let Some(v) = get("RECORD_COMMENT") {
        t.put("[defaults]", format!("comment = {}", q(v)));
    }
    if let Some(v) = get("DELETE_ON_STOP") {
        match go_bool(v) {
            Some(b) => t.put("[defaults]", format!("delete_on_stop = {b}")),
            None => t.skip(format!("DELETE_ON_STOP={} (not a boolean)", shown(v))),
        }
    }
    if get("MANAGED_RECORDS_COMMENT_REGEX").is_some() {
        t.skip("MANAGED_RECORDS_COMMENT_REGEX (ddflare's `ownership = \"comment\"` claims the records whose comment holds the word `ddflare`)");
    }
    if let Some(b) = get("QUIET").and_then(go_bool) {
        t.put("[log]", format!("quiet = {b}"));
    }
    match (get("PUID"), get("PGID")) {
        (Some(u), Some(g)) => t.put(
            "[process]",
            format!("user = {}", q(&format!("{}:{}", u.trim(), g.trim()))),
        ),
        (Some(_), None) | (None, Some(_)) => {
            t.skip("PUID/PGID (give both; `process.user = \"UID:GID\"`)")
        }
        (None, None) => {}
    }

    // Notifications and monitors.
    if let Some(v) = get("SHOUTRRR") {
        let mut ok = 0;
        for u in urls(v) {
            match Target::parse(u, None, Events::default()) {
                Ok(target) => {
                    ok += 1;
                    if inline {
                        t.table("[[notify]]", vec![format!("url = {}", q(u))]);
                    } else {
                        t.note(format!(
                            "SHOUTRRR URL {ok}: {} (kept out of this file)",
                            target.label
                        ));
                    }
                }
                Err(e) => t.skip(format!("a SHOUTRRR URL: {e}")),
            }
        }
        if ok > 0 && !inline {
            t.note("Notifications: set DDFLARE_NOTIFY to the SHOUTRRR value (the URLs hold secrets), or use --inline-secrets.");
        }
    }
    let mut monitors = Vec::new();
    for (key, kind) in [
        ("HEALTHCHECKS", "healthchecks"),
        ("UPTIMEKUMA", "uptime_kuma"),
    ] {
        if let Some(v) = get(key) {
            if inline {
                t.table(
                    "[[monitor]]",
                    vec![
                        format!("url = {}", q(v.trim())),
                        format!("kind = {}", q(kind)),
                    ],
                );
            } else {
                monitors.push(format!("${key}"));
            }
        }
    }
    if !monitors.is_empty() {
        t.note(format!(
            "Monitors: set DDFLARE_MONITOR=\"{}\" (the URLs hold secrets), or use --inline-secrets.",
            monitors.join(" ")
        ));
    }

    // Records: DOMAINS both families, IP4_DOMAINS / IP6_DOMAINS one.
    let mut names: Vec<(String, bool, bool)> = Vec::new();
    for (key, v4, v6) in [
        ("DOMAINS", true, true),
        ("IP4_DOMAINS", true, false),
        ("IP6_DOMAINS", false, true),
    ] {
        for name in get(key).unwrap_or_default().split(',').map(str::trim) {
            if name.is_empty() {
                continue;
            }
            match names.iter_mut().find(|(n, _, _)| n == name) {
                Some(e) => {
                    e.1 |= v4;
                    e.2 |= v6;
                }
                None => names.push((name.to_owned(), v4, v6)),
            }
        }
    }
    if names.is_empty() {
        t.note("No DOMAINS, IP4_DOMAINS or IP6_DOMAINS: add a [[record]] for each name.");
    }
    for (name, v4, v6) in names {
        let mut lines = vec![format!("name = {}", q(&name))];
        if !v4 {
            lines.push("ipv4 = false".to_owned());
        }
        if !v6 {
            lines.push("ipv6 = false".to_owned());
        }
        t.table("[[record]]", lines);
    }

    for key in [
        "EMOJI",
        "WAF_LISTS",
        "WAF_LIST_DESCRIPTION",
        "WAF_LIST_ITEM_COMMENT",
        "MANAGED_WAF_LIST_ITEMS_COMMENT_REGEX",
    ] {
        if get(key).is_some() {
            t.skip(format!("{key} (ddflare has no such setting)"));
        }
    }
    if report_unknown {
        // extend, not collect: BTreeSet's FromIterator sorts (a stable sort per type).
        let mut unknown = BTreeSet::new();
        unknown.extend(
            pairs
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !KNOWN.contains(k)),
        );
        for k in unknown {
            t.skip(format!("{} (not a setting ddflare knows)", shown(k)));
        }
    }
    t
}
