//! The round's limits as the client sees them: a deadline past which no request is sent and no
//! wait (retry backoff, `Retry-After`, pacing) begins, and a `Retry-After` too long for the
//! round, after which the round sends nothing more (each call fails at once with what is left
//! of the wait, so the report says when to try again). Whoever runs a round (`daemon`, `once`)
//! wraps it in [`within`]; a call outside one (`check`, the expiry probe) has no deadline.
//!
//! A tokio task-local rather than a client field: the client is shared by clones and outlives
//! rounds, while a deadline belongs to one round (the updater awaits its calls in that task).

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::{ApiError, ErrorKind};

const PAST: &str =
    "the round's time (`schedule.cycle_deadline`) ran out; the next round tries again";

tokio::task_local! {
    static ROUND: Round;
}

struct Round {
    deadline: Instant,
    /// Cloudflare asked not to be called again before this (a `Retry-After` too long to wait).
    blocked_until: Cell<Option<Instant>>,
}

/// How much of a round's `cycle_deadline` the calls may use: the rest (a tenth, at most two
/// seconds) is left for the round to report and save before the hard deadline cuts it.
pub fn for_round(started: Instant, cycle_deadline: Duration) -> Instant {
    let margin = (cycle_deadline / 10).min(Duration::from_secs(2));
    started + cycle_deadline.saturating_sub(margin)
}

/// Runs `round` with its calls bound by `deadline`.
pub async fn within<F: Future>(deadline: Instant, round: F) -> F::Output {
    let limits = Round {
        deadline,
        blocked_until: Cell::new(None),
    };
    ROUND.scope(limits, round).await
}

/// What is left of the round's time at `now`; `None` outside a round.
pub(super) fn left(now: Instant) -> Option<Duration> {
    ROUND
        .try_with(|r| r.deadline.saturating_duration_since(now))
        .ok()
}

/// A call the round's deadline ended, or never let start.
pub(super) fn past(action: &str) -> ApiError {
    ApiError::new(ErrorKind::Timeout, action).with_detail(PAST)
}

/// Whether `err` is [`past`]'s: not worth a retry in this round.
pub(super) fn is_past(err: &ApiError) -> bool {
    err.detail.as_deref() == Some(PAST)
}

/// How long Cloudflare still asks this round to wait, if it asked.
fn blocked_for(now: Instant) -> Option<Duration> {
    ROUND
        .try_with(|r| r.blocked_until.get())
        .ok()
        .flatten()
        .map(|until| until.saturating_duration_since(now))
        .filter(|d| !d.is_zero())
}

/// The error of a call not sent because Cloudflare asked this round to wait; `None` when
/// it did not (or the wait is over).
pub(super) fn blocked(now: Instant, action: &str) -> Option<ApiError> {
    let wait = blocked_for(now)?;
    let kind = ErrorKind::RateLimited {
        retry_after: Some(wait),
    };
    Some(ApiError::new(kind, action).with_detail("not sent: Cloudflare asked to wait"))
}

/// Sends nothing more this round for `wait` from `now`.
pub(super) fn block(now: Instant, wait: Duration) {
    // An absurd `Retry-After` is capped where the loop honours it; here it only has to last
    // the round (which is far shorter than a day).
    let until = now + wait.min(Duration::from_secs(86_400));
    let _ = ROUND.try_with(|r| {
        let later = r.blocked_until.get().map_or(until, |u| u.max(until));
        r.blocked_until.set(Some(later));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_hold_inside_a_round_only() {
        let now = Instant::now();
        assert_eq!(left(now), None);
        block(now, Duration::from_secs(5));
        assert!(blocked(now, "x").is_none(), "no round: nothing to block");
        let deadline = for_round(now, Duration::from_secs(120));
        assert_eq!(deadline, now + Duration::from_secs(118));
        assert_eq!(
            for_round(now, Duration::from_secs(5)),
            now + Duration::from_millis(4500)
        );
        within(deadline, async {
            assert_eq!(left(now), Some(Duration::from_secs(118)));
            assert_eq!(left(now + Duration::from_secs(200)), Some(Duration::ZERO));
            assert!(blocked(now, "x").is_none());
            block(now, Duration::from_secs(999_999));
            block(now, Duration::from_secs(5));
            assert_eq!(blocked_for(now), Some(Duration::from_secs(86_400)));
            let err = blocked(now, "list zones").map(|e| e.kind);
            assert!(matches!(err, Some(ErrorKind::RateLimited { retry_after: Some(d) }) if d.as_secs() == 86_400));
            assert!(is_past(&past("x")));
        })
        .await;
        assert!(blocked(now, "x").is_none(), "a new round starts unblocked");
    }
}
