//! `ddflare check`: the config, the token, each record's zone, reading its records and the
//! right to edit them, each IP list's permission, printed one line per finding with a hint where there is a next step.

use tracing::warn;

use super::exit::Verdict;
use super::out::say;
use crate::cloudflare::{
    ApiError, BatchRequest, Client, Clients, DnsApi, ErrorKind, LIST_PERMISSION,
};
use crate::config::{Config, ListConfig};
use crate::detect::ProviderSpec;
use crate::text::bounded;
use crate::updater;

/// The longest value from the API shown on a line (a status, a zone name, a record's
/// content), in characters: the answer is outside text, escaped and bounded.
const VALUE_MAX: usize = 100;

/// Checks, for each credential in turn (`[cloudflare]`'s, then each `[[credentials]]`'s, each
/// line naming it when there are several): the token (verify), then for each record using it
/// its zone, reading its records, and the right to edit them (an empty batch, which changes
/// nothing). A failed verify alone is not fatal: account-owned tokens fail
/// `/user/tokens/verify` and still work.
pub async fn check(config: &Config, apis: &Clients<Client>) -> Verdict {
    say!(
        "config: ok ({} record(s); IPv4 {}; IPv6 {})",
        config.records.len(),
        list(&config.detect.ipv4),
        list(&config.detect.ipv6)
    );
    let several = !apis.named.is_empty();
    let mut ok = true;
    // [cloudflare]'s stands in for the first named one when no record uses it.
    if !several
        || config.records.iter().any(|r| r.credentials.is_none())
        || config
            .gateway_locations
            .iter()
            .any(|g| g.credentials.is_none())
        || config.lists.iter().any(|l| l.credentials.is_none())
    {
        let p = if several {
            "credentials [cloudflare]: "
        } else {
            ""
        };
        ok &= check_one(config, None, &apis.default, p).await;
    }
    for (name, api) in &apis.named {
        let p = format!("credentials `{name}`: ");
        ok &= check_one(config, Some(name), api, &p).await;
    }
    if ok {
        say!("all checks passed");
    }
    ok.into()
}

