//! The round's IP lists (`[[list]]`): with the same cache rules as records. A list whose
//! cached content matches the addresses, with the same settings and younger than
//! `state.max_age`, costs no call; otherwise its id is found (cached, else the account's lists
//! are read and the list created when missing: a write, through [`super::apply`]), its items
//! read, the pure [`crate::plan_list`] run, and the plan applied. A family whose detection
//! failed leaves its items alone; a failure drops the list's cache entry, so the next round
//! tries again from a fresh read.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use tracing::{info, warn};

use super::apply::{apply_list, create_list};
use super::lines::{decision, note_rate_limit, ray};
use crate::cloudflare::{ApiError, Clients, DnsApi, ErrorKind, shown_id};
use crate::detect::{Detected, Family};
use crate::maps;
use crate::plan_list::{ListConfig, ListPlan, Want, item_net, plan_list};
use crate::round::{Line, Outcome, RoundReport};
use crate::state::{ListEntry, State, list_key};
use crate::text;

/// What a family asks of `list` this round.
fn want(list: &ListConfig, addrs: &BTreeMap<Family, Detected>, family: Family) -> Want {
    let on = match family {
        Family::V4 => list.ipv4,
        Family::V6 => list.ipv6,
    };
    match (on, addrs.get(&family)) {
        (false, _) => Want::Off,
        (true, Some(d)) => Want::Addr(d.addr),
        (true, None) => Want::Unknown,
    }
}

/// The settings the cache entry keeps: a change of any makes it stale.
fn settings_of(list: &ListConfig) -> String {
    let mut s = format!(
        "comment={:?};ipv4={};ipv6={}",
        list.comment, list.ipv4, list.ipv6
    );
    if let Some(c) = &list.credentials {
        s.push_str(";credentials=");
        s.push_str(c);
    }
    s
}

/// Whether the cached `entry` matches what `w` asks of its family.
fn cached_ok(w: Want, cached: Option<IpAddr>) -> bool {
    match w {
        Want::Addr(a) => cached == Some(a),
        Want::Off => cached.is_none(),
        Want::Unknown => true,
    }
}

fn label(list: &ListConfig) -> String {
    format!("list:{}", list.name)
}

fn line(list: &ListConfig, family: Family, addr: IpAddr, outcome: Outcome) -> Line {
    Line {
        name: label(list),
        rtype: family.record_type(),
        content: addr,
        outcome,
    }
}

/// Keeps every list in line with `addrs`; returns whether the cache changed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn reconcile_lists<A: DnsApi>(
    apis: &Clients<A>,
    lists: &[ListConfig],
    addrs: &BTreeMap<Family, Detected>,
    state: &mut State,
    now: u64,
    max_age: Duration,
    dry_run: bool,
    report: &mut RoundReport,
) -> bool {
    let mut changed = false;
    for list in lists {
        let wants = [
            (Family::V4, want(list, addrs, Family::V4)),
            (Family::V6, want(list, addrs, Family::V6)),
        ];
        let key = list_key(&list.account_id, &list.name);
        let settings = settings_of(list);
        let fresh = state.lists.get(&key).is_some_and(|e| {
            e.settings == settings
                && e.synced_at <= now.saturating_add(crate::state::FUTURE_SLACK_SECS)
                && now.saturating_sub(e.synced_at) < max_age.as_secs()
                && cached_ok(wants[0].1, e.v4)
                && cached_ok(wants[1].1, e.v6)
        });
        if fresh {
            for (family, w) in wants {
                if let Want::Addr(a) = w {
                    let l = line(list, family, a, Outcome::Cached);
                    decision!(debug, &l, None, None);
                    report.lines.push(l);
                }
            }
            continue;
        }
        if wants.iter().all(|(_, w)| *w == Want::Unknown) {
            continue; // nothing detected for it: nothing to compare
        }
        changed = true;
        let cached_id = state.lists.get(&key).map(|e| e.id.clone());
        let api = apis.get(list.credentials.as_deref());
        let result = sync(api, list, &wants, cached_id, dry_run, report).await;
        match result {
            Ok((id, plan)) => {
                let before = state.lists.get(&key).cloned();
                let kept = |family: Family, w: Want| match w {
                    Want::Addr(a) => Some(a),
                    Want::Off => None,
                    Want::Unknown => before.as_ref().and_then(|e| match family {
                        Family::V4 => e.v4,
                        Family::V6 => e.v6,
                    }),
                };
                report_plan(list, &wants, &plan, dry_run, report);
                if !dry_run {
                    state.lists.insert(
                        key,
                        ListEntry {
                            id,
                            v4: kept(Family::V4, wants[0].1),
                            v6: kept(Family::V6, wants[1].1),
                            settings,
                            synced_at: now,
                        },
                    );
                }
            }
            Err(e) => {
                maps::remove(&mut state.lists, &key);
                note_rate_limit(report, &e);
                let (error, hint) = (e.to_string(), e.hint());
                let cf_ray = ray(&e);
                for (family, w) in wants {
                    if let Want::Addr(a) = w {
                        let l = line(
                            list,
                            family,
                            a,
                            Outcome::Failed {
                                error: error.clone(),
                                hint: hint.clone(),
                            },
                        );
                        decision!(warn, &l, None, cf_ray.as_deref());
                        report.lines.push(l);
                    }
                }
                if let Some(h) = &hint {
                    warn!("hint: {h}");
                }
            }
        }
    }
    changed
}

