//! `ddflare check`: the config, the token, each record's zone, reading its records and the
//! right to edit them, each IP list's permission, printed one line per finding with a hint where there is a next step.

use tracing::warn;

use super::exit::Verdict;
use super::out::say;
use crate::cloudflare::{ApiError, BatchRequest, Client, DnsApi, ErrorKind, LIST_PERMISSION};
use crate::config::{Config, ListConfig};
use crate::detect::ProviderSpec;
use crate::text::bounded;
use crate::updater;

/// The longest value from the API shown on a line (a status, a zone name, a record's
/// content), in characters: the answer is outside text, escaped and bounded.
const VALUE_MAX: usize = 100;

/// Checks, in order: the token (verify), then for each record its zone, reading its records,
/// and the right to edit them (an empty batch, which changes nothing). A failed verify alone
/// is not fatal: account-owned tokens fail `/user/tokens/verify` and still work.
pub async fn check(config: &Config, api: &Client) -> Verdict {
    let mut ok = true;
    say!(
        "config: ok ({} record(s); IPv4 {}; IPv6 {})",
        config.records.len(),
        list(&config.detect.ipv4),
        list(&config.detect.ipv6)
    );
    let verified = if api.uses_global_key() {
        say!(
            "credentials: Global API Key (X-Auth-Email/X-Auth-Key); not verified: /user/tokens/verify checks API tokens only, so the zones below decide"
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
            say!("token: {status}{expiry}");
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
                say!("  warning: {what}");
                say!("  hint: {hint}");
            }
            if t.status != "active" {
                ok = false;
                say!(
                    "  hint: the token is {status}: create or re-enable one at My Profile → API Tokens"
                );
            }
        }
        Some(Err(e)) if e.kind == ErrorKind::MalformedCredentials => {
            say!("token: {e}");
            if let Some(h) = e.hint() {
                say!("  hint: {h}");
            }
            return Verdict::Failed;
        }
        Some(Err(e)) => {
            say!(
                "token: not verified at /user/tokens/verify ({e}); an account-owned token fails there and still works, so the zones decide"
            );
            if e.refused_location().is_some()
                && let Some(h) = e.hint()
            {
                say!("  hint: {h}");
            }
        }
    }
    let mut calls = 0usize;
    let mut probed: Vec<String> = Vec::new();
    for rec in &config.records {
        let zone = match updater::find_zone(api, rec, &mut calls).await {
            Ok(z) => z,
            Err(e) => {
                ok = false;
                let (msg, hint) = (e.to_string(), e.hint());
                say!("{}: {msg}", rec.name);
                if let Some(h) = hint {
                    say!("  hint: {h}");
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
                say!("{}: zone {label} ({zone_id}), DNS read ok: {now}", rec.name);
            }
            Err(e) => {
                ok = false;
                say!("{}: zone {label}: {e}", rec.name);
                if let Some(h) = e.hint() {
                    say!("  hint: {h}");
                }
                continue;
            }
        }
        if probed.contains(&zone.id) {
            continue;
        }
        probed.push(zone.id.clone());
        match api.batch(&zone, &BatchRequest::default()).await {
            Ok(_) => say!("zone {label}: DNS edit allowed"),
            Err(e) => {
                ok = false;
                say!("zone {label}: DNS edit refused: {e}");
                if let Some(h) = e.hint() {
                    say!("  hint: {h}");
                }
            }
        }
    }
    for l in &config.lists {
        ok &= check_list(api, l).await;
    }
    if ok {
        say!("all checks passed");
    }
    ok.into()
}

/// One `[[list]]`: reading the account's lists, then the list's description written back
/// unchanged (a write that changes nothing, proving Account → Account Filter Lists → Edit).
/// A list not there yet is created by the first round.
async fn check_list(api: &Client, l: &ListConfig) -> bool {
    let refused = |what: &str, e: &ApiError| {
        say!("list {}: {what}: {e}", l.name);
        if let Some(h) = e.hint() {
            say!("  hint: {h}");
        }
        false
    };
    let lists = match api.ip_lists(&l.account_id).await {
        Ok(lists) => lists,
        Err(e) => return refused("reading the account's lists failed", &e),
    };
    let Some(found) = lists.into_iter().find(|x| x.name == l.name) else {
        say!(
            "list {}: reading the account's lists ok; the list does not exist yet, the first round creates it (which needs {LIST_PERMISSION})",
            l.name
        );
        return true;
    };
    if found.kind != "ip" {
        say!(
            "list {}: holds `{}` items, not IP addresses",
            l.name,
            bounded(&found.kind, 20)
        );
        say!("  hint: name another list in `[[list]] name`");
        return false;
    }
    match api
        .put_list_description(&l.account_id, &found.id, &found.description)
        .await
    {
        Ok(_) => {
            say!("list {}: edit allowed ({LIST_PERMISSION})", l.name);
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
