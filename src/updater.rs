//! One round: the detected addresses → compare with the cache → for what changed (or what is
//! older than `state.max_age`), find the zone, read the records, plan, apply, and cache the
//! result. A name that fails does not stop the others; a family that was not detected is left
//! as it is on Cloudflare.
//!
//! In comment mode (`ownership = "comment"`), records without ddflare's marker are reported
//! (a warning when what was found changes, not every round) and never touched; a name holding
//! only such records is skipped, not given a second record. Records ddflare creates are
//! remembered by id in the cache, so [`Updater::delete_created`] (`delete_on_stop`) removes
//! those and nothing else.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{debug, info, warn};

use crate::cloudflare::{
    ApiError, BATCH_LIMIT, BatchPatch, BatchRequest, DnsApi, ErrorKind, IdOnly, Record, Zone,
};
use crate::config::RecordConfig;
use crate::detect::{Detected, Family};
use crate::plan::{self, Change, Desired, MARKER, Ownership};
use crate::round::{Line, Outcome, RoundReport};
use crate::state::{self, Created, Entry, State};

/// Options of an [`Updater`].
#[derive(Debug, Clone)]
pub struct Options {
    pub state_dir: PathBuf,
    pub max_age: Duration,
    /// Plan and report, change nothing, save nothing.
    pub dry_run: bool,
}

/// What [`Updater::delete_created`] did.
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

