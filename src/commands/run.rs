//! `ddflare run`: the loop (crate::daemon) with its operations around it: the metrics
//! listener, the notifier (notifications and monitor pings), the token-expiry probe (at start
//! and daily), systemd's notifications, the heartbeat, and SIGHUP reloads.
//!
//! A good reload stops the loop (saving the state), logs what changed and starts the loop
//! again on the new config, with a round at once. Counters, the failure streak and the
//! rate-limit windows carry over.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use super::edges::{self, Edges};
use super::exit::{Fatal, Verdict};
use super::observed::Observed;
use super::once::summarize;
use super::signals::{Origin, Signals, Stop, round_now, stop_or_reload};
use crate::cloudflare::Client;
use crate::config::{self, Config};
use crate::daemon;
use crate::detect::Family;
use crate::health::default_max_age;
use crate::metrics::Metrics;
use crate::notify;

/// The metrics listener while it runs.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
struct MetricsServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Without the `metrics` feature the config refuses `metrics.listen`, so this is never called.
#[cfg(not(feature = "metrics"))]
async fn start_metrics(addr: SocketAddr, _metrics: Arc<Metrics>) -> Result<MetricsServer, Fatal> {
    Err(Fatal::Listen {
        addr,
        error: std::io::Error::other("this build has no metrics listener (feature `metrics`)"),
    })
}

