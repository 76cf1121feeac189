//! The `run` and `once` commands with their operations around the loop: the metrics listener,
//! the notifier (notifications and monitor pings), the token-expiry probe (at start and daily,
//! with or without metrics), and SIGHUP reloads.
//!
//! A reload validates the new file (and builds its TLS setup, API client and detectors) while
//! the current loop goes on; a bad file is logged and changes nothing. A good one waits for a
//! round in flight to finish, stops the loop (saving the state), logs what changed and starts
//! the loop again on the new config, with a round at once. Counters, the failure streak and
//! the rate-limit windows carry over.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::cli::{self, EX_FAILURE, EX_OK, Edges};
use crate::cloudflare::{Client, DnsApi};
use crate::config::{self, Config, ScheduleConfig};
use crate::detect::{DetectError, Detected, Detector, Family};
use crate::http::Tls;
use crate::metrics::{self, Metrics};
use crate::notify::{self, Notifier};
use crate::reload;
use crate::{
    daemon::{self, Detect},
    round::RoundEnd,
};

/// How long `/healthz` stays healthy without a successful round: three regular waits plus a
/// round's deadline.
pub fn health_max_age(schedule: &ScheduleConfig) -> Duration {
    3 * (crate::schedule::longest_gap(schedule) + schedule.jitter) + schedule.cycle_deadline
}

/// Detection as the loop sees it, observed: it marks the round busy (a reload waits for it),
/// tells the monitors a round started, and counts each provider's outcome.
struct Observed {
    detector: Detector,
    metrics: Arc<Metrics>,
    notifier: Option<Notifier>,
    busy: watch::Sender<bool>,
}

/// The outcome label of one provider's failure.
fn failure_label(e: &DetectError) -> (Option<&str>, &'static str) {
    match e {
        DetectError::Failed { provider, .. } => (Some(provider), "failed"),
        DetectError::WrongFamily { provider, .. } => (Some(provider), "wrong_family"),
        DetectError::Timeout { provider, .. } => (Some(provider), "timeout"),
        DetectError::NotGlobal { provider, .. } => (Some(provider), "not_global"),
        DetectError::NoProvider(_)
        | DetectError::AllFailed { .. }
        | DetectError::NoAgreement { .. } => (None, "failed"),
    }
}

impl Detect for Observed {
    async fn detect(&self, families: &[Family]) -> BTreeMap<Family, Detected> {
        self.busy.send_replace(true);
        if let Some(n) = &self.notifier {
            n.round_started();
        }
        let report = self.detector.detect_all().await;
        let mut found = BTreeMap::new();
        for family in families {
            let fam = family.to_string();
            match report.get(*family) {
                Some(Ok(d)) => {
                    // The providers before the one that answered were tried and failed.
                    for name in self
                        .detector
                        .provider_names(*family)
                        .iter()
                        .take_while(|n| **n != d.provider)
                    {
                        self.metrics.detection(&fam, name, "failed");
                    }
                    self.metrics.detection(&fam, &d.provider, "ok");
                    found.insert(*family, d.detected());
                }
                Some(Err(DetectError::AllFailed { failures, .. })) => {
                    for f in failures {
                        if let (Some(p), outcome) = failure_label(f) {
                            self.metrics.detection(&fam, p, outcome);
                        }
                    }
                }
                Some(Err(e)) => {
                    if let (Some(p), outcome) = failure_label(e) {
                        self.metrics.detection(&fam, p, outcome);
                    }
                }
                None => {}
            }
        }
        found
    }
}

/// The metrics listener while it runs.
struct MetricsServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

async fn start_metrics(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<MetricsServer> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(metrics::server::serve(listener, metrics, async {
        let _ = stopped.await;
    }));
    info!("metrics: serving http://{bound}/metrics and /healthz");
    Ok(MetricsServer { addr, stop, task })
}

async fn stop_metrics(server: MetricsServer) {
    let _ = server.stop.send(());
    let _ = server.task.await;
}