/// Reads (creating the list when missing), plans and applies one list; returns its id and the
/// plan made.
async fn sync<A: DnsApi>(
    api: &A,
    list: &ListConfig,
    wants: &[(Family, Want); 2],
    cached_id: Option<String>,
    dry_run: bool,
    report: &mut RoundReport,
) -> Result<(String, ListPlan), ApiError> {
    let account = list.account_id.as_str();
    let mut id = cached_id;
    let mut items = None;
    if let Some(cached) = &id {
        report.api_calls += 1;
        match api.list_items(account, cached).await {
            Ok(found) => items = Some(found),
            // Deleted in the dashboard since: look it up again.
            Err(e) if e.kind == ErrorKind::NotFound => id = None,
            Err(e) => return Err(e),
        }
    }
    let items = match items {
        Some(items) => items,
        None => {
            report.api_calls += 1;
            let lists = api.ip_lists(account).await?;
            match lists.into_iter().find(|l| l.name == list.name) {
                Some(found) if found.kind != "ip" => {
                    return Err(ApiError::new(ErrorKind::Rejected, format!("keep IP list {}", list.name))
                        .with_account(account)
                        .with_detail(format!(
                            "the account's list `{}` holds `{}` items, not IP addresses: name another list in `[[list]] name`",
                            list.name,
                            text::bounded(&found.kind, 20)
                        )));
                }
                Some(found) => {
                    id = Some(found.id.clone());
                    report.api_calls += 1;
                    api.list_items(account, &found.id).await?
                }
                None if dry_run => {
                    info!("IP list {} would be created (dry run)", list.name);
                    id = Some(String::new());
                    Vec::new()
                }
                None => {
                    report.api_calls += 1;
                    let created = create_list(api, account, &list.name, &list.description).await?;
                    info!(
                        "IP list {} created in account {} (id {})",
                        list.name,
                        shown_id(account),
                        shown_id(&created.id)
                    );
                    id = Some(created.id);
                    Vec::new()
                }
            }
        }
    };
    let id = id.unwrap_or_default();
    let plan = plan_list(wants[0].1, wants[1].1, &items, &list.comment);
    if !dry_run && !plan.is_empty() {
        apply_list(
            api,
            account,
            &id,
            &plan,
            &list.comment,
            &mut report.api_calls,
        )
        .await?;
    }
    Ok((id, plan))
}

/// One line per detected family: created (added), updated (added, an old item of ours
/// removed), unchanged; or what a dry run would do.
fn report_plan(
    list: &ListConfig,
    wants: &[(Family, Want); 2],
    plan: &ListPlan,
    dry_run: bool,
    report: &mut RoundReport,
) {
    let mut updated = 0;
    for (family, w) in wants {
        let Want::Addr(a) = *w else {
            continue;
        };
        let from = plan
            .removed
            .iter()
            .map(|(_, ip)| ip)
            .find(|ip| item_net(ip).is_some_and(|(x, _)| x.is_ipv4() == a.is_ipv4()));
        let added = plan.add.contains(&a);
        let outcome = match (added, from, dry_run) {
            (false, _, _) => Outcome::Unchanged,
            (true, _, true) => Outcome::Planned("added".into()),
            (true, None, false) => Outcome::Created,
            (true, Some(f), false) => {
                updated += 1;
                Outcome::Updated {
                    from: text::bounded(f, 50),
                }
            }
        };
        let l = line(list, *family, a, outcome);
        if matches!(l.outcome, Outcome::Unchanged) {
            decision!(info, &l, None, None);
        } else {
            decision!(change info, &l, None, None);
        }
        report.lines.push(l);
    }
    let others = plan.removed.len().saturating_sub(updated);
    if others > 0 {
        info!(
            "IP list {}: {others} other item(s) of ddflare's {}",
            list.name,
            if dry_run {
                "would be removed (dry run)"
            } else {
                "removed"
            }
        );
    }
}
