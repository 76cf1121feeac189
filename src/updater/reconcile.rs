//! The [`Updater`] and the order of a round: detected addresses → compare with the cache
//! ([`super::freshness`]) → find the zones ([`super::zones`]) → read each zone's records →
//! plan ([`crate::plan`]) → apply ([`super::apply`], or render a dry run) → remember the
//! results ([`super::bookkeeping`]) → save. The jobs themselves live in those modules; this
//! one holds the state they share and calls them in turn.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tracing::{debug, warn};

use super::apply::apply;
use super::bookkeeping::{self, record_results, remember, zone_failed};
use super::by_id;
use super::cleanup::{self, Cleanup};
use super::desired::{asks_for, desired, wants};
use super::dry_run;
use super::freshness::{fresh_until, writable_by_id};
use super::gateway;
use super::lines::{decision, find, line, note_rate_limit, push_failed, ray};
use super::lists::reconcile_lists;
use super::ownership_report::Reported;
use super::quiet::Quiet;
use super::zones::{ZoneError, list_zones, warn_inactive, zone_of};
use crate::clock::unix;
use crate::cloudflare::{CNAME_HINT, Clients, DnsApi, Zone, shown_id};
use crate::config::{GatewayLocation, RecordConfig};
use crate::detect::{Detected, Family};
use crate::maps;
use crate::plan::{self, Desired};
use crate::plan_list::ListConfig;
use crate::round::{Outcome, RoundReport};
use crate::state::{self, State};
use crate::text;

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
    /// The client of each credential; a record uses the one it names.
    apis: Clients<A>,
    records: Vec<RecordConfig>,
    pub(super) opts: Options,
    state: State,
    /// Comment mode: what was last said about unmarked records, so the warning comes once per
    /// change, not every round.
    reported: Reported,
    /// `[push]`: the names a router pushes, whose addresses come from pushes, never from
    /// detection (two sources for one record would flap), and the last address pushed for
    /// each, which scheduled rounds keep checking against the cache.
    push_owned: BTreeSet<String>,
    pushed: BTreeMap<String, BTreeMap<Family, Detected>>,
    /// `[[list]]`: the IP lists kept with the detected addresses.
    lists: Vec<ListConfig>,
    /// `[[gateway_location]]`: kept on the detected IPv4 address ([`super::gateway`]).
    gateway: Vec<GatewayLocation>,
    /// The last detection round, when it found every record cached ([`super::quiet`]).
    quiet: Option<Quiet>,
}

impl<A: DnsApi> Updater<A> {
    /// `state` is what [`State::load`] returned; `apis` one client, or one per credential.
    pub fn new(
        apis: impl Into<Clients<A>>,
        records: Vec<RecordConfig>,
        opts: Options,
        mut state: State,
    ) -> Self {
        bookkeeping::forget_bad_ids(&mut state);
        // A created record whose name or family left the config is not ddflare's concern any
        // more: forgetting it means `delete_on_stop` can never delete it.
        maps::retain(&mut state.created, |_, c| {
            records.iter().any(|r| asks_for(r, &c.name, &c.rtype))
        });
        Updater {
            apis: apis.into(),
            records,
            opts,
            state,
            reported: Reported::default(),
            push_owned: BTreeSet::new(),
            pushed: BTreeMap::new(),
            lists: Vec::new(),
            gateway: Vec::new(),
            quiet: None,
        }
    }

    /// Also keeps these IP lists (`[[list]]`) holding the detected addresses; the cache of a
    /// list that left the config is forgotten.
    pub fn with_lists(mut self, lists: Vec<ListConfig>) -> Self {
        maps::retain(&mut self.state.lists, |k, _| {
            lists
                .iter()
                .any(|l| *k == state::list_key(&l.account_id, &l.name))
        });
        self.lists = lists;
        self
    }

