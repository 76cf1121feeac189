//! The signals of `run` and what they mean: SIGTERM and SIGINT stop, SIGHUP reloads, SIGUSR1
//! starts a round now (see [`round_now`]). The
//! shutdown future ([`stop_or_reload`]) returns why it completed, so the loop's caller learns
//! it from the loop's result, not from a side channel.
//!
//! A reload validates the new file (and builds its TLS setup, API client and detectors) while
//! the current loop goes on; a bad file is logged and changes nothing. A good one waits for a
//! round in flight to finish before the future completes.

use std::path::PathBuf;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::edges::{self, Edges};
use crate::config::{self, Config};
use crate::reload;

/// SIGTERM, SIGINT and SIGHUP, installed once for the whole run.
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    /// Read by [`round_now`]; held here so that SIGUSR1 is handled (never the default action,
    /// which ends the process) from the start, before the first round's listener exists.
    _usr1: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            _usr1: signal(SignalKind::user_defined1())?,
        })
    }
}

/// Why SIGUSR1 wakes the loop: the `trigger` of the round it starts.
const USR1: &str = "SIGUSR1";

/// One channel for the reasons to start a round now: `netlink`'s (an address of a watched
/// interface changed) and SIGUSR1 (a router's hotplug script, when the WAN comes up). The
/// forwarding task ends when the returned receiver is dropped, as each loop of `run` (a
/// reload) builds its own. A SIGUSR1 while a round is in flight starts one more round after
/// it; several while one is pending start one.
pub fn round_now(
    netlink: Option<mpsc::Receiver<&'static str>>,
) -> Option<mpsc::Receiver<&'static str>> {
    let usr1 = match signal(SignalKind::user_defined1()) {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "cannot listen for SIGUSR1; it will not start a round");
            return netlink;
        }
    };
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(Box::pin(forward(netlink, usr1, tx)) as BoxedTask);
    Some(rx)
}

async fn forward(
    mut netlink: Option<mpsc::Receiver<&'static str>>,
    mut usr1: Signal,
    tx: mpsc::Sender<&'static str>,
) {
    loop {
        let why = tokio::select! {
            () = tx.closed() => return,
            Some(()) = usr1.recv() => USR1,
            why = async {
                match netlink.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => match why {
                Some(why) => why,
                // The watch stopped (logged there); SIGUSR1 still works.
                None => {
                    netlink = None;
                    continue;
                }
            },
        };
        // Full: a round is already due, and one is enough.
        if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(why) {
            return;
        }
    }
}

/// Why a loop stopped.
pub enum Stop {
    /// SIGTERM or SIGINT, received at this time.
    Exit { at: Instant },
    /// SIGHUP brought a valid, different config.
    Reload(Box<(Config, Edges)>),
}

/// Where the config comes from, to read it again on SIGHUP.
pub struct Origin {
    pub path: PathBuf,
    pub opts: config::LoadOptions,
    /// ddflare started as root and dropped it: the files are read again as the new user.
    pub dropped_root: bool,
}

/// Loads and checks the config at `origin`: `None` when it is invalid (logged) or unchanged.
fn reload_config(origin: &Origin, current: &Config) -> Option<(Config, Edges)> {
    let mut loaded = match config::load(&origin.path, origin.opts, &config::ProcessEnv) {
        Ok(l) => l,
        Err(e) => {
            error!("SIGHUP: the config is not valid; keeping the current one:\n{e}");
            if origin.dropped_root {
                error!(
                    "hint: ddflare dropped root at start and reads the files again as its new user; restart it to read root-only files"
                );
            }
            return None;
        }
    };
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
        return None;
    }
    match edges::edges(&loaded.config) {
        Ok(edges) => Some((loaded.config, edges)),
        Err(e) => {
            super::exit::log(&e);
            error!("SIGHUP: the new config cannot be used (see above); keeping the current one");
            None
        }
    }
}

/// Completes on SIGTERM/SIGINT, or on a SIGHUP bringing a valid, different config once no
/// round is in flight; returns which.
pub async fn stop_or_reload(
    signals: &mut Signals,
    origin: &Origin,
    current: &Config,
    busy: watch::Receiver<bool>,
) -> Stop {
    loop {
        let name = tokio::select! {
            _ = signals.term.recv() => "SIGTERM",
            _ = signals.int.recv() => "SIGINT",
            _ = signals.hup.recv() => "SIGHUP",
        };
        if name != "SIGHUP" {
            info!("{name} received");
            return Stop::Exit { at: Instant::now() };
        }
        info!(path = %origin.path.display(), "SIGHUP received: reloading the config");
        let Some((config, edges)) = reload_config(origin, current) else {
            continue;
        };
        let mut busy = busy.clone();
        if *busy.borrow() {
            info!("SIGHUP: the new config applies once the round in flight ends");
        }
        // SIGTERM always wins: a stop while the reload waits for the round in flight is a
        // stop, not a reload followed by more rounds.
        let stop = tokio::select! {
            _ = busy.wait_for(|b| !*b) => None,
            _ = signals.term.recv() => Some("SIGTERM"),
            _ = signals.int.recv() => Some("SIGINT"),
        };
        if let Some(name) = stop {
            info!("{name} received: the pending reload is dropped");
            return Stop::Exit { at: Instant::now() };
        }
        for line in reload::diff(current, &config) {
            info!(target: "ddflare::change", "config reloaded: {line}");
        }
        return Stop::Reload(Box::new((config, edges)));
    }
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
