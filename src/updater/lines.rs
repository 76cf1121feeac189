//! The round report's lines as the updater writes them: one [`Line`] per managed (name, type),
//! logged as it is added, and the rate limit a failed call asks the loop to honour. A leaf of
//! the updater: every job that reports (the round, the bookkeeping of results, the dry run,
//! the comment-mode reports) writes through here, so a failure reads the same wherever it
//! happened.

use std::time::Duration;

use tracing::warn;

use crate::cloudflare::{ApiError, ErrorKind};
use crate::plan::Desired;
use crate::round::{Line, Outcome, RoundReport};

/// The desired (name, type) among this zone's, by the name and type a change or plan holds.
pub(super) fn find<'a>(desired: &'a [Desired], name: &str, rtype: &str) -> Option<&'a Desired> {
    desired.iter().find(|d| d.name == name && d.rtype == rtype)
}

pub(super) fn line(d: &Desired, outcome: Outcome) -> Line {
    Line {
        name: d.name.clone(),
        rtype: d.rtype,
        content: d.content,
        outcome,
    }
}

/// A failed (name, type): a warning, its hint on a line of its own, and a report line.
pub(super) fn push_failed(
    report: &mut RoundReport,
    d: &Desired,
    error: String,
    hint: Option<String>,
) {
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

/// Keeps the longest wait Cloudflare asked for this round (a minute when it said none).
pub(super) fn note_rate_limit(report: &mut RoundReport, e: &ApiError) {
    if let ErrorKind::RateLimited { retry_after } = e.kind {
        let wait = retry_after.unwrap_or(Duration::from_secs(60));
        report.retry_after = Some(report.retry_after.map_or(wait, |w| w.max(wait)));
    }
}