/// Verifies the token when due and every day after (crate::expiry): the warning when it
/// expires soon, and `ddflare_token_expiry_timestamp_seconds`. Nothing for a Global API Key.
/// `fresh`: the credentials changed (a reload), so the cached answer is not theirs.
fn probe_token(
    api: &Client,
    state_dir: &std::path::Path,
    dry_run: bool,
    fresh: bool,
    metrics: Arc<Metrics>,
) -> Option<JoinHandle<()>> {
    if api.uses_global_key() {
        return None;
    }
    if fresh {
        let _ = std::fs::remove_file(crate::expiry::path(state_dir));
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

/// SIGTERM, SIGINT and SIGHUP, installed once for the whole run.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// Why a loop stopped.
enum Stop {
    Exit,
    Reload(Box<(Config, Edges)>),
}

/// Where the config comes from, to read it again on SIGHUP.
pub struct Origin {
    pub path: PathBuf,
    pub opts: config::LoadOptions,
    /// ddflare started as root and dropped it: the files are read again as the new user.
    pub dropped_root: bool,
}

/// Loads and checks the config at `origin`; `Err` has been logged.
fn reload_config(origin: &Origin, current: &Config) -> Result<Option<(Config, Edges)>, ()> {
    let mut loaded = config::load(&origin.path, origin.opts, &config::ProcessEnv).map_err(|e| {
        error!("SIGHUP: the config is not valid; keeping the current one:\n{e}");
        if origin.dropped_root {
            error!(
                "hint: ddflare dropped root at start and reads the files again as its new user; restart it to read root-only files"
            );
        }
    })?;
    for w in &loaded.warnings {
        warn!("{w}");
    }
    // Who ddflare runs as was settled at start (and --no-drop-privileges is not in the file).
    if loaded.config.process != current.process {
        info!("SIGHUP: [process] takes effect at the next start");
        loaded.config.process = current.process.clone();
    }
    if loaded.config == *current {
        info!("SIGHUP: the config is unchanged");
        return Ok(None);
    }
    let edges = cli::edges(&loaded.config).map_err(|_| {
        error!("SIGHUP: the new config cannot be used (see above); keeping the current one");
    })?;
    Ok(Some((loaded.config, edges)))
}

/// Completes on SIGTERM/SIGINT, or on a SIGHUP bringing a valid, different config once no
/// round is in flight; says which in `why`.
async fn stop_or_reload(
    signals: &mut Signals,
    origin: &Origin,
    current: &Config,
    busy: watch::Receiver<bool>,
    why: &RefCell<Option<Stop>>,
) {
    loop {
        let name = tokio::select! {
            _ = signals.term.recv() => "SIGTERM",
            _ = signals.int.recv() => "SIGINT",
            _ = signals.hup.recv() => "SIGHUP",
        };
        if name != "SIGHUP" {
            info!("{name} received");
            *why.borrow_mut() = Some(Stop::Exit);
            return;
        }
        info!(path = %origin.path.display(), "SIGHUP received: reloading the config");
        let Ok(Some((config, edges))) = reload_config(origin, current) else {
            continue;
        };
        let mut busy = busy.clone();
        if *busy.borrow() {
            info!("SIGHUP: the new config applies once the round in flight ends");
        }
        let _ = busy.wait_for(|b| !*b).await;
        for line in reload::diff(current, &config) {
            info!(target: "ddflare::change", "config reloaded: {line}");
        }
        *why.borrow_mut() = Some(Stop::Reload(Box::new((config, edges))));
        return;
    }
}

/// `ddflare run`.
pub(crate) async fn run(
    mut config: Config,
    mut edges: Edges,
    origin: Origin,
    dry_run: bool,
    update_on_start: Option<bool>,
) -> u8 {
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            error!("cannot install the SIGTERM/SIGINT/SIGHUP handlers: {e}");
            return EX_FAILURE;
        }
    };
    let metrics = Arc::new(Metrics::new(
        SystemTime::now(),
        health_max_age(&config.schedule),
    ));
    let mut server = None;
    if let Some(addr) = config.metrics.listen {
        match start_metrics(addr, metrics.clone()).await {
            Ok(s) => server = Some(s),
            Err(e) => {
                error!("metrics: cannot listen on {addr}: {e}");
                return EX_FAILURE;
            }
        }
    }
    let (notifier, notify_task) = if dry_run {
        if !config.notify.is_empty() {
            info!("dry run: notifications and monitor pings are off");
        }
        (None, None)
    } else {
        match notifier_with(&config, Some(metrics.clone())) {
            Ok((n, t)) => (Some(n), Some(t)),
            Err(code) => return code,
        }
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
    let mut probe: Option<JoinHandle<()>> = None;
    let mut credentials_changed = false;
    // systemd: READY=1 after the first successful round, STATUS= after each, WATCHDOG=1 pings.
    let sd = crate::systemd::Notifier::from_env(&config::ProcessEnv);
    let _watchdog = sd.start_watchdog(&config::ProcessEnv);
    let mut sd_report = crate::systemd::Reporter::new(sd.clone());
    loop {
        // `ddflare health` reads the heartbeat (a dry run writes nothing).
        let mut heartbeat = (!dry_run).then(|| crate::health::Heartbeat::new(&config.state.dir));
        let api = edges.api.clone().with_metrics(metrics.clone());
        if let Some(p) = probe.take() {
            p.abort();
        }
        probe = probe_token(
            &api,
            &config.state.dir,
            dry_run,
            credentials_changed,
            metrics.clone(),
        );
        let mut updater = cli::new_updater(&config, api, dry_run);
        metrics.seed(updater.state());
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
        let why = RefCell::new(None);
        // When SIGTERM/SIGINT came: `delete_on_stop` gets what is left of the grace.
        let stop_at = std::cell::Cell::new(None);
        // An `interface:` provider's address change starts a round at once (netlink).
        let wake = crate::detect::watch::watch(detector.detector.interfaces());
        daemon::run_woken(
            &mut updater,
            &detector,
            &schedule,
            async {
                stop_or_reload(&mut signals, &origin, &config, busy_rx, &why).await;
                if matches!(*why.borrow(), Some(Stop::Exit)) {
                    stop_at.set(Some(tokio::time::Instant::now()));
                    sd.stopping();
                }
            },
            wake,
            |end| {
                cli::summarize(end);
                if let Some(h) = heartbeat.as_mut() {
                    h.round(end);
                }
                sd_report.round(end);
                metrics.round(end, SystemTime::now());
                if let Some(n) = &detector.notifier {
                    n.round_ended(end);
                }
                detector.busy.send_replace(false);
            },
        )
        .await;
        let Some(Stop::Reload(reloaded)) = why.into_inner() else {
            // A graceful stop (not a reload): the in-flight round and this share the grace.
            if !dry_run && config.records.iter().any(|r| r.delete_on_stop) {
                let spent = stop_at.get().map_or(Duration::ZERO, |t| t.elapsed());
                let budget = config.schedule.shutdown_grace.saturating_sub(spent);
                daemon::delete_on_stop(&mut updater, budget).await;
            }
            break;
        };
        let (new, new_edges) = *reloaded;
        first = false;
        credentials_changed = new.cloudflare.credentials != config.cloudflare.credentials;
        metrics.set_health_max_age(health_max_age(&new.schedule));
        metrics.retain_records(&keys(&new));
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
                    Err(e) => {
                        error!("metrics: cannot listen on {addr}: {e}; the old listener stays")
                    }
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
        notify::drain(t, config.schedule.shutdown_grace).await;
    }
    if let Some(s) = server {
        stop_metrics(s).await;
    }
    info!("stopped");
    EX_OK
}

/// The (name, type) of every configured record.
fn keys(config: &Config) -> Vec<(String, String)> {
    config
        .records
        .iter()
        .flat_map(|r| {
            Family::ALL
                .into_iter()
                .filter(|f| match f {
                    Family::V4 => r.ipv4,
                    Family::V6 => r.ipv6,
                })
                .map(|f| (r.name.clone(), f.record_type().to_owned()))
        })
        .collect()
}

fn notifier_with(
    config: &Config,
    metrics: Option<Arc<Metrics>>,
) -> Result<(Notifier, JoinHandle<()>), u8> {
    let tls = Tls::new(config.cloudflare.ca_file.as_deref()).map_err(|e| {
        error!("`cloudflare.ca_file`: {e}");
        cli::EX_CONFIG
    })?;
    let sender = notify::Sender::new(&tls).map_err(|e| {
        error!("{e}");
        EX_FAILURE
    })?;
    Ok(Notifier::spawn(config.notify.clone(), sender, metrics))
}

/// `ddflare once`: one round, with the monitors pinged and address changes told (a failure
/// streak needs `run`: one round alone never alerts).
pub async fn once<A: DnsApi>(
    config: &Config,
    updater: &mut crate::updater::Updater<A>,
    detector: Detector,
    dry_run: bool,
) -> RoundEnd {
    let task = if dry_run || config.notify.is_empty() {
        None
    } else {
        notifier_with(config, None).ok()
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