/// Keeps the configured records in line with the detected addresses.
pub struct Updater<A> {
    api: A,
    records: Vec<RecordConfig>,
    opts: Options,
    state: State,
    /// Unmarked records last reported per `"name/TYPE"` (comment mode), so the warning comes
    /// once per change, not every round.
    reported: BTreeMap<String, String>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn settings_of(d: &Desired) -> String {
    let mut s = format!(
        "ttl={:?};proxied={:?};comment={:?}",
        d.ttl, d.proxied, d.comment
    );
    // Only comment mode adds a part, so the caches written before ownership existed stay fresh.
    if d.ownership == Ownership::Comment {
        s.push_str(";ownership=comment");
    }
    s
}

/// The family whose records have this type.
fn family_of(rtype: &str) -> Option<Family> {
    Family::ALL.into_iter().find(|f| f.record_type() == rtype)
}

/// Why a name's zone could not be found.
#[derive(Debug, Clone)]
pub enum ZoneError {
    Api(ApiError),
    NotFound { tried: Vec<String> },
    Ambiguous { name: String, count: usize },
}

impl ZoneError {
    /// The message and the hint, for the record named `record`.
    pub fn message(&self, record: &str) -> (String, Option<String>) {
        match self {
            ZoneError::Api(e) => (e.to_string(), e.hint()),
            ZoneError::NotFound { tried } => (
                format!(
                    "no zone found for {record} (asked for {})",
                    tried.join(", ")
                ),
                Some(
                    "the token cannot see the zone, or the domain is not on this Cloudflare account: give the token Zone → DNS → Edit on the zone (My Profile → API Tokens → Zone Resources), or set `zone_id` on the record".to_owned(),
                ),
            ),
            ZoneError::Ambiguous { name, count } => (
                format!("{count} zones are named {name}"),
                Some("set `zone_id` on the record to pick one".to_owned()),
            ),
        }
    }
}

impl<A: DnsApi> Updater<A> {
    /// `state` is what [`State::load`] returned.
    pub fn new(api: A, records: Vec<RecordConfig>, opts: Options, mut state: State) -> Self {
        // A created record whose name or family left the config is not ddflare's concern any
        // more: forgetting it means `delete_on_stop` can never delete it.
        state.created.retain(|_, c| {
            records
                .iter()
                .any(|r| r.name == c.name && family_of(&c.rtype).is_some_and(|f| wants(r, f)))
        });
        Updater {
            api,
            records,
            opts,
            state,
            reported: BTreeMap::new(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn api(&self) -> &A {
        &self.api
    }

    /// Saves the cache now (on shutdown: a round cut short may have changed it).
    pub fn save_state(&self) {
        if self.opts.dry_run {
            return;
        }
        if let Err(e) = self.state.save(&self.opts.state_dir) {
            warn!(
                "cannot save the state in {}: {e}; the next start re-reads the records from Cloudflare",
                self.opts.state_dir.display()
            );
        }
    }

    /// The families some record wants.
    pub fn families(&self) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| self.records.iter().any(|r| wants(r, *f)))
            .collect()
    }

    fn fresh(&self, d: &Desired, now: u64) -> bool {
        self.state
            .records
            .get(&state::key(&d.name, d.rtype))
            .is_some_and(|e| {
                e.content == d.content
                    && e.settings == settings_of(d)
                    && now.saturating_sub(e.synced_at) < self.opts.max_age.as_secs()
            })
    }

    /// One reconciliation for the addresses detected this round (a family missing from
    /// `addrs` is left alone).
    pub async fn reconcile(
        &mut self,
        addrs: &BTreeMap<Family, Detected>,
        now: SystemTime,
    ) -> RoundReport {
        let now = unix(now);
        let mut report = RoundReport::default();
        // Records whose (name, type) needs a look at Cloudflare, by record name.
        let mut dirty: BTreeMap<String, (RecordConfig, Vec<Desired>)> = BTreeMap::new();
        for rec in &self.records {
            for family in Family::ALL {
                let Some(found) = addrs.get(&family).filter(|_| wants(rec, family)) else {
                    continue;
                };
                let d = Desired {
                    name: rec.name.clone(),
                    rtype: family.record_type(),
                    content: desired_addr(rec, found),
                    ttl: rec.ttl.map(|t| t.api_value()),
                    proxied: rec.proxied,
                    comment: rec.comment.clone(),
                    ownership: rec.ownership,
                };
                if self.fresh(&d, now) {
                    let line = line(&d, Outcome::Cached);
                    debug!("{line}");
                    report.lines.push(line);
                } else {
                    dirty
                        .entry(rec.name.clone())
                        .or_insert_with(|| (rec.clone(), Vec::new()))
                        .1
                        .push(d);
                }
            }
        }
        if dirty.is_empty() {
            return report;
        }

        // Find each dirty name's zone, then work zone by zone. Several names to look up (a
        // first start, a new config) cost one listing of the token's zones rather than a
        // walk up each name's labels.
        let lookups = dirty
            .values()
            .filter(|(rec, _)| rec.zone_id.is_none() && !self.state.zones.contains_key(&rec.name))
            .count();
        let listed = if lookups >= 2 {
            self.list_zones(&mut report).await
        } else {
            None
        };
        let mut by_zone: BTreeMap<String, (Zone, Vec<Desired>)> = BTreeMap::new();
        for (name, (rec, desired)) in dirty {
            match self.zone_of(&rec, listed.as_deref(), &mut report).await {
                Ok(zone) => by_zone
                    .entry(zone.id.clone())
                    .or_insert_with(|| (zone, Vec::new()))
                    .1
                    .extend(desired),
                Err(e) => {
                    let (error, hint) = e.message(&name);
                    if let ZoneError::Api(api) = &e {
                        note_rate_limit(&mut report, api);
                    }
                    for d in desired {
                        push_failed(&mut report, &d, error.clone(), hint.clone());
                    }
                }
            }
        }
        for (_, (zone, desired)) in by_zone {
            self.reconcile_zone(&zone, &desired, now, &mut report).await;
        }
        self.save_state();
        report
    }

    /// The token's zones, if they fit in a few pages; `None` (and a lookup per name) otherwise
    /// or when the listing fails.
    async fn list_zones(&mut self, report: &mut RoundReport) -> Option<Vec<Zone>> {
        report.api_calls += 1;
        match self.api.all_zones(ZONE_LIST_PAGES).await {
            Ok(zones) => zones,
            Err(e) => {
                debug!(error = %e, "listing the zones failed; looking them up by name");
                note_rate_limit(report, &e);
                None
            }
        }
    }

    async fn zone_of(
        &mut self,
        rec: &RecordConfig,
        listed: Option<&[Zone]>,
        report: &mut RoundReport,
    ) -> Result<Zone, ZoneError> {
        if rec.zone_id.is_none()
            && let Some(zone) = self.state.zones.get(&rec.name)
        {
            return Ok(zone.clone());
        }
        let picked = match (&rec.zone_id, listed) {
            (None, Some(zones)) => pick_zone(zones, rec).cloned(),
            _ => None,
        };
        let zone = match picked {
            Some(zone) => {
                debug!(record = %rec.name, zone = %zone.name, id = %zone.id, "zone found");
                zone
            }
            // Not in the listing (or ambiguous): the lookup by name says why.
            None => find_zone(&self.api, rec, &mut report.api_calls).await?,
        };
        if rec.zone_id.is_none() {
            self.state.zones.insert(rec.name.clone(), zone.clone());
        }
        Ok(zone)
    }

    async fn reconcile_zone(
        &mut self,
        zone: &Zone,
        desired: &[Desired],
        now: u64,
        report: &mut RoundReport,
    ) {
        let mut names: Vec<String> = desired.iter().map(|d| d.name.clone()).collect();
        names.dedup();
        report.api_calls += 1;
        let existing = match self.api.list_records(zone, &names).await {
            Ok(records) => records,
            Err(e) => {
                self.zone_failed(desired, &e, report);
                return;
            }
        };
        let p = plan::plan(desired, &existing);
        self.prune_created(zone, desired, &existing);
        self.report_unowned(&p, desired, report);
        for conflict in &p.conflicts {
            let plan::Conflict::Cname { name, rtype } = conflict;
            if let Some(d) = desired
                .iter()
                .find(|d| &d.name == name && d.rtype == *rtype)
            {
                push_failed(
                    report,
                    d,
                    conflict.to_string(),
                    Some("a name cannot hold both a CNAME and A/AAAA records: delete the CNAME in the dashboard, or remove this name from ddflare's config".into()),
                );
            }
        }
        for (name, rtype, id) in &p.unchanged {
            if let Some(d) = find(desired, name, rtype) {
                self.remember(d, id.clone(), now);
                let l = line(d, Outcome::Unchanged);
                info!("{l}");
                report.lines.push(l);
            }
        }
        if p.changes.is_empty() {
            return;
        }
        if self.opts.dry_run {
            for change in &p.changes {
                let (name, rtype) = change.key();
                if let Some(d) = find(desired, name, rtype) {
                    let what = match change {
                        Change::Create(_) => "created".to_owned(),
                        Change::Update { from, .. } => format!("updated from {from}"),
                        Change::Delete { content, .. } => {
                            format!("kept, duplicate {content} deleted")
                        }
                    };
                    let l = line(d, Outcome::Planned(what));
                    info!(target: "ddflare::change", "{l}");
                    report.lines.push(l);
                }
            }
            return;
        }
        self.apply(zone, desired, p.changes, now, report).await;
    }

    /// Applies one zone's changes: one plain call when there is one change, else batch calls
    /// of at most [`BATCH_LIMIT`] (all or nothing each).
    async fn apply(
        &mut self,
        zone: &Zone,
        desired: &[Desired],
        changes: Vec<Change>,
        now: u64,
        report: &mut RoundReport,
    ) {
        // Results per (name, type): the kept record id, and what happened.
        let mut results: Vec<(Change, Result<Option<Record>, ApiError>)> = Vec::new();
        if let [single] = changes.as_slice() {
            report.api_calls += 1;
            let r = match single {
                Change::Create(new) => self.api.create_record(zone, new).await.map(Some),
                Change::Update { id, patch, .. } => {
                    self.api.patch_record(zone, id, patch).await.map(Some)
                }
                Change::Delete { id, .. } => self.api.delete_record(zone, id).await.map(|_| None),
            };
            results.push((single.clone(), r));
        } else {
            for chunk in changes.chunks(BATCH_LIMIT) {
                let mut batch = BatchRequest::default();
                for c in chunk {
                    match c {
                        Change::Create(new) => batch.posts.push(new.clone()),
                        Change::Update { id, patch, .. } => batch.patches.push(BatchPatch {
                            id: id.clone(),
                            patch: patch.clone(),
                        }),
                        Change::Delete { id, .. } => batch.deletes.push(IdOnly { id: id.clone() }),
                    }
                }
                report.api_calls += 1;
                match self.api.batch(zone, &batch).await {
                    Ok(done) => {
                        let mut posts = done.posts.into_iter();
                        for c in chunk {
                            let rec = match c {
                                Change::Create(_) => posts.next(),
                                Change::Update { id, .. } => {
                                    done.patches.iter().find(|r| &r.id == id).cloned()
                                }
                                Change::Delete { .. } => None,
                            };
                            results.push((c.clone(), Ok(rec)));
                        }
                    }
                    Err(e) => {
                        for c in chunk {
                            results.push((c.clone(), Err(e.clone())));
                        }
                    }
                }
            }
        }
        self.record_results(zone, desired, results, now, report);
    }

    fn record_results(
        &mut self,
        zone: &Zone,
        desired: &[Desired],
        results: Vec<(Change, Result<Option<Record>, ApiError>)>,
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
                        self.state.zones.remove(&d.name);
                    }
                    note_rate_limit(report, &e);
                    push_failed(report, d, e.to_string(), e.hint());
                    self.state.records.remove(&state::key(&d.name, d.rtype));
                }
                (Ok(rec), Change::Create(_)) => {
                    if let Some(rec) = rec {
                        self.state.created.insert(
                            rec.id.clone(),
                            Created {
                                zone: zone.clone(),
                                name: d.name.clone(),
                                rtype: d.rtype.to_owned(),
                            },
                        );
                        self.remember(d, rec.id, now);
                    }
                    let l = line(d, Outcome::Created);
                    info!(target: "ddflare::change", zone = %zone.name, "{l}");
                    report.lines.push(l);
                }
                (Ok(_), Change::Update { id, from, .. }) => {
                    self.remember(d, id.clone(), now);
                    let outcome = if from.parse::<IpAddr>().ok() == Some(d.content) {
                        Outcome::Updated {
                            from: "settings".into(),
                        }
                    } else {
                        Outcome::Updated { from: from.clone() }
                    };
                    let l = line(d, outcome);
                    info!(target: "ddflare::change", zone = %zone.name, "{l}");
                    report.lines.push(l);
                }
                (Ok(_), Change::Delete { id, .. }) => {
                    self.state.created.remove(id);
                    *deleted
                        .entry((d.name.clone(), d.rtype.to_owned()))
                        .or_default() += 1;
                }
            }
        }
        for ((name, rtype), count) in deleted {
            if let Some(d) = find(desired, &name, &rtype) {
                let l = line(d, Outcome::DuplicatesDeleted(count));
                info!(target: "ddflare::change", zone = %zone.name, "{l}");
                report.lines.push(l);
            }
        }
    }

    fn zone_failed(&mut self, desired: &[Desired], e: &ApiError, report: &mut RoundReport) {
        if matches!(
            e.kind,
            ErrorKind::Forbidden | ErrorKind::BadIdentifier | ErrorKind::NotFound
        ) {
            for d in desired {
                self.state.zones.remove(&d.name);
            }
        }
        note_rate_limit(report, e);
        for d in desired {
            push_failed(report, d, e.to_string(), e.hint());
        }
    }

    /// Forgets the created ids of this zone's managed (name, type)s that Cloudflare no longer
    /// lists (deleted in the dashboard, or by ddflare as a duplicate).
    fn prune_created(&mut self, zone: &Zone, desired: &[Desired], existing: &[Record]) {
        self.state.created.retain(|id, c| {
            c.zone.id != zone.id
                || !desired
                    .iter()
                    .any(|d| d.name == c.name && d.rtype == c.rtype)
                || existing.iter().any(|r| &r.id == id)
        });
    }

    /// Comment mode: says which records of a managed (name, type) are not ddflare's. A warning
    /// when what was found changed since the last round, a debug line otherwise. A (name,
    /// type) that holds only such records gets a `Skipped` line.
    fn report_unowned(&mut self, p: &plan::Plan, desired: &[Desired], report: &mut RoundReport) {
        for d in desired {
            let key = state::key(&d.name, d.rtype);
            let Some(u) = p
                .unowned
                .iter()
                .find(|u| u.name == d.name && u.rtype == d.rtype)
            else {
                self.reported.remove(&key);
                continue;
            };
            let contents: Vec<&str> = u.records.iter().map(|(_, c)| c.as_str()).collect();
            let fingerprint = format!(
                "{}:{}",
                u.skipped,
                u.records
                    .iter()
                    .map(|(id, c)| format!("{id}={c}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let new = self.reported.get(&key) != Some(&fingerprint);
            self.reported.insert(key.clone(), fingerprint);
            let n = u.records.len();
            let list = contents.join(", ");
            if u.skipped {
                // Nothing of this (name, type) is ddflare's: no cache entry, so the next round
                // looks again (and sees a marker added in the dashboard).
                self.state.records.remove(&key);
                let l = line(
                    d,
                    Outcome::Skipped {
                        reason: format!(
                            "{n} {} record(s) without `{MARKER}` in their comment hold the name ({list}); ownership is \"comment\", so ddflare neither edits them nor adds another",
                            d.rtype
                        ),
                        hint: Some(format!(
                            "to hand a record over to ddflare, add `{MARKER}` to its comment in the dashboard (e.g. \"{}\"), or delete it; or set `ownership = \"all\"` for {}",
                            plan::DEFAULT_MARKED_COMMENT,
                            d.name
                        )),
                    },
                );
                if new {
                    warn!("{l}");
                    if let Outcome::Skipped {
                        hint: Some(hint), ..
                    } = &l.outcome
                    {
                        warn!("hint: {hint}");
                    }
                } else {
                    debug!("{l}");
                }
                report.lines.push(l);
            } else if new {
                warn!(
                    "{} {}: {n} other record(s) without `{MARKER}` in their comment ({list}) are left as they are; DNS answers with them too",
                    d.name, d.rtype
                );
            } else {
                debug!(
                    "{} {}: {n} record(s) without `{MARKER}` left as they are ({list})",
                    d.name, d.rtype
                );
            }
        }
    }

    /// `delete_on_stop`: deletes the records ddflare created for the names that ask for it,
    /// and only those: an id in the cache's created list, still listed by Cloudflare, and in
    /// comment mode still carrying the marker. Each zone is read first; a record that cannot
    /// be confirmed is left in place. A dry run deletes nothing.
    pub async fn delete_created(&mut self) -> Cleanup {
        let mut out = Cleanup::default();
        let mut by_zone: BTreeMap<String, (Zone, Vec<Doomed>)> = BTreeMap::new();
        for (id, c) in &self.state.created {
            let Some(rec) = self.records.iter().find(|r| {
                r.delete_on_stop
                    && r.name == c.name
                    && family_of(&c.rtype).is_some_and(|f| wants(r, f))
            }) else {
                continue;
            };
            by_zone
                .entry(c.zone.id.clone())
                .or_insert_with(|| (c.zone.clone(), Vec::new()))
                .1
                .push((id.clone(), c.clone(), rec.ownership));
        }
        if by_zone.is_empty() {
            return out;
        }
        if self.opts.dry_run {
            for (_, list) in by_zone.values() {
                for (id, c, _) in list {
                    info!(
                        "{} {} ({id}) would be deleted on stop (dry run)",
                        c.name, c.rtype
                    );
                }
            }
            return out;
        }
        for (zone, list) in by_zone.into_values() {
            let mut names: Vec<String> = list.iter().map(|(_, c, _)| c.name.clone()).collect();
            names.sort();
            names.dedup();
            let existing = match self.api.list_records(&zone, &names).await {
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
                    self.forget_created(&id, &c);
                    continue;
                };
                if !ownership.owns(r.comment.as_deref()) {
                    warn!(
                        "delete_on_stop: {} {} {} is left in place: its comment no longer holds `{MARKER}`, so it is not ddflare's any more",
                        c.name, c.rtype, r.content
                    );
                    self.state.created.remove(&id);
                    out.kept += 1;
                    continue;
                }
                match self.api.delete_record(&zone, &id).await {
                    Ok(()) => {
                        info!(target: "ddflare::change", zone = %zone.name, "{} {} {} deleted (delete_on_stop)", c.name, c.rtype, r.content);
                        self.forget_created(&id, &c);
                        out.deleted += 1;
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => self.forget_created(&id, &c),
                    Err(e) => {
                        warn!(
                            "delete_on_stop: {} {} {} was not deleted: {e}",
                            c.name, c.rtype, r.content
                        );
                        out.failed += 1;
                    }
                }
            }
        }
        self.save_state();
        out
    }

    /// Drops a created record from the cache: its id, and its entry when it was the published
    /// one (so the next start creates the record again).
    fn forget_created(&mut self, id: &str, c: &Created) {
        self.state.created.remove(id);
        let key = state::key(&c.name, &c.rtype);
        if self.state.records.get(&key).is_some_and(|e| e.id == id) {
            self.state.records.remove(&key);
        }
    }

    fn remember(&mut self, d: &Desired, id: String, now: u64) {
        self.state.records.insert(
            state::key(&d.name, d.rtype),
            Entry {
                id,
                content: d.content,
                settings: settings_of(d),
                synced_at: now,
            },
        );
    }
}

/// The zone of a record: `zone_id` when configured, else `GET /zones?name=` on each suffix of
/// the name, longest first (or only on `zone` when configured); exactly one match wins.
/// `calls` counts the API calls made.
pub async fn find_zone<A: DnsApi>(
    api: &A,
    rec: &RecordConfig,
    calls: &mut usize,
) -> Result<Zone, ZoneError> {
    if let Some(id) = &rec.zone_id {
        return Ok(Zone {
            id: id.clone(),
            name: rec.zone.clone().unwrap_or_default(),
            status: None,
        });
    }
    let candidates: Vec<String> = match &rec.zone {
        Some(z) => vec![z.clone()],
        None => suffixes(&rec.name),
    };
    for candidate in &candidates {
        *calls += 1;
        let mut zones = api.zones_named(candidate).await.map_err(ZoneError::Api)?;
        match zones.len() {
            0 => continue,
            1 => {
                if let Some(zone) = zones.pop() {
                    debug!(record = %rec.name, zone = %zone.name, id = %zone.id, "zone found");
                    return Ok(zone);
                }
            }
            count => {
                return Err(ZoneError::Ambiguous {
                    name: candidate.clone(),
                    count,
                });
            }
        }
    }
    Err(ZoneError::NotFound { tried: candidates })
}

fn wants(rec: &RecordConfig, family: Family) -> bool {
    match family {
        Family::V4 => rec.ipv4,
        Family::V6 => rec.ipv6,
    }
}

fn find<'a>(desired: &'a [Desired], name: &str, rtype: &str) -> Option<&'a Desired> {
    desired.iter().find(|d| d.name == name && d.rtype == rtype)
}

