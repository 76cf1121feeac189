//! `ddflare once`: one round, with the monitors pinged and address changes told (a failure
//! streak needs `run`: one round alone never alerts), then the token-expiry check when due.
//! The round obeys `schedule.cycle_deadline` as `run`'s rounds do (cron must not pile up
//! runs against a silent or endless server); when Cloudflare asks to wait longer than the
//! round could, the round ends at once and says when the next try is allowed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::{Instant, timeout};
use tracing::{info, warn};

use super::edges::{self, Edges};
use super::exit::Verdict;
use super::observed::Observed;
use crate::cloudflare::{DnsApi, deadline};
use crate::config::Config;
use crate::daemon;
use crate::detect::Detector;
use crate::metrics::Metrics;
use crate::notify;
use crate::round::RoundEnd;
use crate::updater::Updater;

/// The command: a round on `edges`, then the expiry probe.
pub async fn once(config: &Config, edges: Edges, dry_run: bool) -> Verdict {
    let Edges { api, detector } = edges;
    let probe = api.default.without_retries();
    let mut updater = edges::updater(config, api, dry_run);
    let end = round(config, &mut updater, detector, dry_run).await;
    summarize(&end, None);
    if let RoundEnd::Done(r) = &end
        && let Some(wait) = r.retry_after
    {
        // Cloudflare asked for quiet: the expiry probe can wait for the next run.
        warn!("{}", next_try(wait, SystemTime::now()));
        return end.ok().into();
    }
    // After the round: the update comes first. Asks only when due (crate::expiry).
    crate::expiry::at_start(
        &probe,
        probe.uses_global_key(),
        &config.state.dir,
        dry_run,
        SystemTime::now(),
    )
    .await;
    end.ok().into()
}

/// One observed round, with the notifier drained before it returns.
pub async fn round<A: DnsApi>(
    config: &Config,
    updater: &mut Updater<A>,
    detector: Detector,
    dry_run: bool,
) -> RoundEnd {
    let task = if dry_run || config.notify.is_empty() {
        None
    } else {
        match edges::notifier(config, None) {
            Ok(t) => Some(t),
            Err(e) => {
                super::exit::log(&e);
                None
            }
        }
    };
    let (busy, _) = watch::channel(false);
    let observed = Observed {
        detector,
        metrics: Arc::new(Metrics::new(SystemTime::now(), Duration::ZERO)),
        notifier: task.as_ref().map(|(n, _)| n.clone()),
        busy,
    };
    let started = Instant::now();
    let cycle = config.schedule.cycle_deadline;
    let work = deadline::within(
        deadline::for_round(started, cycle),
        daemon::round(updater, &observed),
    );
    let end = match timeout(cycle, work).await {
        Ok(end) => end,
        Err(_) => {
            warn!(
                deadline_secs = cycle.as_secs(),
                "the round took longer than `schedule.cycle_deadline`; stopped"
            );
            // What the round did before it was cut is worth keeping.
            updater.save_state();
            RoundEnd::DeadlineExceeded
        }
    };
    if !dry_run {
        keep_history(&config.state.dir, &end);
    }
    if let Some((n, t)) = task {
        n.round_ended(&end);
        drop(n);
        drop(observed);
        notify::drain(
            t,
            config
                .schedule
                .shutdown_grace
                .max(notify::send::TIMEOUT * 2),
        )
        .await;
    }
    end
}

/// Appends what the round changed to the history of address changes (crate::history); a
/// failure to write it is a warning, never a failed round.
pub fn keep_history(dir: &std::path::Path, end: &RoundEnd) {
    let new = crate::history::changes(end, SystemTime::now());
    if let Err(e) = crate::history::record(dir, &new) {
        warn!("the history of address changes was not saved: {e}");
    }
}

/// The round's one summary line, with what started it early (`trigger="SIGUSR1"`), if
/// something did.
pub fn summarize(end: &RoundEnd, trigger: crate::daemon::Trigger) {
    match end {
        RoundEnd::Done(r) if r.ok() => {
            info!(
                changed = r.changed(),
                api_calls = r.api_calls,
                trigger,
                "round done"
            )
        }
        RoundEnd::Done(r) => warn!(
            failed = r.failed(),
            changed = r.changed(),
            api_calls = r.api_calls,
            trigger,
            "round done with failures; retrying sooner"
        ),
        RoundEnd::NothingDetected => {}
        RoundEnd::DeadlineExceeded => {}
    }
}

/// "Cloudflare asks to wait 11 d 13 h (Retry-After); the next try is after
/// 2026-12-16T01:46:39Z", for a round that ended on a `Retry-After` of `wait` at `now`.
pub fn next_try(wait: Duration, now: SystemTime) -> String {
    let after = match now.checked_add(wait) {
        Some(t) if t < std::time::UNIX_EPOCH + Duration::from_secs(253_402_300_799) => {
            humantime::format_rfc3339_seconds(t).to_string()
        }
        _ => "the year 9999".to_owned(),
    };
    format!(
        "Cloudflare asks to wait {} (Retry-After); the next try is after {after}",
        human(wait)
    )
}

/// A wait in its two largest units: `11 d 13 h`, `4 min 10 s`, `45 s`.
fn human(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    let units = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in units {
        if rest >= size || !parts.is_empty() {
            let n = rest / size;
            rest %= size;
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
            if parts.len() == 2 || (!parts.is_empty() && n == 0) {
                break;
            }
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_try_is_told_in_words_and_as_a_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        assert_eq!(
            next_try(Duration::from_secs(999_999), now),
            "Cloudflare asks to wait 11 d 13 h (Retry-After); the next try is after 2025-12-17T19:33:19Z"
        );
        assert_eq!(human(Duration::from_secs(250)), "4 min 10 s");
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(3_600)), "1 h");
        assert_eq!(human(Duration::from_secs(3_605)), "1 h");
        assert_eq!(human(Duration::ZERO), "1 s");
        assert!(next_try(Duration::from_secs(u64::MAX), now).ends_with("after the year 9999"));
    }
}
