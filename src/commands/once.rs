//! `ddflare once`: one round, with the monitors pinged and address changes told (a failure
//! streak needs `run`: one round alone never alerts), then the token-expiry check when due.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tracing::{info, warn};

use super::edges::{self, Edges};
use super::exit::Verdict;
use super::observed::Observed;
use crate::cloudflare::DnsApi;
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
    let probe = api.without_retries();
    let mut updater = edges::updater(config, api, dry_run);
    let end = round(config, &mut updater, detector, dry_run).await;
    summarize(&end);
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
    let end = daemon::round(updater, &observed).await;
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

/// The round's one summary line.
pub fn summarize(end: &RoundEnd) {
    match end {
        RoundEnd::Done(r) if r.ok() => {
            info!(changed = r.changed(), api_calls = r.api_calls, "round done")
        }
        RoundEnd::Done(r) => warn!(
            failed = r.failed(),
            changed = r.changed(),
            api_calls = r.api_calls,
            "round done with failures; retrying sooner"
        ),
        RoundEnd::NothingDetected => {}
        RoundEnd::DeadlineExceeded => {}
    }
}
