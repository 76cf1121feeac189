//! Dry-run rendering: the changes a plan would make, as `Planned` report lines (and change
//! log lines), instead of calls. Nothing here touches Cloudflare or the cache.

use super::lines::{decision, find, line};
use crate::plan::{Change, Desired};
use crate::round::{Outcome, RoundReport};

/// One `Planned` line per change whose (name, type) is among `desired`, in zone `zone`.
pub(super) fn render(
    changes: &[Change],
    zone: &str,
    desired: &[Desired],
    report: &mut RoundReport,
) {
    for change in changes {
        let (name, rtype) = change.key();
        if let Some(d) = find(desired, name, rtype) {
            let l = line(d, Outcome::Planned(planned(change)));
            decision!(change info, &l, Some(zone), None);
            report.lines.push(l);
        }
    }
}

/// What a change would do, as the line says it.
fn planned(change: &Change) -> String {
    match change {
        Change::Create(_) => "created".to_owned(),
        Change::Update { from, .. } => format!("updated from {from}"),
        Change::Delete { content, .. } => format!("kept, duplicate {content} deleted"),
    }
}