#[cfg(feature = "metrics")]
async fn start_metrics(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<MetricsServer, Fatal> {
    let listen = |error| Fatal::Listen { addr, error };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(
        Box::pin(crate::metrics::server::serve(listener, metrics, async {
            let _ = stopped.await;
        })) as BoxedTask,
    );
    info!("metrics: serving http://{bound}/metrics and /healthz");
    Ok(MetricsServer { addr, stop, task })
}

async fn stop_metrics(server: MetricsServer) {
    let _ = server.stop.send(());
    let _ = server.task.await;
}

/// The push endpoint while it runs (one per config: a reload starts it again).
#[cfg_attr(not(feature = "push"), allow(dead_code))]
struct PushServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Without the `push` feature there is no endpoint (a config with `[push]` is refused).
#[cfg(not(feature = "push"))]
async fn start_push(
    _config: &Config,
) -> Result<Option<(PushServer, mpsc::Receiver<crate::push::Pushed>)>, Fatal> {
    Ok(None)
}

/// `[push]`: binds the listener; pushes come to the loop through the returned receiver.
#[cfg(feature = "push")]
async fn start_push(
    config: &Config,
) -> Result<Option<(PushServer, mpsc::Receiver<crate::push::Pushed>)>, Fatal> {
    let Some(push) = config.push.clone() else {
        return Ok(None);
    };
    let addr = push.listen;
    let listen = |error| Fatal::Listen { addr, error };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    let (tx, rx) = mpsc::channel(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let gate = crate::push::Gate {
        allow_private: config.detect.allow_private,
        filters: config.detect.filters.clone(),
    };
    // A push may wait for the round in flight, then for its own.
    let wait = config.schedule.cycle_deadline * 2;
    let task = tokio::spawn(
        Box::pin(crate::push::serve(listener, push, gate, tx, wait, async {
            let _ = stopped.await;
        })) as BoxedTask,
    );
    info!("push: serving dyndns2 on http://{bound}/nic/update");
    Ok(Some((PushServer { stop, task }, rx)))
}

/// Verifies the token when due and every day after (crate::expiry): the warning when it
/// expires soon, and `ddflare_token_expiry_timestamp_seconds`. Nothing for a Global API Key.
/// `fresh`: the credentials changed (a reload), so the cached answer is not theirs.
fn probe_token(
    api: &Client,
    state_dir: &Path,
    dry_run: bool,
    fresh: bool,
    metrics: Arc<Metrics>,
) -> Option<JoinHandle<()>> {
    if api.uses_global_key() {
        return None;
    }
    if fresh {
        crate::expiry::forget(state_dir);
    }
    Some(crate::expiry::spawn_probe(
        api.without_retries(),
        state_dir.to_owned(),
        dry_run,
        metrics,
        SystemTime::now,
        |w| warn!("{w}"),
    ))
}

/// The command.
pub async fn run(
    mut config: Config,
    mut edges: Edges,
    origin: Origin,
    dry_run: bool,
    update_on_start: Option<bool>,
) -> Result<Verdict, Fatal> {
    let mut signals = Signals::install().map_err(Fatal::Signals)?;
    let metrics = Arc::new(Metrics::new(
        SystemTime::now(),
        default_max_age(&config.schedule),
    ));
    let mut server = match config.metrics.listen {
        Some(addr) => Some(start_metrics(addr, metrics.clone()).await?),
        None => None,
    };
    let (notifier, notify_task) = if dry_run {
        if !config.notify.is_empty() {
            info!("dry run: notifications and monitor pings are off");
        }
        (None, None)
    } else {
        let (n, t) = edges::notifier(&config, Some(metrics.clone()))?;
        (Some(n), Some(t))
    };
    info!(
        version = env!("CARGO_PKG_VERSION"),
        records = config.records.len(),
        interval_secs = config.schedule.interval.as_secs(),
        cron = config
            .schedule
            .cron
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        "ddflare started"
    );
    let mut first = true;
    let mut stopped_at: Option<tokio::time::Instant> = None;
    let mut probe: Option<JoinHandle<()>> = None;
    let mut credentials_changed = false;
    // systemd: READY=1 after the first successful round, STATUS= after each, WATCHDOG=1 pings.
    let sd = crate::systemd::Notifier::from_env(&config::ProcessEnv);
    let _watchdog = sd.start_watchdog(&config::ProcessEnv);
    let mut sd_report = crate::systemd::Reporter::new(sd.clone());
    loop {
        // `ddflare health` reads the heartbeat (a dry run writes nothing).
        let mut heartbeat = (!dry_run).then(|| {
            crate::health::Heartbeat::new(
                &config.state.dir,
                crate::health::refresh(&config.schedule),
            )
        });
        let api = edges.api.clone().with_metrics(metrics.clone());
        if let Some(p) = probe.take() {
            p.abort();
        }
        probe = probe_token(
            &api.default,
            &config.state.dir,
            dry_run,
            credentials_changed,
            metrics.clone(),
        );
        let mut updater = edges::updater(&config, api, dry_run);
        // extend, not collect: BTreeSet's FromIterator sorts (a stable sort per type).
        let mut push_owned = BTreeSet::new();
        push_owned.extend(
            config
                .push
                .iter()
                .flat_map(|p| &p.clients)
                .flat_map(|c| c.hostnames.iter().cloned()),
        );
        updater.set_push_owned(push_owned);
        let (push_server, push_rx) = match start_push(&config).await? {
            Some((s, rx)) => (Some(s), Some(rx)),
            None => (None, None),
        };
        metrics.seed(updater.state());
        metrics.set_records(records(&config));
        if first {
            metrics.seed_history(crate::history::load(&config.state.dir).unwrap_or_default());
        }
        let mut schedule = config.schedule.clone();
        schedule.update_on_start = if first {
            update_on_start.unwrap_or(schedule.update_on_start)
        } else {
            true
        };
        let (busy, busy_rx) = watch::channel(false);
        let detector = Observed {
            detector: edges.detector,
            metrics: metrics.clone(),
            notifier: notifier.clone(),
            busy,
        };
        // An `interface:` provider's address change (netlink) and SIGUSR1 start a round at once.
        let wake = round_now(crate::detect::watch::watch(detector.detector.interfaces()));
        let stopped = daemon::run_pushed(
            &mut updater,
            &detector,
            &schedule,
            async {
                let stop = stop_or_reload(&mut signals, &origin, &config, busy_rx).await;
                if matches!(stop, Stop::Exit { .. }) {
                    sd.stopping();
                    last_resort(config.schedule.shutdown_grace);
                }
                stop
            },
            daemon::Inbox {
                wake,
                push: push_rx,
            },
            |end, trigger| {
                summarize(end, trigger);
                if let Some(h) = heartbeat.as_mut() {
                    h.round(end);
                }
                sd_report.round(end);
                if !dry_run {
                    super::once::keep_history(&config.state.dir, end);
                }
                let now = SystemTime::now();
                metrics.round(end, now);
                // Exact with cron; about `interval` from now (jitter aside) without.
                let next = crate::schedule::next_fire(&schedule, now)
                    .or_else(|| now.checked_add(schedule.interval));
                metrics.set_next_round(next.filter(|_| end.ok()));
                if let Some(n) = &detector.notifier {
                    n.round_ended(end);
                }
                detector.busy.send_replace(false);
            },
        )
        .await;
        if let Some(p) = push_server {
            let _ = p.stop.send(());
            let _ = p.task.await;
        }
        let reloaded = match stopped {
            Some(Stop::Reload(reloaded)) => reloaded,
            Some(Stop::Exit { at }) => {
                // A graceful stop: the in-flight round, this and the notifications' drain
                // share the grace.
                stopped_at = Some(at);
                if !dry_run && config.records.iter().any(|r| r.delete_on_stop) {
                    let budget = config.schedule.shutdown_grace.saturating_sub(at.elapsed());
                    daemon::delete_on_stop(&mut updater, budget).await;
                }
                break;
            }
            None => break,
        };
        let (new, new_edges) = *reloaded;
        first = false;
        credentials_changed = new.cloudflare.credentials != config.cloudflare.credentials;
        metrics.set_health_max_age(default_max_age(&new.schedule));

        if let Some(n) = &notifier {
            n.reconfigure(new.notify.clone());
        }
        if new.metrics.listen != server.as_ref().map(|s| s.addr) {
            match new.metrics.listen {
                Some(addr) => match start_metrics(addr, metrics.clone()).await {
                    Ok(s) => {
                        if let Some(old) = server.replace(s) {
                            stop_metrics(old).await;
                        }
                    }
                    Err(e) => error!("{e}; the old listener stays"),
                },
                None => {
                    if let Some(old) = server.take() {
                        stop_metrics(old).await;
                        info!("metrics: listener closed");
                    }
                }
            }
        }
        config = new;
        edges = new_edges;
    }
    if let Some(p) = probe {
        p.abort();
    }
    drop(notifier);
    if let Some(t) = notify_task {
        // What is left of the grace (half a second at least, still inside the last resort's
        // grace + 1 s), so that a slow notification cannot turn a clean stop into a forced one.
        let grace = config.schedule.shutdown_grace;
        let left = stopped_at.map_or(grace, |at| {
            grace
                .saturating_sub(at.elapsed())
                .max(Duration::from_millis(500))
        });
        notify::drain(t, left).await;
    }
    if let Some(s) = server {
        stop_metrics(s).await;
    }
    info!("stopped");
    Ok(Verdict::Ok)
}

/// What follows SIGTERM is bounded by `shutdown_grace` (the round in flight,
/// `delete_on_stop`, the notifications); whatever is stuck beyond that and one more second
/// (a call that blocks the runtime's thread, a read the kernel never finishes) does not keep
/// ddflare alive: a plain thread ends the process, with exit 1 since the stop was not clean.
fn last_resort(grace: Duration) {
    let spawned = std::thread::Builder::new()
        .name("ddflare-stop".into())
        .spawn(move || {
            std::thread::sleep(grace + Duration::from_secs(1));
            error!(
                "still not stopped {} after SIGTERM (shutdown_grace + 1s): exiting now",
                crate::health::show(grace + Duration::from_secs(1))
            );
            std::process::exit(i32::from(super::exit::EX_FAILURE));
        });
    if let Err(e) = spawned {
        warn!("cannot arm the shutdown timer: {e}");
    }
}

/// The (name, type) of every configured record, with its `comment`.
fn records(config: &Config) -> BTreeMap<(String, String), Option<String>> {
    // extend, not collect: BTreeMap's FromIterator sorts (a stable sort per type).
    let mut records = BTreeMap::new();
    records.extend(config.records.iter().flat_map(|r| {
        Family::ALL
            .into_iter()
            .filter(|f| match f {
                Family::V4 => r.ipv4,
                Family::V6 => r.ipv6,
            })
            .map(|f| {
                let key = (r.name.clone(), f.record_type().to_owned());
                (key, r.comment.clone())
            })
    }));
    records
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