    /// Also keeps these Gateway locations' IPv4 network on the detected address.
    pub fn with_gateway(mut self, locations: Vec<GatewayLocation>) -> Self {
        self.gateway = locations;
        self
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The `[cloudflare]` credentials' client.
    pub fn api(&self) -> &A {
        &self.apis.default
    }

    /// Saves the cache now (on shutdown: a round cut short may have changed it).
    pub fn save_state(&self) {
        bookkeeping::save(&self.state, &self.opts.state_dir, self.opts.dry_run);
    }

    /// The families some record wants.
    pub fn families(&self) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| {
                self.records.iter().any(|r| wants(r, *f))
                    || self.lists.iter().any(|l| match f {
                        Family::V4 => l.ipv4,
                        Family::V6 => l.ipv6,
                    })
                    || (*f == Family::V4 && !self.gateway.is_empty())
            })
            .collect()
    }

    /// Names whose addresses come from a router's pushes (`[push]`), not from detection.
    pub fn set_push_owned(&mut self, names: BTreeSet<String>) {
        self.push_owned = names;
        self.quiet = None;
    }

    /// A push: remembers `addrs` for `names` and reconciles those names alone with them.
    pub async fn reconcile_push(
        &mut self,
        names: &[String],
        addrs: &BTreeMap<Family, Detected>,
        now: SystemTime,
    ) -> RoundReport {
        for name in names {
            let entry = self.pushed.entry(name.clone()).or_default();
            entry.extend(addrs.iter().map(|(f, d)| (*f, *d)));
        }
        // The pushed names' addresses, and maybe the cache, change: the next round looks again.
        self.quiet = None;
        let pick = |rec: &RecordConfig, f: Family| {
            names
                .contains(&rec.name)
                .then(|| addrs.get(&f).copied())
                .flatten()
        };
        let report = self.reconcile_by(&pick, now).await.0;
        self.end_round();
        report
    }

    /// Closes the connections the round kept (every client: they may not share them).
    fn end_round(&self) {
        self.apis.default.end_round();
        for (_, api) in &self.apis.named {
            api.end_round();
        }
    }

    /// One reconciliation for the addresses detected this round (a family missing from
    /// `addrs` is left alone); a name fed by pushes gets its last pushed address instead.
    pub async fn reconcile(
        &mut self,
        addrs: &BTreeMap<Family, Detected>,
        now: SystemTime,
    ) -> RoundReport {
        let secs = unix(now);
        let mut report = match self.quiet.as_ref().and_then(|q| q.repeats(addrs, secs)) {
            Some(lines) => {
                if tracing::enabled!(tracing::Level::DEBUG) {
                    for l in &lines {
                        let zone = self.state.zones.get(&l.name).map(|z| z.name.as_str());
                        decision!(debug, l, zone, None);
                    }
                }
                RoundReport {
                    lines,
                    ..RoundReport::default()
                }
            }
            None => {
                let (owned, pushed) = (self.push_owned.clone(), self.pushed.clone());
                let pick = |rec: &RecordConfig, f: Family| {
                    if owned.contains(&rec.name) {
                        pushed.get(&rec.name).and_then(|p| p.get(&f)).copied()
                    } else {
                        addrs.get(&f).copied()
                    }
                };
                let (report, until) = self.reconcile_by(&pick, now).await;
                self.quiet =
                    until.map(|until| Quiet::new(addrs, secs, until, report.lines.clone()));
                report
            }
        };
        if !self.lists.is_empty() {
            let changed = reconcile_lists(
                &self.apis,
                &self.lists,
                addrs,
                &mut self.state,
                unix(now),
                self.opts.max_age,
                self.opts.dry_run,
                &mut report,
            )
            .await;
            if changed {
                self.save_state();
            }
        }
        if !self.gateway.is_empty() {
            let v4 = match addrs.get(&Family::V4).map(|d| d.addr) {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            };
            let before = self.state.gateway.clone();
            gateway::sync(
                &self.apis,
                &self.gateway,
                v4,
                &mut self.state,
                unix(now),
                self.opts.max_age,
                self.opts.dry_run,
                &mut report,
            )
            .await;
            if self.state.gateway != before {
                self.save_state();
            }
        }
        self.end_round();
        report
    }

    /// Whether some name is fed by pushes.
    pub fn has_push(&self) -> bool {
        !self.push_owned.is_empty()
    }

    /// The round of the records `pick` gives an address; with the first instant one of their
    /// cache entries stops being fresh when every one was cached (nothing was asked of
    /// Cloudflare).
    async fn reconcile_by(
        &mut self,
        pick: &dyn Fn(&RecordConfig, Family) -> Option<Detected>,
        now: SystemTime,
    ) -> (RoundReport, Option<u64>) {
        let now = unix(now);
        let mut report = RoundReport::default();
        let mut until = u64::MAX;
        // Records whose (name, type) needs a look at Cloudflare, by record name.
        let mut dirty: BTreeMap<String, (RecordConfig, Vec<Desired>)> = BTreeMap::new();
        for rec in &self.records {
            for family in Family::ALL {
                let Some(found) = pick(rec, family).filter(|_| wants(rec, family)) else {
                    continue;
                };
                let found = &found;
                let d = desired(rec, family, found);
                if let Some(fresh) = fresh_until(&self.state, &d, now, self.opts.max_age) {
                    until = until.min(fresh);
                    let line = line(&d, Outcome::Cached);
                    let zone = self.state.zones.get(&rec.name).map(|z| z.name.as_str());
                    decision!(debug, &line, zone, None);
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
            return (report, Some(until));
        }
        self.quiet = None;

        // Find each dirty name's zone with its credentials' client (a token sees only its own
        // zones), then work zone by zone. Several names of one credential to look up (a first
        // start, a new config) cost one listing of its zones rather than a walk up each name's
        // labels.
        let mut by_credentials: BTreeMap<Option<String>, Vec<(RecordConfig, Vec<Desired>)>> =
            BTreeMap::new();
        for (rec, desired) in dirty.into_values() {
            by_credentials
                .entry(rec.credentials.clone())
                .or_default()
                .push((rec, desired));
        }
        let mut by_zone: BTreeMap<(Option<String>, String), (Zone, Vec<Desired>)> = BTreeMap::new();
        for (credentials, group) in by_credentials {
            let api = self.apis.get(credentials.as_deref());
            let lookups = group
                .iter()
                .filter(|(rec, _)| {
                    rec.zone_id.is_none() && !self.state.zones.contains_key(&rec.name)
                })
                .count();
            let listed = if lookups >= 2 {
                list_zones(api, &mut report).await
            } else {
                None
            };
            for (rec, desired) in group {
                let found = zone_of(
                    api,
                    &mut self.state.zones,
                    &rec,
                    listed.as_deref(),
                    &mut report.api_calls,
                )
                .await;
                match found {
                    Ok(zone) => by_zone
                        .entry((credentials.clone(), zone.id.clone()))
                        .or_insert_with(|| (zone, Vec::new()))
                        .1
                        .extend(desired),
                    Err(e) => {
                        let (mut error, hint) = (e.to_string(), e.hint());
                        let mut cf_ray = None;
                        if let ZoneError::Api(api) = &e {
                            note_rate_limit(&mut report, api);
                            cf_ray = ray(api);
                        } else if let Some(n) = &credentials {
                            error.push_str(&format!(" with credentials `{n}`"));
                        }
                        for d in desired {
                            push_failed(
                                &mut report,
                                &d,
                                error.clone(),
                                hint.clone(),
                                rec.zone.as_deref(),
                                cf_ray.as_deref(),
                            );
                        }
                    }
                }
            }
        }
        for ((credentials, _), (zone, desired)) in by_zone {
            warn_inactive(&zone);
            self.reconcile_zone(credentials.as_deref(), &zone, &desired, now, &mut report)
                .await;
        }
        self.save_state();
        (report, None)
    }

    /// One zone: write what the cache vouches for by id ([`super::by_id`]); for the rest, read
    /// its records, plan, report what the plan found, then apply the changes (or, in a dry
    /// run, say what they would be).
    async fn reconcile_zone(
        &mut self,
        credentials: Option<&str>,
        zone: &Zone,
        desired: &[Desired],
        now: u64,
        report: &mut RoundReport,
    ) {
        let cold;
        let desired = if self.opts.dry_run {
            desired
        } else {
            cold = self
                .write_by_id(credentials, zone, desired, now, report)
                .await;
            if cold.is_empty() {
                return;
            }
            &cold
        };
        let mut names: Vec<String> = desired.iter().map(|d| d.name.clone()).collect();
        names.dedup();
        report.api_calls += 1;
        let api = self.apis.get(credentials);
        let existing = match api.list_records(zone, &names).await {
            Ok(records) => records,
            Err(e) => {
                zone_failed(&mut self.state, zone, desired, &e, report);
                return;
            }
        };
        let p = plan::plan(desired, &existing);
        bookkeeping::prune_created(&mut self.state, zone, desired, &existing);
        self.reported
            .report(&p, zone, desired, &mut self.state, report);
        for conflict in &p.conflicts {
            let plan::Conflict::Cname { name, rtype } = conflict;
            if let Some(d) = find(desired, name, rtype) {
                push_failed(
                    report,
                    d,
                    conflict.to_string(),
                    Some(CNAME_HINT.into()),
                    Some(&zone.name),
                    None,
                );
            }
        }
        for (name, rtype, id) in &p.unchanged {
            if let Some(d) = find(desired, name, rtype) {
                remember(&mut self.state, d, id.clone(), now);
                let l = line(d, Outcome::Unchanged);
                decision!(info, &l, Some(&zone.name), None);
                report.lines.push(l);
            }
        }
        if p.changes.is_empty() {
            return;
        }
        if self.opts.dry_run {
            dry_run::render(&p.changes, &zone.name, desired, report);
            return;
        }
        let results = apply(api, zone, p.changes, &mut report.api_calls).await;
        record_results(&mut self.state, zone, desired, results, now, report);
    }

    /// Writes the (name, type)s whose address alone changed since the cache last vouched for
    /// them straight to their cached ids; returns those left to read and plan.
    async fn write_by_id(
        &mut self,
        credentials: Option<&str>,
        zone: &Zone,
        desired: &[Desired],
        now: u64,
        report: &mut RoundReport,
    ) -> Vec<Desired> {
        let (warm, mut cold): (Vec<Desired>, Vec<Desired>) = desired
            .iter()
            .cloned()
            .partition(|d| writable_by_id(&self.state, d, now, self.opts.max_age).is_some());
        if warm.is_empty() {
            return cold;
        }
        let changes = by_id::changes(&self.state, &warm);
        let api = self.apis.get(credentials);
        let results = apply(api, zone, changes, &mut report.api_calls).await;
        let sorted = by_id::sort(results, &warm);
        for (seen, back) in sorted.restore {
            warn!(
                record_id = %shown_id(&seen.id),
                "the cached record of {} is now {} {} (renamed or retyped in the dashboard): its content is put back and the zone read again",
                back.key().0.escape_debug(),
                text::bounded(&seen.name, 253),
                text::bounded(&seen.rtype, 16),
            );
            for (_, r) in apply(api, zone, vec![back], &mut report.api_calls).await {
                if let Err(e) = r {
                    warn!(
                        "could not put back the content of {}: {e}",
                        text::bounded(&seen.name, 253)
                    );
                }
            }
        }
        for d in &sorted.cold {
            debug!(
                "{} {}: the cached record is gone or changed; reading the zone",
                d.name, d.rtype
            );
            maps::remove(&mut self.state.records, &state::key(&d.name, d.rtype));
        }
        cold.extend(sorted.cold);
        record_results(&mut self.state, zone, &warm, sorted.done, now, report);
        cold
    }

    /// `delete_on_stop`: deletes the records ddflare created for the names that ask for it,
    /// and only those: an id in the cache's created list, still listed by Cloudflare, and in
    /// comment mode still carrying the marker. Each zone is read first; a record that cannot
    /// be confirmed is left in place. A dry run deletes nothing.
    pub async fn delete_created(&mut self) -> Cleanup {
        self.quiet = None;
        cleanup::delete_created(
            &self.apis,
            &self.records,
            &mut self.state,
            &self.opts.state_dir,
            self.opts.dry_run,
        )
        .await
    }
}