/// The checks of one credential (`name`, `None` for `[cloudflare]`'s); `p` starts each line.
async fn check_one(config: &Config, name: Option<&str>, api: &Client, p: &str) -> bool {
    let mut ok = true;
    let verified = if api.uses_global_key() {
        say!(
            "{p}credentials: Global API Key (X-Auth-Email/X-Auth-Key); not verified: /user/tokens/verify checks API tokens only, so the zones below decide"
        );
        None
    } else {
        Some(api.verify_token().await)
    };
    match verified {
        None => {}
        Some(Ok(t)) => {
            let status = bounded(&t.status, VALUE_MAX);
            let expiry = t
                .expires_on
                .as_deref()
                .map(|e| format!(", expires {}", bounded(e, VALUE_MAX)))
                .unwrap_or_default();
            say!("{p}token: {status}{expiry}");
            let expires = t
                .expires_on
                .as_deref()
                .and_then(|e| humantime::parse_rfc3339_weak(e).ok());
            if t.status == "active"
                && let Some(w) =
                    crate::expiry::warning(&t.status, expires, std::time::SystemTime::now())
            {
                warn!("{w}");
                let (what, hint) = w.split_once("\nhint: ").unwrap_or((&w, ""));
                say!("{p}  warning: {what}");
                say!("{p}  hint: {hint}");
            }
            if t.status != "active" {
                ok = false;
                say!(
                    "{p}  hint: the token is {status}: create or re-enable one at My Profile → API Tokens"
                );
            }
        }
        Some(Err(e)) if e.kind == ErrorKind::MalformedCredentials => {
            say!("{p}token: {e}");
            if let Some(h) = e.hint() {
                say!("{p}  hint: {h}");
            }
            return false;
        }
        Some(Err(e)) => {
            say!(
                "{p}token: not verified at /user/tokens/verify ({e}); an account-owned token fails there and still works, so the zones decide"
            );
            if e.refused_location().is_some()
                && let Some(h) = e.hint()
            {
                say!("{p}  hint: {h}");
            }
        }
    }
    let mut calls = 0usize;
    let mut probed: Vec<String> = Vec::new();
    for rec in config
        .records
        .iter()
        .filter(|r| r.credentials.as_deref() == name)
    {
        let zone = match updater::find_zone(api, rec, &mut calls).await {
            Ok(z) => z,
            Err(e) => {
                ok = false;
                let (msg, hint) = (e.to_string(), e.hint());
                say!("{p}{}: {msg}", rec.name);
                if let Some(h) = hint {
                    say!("{p}  hint: {h}");
                }
                continue;
            }
        };
        let label = bounded(
            if zone.name.is_empty() {
                &zone.id
            } else {
                &zone.name
            },
            VALUE_MAX,
        );
        let zone_id = bounded(&zone.id, VALUE_MAX);
        match api
            .list_records(&zone, std::slice::from_ref(&rec.name))
            .await
        {
            Ok(records) => {
                let mine: Vec<String> = records
                    .iter()
                    .filter(|r| r.rtype == "A" || r.rtype == "AAAA" || r.rtype == "CNAME")
                    .map(|r| format!("{} {}", r.rtype, bounded(&r.content, VALUE_MAX)))
                    .collect();
                let now = if mine.is_empty() {
                    "no A/AAAA record yet".to_owned()
                } else {
                    mine.join(", ")
                };
                say!(
                    "{p}{}: zone {label} ({zone_id}), DNS read ok: {now}",
                    rec.name
                );
            }
            Err(e) => {
                ok = false;
                say!("{p}{}: zone {label}: {e}", rec.name);
                if let Some(h) = e.hint() {
                    say!("{p}  hint: {h}");
                }
                continue;
            }
        }
        if probed.contains(&zone.id) {
            continue;
        }
        probed.push(zone.id.clone());
        match api.batch(&zone, &BatchRequest::default()).await {
            Ok(_) => say!("{p}zone {label}: DNS edit allowed"),
            Err(e) => {
                ok = false;
                say!("{p}zone {label}: DNS edit refused: {e}");
                if let Some(h) = e.hint() {
                    say!("{p}  hint: {h}");
                }
            }
        }
    }
    // Gateway locations: read only. The write proof would be a PUT of the whole location,
    // which could undo a dashboard edit made at the same moment.
    for g in config
        .gateway_locations
        .iter()
        .filter(|g| g.credentials.as_deref() == name)
    {
        let id = &g.location_id;
        match api.gateway_location(&g.account_id, id).await {
            Ok(loc) => {
                let nets: Vec<String> = loc
                    .get("networks")
                    .and_then(|n| n.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.get("network").and_then(|v| v.as_str()))
                            .map(|n| bounded(n, 64))
                            .collect()
                    })
                    .unwrap_or_default();
                let label = loc
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map_or_else(String::new, |n| format!(" ({})", bounded(n, VALUE_MAX)));
                say!(
                    "{p}gateway location {id}{label}: read ok, networks: {}; editing is not tried (a write replaces the whole location)",
                    if nets.is_empty() {
                        "none".to_owned()
                    } else {
                        nets.join(", ")
                    }
                );
            }
            Err(e) => {
                ok = false;
                say!("{p}gateway location {id}: {e}");
                say!(
                    "{p}  hint: give the token Account → Zero Trust → Edit on account {} (My Profile → API Tokens)",
                    g.account_id
                );
            }
        }
    }
    for l in config
        .lists
        .iter()
        .filter(|l| l.credentials.as_deref() == name)
    {
        ok &= check_list(api, l, p).await;
    }
    ok
}

/// One `[[list]]`: reading the account's lists, then the list's description written back
/// unchanged (a write that changes nothing, proving Account → Account Filter Lists → Edit).
/// A list not there yet is created by the first round.
async fn check_list(api: &Client, l: &ListConfig, p: &str) -> bool {
    let refused = |what: &str, e: &ApiError| {
        say!("{p}list {}: {what}: {e}", l.name);
        if let Some(h) = e.hint() {
            say!("{p}  hint: {h}");
        }
        false
    };
    let lists = match api.ip_lists(&l.account_id).await {
        Ok(lists) => lists,
        Err(e) => return refused("reading the account's lists failed", &e),
    };
    let Some(found) = lists.into_iter().find(|x| x.name == l.name) else {
        say!(
            "{p}list {}: reading the account's lists ok; the list does not exist yet, the first round creates it (which needs {LIST_PERMISSION})",
            l.name
        );
        return true;
    };
    if found.kind != "ip" {
        say!(
            "{p}list {}: holds `{}` items, not IP addresses",
            l.name,
            bounded(&found.kind, 20)
        );
        say!("{p}  hint: name another list in `[[list]] name`");
        return false;
    }
    match api
        .put_list_description(&l.account_id, &found.id, &found.description)
        .await
    {
        Ok(_) => {
            say!("{p}list {}: edit allowed ({LIST_PERMISSION})", l.name);
            true
        }
        Err(e) => refused("edit refused", &e),
    }
}

fn list(specs: &[ProviderSpec]) -> String {
    if specs.is_empty() {
        "off".into()
    } else {
        specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
