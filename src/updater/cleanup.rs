//! `delete_on_stop`: on shutdown, deletes the records ddflare created for the names that ask
//! for it, and only those: an id in the cache's created list, still listed by Cloudflare, and
//! in comment mode still carrying the marker. Each zone is read first; a record that cannot be
//! confirmed is left in place. A dry run deletes nothing. The deletes go through
//! [`super::apply`], the one module that writes to Cloudflare.

use std::collections::BTreeMap;
use std::path::Path;

use tracing::{debug, info, warn};

use super::apply;
use super::bookkeeping::{forget_created, save};
use super::desired::asks_for;
use super::lines::ray;
use crate::cloudflare::{Clients, DnsApi, ErrorKind, Zone};
use crate::config::RecordConfig;
use crate::maps;
use crate::plan::{MARKER, Ownership};
use crate::state::{Created, State};

/// What [`super::Updater::delete_created`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub deleted: usize,
    /// Created by ddflare, but no longer carrying the marker (comment mode): left in place.
    pub kept: usize,
    /// Could not be confirmed or deleted: left in place.
    pub failed: usize,
}

/// A created record `delete_on_stop` looks at: its id, what it is, and its name's ownership.
type Doomed = (String, Created, Ownership);

/// Deletes what `delete_on_stop` asks for (see the module doc), forgets it in `state`, and
/// saves `state` in `state_dir` when it went as far as deleting.
pub(super) async fn delete_created<A: DnsApi>(
    apis: &Clients<A>,
    records: &[RecordConfig],
    state: &mut State,
    state_dir: &Path,
    dry_run: bool,
) -> Cleanup {
    let mut out = Cleanup::default();
    // By credentials and zone: each record's zone is read and written with its own token.
    let mut by_zone: BTreeMap<(Option<String>, String), (Zone, Vec<Doomed>)> = BTreeMap::new();
    for (id, c) in &state.created {
        let Some(rec) = records
            .iter()
            .find(|r| r.delete_on_stop && asks_for(r, &c.name, &c.rtype))
        else {
            continue;
        };
        by_zone
            .entry((rec.credentials.clone(), c.zone.id.clone()))
            .or_insert_with(|| (c.zone.clone(), Vec::new()))
            .1
            .push((id.clone(), c.clone(), rec.ownership));
    }
    if by_zone.is_empty() {
        return out;
    }
    if dry_run {
        for (_, list) in by_zone.values() {
            for (id, c, _) in list {
                info!(
                    name = c.name.as_str(),
                    "type" = c.rtype.as_str(),
                    zone = c.zone.name.as_str(),
                    outcome = "planned",
                    "{} {} ({id}) would be deleted on stop (dry run)",
                    c.name,
                    c.rtype
                );
            }
        }
        return out;
    }
    for ((credentials, _), (zone, list)) in by_zone {
        let api = apis.get(credentials.as_deref());
        let mut names: Vec<String> = list.iter().map(|(_, c, _)| c.name.clone()).collect();
        names.sort_unstable(); // equal strings are indistinguishable: the cheaper sort
        names.dedup();
        let existing = match api.list_records(&zone, &names).await {
            Ok(records) => records,
            Err(e) => {
                warn!(
                    "delete_on_stop: could not confirm the records ddflare created in {}, so they are left in place: {e}",
                    zone.name
                );
                out.failed += list.len();
                continue;
            }
        };
        for (id, c, ownership) in list {
            let Some(r) = existing.iter().find(|r| r.id == id) else {
                debug!("{} {} ({id}) is gone already", c.name, c.rtype);
                forget_created(state, &id, &c);
                continue;
            };
            if !ownership.owns(r.comment.as_deref()) {
                warn!(
                    "delete_on_stop: {} {} {} is left in place: its comment no longer holds `{MARKER}`, so it is not ddflare's any more",
                    c.name, c.rtype, r.content
                );
                maps::remove(&mut state.created, &id);
                out.kept += 1;
                continue;
            }
            match apply::delete(api, &zone, &id).await {
                Ok(()) => {
                    info!(
                        target: "ddflare::change",
                        name = c.name.as_str(),
                        "type" = c.rtype.as_str(),
                        from = r.content.as_str(),
                        zone = zone.name.as_str(),
                        outcome = "deleted",
                        "{} {} {} deleted (delete_on_stop)",
                        c.name,
                        c.rtype,
                        r.content
                    );
                    forget_created(state, &id, &c);
                    out.deleted += 1;
                }
                Err(e) if e.kind == ErrorKind::NotFound => forget_created(state, &id, &c),
                Err(e) => {
                    warn!(
                        name = c.name.as_str(),
                        "type" = c.rtype.as_str(),
                        from = r.content.as_str(),
                        zone = zone.name.as_str(),
                        outcome = "failed",
                        error = %e,
                        hint = e.hint().as_deref(),
                        cf_ray = ray(&e).as_deref(),
                        "delete_on_stop: {} {} {} was not deleted: {e}",
                        c.name,
                        c.rtype,
                        r.content
                    );
                    out.failed += 1;
                }
            }
        }
    }
    save(state, state_dir, dry_run);
    out
}
