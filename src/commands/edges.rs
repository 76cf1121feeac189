//! The one place that builds the I/O edges every command uses the same way: the TLS setup,
//! the Cloudflare client, the detector, the notifier and the updater with its cache. A reload
//! builds its new edges here too, so a file that `run` would refuse at start is refused the
//! same way on SIGHUP.

use std::sync::Arc;

use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::exit::Fatal;
use crate::cloudflare::{Client, Clients};
use crate::config::Config;
use crate::detect::Detector;
use crate::environment::ProcessEnv;
use crate::http::{Proxies, Tls};
use crate::metrics::Metrics;
use crate::notify::{self, Notifier};
use crate::state::State;
use crate::updater::{Options, Updater};

/// The long-lived parts every command builds the same way.
pub struct Edges {
    /// The client of each credential (one reqwest client, one budget).
    pub api: Clients<Client>,
    pub detector: Detector,
}

/// The TLS setup, with the proxies of the process environment (for the API and
/// notifications; detection never uses them).
fn tls(config: &Config) -> Result<Tls, Fatal> {
    let proxies = Proxies::from_env(&ProcessEnv);
    proxies.validate().map_err(Fatal::Proxy)?;
    Ok(Tls::new(config.cloudflare.ca_file.as_deref())
        .map_err(Fatal::CaFile)?
        .with_proxies(proxies))
}

/// The client and the detector of `config`.
pub fn edges(config: &Config) -> Result<Edges, Fatal> {
    let tls = tls(config)?;
    let proxies = Proxies::from_env(&ProcessEnv).describe();
    if !proxies.is_empty() {
        info!(
            "the Cloudflare API and notifications go through {proxies}; address detection connects directly"
        );
    }
    let api = Client::all(&config.cloudflare, &tls).map_err(Fatal::Setup)?;
    let detector = Detector::new(&config.detect, &tls).map_err(Fatal::Setup)?;
    Ok(Edges { api, detector })
}

/// The notifier of `config` and its sending task.
pub fn notifier(
    config: &Config,
    metrics: Option<Arc<Metrics>>,
) -> Result<(Notifier, JoinHandle<()>), Fatal> {
    let sender = notify::Sender::new(&tls(config)?).map_err(Fatal::Setup)?;
    Ok(Notifier::spawn(config.notify.clone(), sender, metrics))
}

/// The updater of `config` on `api`, with the cache read from the state dir (an empty one
/// for a dry run, which saves nothing).
pub fn updater(config: &Config, api: Clients<Client>, dry_run: bool) -> Updater<Client> {
    let dir = config.state.dir.clone();
    let (state, warning) = if dry_run {
        (State::default(), None)
    } else {
        State::load(&dir)
    };
    if let Some(w) = warning {
        warn!("{w}");
    }
    let opts = Options {
        state_dir: dir,
        max_age: config.state.max_age,
        dry_run,
    };
    Updater::new(api, config.records.clone(), opts, state)
        .with_lists(config.lists.clone())
        .with_gateway(config.gateway_locations.clone())
}
