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
use crate::text;

/// The longest `cf-ray` logged, in characters (Cloudflare's are 20).
const RAY_MAX: usize = 40;

/// The structured fields of a decision line, besides the message (the line as text): what
/// JSON logs carry for scripts (docs/operations.md, "Decision fields").
pub(crate) struct Fields<'a> {
    pub outcome: &'static str,
    pub from: Option<String>,
    pub cached: Option<bool>,
    pub error: Option<&'a str>,
    pub hint: Option<&'a str>,
}

impl<'a> Fields<'a> {
    pub fn of(l: &'a Line) -> Self {
        let mut f = Fields {
            outcome: "",
            from: None,
            cached: None,
            error: None,
            hint: None,
        };
        f.outcome = match &l.outcome {
            Outcome::Cached => {
                f.cached = Some(true);
                "unchanged"
            }
            Outcome::Unchanged => "unchanged",
            Outcome::Created => "created",
            Outcome::Updated { from } => {
                // Only the settings changed: the address it had is the one it keeps.
                f.from = Some(if from.parse::<std::net::IpAddr>().is_ok() {
                    from.clone()
                } else {
                    l.content.to_string()
                });
                "updated"
            }
            Outcome::DuplicatesDeleted(_) => "duplicates_deleted",
            Outcome::Planned(_) => "planned",
            Outcome::Skipped { hint, .. } => {
                f.hint = hint.as_deref();
                "skipped"
            }
            Outcome::Failed { error, hint } => {
                f.error = Some(error);
                f.hint = hint.as_deref();
                "failed"
            }
        };
        f
    }
}

/// Logs a decision: the line as its message, plus `name`, `type`, `from`, `to`, `zone`,
/// `outcome` and, on failures, `error`, `hint` and `cf_ray` as fields. The text format shows
/// the message and `zone` only (logging.rs hides the rest, which the message already says).
macro_rules! decision {
    (change $level:ident, $line:expr, $zone:expr, $ray:expr) => {
        $crate::updater::lines::decision!(@ $level, (target: "ddflare::change",), $line, $zone, $ray)
    };
    ($level:ident, $line:expr, $zone:expr, $ray:expr) => {
        $crate::updater::lines::decision!(@ $level, (), $line, $zone, $ray)
    };
    (@ $level:ident, ($($target:tt)*), $line:expr, $zone:expr, $ray:expr) => {{
        let l: &$crate::round::Line = $line;
        let f = $crate::updater::lines::Fields::of(l);
        let zone: Option<&str> = $zone;
        let ray: Option<&str> = $ray;
        tracing::$level!(
            $($target)*
            name = l.name.as_str(),
            "type" = l.rtype,
            from = f.from.as_deref(),
            to = %l.content,
            zone,
            outcome = f.outcome,
            cached = f.cached,
            error = f.error,
            hint = f.hint,
            cf_ray = ray,
            "{l}"
        );
    }};
}
pub(crate) use decision;

/// The `cf-ray` of a failed call, bounded for the log.
pub(super) fn ray(e: &ApiError) -> Option<String> {
    e.ray.as_deref().map(|r| text::bounded(r, RAY_MAX))
}

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
/// `zone`: the zone's name when known; `ray`: the failed call's `cf-ray`.
pub(super) fn push_failed(
    report: &mut RoundReport,
    d: &Desired,
    error: String,
    hint: Option<String>,
    zone: Option<&str>,
    ray: Option<&str>,
) {
    let l = line(d, Outcome::Failed { error, hint });
    decision!(warn, &l, zone, ray);
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
