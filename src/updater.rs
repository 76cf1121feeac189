//! One round: the detected addresses → compare with the cache → for what changed (or what is
//! older than `state.max_age`), find the zone, read the records, plan, apply, and cache the
//! result. A name that fails does not stop the others; a family that was not detected is left
//! as it is on Cloudflare.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{debug, info, warn};

use crate::cloudflare::{
    ApiError, BATCH_LIMIT, BatchPatch, BatchRequest, DnsApi, ErrorKind, IdOnly, Record, Zone,
};
use crate::config::RecordConfig;
use crate::detect::Family;
use crate::plan::{self, Change, Desired};
use crate::state::{self, Entry, State};

/// What happened to one managed (name, type) in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The cache says it is right and fresh: no API call was made for it.
    Cached,
    /// Cloudflare confirmed it is right.
    Unchanged,
    Created,
    Updated { from: String },
    /// Duplicates removed (the kept record may also appear as updated or unchanged).
    DuplicatesDeleted(usize),
    /// A dry run: this change would be made.
    Planned(String),
    Failed { error: String, hint: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub rtype: &'static str,
    pub content: IpAddr,
    pub outcome: Outcome,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, t, c) = (&self.name, self.rtype, self.content);
        match &self.outcome {
            Outcome::Cached => write!(f, "{n} {t} {c} unchanged (cached)"),
            Outcome::Unchanged => write!(f, "{n} {t} {c} unchanged"),
            Outcome::Created => write!(f, "{n} {t} {c} created"),
            Outcome::Updated { from } => write!(f, "{n} {t} {from} → {c} updated"),
            Outcome::DuplicatesDeleted(k) => write!(f, "{n} {t} {k} duplicate(s) deleted"),
            Outcome::Planned(what) => write!(f, "{n} {t} {c} would be {what} (dry run)"),
            Outcome::Failed { error, .. } => write!(f, "{n} {t} {c} failed: {error}"),
        }
    }
}

/// Everything a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub lines: Vec<Line>,
    /// Set when Cloudflare asked to slow down: the next round waits at least this long.
    pub retry_after: Option<Duration>,
    /// API calls made in this round.
    pub api_calls: usize,
}

impl RoundReport {
    pub fn failed(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.outcome, Outcome::Failed { .. }))
            .count()
    }

    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// Lines that changed something on Cloudflare.
    pub fn changed(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| {
                matches!(
                    l.outcome,
                    Outcome::Created | Outcome::Updated { .. } | Outcome::DuplicatesDeleted(_)
                )
            })
            .count()
    }
}

/// Options of an [`Updater`].
#[derive(Debug, Clone)]
pub struct Options {
    pub state_dir: PathBuf,
    pub max_age: Duration,
    /// Plan and report, change nothing, save nothing.
    pub dry_run: bool,
}

/// Keeps the configured records in line with the detected addresses.
pub struct Updater<A> {
    api: A,
    records: Vec<RecordConfig>,
    opts: Options,
    state: State,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn settings_of(d: &Desired) -> String {
    format!("ttl={:?};proxied={:?};comment={:?}", d.ttl, d.proxied, d.comment)
}

/// Why a name's zone could not be found.
#[derive(Debug, Clone)]
enum ZoneError {
    Api(ApiError),
    NotFound { tried: Vec<String> },
    Ambiguous { name: String, count: usize },
}

impl ZoneError {
    fn message(&self, record: &str) -> (String, Option<String>) {
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
    pub fn new(api: A, records: Vec<RecordConfig>, opts: Options, state: State) -> Self {
        Updater {
            api,
            records,
            opts,
            state,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn api(&self) -> &A {
        &self.api
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
        addrs: &BTreeMap<Family, IpAddr>,
        now: SystemTime,
    ) -> RoundReport {
        let now = unix(now);
        let mut report = RoundReport::default();
        // Records whose (name, type) needs a look at Cloudflare, by record name.
        let mut dirty: BTreeMap<String, (RecordConfig, Vec<Desired>)> = BTreeMap::new();
        for rec in &self.records {
            for family in Family::ALL {
                let Some(addr) = addrs.get(&family).filter(|_| wants(rec, family)) else {
                    continue;
                };
                let d = Desired {
                    name: rec.name.clone(),
                    rtype: family.record_type(),
                    content: *addr,
                    ttl: rec.ttl.map(|t| t.api_value()),
                    proxied: rec.proxied,
                    comment: rec.comment.clone(),
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

        // Find each dirty name's zone, then work zone by zone.
        let mut by_zone: BTreeMap<String, (Zone, Vec<Desired>)> = BTreeMap::new();
        for (name, (rec, desired)) in dirty {
            match self.zone_of(&rec, &mut report).await {
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
        if !self.opts.dry_run
            && let Err(e) = self.state.save(&self.opts.state_dir)
        {
            warn!(
                "cannot save the state in {}: {e}; the next start re-reads the records from Cloudflare",
                self.opts.state_dir.display()
            );
        }
        report
    }

    async fn zone_of(
        &mut self,
        rec: &RecordConfig,
        report: &mut RoundReport,
    ) -> Result<Zone, ZoneError> {
        if let Some(id) = &rec.zone_id {
            return Ok(Zone {
                id: id.clone(),
                name: rec.zone.clone().unwrap_or_default(),
                status: None,
            });
        }
        if let Some(zone) = self.state.zones.get(&rec.name) {
            return Ok(zone.clone());
        }
        let candidates: Vec<String> = match &rec.zone {
            Some(z) => vec![z.clone()],
            None => suffixes(&rec.name),
        };
        for candidate in &candidates {
            report.api_calls += 1;
            let zones = self
                .api
                .zones_named(candidate)
                .await
                .map_err(ZoneError::Api)?;
            match zones.len() {
                0 => continue,
                1 => {
                    let zone = zones.into_iter().next().ok_or(ZoneError::NotFound {
                        tried: candidates.clone(),
                    })?;
                    debug!(record = %rec.name, zone = %zone.name, id = %zone.id, "zone found");
                    self.state.zones.insert(rec.name.clone(), zone.clone());
                    return Ok(zone);
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
        for conflict in &p.conflicts {
            let plan::Conflict::Cname { name, rtype } = conflict;
            if let Some(d) = desired.iter().find(|d| &d.name == name && d.rtype == *rtype) {
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
                    info!("{l}");
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
                        self.remember(d, rec.id, now);
                    }
                    let l = line(d, Outcome::Created);
                    info!(zone = %zone.name, "{l}");
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
                    info!(zone = %zone.name, "{l}");
                    report.lines.push(l);
                }
                (Ok(_), Change::Delete { .. }) => {
                    *deleted
                        .entry((d.name.clone(), d.rtype.to_owned()))
                        .or_default() += 1;
                }
            }
        }
        for ((name, rtype), count) in deleted {
            if let Some(d) = find(desired, &name, &rtype) {
                let l = line(d, Outcome::DuplicatesDeleted(count));
                info!(zone = %zone.name, "{l}");
                report.lines.push(l);
            }
        }
    }

    fn zone_failed(
        &mut self,
        desired: &[Desired],
        e: &ApiError,
        report: &mut RoundReport,
    ) {
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
pub fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .filter(|s| !s.starts_with("*."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_walk_up_longest_first_without_the_tld() {
        assert_eq!(
            suffixes("a.b.example.co.uk"),
            vec!["a.b.example.co.uk", "b.example.co.uk", "example.co.uk", "co.uk"]
        );
        assert_eq!(suffixes("example.com"), vec!["example.com"]);
        assert_eq!(suffixes("*.example.com"), vec!["example.com"]);
    }
}
