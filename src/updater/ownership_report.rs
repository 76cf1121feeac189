//! Comment-mode reports (`ownership = "comment"`): which records of a managed (name, type) do
//! not carry ddflare's marker and are therefore left alone. Said as a warning when what was
//! found changed since the last round (remembered per `"name/TYPE"`), a debug line otherwise,
//! so an unchanged situation does not warn every round.

use std::collections::BTreeMap;

use tracing::{debug, warn};

use super::lines::{decision, line};
use crate::cloudflare::Zone;
use crate::maps;
use crate::plan::{self, Desired, MARKER, Plan, Unowned};
use crate::round::{Outcome, RoundReport};
use crate::state::{self, State};

/// The unmarked records last reported, per `"name/TYPE"`.
#[derive(Debug, Default)]
pub(super) struct Reported(BTreeMap<String, String>);

impl Reported {
    /// Says which records of each desired (name, type) are not ddflare's. A (name, type) that
    /// holds only such records gets a `Skipped` line and loses its cache entry.
    pub(super) fn report(
        &mut self,
        p: &Plan,
        zone: &Zone,
        desired: &[Desired],
        state: &mut State,
        report: &mut RoundReport,
    ) {
        for d in desired {
            let key = state::key(&d.name, d.rtype);
            let Some(u) = p
                .unowned
                .iter()
                .find(|u| u.name == d.name && u.rtype == d.rtype)
            else {
                maps::remove(&mut self.0, &key);
                continue;
            };
            let fingerprint = fingerprint(u);
            let new = self.0.get(&key) != Some(&fingerprint);
            self.0.insert(key.clone(), fingerprint);
            let n = u.records.len();
            let list = u
                .records
                .iter()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if u.skipped {
                // Nothing of this (name, type) is ddflare's: no cache entry, so the next round
                // looks again (and sees a marker added in the dashboard).
                maps::remove(&mut state.records, &key);
                let l = line(d, skipped(d, n, &list));
                if new {
                    decision!(warn, &l, Some(&zone.name), None);
                    if let Outcome::Skipped {
                        hint: Some(hint), ..
                    } = &l.outcome
                    {
                        warn!("hint: {hint}");
                    }
                } else {
                    decision!(debug, &l, Some(&zone.name), None);
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
}

/// What was found, so that a change of it (a record added, edited or gone) is said again.
fn fingerprint(u: &Unowned) -> String {
    format!(
        "{}:{}",
        u.skipped,
        u.records
            .iter()
            .map(|(id, c)| format!("{id}={c}"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// The outcome of a (name, type) held only by `n` unmarked records (`list`, their contents).
fn skipped(d: &Desired, n: usize, list: &str) -> Outcome {
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
    }
}
