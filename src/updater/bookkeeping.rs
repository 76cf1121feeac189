//! State bookkeeping: what the cache ([`State`]) remembers after a round. The entry of each
//! (name, type) Cloudflare confirmed, the ids of the records ddflare created (all that
//! `delete_on_stop` may ever delete), the zones to look up again after a refusal, and saving
//! it. The results of [`super::apply`]'s calls come back here and become cache entries and
//! report lines. An id in the cache that is not of the API's shape (a damaged or planted file)
//! is forgotten before it can reach a URL.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use tracing::warn;

use super::apply::Applied;
use super::freshness::settings_of;
use super::lines::{decision, find, line, note_rate_limit, push_failed, ray};
use crate::cloudflare::{ApiError, ErrorKind, Record, Zone, is_id, shown_id};
use crate::maps;
use crate::plan::{Change, Desired};
use crate::round::{Outcome, RoundReport};
use crate::state::{self, Created, Entry, State};

/// Saves the cache, unless this is a dry run (which saves nothing). A failure is only a
/// warning: the next start reads the records from Cloudflare again.
pub(super) fn save(state: &State, dir: &Path, dry_run: bool) {
    if dry_run {
        return;
    }
    if let Err(e) = state.save(dir) {
        warn!(
            "cannot save the state in {}: {e}; the next start re-reads the records from Cloudflare",
            dir.display()
        );
    }
}

/// Forgets what the cache holds under an id that is not of the API's shape: a zone is looked
/// up again, a record read again; a created record is no longer deleted on stop (it could not
/// be named safely).
pub(super) fn forget_bad_ids(state: &mut State) {
    let mut bad: Vec<String> = Vec::new();
    let mut keep = |ok: bool, what: &str, id: &str, of: &str| {
        if !ok {
            bad.push(format!(
                "{what} `{}` (for {})",
                shown_id(id),
                of.escape_debug()
            ));
        }
        ok
    };
    maps::retain(&mut state.zones, |name, z| {
        keep(is_id(&z.id), "zone id", &z.id, name)
    });
    maps::retain(&mut state.records, |key, e| {
        keep(is_id(&e.id), "record id", &e.id, key)
    });
    maps::retain(&mut state.created, |id, c| {
        let ok = is_id(id) && is_id(&c.zone.id);
        keep(ok, "created record", id, &c.name)
    });
    if !bad.is_empty() {
        warn!(
            "the state file holds {} that {} (32 lowercase hex characters): forgotten, so Cloudflare is asked again",
            bad.join(", "),
            if bad.len() == 1 {
                "is not a Cloudflare id"
            } else {
                "are not Cloudflare ids"
            }
        );
    }
}

/// `d` is on Cloudflare as record `id`, as of `now`.
pub(super) fn remember(state: &mut State, d: &Desired, id: String, now: u64) {
    state.records.insert(
        state::key(&d.name, d.rtype),
        Entry {
            id,
            content: d.content,
            settings: settings_of(d),
            synced_at: now,
        },
    );
}

/// Drops a created record from the cache: its id, and its entry when it was the published
/// one (so the next start creates the record again).
pub(super) fn forget_created(state: &mut State, id: &str, c: &Created) {
    maps::remove(&mut state.created, id);
    let key = state::key(&c.name, &c.rtype);
    if state.records.get(&key).is_some_and(|e| e.id == id) {
        maps::remove(&mut state.records, &key);
    }
}

/// Forgets the created ids of this zone's managed (name, type)s that Cloudflare no longer
/// lists (deleted in the dashboard, or by ddflare as a duplicate).
pub(super) fn prune_created(
    state: &mut State,
    zone: &Zone,
    desired: &[Desired],
    existing: &[Record],
) {
    maps::retain(&mut state.created, |id, c| {
        c.zone.id != zone.id
            || !desired
                .iter()
                .any(|d| d.name == c.name && d.rtype == c.rtype)
            || existing.iter().any(|r| &r.id == id)
    });
}

/// Reading a zone's records failed: every (name, type) of it failed, and a zone that refused
/// or is unknown is looked up again next round.
pub(super) fn zone_failed(
    state: &mut State,
    zone: &Zone,
    desired: &[Desired],
    e: &ApiError,
    report: &mut RoundReport,
) {
    if matches!(
        e.kind,
        ErrorKind::Forbidden | ErrorKind::BadIdentifier | ErrorKind::NotFound
    ) {
        for d in desired {
            maps::remove(&mut state.zones, &d.name);
        }
    }
    note_rate_limit(report, e);
    let ray = ray(e);
    for d in desired {
        push_failed(
            report,
            d,
            e.to_string(),
            e.hint(),
            Some(&zone.name),
            ray.as_deref(),
        );
    }
}

/// What the calls of one zone did: the cache entries and created ids they leave, and a line
/// per (name, type). A failed change drops its entry, so the next round looks again.
pub(super) fn record_results(
    state: &mut State,
    zone: &Zone,
    desired: &[Desired],
    results: Vec<Applied>,
    now: u64,
    report: &mut RoundReport,
) {
    let mut deleted: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (change, result) in results {
        let (name, rtype) = change.key();
        let Some(d) = find(desired, name, rtype) else {
            continue;
        };
        match (result, &change) {
            (Err(e), _) => {
                if e.kind == ErrorKind::Forbidden || e.kind == ErrorKind::BadIdentifier {
                    maps::remove(&mut state.zones, &d.name);
                }
                note_rate_limit(report, &e);
                push_failed(
                    report,
                    d,
                    e.to_string(),
                    e.hint(),
                    Some(&zone.name),
                    ray(&e).as_deref(),
                );
                maps::remove(&mut state.records, &state::key(&d.name, d.rtype));
            }
            (Ok(rec), Change::Create(_)) => {
                if let Some(rec) = rec {
                    state.created.insert(
                        rec.id.clone(),
                        Created {
                            zone: zone.clone(),
                            name: d.name.clone(),
                            rtype: d.rtype.to_owned(),
                        },
                    );
                    remember(state, d, rec.id, now);
                }
                let l = line(d, Outcome::Created);
                decision!(change info, &l, Some(&zone.name), None);
                report.lines.push(l);
            }
            (Ok(_), Change::Update { id, from, .. }) => {
                remember(state, d, id.clone(), now);
                let outcome = if from.parse::<IpAddr>().ok() == Some(d.content) {
                    Outcome::Updated {
                        from: "settings".into(),
                    }
                } else {
                    Outcome::Updated { from: from.clone() }
                };
                let l = line(d, outcome);
                decision!(change info, &l, Some(&zone.name), None);
                report.lines.push(l);
            }
            (Ok(_), Change::Delete { id, .. }) => {
                maps::remove(&mut state.created, id);
                *deleted
                    .entry((d.name.clone(), d.rtype.to_owned()))
                    .or_default() += 1;
            }
        }
    }
    for ((name, rtype), count) in deleted {
        if let Some(d) = find(desired, &name, &rtype) {
            let l = line(d, Outcome::DuplicatesDeleted(count));
            decision!(change info, &l, Some(&zone.name), None);
            report.lines.push(l);
        }
    }
}
