//! What a round reports: one [`Line`] per managed (name, type) with its [`Outcome`], the
//! [`RoundReport`] of a reconciliation and the [`RoundEnd`] of a whole round. A leaf: the
//! updater writes these; the loop, metrics, notifications, the heartbeat and systemd read
//! them, and none of those has to reach up into the updater or the loop to do so.

use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// What happened to one managed (name, type) in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The cache says it is right and fresh: no API call was made for it.
    Cached,
    /// Cloudflare confirmed it is right.
    Unchanged,
    Created,
    Updated {
        from: String,
    },
    /// Duplicates removed (the kept record may also appear as updated or unchanged).
    DuplicatesDeleted(usize),
    /// A dry run: this change would be made.
    Planned(String),
    /// Comment mode: only records without ddflare's marker hold the name, so nothing was
    /// done (not a failure: it needs the user, not a retry).
    Skipped {
        reason: String,
        hint: Option<String>,
    },
    Failed {
        error: String,
        hint: Option<String>,
    },
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
            Outcome::Skipped { reason, .. } => write!(f, "{n} {t} {c} skipped: {reason}"),
            Outcome::Failed { error, .. } => write!(f, "{n} {t} {c} failed: {error}"),
        }
    }
}

/// A round's lines, shared: a copy costs a reference count, so a round that repeats the last
/// one (the cache answers for every record and the addresses are the same: the updater's quiet
/// path) hands the same lines on without copying a thousand names, and
/// [`Lines::same_as`] tells a reader that it has seen them already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines(Arc<Vec<Line>>);

impl Lines {
    pub fn push(&mut self, line: Line) {
        Arc::make_mut(&mut self.0).push(line);
    }

    /// Whether these are the very lines of `other` (shared, not equal: a new round that happens
    /// to say the same is a new round).
    pub fn same_as(&self, other: &Lines) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for Lines {
    type Target = [Line];

    fn deref(&self) -> &[Line] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Lines {
    type Item = &'a Line;
    type IntoIter = std::slice::Iter<'a, Line>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Vec<Line>> for Lines {
    fn from(lines: Vec<Line>) -> Self {
        Lines(Arc::new(lines))
    }
}

impl PartialEq<Vec<Line>> for Lines {
    fn eq(&self, other: &Vec<Line>) -> bool {
        *self.0 == *other
    }
}

/// Everything a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub lines: Lines,
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

/// How a round ended, for the caller's heartbeat, notifications and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEnd {
    Done(RoundReport),
    /// No family could be detected: nothing was compared.
    NothingDetected,
    /// The round exceeded `cycle_deadline`.
    DeadlineExceeded,
}

impl RoundEnd {
    pub fn ok(&self) -> bool {
        matches!(self, RoundEnd::Done(r) if r.ok())
    }
}