fn line(d: &Desired, outcome: Outcome) -> Line {
    Line {
        name: d.name.clone(),
        rtype: d.rtype,
        content: d.content,
        outcome,
    }
}

fn push_failed(report: &mut RoundReport, d: &Desired, error: String, hint: Option<String>) {
    let l = line(d, Outcome::Failed { error, hint });
    warn!("{l}");
    if let Outcome::Failed {
        hint: Some(hint), ..
    } = &l.outcome
    {
        warn!("hint: {hint}");
    }
    report.lines.push(l);
}

fn note_rate_limit(report: &mut RoundReport, e: &ApiError) {
    if let ErrorKind::RateLimited { retry_after } = e.kind {
        let wait = retry_after.unwrap_or(Duration::from_secs(60));
        report.retry_after = Some(report.retry_after.map_or(wait, |w| w.max(wait)));
    }
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`: longest first,
/// never a bare TLD.
/// How many pages of 50 zones ddflare lists to find its names' zones at once; a token that
/// sees more zones gets a lookup per name.
const ZONE_LIST_PAGES: u32 = 4;

/// PURE: the zone of `rec` among the token's zones: its configured `zone`, else the longest
/// suffix of its name that is a zone. `None` when none is, or when a name is held by several
/// zones (accounts): [`find_zone`] then reports it.
pub fn pick_zone<'a>(zones: &'a [Zone], rec: &RecordConfig) -> Option<&'a Zone> {
    let candidates = match &rec.zone {
        Some(z) => vec![z.clone()],
        None => suffixes(&rec.name),
    };
    for candidate in &candidates {
        let mut named = zones.iter().filter(|z| z.name == *candidate);
        match (named.next(), named.next()) {
            (Some(zone), None) => return Some(zone),
            (None, _) => continue,
            (Some(_), Some(_)) => return None,
        }
    }
    None
}

pub fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .filter(|s| !s.starts_with("*."))
        .collect()
}

/// The address a record should hold: the detected one, or in IPv6 prefix mode (`ipv6_host`)
/// the detected prefix followed by the record's host part.
fn desired_addr(rec: &RecordConfig, found: &Detected) -> IpAddr {
    match (found.addr, rec.ipv6_host) {
        (IpAddr::V6(prefix), Some(host)) => IpAddr::V6(host.apply(prefix, found.prefix_len)),
        (addr, _) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::fake::FakeApi;
    use crate::config::Ttl;

    fn rec(name: &str) -> RecordConfig {
        RecordConfig {
            name: name.into(),
            zone: None,
            zone_id: None,
            ipv4: true,
            ipv6: true,
            ttl: None,
            proxied: None,
            comment: None,
            ipv6_host: None,
            ownership: crate::plan::Ownership::All,
            delete_on_stop: false,
        }
    }

    fn updater(
        api: FakeApi,
        records: Vec<RecordConfig>,
        dir: &std::path::Path,
    ) -> Updater<FakeApi> {
        let opts = Options {
            state_dir: dir.to_owned(),
            max_age: Duration::from_secs(6 * 3600),
            dry_run: false,
        };
        let (state, _) = State::load(dir);
        Updater::new(api, records, opts, state)
    }

    fn addrs(v4: Option<&str>, v6: Option<&str>) -> BTreeMap<Family, Detected> {
        let mut m = BTreeMap::new();
        if let Some(a) = v4 {
            m.insert(Family::V4, Detected::host(a.parse().unwrap()));
        }
        if let Some(a) = v6 {
            m.insert(Family::V6, Detected::host(a.parse().unwrap()));
        }
        m
    }

    fn writes(api: &FakeApi) -> Vec<String> {
        api.calls()
            .into_iter()
            .filter(|c| !c.starts_with("GET"))
            .collect()
    }

    #[tokio::test]
    async fn first_round_creates_then_the_cache_makes_no_call() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let mut u = updater(api, vec![rec("home.example.com")], dir.path());
        let now = SystemTime::now();
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
            .await;
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.changed(), 2);
        // Zone walk: home.example.com (none), example.com (found); one list; two creates → batch.
        assert_eq!(
            u.api().calls(),
            vec![
                "GET zones home.example.com",
                "GET zones example.com",
                "GET records home.example.com",
                "POST batch 2"
            ]
        );
        u.api().clear_calls();
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
            .await;
        assert!(r.lines.iter().all(|l| l.outcome == Outcome::Cached));
        assert!(u.api().calls().is_empty(), "{:?}", u.api().calls());

        // A restart reads the same cache from disk: still no call.
        let api = FakeApi::with_zones(&["example.com"]);
        let mut again = updater(api, vec![rec("home.example.com")], dir.path());
        again
            .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
            .await;
        assert!(again.api().calls().is_empty());
    }

    #[tokio::test]
    async fn several_names_to_look_up_cost_one_listing_of_the_zones() {
        let dir = tempfile::tempdir().unwrap();
        // A sub-zone beside its parent: the longest suffix wins.
        let api = FakeApi::with_zones(&["example.com", "lab.example.com", "example.net"]);
        let records = vec![
            rec("home.example.com"),
            rec("nas.lab.example.com"),
            rec("example.net"),
            RecordConfig {
                zone: Some("example.com".into()),
                ..rec("vpn.example.com")
            },
        ];
        let mut u = updater(api, records, dir.path());
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert!(r.ok(), "{r:?}");
        let calls = u.api().calls();
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("GET zones")).count(),
            1
        );
        assert_eq!(calls[0], "GET zones");
        // One write per zone: a batch for two changes, a plain create for one.
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("POST batch")).count(),
            1,
            "{calls:?}"
        );
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("POST A")).count(),
            2,
            "{calls:?}"
        );
        assert_eq!(r.changed(), 4);
    }

    #[tokio::test]
    async fn a_name_outside_the_listing_is_still_looked_up_and_explained() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let records = vec![rec("home.example.com"), rec("home.example.org")];
        let mut u = updater(api, records, dir.path());
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        let calls = u.api().calls();
        assert_eq!(calls[0], "GET zones");
        assert!(
            calls.contains(&"GET zones example.org".to_owned()),
            "{calls:?}"
        );
        let failed: Vec<_> = r
            .lines
            .iter()
            .filter(|l| l.name == "home.example.org")
            .collect();
        assert!(
            matches!(failed[0].outcome, Outcome::Failed { .. }),
            "{failed:?}"
        );
        assert!(
            r.lines
                .iter()
                .any(|l| l.name == "home.example.com" && l.outcome == Outcome::Created)
        );
    }

    #[test]
    fn pick_zone_takes_the_configured_zone_or_the_longest_suffix() {
        let zone = |id: &str, name: &str| Zone {
            id: id.into(),
            name: name.into(),
            status: None,
        };
        let zones = vec![
            zone("1", "example.com"),
            zone("2", "lab.example.com"),
            zone("3", "twice.example"),
            zone("4", "twice.example"),
        ];
        let pick = |rec: RecordConfig| pick_zone(&zones, &rec).map(|z| z.id.clone());
        assert_eq!(pick(rec("a.lab.example.com")).as_deref(), Some("2"));
        assert_eq!(pick(rec("lab.example.com")).as_deref(), Some("2"));
        assert_eq!(pick(rec("example.com")).as_deref(), Some("1"));
        assert_eq!(pick(rec("*.example.com")).as_deref(), Some("1"));
        let in_parent = RecordConfig {
            zone: Some("example.com".into()),
            ..rec("a.lab.example.com")
        };
        assert_eq!(pick(in_parent).as_deref(), Some("1"));
        assert_eq!(pick(rec("a.example.org")), None);
        // Two zones of one name (two accounts): left to the lookup, which reports it.
        assert_eq!(pick(rec("a.twice.example")), None);
    }

    #[tokio::test]
    async fn prefix_mode_joins_the_detected_prefix_and_the_host_part() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let host = |h: &str| Some(h.parse::<crate::detect::Ipv6Host>().unwrap());
        let records = vec![
            RecordConfig {
                ipv4: false,
                ipv6_host: host("::1234"),
                ..rec("nas.example.com")
            },
            RecordConfig {
                ipv4: false,
                ipv6_host: host("mac(00:11:22:33:44:55)"),
                ..rec("cam.example.com")
            },
            // The host itself: the detected address as it is; A records ignore ipv6_host.
            RecordConfig {
                ipv6_host: host("::99"),
                ..rec("router.example.com")
            },
            rec("plain.example.com"),
        ];
        let mut u = updater(api, records, dir.path());
        let detected = |v6: &str, len: u8| {
            let mut m = addrs(Some("203.0.113.7"), None);
            m.insert(
                Family::V6,
                Detected {
                    addr: v6.parse().unwrap(),
                    prefix_len: len,
                },
            );
            m
        };
        let r = u
            .reconcile(&detected("2001:db8:1:2::1", 64), SystemTime::now())
            .await;
        assert!(r.ok(), "{r:?}");
        let aaaa = |u: &Updater<FakeApi>| -> Vec<(String, String)> {
            let mut v: Vec<_> = u
                .api()
                .records()
                .into_iter()
                .filter(|r| r.rtype == "AAAA")
                .map(|r| (r.name, r.content))
                .collect();
            v.sort();
            v
        };
        let pair = |n: &str, c: &str| (n.to_owned(), c.to_owned());
        assert_eq!(
            aaaa(&u),
            vec![
                pair("cam.example.com", "2001:db8:1:2:211:22ff:fe33:4455"),
                pair("plain.example.com", "2001:db8:1:2::1"),
                pair("router.example.com", "2001:db8:1:2::99"),
                pair("nas.example.com", "2001:db8:1:2::1234"),
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
        // The ISP delegates a new /56; the interface says so.
        u.reconcile(&detected("2001:db8:ff:ee::1", 56), SystemTime::now())
            .await;
        let got = aaaa(&u);
        assert!(
            got.contains(&pair("nas.example.com", "2001:db8:ff::1234")),
            "{got:?}"
        );
        assert!(
            got.contains(&pair("plain.example.com", "2001:db8:ff:ee::1")),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn an_address_change_is_one_read_and_one_patch() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let id = api.add("example.com", "home.example.com", "A", "198.51.100.4");
        api.add("example.com", "home.example.com", "TXT", "keep me");
        let mut u = updater(
            api,
            vec![RecordConfig {
                ipv6: false,
                ..rec("home.example.com")
            }],
            dir.path(),
        );
        let now = SystemTime::now();
        u.reconcile(&addrs(Some("198.51.100.4"), None), now).await;
        u.api().clear_calls();
        let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
        assert_eq!(
            r.lines[0].to_string(),
            "home.example.com A 198.51.100.4 → 203.0.113.7 updated"
        );
        assert_eq!(
            u.api().calls(),
            vec![
                "GET records home.example.com".to_string(),
                format!("PATCH {id}")
            ]
        );
        let txt = u
            .api()
            .records()
            .into_iter()
            .find(|r| r.rtype == "TXT")
            .unwrap();
        assert_eq!(txt.content, "keep me");
    }

    #[tokio::test]
    async fn stale_cache_is_checked_against_cloudflare_and_drift_corrected() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        api.add("example.com", "home.example.com", "A", "203.0.113.7");
        let mut r = rec("home.example.com");
        r.ipv6 = false;
        r.ttl = Some(Ttl::Seconds(300));
        let mut u = updater(api, vec![r], dir.path());
        let t0 = SystemTime::now();
        let first = u.reconcile(&addrs(Some("203.0.113.7"), None), t0).await;
        assert_eq!(
            first.lines[0].outcome,
            Outcome::Updated {
                from: "settings".into()
            }
        );
        u.api().clear_calls();
        // Within max_age: trusted. After: re-read (and nothing to change).
        u.reconcile(
            &addrs(Some("203.0.113.7"), None),
            t0 + Duration::from_secs(3600),
        )
        .await;
        assert!(u.api().calls().is_empty());
        let later = u
            .reconcile(
                &addrs(Some("203.0.113.7"), None),
                t0 + Duration::from_secs(7 * 3600),
            )
            .await;
        assert_eq!(later.lines[0].outcome, Outcome::Unchanged);
        assert_eq!(u.api().calls(), vec!["GET records home.example.com"]);
    }

    #[tokio::test]
    async fn duplicates_are_removed_in_one_batch_and_foreign_records_survive() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        api.add("example.com", "home.example.com", "A", "198.51.100.4");
        api.add("example.com", "home.example.com", "A", "198.51.100.5");
        api.add("example.com", "home.example.com", "MX", "mail.example.com");
        api.add("example.com", "other.example.com", "A", "198.51.100.4");
        let mut u = updater(
            api,
            vec![RecordConfig {
                ipv6: false,
                ..rec("home.example.com")
            }],
            dir.path(),
        );
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert!(r.ok());
        assert_eq!(writes(u.api()), vec!["POST batch 2"]);
        let left: Vec<(String, String, String)> = u
            .api()
            .records()
            .into_iter()
            .map(|r| (r.name, r.rtype, r.content))
            .collect();
        assert_eq!(left.len(), 3);
        assert!(left.contains(&("home.example.com".into(), "A".into(), "203.0.113.7".into())));
        assert!(left.contains(&(
            "home.example.com".into(),
            "MX".into(),
            "mail.example.com".into()
        )));
        assert!(left.contains(&(
            "other.example.com".into(),
            "A".into(),
            "198.51.100.4".into()
        )));
    }

    #[tokio::test]
    async fn a_failing_zone_does_not_stop_another() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let mut u = updater(
            api,
            vec![
                RecordConfig {
                    ipv6: false,
                    ..rec("home.example.net")
                },
                RecordConfig {
                    ipv6: false,
                    ..rec("home.example.com")
                },
            ],
            dir.path(),
        );
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert_eq!(r.failed(), 1);
        let failed = r
            .lines
            .iter()
            .find(|l| l.name == "home.example.net")
            .unwrap();
        match &failed.outcome {
            Outcome::Failed { error, hint } => {
                assert!(
                    error.contains("no zone found for home.example.net"),
                    "{error}"
                );
                assert!(hint.as_deref().unwrap_or("").contains("Zone → DNS → Edit"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.changed(), 1);
    }

    #[tokio::test]
    async fn cname_conflict_and_undetected_family_touch_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        api.add(
            "example.com",
            "home.example.com",
            "CNAME",
            "elsewhere.example.net",
        );
        api.add("example.com", "v6.example.com", "AAAA", "2001:db8::1");
        let mut u = updater(
            api,
            vec![rec("home.example.com"), rec("v6.example.com")],
            dir.path(),
        );
        // IPv6 detection failed this round: the AAAA record must stay as it is.
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        let home = r
            .lines
            .iter()
            .find(|l| l.name == "home.example.com")
            .unwrap();
        assert!(matches!(&home.outcome, Outcome::Failed { error, .. } if error.contains("CNAME")));
        assert!(
            u.api()
                .records()
                .iter()
                .any(|r| r.rtype == "AAAA" && r.content == "2001:db8::1")
        );
        assert!(
            !u.api()
                .records()
                .iter()
                .any(|r| r.name == "home.example.com" && r.rtype == "A")
        );
    }

    #[tokio::test]
    async fn dry_run_plans_but_changes_and_saves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let mut u = updater(api, vec![rec("home.example.com")], dir.path());
        u.opts.dry_run = true;
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert!(matches!(&r.lines[0].outcome, Outcome::Planned(w) if w == "created"));
        assert!(writes(u.api()).is_empty());
        assert!(u.api().records().is_empty());
        assert!(!state::path(dir.path()).exists());
    }

    #[tokio::test]
    async fn failures_are_retried_next_round_and_rate_limits_noted() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let mut u = updater(
            api,
            vec![RecordConfig {
                ipv6: false,
                ..rec("home.example.com")
            }],
            dir.path(),
        );
        u.api().fail_next(ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(42)),
        });
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert!(!r.ok());
        assert_eq!(r.retry_after, Some(Duration::from_secs(42)));
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert!(r.ok(), "{r:?}");
        assert_eq!(u.api().records().len(), 1);
    }

    /// Log lines written while the guard lives (this thread only).
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn warnings(&self) -> Vec<String> {
            String::from_utf8_lossy(&self.0.lock().unwrap())
                .lines()
                .filter(|l| l.contains("WARN"))
                .map(str::to_owned)
                .collect()
        }
    }

    fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
        let c = Captured::default();
        let w = c.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        (c, tracing::subscriber::set_default(sub))
    }

    fn v4_only(name: &str) -> RecordConfig {
        RecordConfig {
            ipv6: false,
            ..rec(name)
        }
    }

    fn by_comment(name: &str) -> RecordConfig {
        RecordConfig {
            ownership: Ownership::Comment,
            ..v4_only(name)
        }
    }

    fn record_by_id(api: &FakeApi, id: &str) -> Option<Record> {
        api.records().into_iter().find(|r| r.id == id)
    }

    #[tokio::test]
    async fn comment_mode_skips_a_name_held_by_unmarked_records_and_warns_once_per_change() {
        let (log, _guard) = capture();
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let theirs = api.add("example.com", "home.example.com", "A", "198.51.100.4");
        let before = record_by_id(&api, &theirs);
        let mut u = updater(api, vec![by_comment("home.example.com")], dir.path());
        let now = SystemTime::now();
        for _ in 0..3 {
            let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
            assert!(r.ok(), "a skip is not a failure: {r:?}");
            assert!(
                matches!(&r.lines[..], [Line { outcome: Outcome::Skipped { reason, hint: Some(_) }, .. }]
                    if reason.contains("198.51.100.4") && reason.contains("`ddflare`")),
                "{r:?}"
            );
        }
        assert!(writes(u.api()).is_empty(), "{:?}", u.api().calls());
        assert_eq!(record_by_id(u.api(), &theirs), before);
        assert_eq!(u.api().records().len(), 1, "no record added next to theirs");
        let skipped = |log: &Captured| {
            log.warnings()
                .iter()
                .filter(|l| l.contains("skipped"))
                .count()
        };
        assert_eq!(skipped(&log), 1, "{:?}", log.warnings());
        // Their record changes: said again, once.
        u.api().edit_id(&theirs, "198.51.100.5");
        u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
        u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
        assert_eq!(skipped(&log), 2, "{:?}", log.warnings());
        // The owner hands it over in the dashboard: updated in place at the next round.
        u.api().set_comment(&theirs, Some("home, ddflare"));
        let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
        assert!(
            matches!(&r.lines[0].outcome, Outcome::Updated { from } if from == "198.51.100.5"),
            "{r:?}"
        );
        assert_eq!(u.api().records().len(), 1);
        assert!(u.state().created.is_empty(), "found, not created");
    }

    #[tokio::test]
    async fn comment_mode_creates_with_the_marker_and_leaves_unmarked_neighbours_alone() {
        let (log, _guard) = capture();
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let mine = api.add_commented(
            "example.com",
            "home.example.com",
            "A",
            "198.51.100.4",
            "managed by ddflare",
        );
        let theirs = api.add_commented(
            "example.com",
            "home.example.com",
            "A",
            "192.0.2.1",
            "Bob's box",
        );
        let txt = api.add("example.com", "home.example.com", "TXT", "\"v=spf1 -all\"");
        let foreign: Vec<Option<Record>> = [&theirs, &txt]
            .iter()
            .map(|id| record_by_id(&api, id))
            .collect();
        let records = vec![
            by_comment("home.example.com"),
            RecordConfig {
                ipv4: false,
                ipv6: true,
                ..by_comment("v6.example.com")
            },
        ];
        let mut u = updater(api, records, dir.path());
        let now = SystemTime::now();
        let r = u
            .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
            .await;
        assert!(r.ok(), "{r:?}");
        assert_eq!(
            record_by_id(u.api(), &mine).map(|r| r.content),
            Some("203.0.113.7".to_owned())
        );
        let created = u
            .api()
            .records()
            .into_iter()
            .find(|r| r.name == "v6.example.com")
            .unwrap();
        assert_eq!(created.comment.as_deref(), Some("managed by ddflare"));
        let after: Vec<Option<Record>> = [&theirs, &txt]
            .iter()
            .map(|id| record_by_id(u.api(), id))
            .collect();
        assert_eq!(after, foreign);
        let told = |log: &Captured| {
            log.warnings()
                .iter()
                .filter(|l| {
                    l.contains("other record(s) without `ddflare`") && l.contains("192.0.2.1")
                })
                .count()
        };
        assert_eq!(told(&log), 1, "{:?}", log.warnings());
        // A later round that reads again says nothing new.
        u.reconcile(&addrs(Some("198.51.100.9"), Some("2001:db8::7")), now)
            .await;
        assert_eq!(told(&log), 1, "{:?}", log.warnings());
        assert_eq!(
            [&theirs, &txt]
                .iter()
                .map(|id| record_by_id(u.api(), id))
                .collect::<Vec<_>>(),
            foreign
        );
    }

    #[tokio::test]
    async fn delete_on_stop_deletes_only_what_ddflare_created() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        // Found on Cloudflare, then updated by ddflare: never deleted.
        let found = api.add("example.com", "nas.example.com", "A", "198.51.100.4");
        let other = api.add("example.com", "other.example.com", "A", "198.51.100.4");
        let txt = api.add("example.com", "home.example.com", "TXT", "keep me");
        let records = vec![
            RecordConfig {
                delete_on_stop: true,
                ..rec("home.example.com")
            },
            RecordConfig {
                delete_on_stop: true,
                ..v4_only("nas.example.com")
            },
            // Created, but without delete_on_stop.
            v4_only("keep.example.com"),
        ];
        let mut u = updater(api, records.clone(), dir.path());
        let r = u
            .reconcile(
                &addrs(Some("203.0.113.7"), Some("2001:db8::7")),
                SystemTime::now(),
            )
            .await;
        assert!(r.ok(), "{r:?}");
        assert_eq!(u.state().created.len(), 3, "home A, home AAAA, keep A");
        // A restart reads the created ids back from the cache.
        let api = u.api().handle();
        let (state, _) = State::load(dir.path());
        let opts = u.opts.clone();
        let mut u = Updater::new(api, records, opts, state);
        assert_eq!(u.state().created.len(), 3);
        u.api().clear_calls();
        let cleanup = u.delete_created().await;
        assert_eq!(
            cleanup,
            Cleanup {
                deleted: 2,
                kept: 0,
                failed: 0
            }
        );
        let left: Vec<(String, String)> = u
            .api()
            .records()
            .into_iter()
            .map(|r| (r.name, r.rtype))
            .collect();
        let pair = |n: &str, t: &str| (n.to_owned(), t.to_owned());
        assert_eq!(
            left,
            vec![
                pair("nas.example.com", "A"),
                pair("other.example.com", "A"),
                pair("home.example.com", "TXT"),
                pair("keep.example.com", "A"),
            ]
        );
        assert!(record_by_id(u.api(), &found).is_some());
        assert!(record_by_id(u.api(), &other).is_some());
        assert!(record_by_id(u.api(), &txt).is_some());
        // One read, then one DELETE per record.
        let calls = u.api().calls();
        assert_eq!(calls[0], "GET records home.example.com");
        assert_eq!(calls.iter().filter(|c| c.starts_with("DELETE")).count(), 2);
        // The cache forgot them: the next start creates them again.
        let (state, _) = State::load(dir.path());
        assert!(!state.records.contains_key("home.example.com/A"));
        assert!(!state.records.contains_key("home.example.com/AAAA"));
        assert!(state.records.contains_key("nas.example.com/A"));
        assert_eq!(state.created.len(), 1, "keep.example.com's id stays");
        // Nothing left to delete.
        u.api().clear_calls();
        assert_eq!(u.delete_created().await, Cleanup::default());
        assert!(u.api().calls().is_empty());
    }

    #[tokio::test]
    async fn delete_on_stop_in_comment_mode_needs_the_marker_and_a_dry_run_deletes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let records = vec![
            RecordConfig {
                delete_on_stop: true,
                ..by_comment("a.example.com")
            },
            RecordConfig {
                delete_on_stop: true,
                ..by_comment("b.example.com")
            },
        ];
        let mut u = updater(api, records.clone(), dir.path());
        u.reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert_eq!(u.state().created.len(), 2);
        let ids: Vec<String> = u.api().records().into_iter().map(|r| r.id).collect();
        // Someone claims a.example.com's record in the dashboard.
        u.api().set_comment(&ids[0], Some("mine now"));

        let mut dry = Updater::new(
            u.api().handle(),
            records,
            Options {
                dry_run: true,
                ..u.opts.clone()
            },
            u.state().clone(),
        );
        dry.api().clear_calls();
        assert_eq!(dry.delete_created().await, Cleanup::default());
        assert!(dry.api().calls().is_empty(), "{:?}", dry.api().calls());

        let cleanup = u.delete_created().await;
        assert_eq!(
            cleanup,
            Cleanup {
                deleted: 1,
                kept: 1,
                failed: 0
            }
        );
        let left = u.api().records();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, ids[0]);
        assert!(u.state().created.is_empty());
    }

    #[tokio::test]
    async fn created_ids_are_forgotten_when_the_record_goes_or_leaves_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let api = FakeApi::with_zones(&["example.com"]);
        let records = vec![v4_only("a.example.com"), v4_only("b.example.com")];
        let mut u = updater(api, records, dir.path());
        u.reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
            .await;
        assert_eq!(u.state().created.len(), 2);
        // Deleted in the dashboard: the next read forgets it, and the new one is remembered.
        let a = u
            .api()
            .records()
            .into_iter()
            .find(|r| r.name == "a.example.com")
            .unwrap();
        u.api().remove(&a.id);
        u.reconcile(&addrs(Some("198.51.100.4"), None), SystemTime::now())
            .await;
        assert_eq!(u.state().created.len(), 2);
        assert!(!u.state().created.contains_key(&a.id));
        // b leaves the config: its id is forgotten (never deleted by delete_on_stop).
        let opts = u.opts.clone();
        let u = Updater::new(
            u.api().handle(),
            vec![v4_only("a.example.com")],
            opts,
            u.state().clone(),
        );
        assert_eq!(u.state().created.len(), 1);
        assert!(
            u.state()
                .created
                .values()
                .all(|c| c.name == "a.example.com")
        );
    }

    #[test]
    fn suffixes_walk_up_longest_first_without_the_tld() {
        assert_eq!(
            suffixes("a.b.example.co.uk"),
            vec![
                "a.b.example.co.uk",
                "b.example.co.uk",
                "example.co.uk",
                "co.uk"
            ]
        );
        assert_eq!(suffixes("example.com"), vec!["example.com"]);
        assert_eq!(suffixes("*.example.com"), vec!["example.com"]);
    }
}
