//! The composition root: parse the command line, start logging, load the config, build the
//! I/O edges (TLS, the Cloudflare client, the detectors, the signal handlers) and run the
//! command. Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error (EX_CONFIG, so
//! systemd does not restart-loop on a bad file).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing::{error, info, warn};

use crate::cloudflare::{BatchRequest, Client, DnsApi, ErrorKind};
use crate::config::{self, Config, ProcessEnv, Source};
use crate::detect::{Detected, Detector, Family};
use crate::health;
use crate::http::Tls;
use crate::logging;
use crate::privileges;
use crate::service;
use crate::state::State;
use crate::updater::{self, Options, Updater};
use crate::{daemon::Detect, round::RoundEnd};

pub const EX_OK: u8 = 0;
pub const EX_FAILURE: u8 = 1;
pub const EX_USAGE: u8 = 2;
pub const EX_CONFIG: u8 = 78;

const DEFAULT_CONFIG: &str = "/etc/ddflare/ddflare.toml";

/// Keeps Cloudflare DNS records pointing at this host's public IPv4/IPv6 address.
#[derive(Debug, Parser)]
#[command(name = "ddflare", version, about, max_term_width = 100)]
struct Cli {
    /// Config file [default: $DDFLARE_CONFIG, then /etc/ddflare/ddflare.toml]
    #[arg(long, short, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log format
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: logging::Format,
    /// Log level [default: $DDFLARE_LOG_LEVEL, then info]
    #[arg(long, global = true, value_enum)]
    log_level: Option<logging::Level>,
    /// Log only changes and problems (as `log.quiet = true`)
    #[arg(long, short, global = true, conflicts_with = "log_level")]
    quiet: bool,
    /// When started as root, stay root instead of becoming `process.user` (65534:65534)
    /// [also: DDFLARE_DROP_PRIVILEGES=false]
    #[arg(long, global = true)]
    no_drop_privileges: bool,
    /// Refuse to start when a secret (an inline api_token or api_key, a token or key file)
    /// can be read by group or others, instead of warning [also: DDFLARE_STRICT=1]
    #[arg(long, global = true)]
    strict: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the config, the token, the zones and the permission to edit DNS
    Check,
    /// Run one reconciliation, then exit (for cron or a systemd timer)
    Once {
        /// Print the plan only; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the daemon: reconcile every `schedule.interval` (or at `schedule.cron`) until SIGTERM
    /// or SIGINT; SIGHUP reloads the config
    Run {
        /// Log the plan each round; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Run a round at once on start [default: `schedule.update_on_start`, true]
        #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        update_on_start: Option<bool>,
    },
    /// Show what the cache says: each record's address, when Cloudflare last confirmed it,
    /// and when the next round is due (no network)
    Status,
    /// Print the public address each configured provider sees
    Detect,
    /// Exit 0 if the daemon's last successful round is recent, else 1 (for HEALTHCHECK)
    Health {
        /// How old the last success may be [default: 2 × (interval + jitter) + cycle_deadline]
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        max_age: Option<std::time::Duration>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EX_USAGE } else { EX_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let env = ProcessEnv;
    let env_level = env
        .get("DDFLARE_LOG_LEVEL")
        .and_then(|v| clap::ValueEnum::from_str(&v, true).ok());
    let level = cli.log_level.or(env_level).unwrap_or(logging::Level::Info);

    let (path, explicit) = match (&cli.config, env.get("DDFLARE_CONFIG")) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    let opts = config::LoadOptions {
        explicit,
        strict: cli.strict,
    };
    let mut loaded = match config::load(&path, opts, &env) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    if cli.no_drop_privileges {
        loaded.config.process.drop_privileges = false;
    }
    // Logging starts once the config is read (`log.quiet`); config errors go to stderr as is.
    let quiet =
        cli.quiet || (loaded.config.log.quiet && cli.log_level.is_none() && env_level.is_none());
    logging::init(
        cli.log_format,
        level,
        logging::stderr_is_journal(env.get("JOURNAL_STREAM").as_deref()),
        quiet,
    );
    for w in &loaded.warnings {
        warn!("{w}");
    }
    // Root is dropped before any network I/O: after the config and secrets are read, before
    // the state dir is written. `status` and `health` only read the state dir.
    let dropped_root = match drop_root(&cli.command, &loaded.config) {
        Ok(dropped) => dropped,
        Err(code) => return ExitCode::from(code),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the async runtime: {e}");
            return ExitCode::from(EX_FAILURE);
        }
    };
    let origin = service::Origin {
        path,
        opts,
        dropped_root,
    };
    let code = runtime.block_on(dispatch(cli.command, loaded.config, origin));
    ExitCode::from(code)
}

/// Drops root for the commands that go on the network (privileges.rs), preparing the state
/// dir for those that write it. `Ok(true)` when root was dropped.
fn drop_root(command: &Command, config: &Config) -> Result<bool, u8> {
    let state_dir = match command {
        Command::Status | Command::Health { .. } => return Ok(false),
        Command::Once { dry_run } | Command::Run { dry_run, .. } => {
            (!dry_run).then_some(config.state.dir.as_path())
        }
        Command::Check | Command::Detect => None,
    };
    match privileges::apply(&config.process, state_dir) {
        Ok(privileges::Outcome::NotRoot) => Ok(false),
        Ok(privileges::Outcome::KeptRoot) => {
            info!(
                "running as root: dropping privileges is off (process.drop_privileges, DDFLARE_DROP_PRIVILEGES or --no-drop-privileges)"
            );
            Ok(false)
        }
        Ok(privileges::Outcome::Dropped { uid, gid }) => {
            info!("started as root: now running as uid {uid}, gid {gid} (process.user)");
            Ok(true)
        }
        Err((message, hint)) => {
            error!("{message}\nhint: {hint}");
            Err(EX_CONFIG)
        }
    }
}

/// The long-lived parts every command builds the same way.
pub(crate) struct Edges {
    pub api: Client,
    pub detector: Detector,
}

pub(crate) fn edges(config: &Config) -> Result<Edges, u8> {
    let tls = Tls::new(config.cloudflare.ca_file.as_deref()).map_err(|e| {
        error!("`cloudflare.ca_file`: {e}");
        EX_CONFIG
    })?;
    let api = Client::new(&config.cloudflare, &tls).map_err(|e| {
        error!("{e}");
        EX_FAILURE
    })?;
    let detector = Detector::new(&config.detect, &tls).map_err(|e| {
        error!("{e}");
        EX_FAILURE
    })?;
    Ok(Edges { api, detector })
}

async fn dispatch(command: Command, config: Config, origin: service::Origin) -> u8 {
    if let Command::Status = command {
        return status(&config);
    }
    let Edges { api, detector } = match edges(&config) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if matches!(
        command,
        Command::Check | Command::Once { .. } | Command::Run { .. }
    ) && let Some(w) = config.cloudflare.credentials.warning()
    {
        warn!("{w}");
    }
    match command {
        Command::Check => check(&config, &api).await,
        Command::Detect => detect(&detector).await,
        Command::Status => status(&config),
        Command::Health { max_age } => health::command(
            &config.state.dir,
            max_age.unwrap_or_else(|| health::default_max_age(&config.schedule)),
        ),
        Command::Once { dry_run } => {
            let probe = api.without_retries();
            let mut updater = new_updater(&config, api, dry_run);
            let end = service::once(&config, &mut updater, detector, dry_run).await;
            summarize(&end);
            // After the round: the update comes first. Asks only when due (crate::expiry).
            crate::expiry::at_start(
                &probe,
                probe.uses_global_key(),
                &config.state.dir,
                dry_run,
                std::time::SystemTime::now(),
            )
            .await;
            if end.ok() { EX_OK } else { EX_FAILURE }
        }
        Command::Run {
            dry_run,
            update_on_start,
        } => {
            service::run(
                config,
                Edges { api, detector },
                origin,
                dry_run,
                update_on_start,
            )
            .await
        }
    }
}

/// `ddflare status`: the cache, read without a network call. Exit 1 when a configured record
/// is not in it.
fn status(config: &Config) -> u8 {
    let (state, warning) = State::load(&config.state.dir);
    if let Some(w) = warning {
        println!("{w}");
        return EX_FAILURE;
    }
    println!("state: {}", crate::state::path(&config.state.dir).display());
    let (text, complete) = crate::status::render(config, &state, std::time::SystemTime::now());
    print!("{text}");
    if complete { EX_OK } else { EX_FAILURE }
}

pub(crate) fn new_updater(config: &Config, api: Client, dry_run: bool) -> Updater<Client> {
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
}

pub(crate) fn summarize(end: &RoundEnd) {
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

impl Detect for Detector {
    async fn detect(&self, families: &[Family]) -> BTreeMap<Family, Detected> {
        let report = self.detect_all().await;
        families
            .iter()
            .filter_map(|f| match report.get(*f) {
                Some(Ok(d)) => Some((*f, d.detected())),
                _ => None,
            })
            .collect()
    }
}

async fn detect(detector: &Detector) -> u8 {
    let mut any = false;
    for family in Family::ALL {
        if !detector.families().contains(&family) {
            println!("{family}: off");
            continue;
        }
        match detector.detect(family).await {
            Ok(d) => {
                any = true;
                println!("{family}: {} (from {})", d.addr, d.provider);
            }
            Err(e) => println!("{family}: failed: {e}"),
        }
    }
    if any { EX_OK } else { EX_FAILURE }
}

/// Checks, in order: the token (verify), then for each record its zone, reading its records,
/// and the right to edit them (an empty batch, which changes nothing). A failed verify alone
/// is not fatal: account-owned tokens fail `/user/tokens/verify` and still work.
async fn check(config: &Config, api: &Client) -> u8 {
    let mut ok = true;
    println!(
        "config: ok ({} record(s); IPv4 {}; IPv6 {})",
        config.records.len(),
        list(&config.detect.ipv4),
        list(&config.detect.ipv6)
    );
    let verified = if api.uses_global_key() {
        println!(
            "credentials: Global API Key (X-Auth-Email/X-Auth-Key); not verified: /user/tokens/verify checks API tokens only, so the zones below decide"
        );
        None
    } else {
        Some(api.verify_token().await)
    };
    match verified {
        None => {}
        Some(Ok(t)) => {
            let expiry = t
                .expires_on
                .as_deref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default();
            println!("token: {}{expiry}", t.status);
            let expires = t
                .expires_on
                .as_deref()
                .and_then(|e| humantime::parse_rfc3339_weak(e).ok());
            if t.status == "active"
                && let Some(w) =
                    crate::expiry::warning(&t.status, expires, std::time::SystemTime::now())
            {
                warn!("{w}");
                let (what, hint) = w.split_once("\nhint: ").unwrap_or((&w, ""));
                println!("  warning: {what}");
                println!("  hint: {hint}");
            }
            if t.status != "active" {
                ok = false;
                println!(
                    "  hint: the token is {}: create or re-enable one at My Profile → API Tokens",
                    t.status
                );
            }
        }
        Some(Err(e)) if e.kind == ErrorKind::MalformedCredentials => {
            println!("token: {e}");
            if let Some(h) = e.hint() {
                println!("  hint: {h}");
            }
            return EX_FAILURE;
        }
        Some(Err(e)) => {
            println!(
                "token: not verified at /user/tokens/verify ({e}); an account-owned token fails there and still works, so the zones decide"
            );
            if e.refused_location().is_some()
                && let Some(h) = e.hint()
            {
                println!("  hint: {h}");
            }
        }
    }
    let mut calls = 0usize;
    let mut probed: Vec<String> = Vec::new();
    for rec in &config.records {
        let zone = match updater::find_zone(api, rec, &mut calls).await {
            Ok(z) => z,
            Err(e) => {
                ok = false;
                let (msg, hint) = e.message(&rec.name);
                println!("{}: {msg}", rec.name);
                if let Some(h) = hint {
                    println!("  hint: {h}");
                }
                continue;
            }
        };
        let label = if zone.name.is_empty() {
            zone.id.clone()
        } else {
            zone.name.clone()
        };
        match api
            .list_records(&zone, std::slice::from_ref(&rec.name))
            .await
        {
            Ok(records) => {
                let mine: Vec<String> = records
                    .iter()
                    .filter(|r| r.rtype == "A" || r.rtype == "AAAA" || r.rtype == "CNAME")
                    .map(|r| format!("{} {}", r.rtype, r.content))
                    .collect();
                let now = if mine.is_empty() {
                    "no A/AAAA record yet".to_owned()
                } else {
                    mine.join(", ")
                };
                println!(
                    "{}: zone {label} ({}), DNS read ok: {now}",
                    rec.name, zone.id
                );
            }
            Err(e) => {
                ok = false;
                println!("{}: zone {label}: {e}", rec.name);
                if let Some(h) = e.hint() {
                    println!("  hint: {h}");
                }
                continue;
            }
        }
        if probed.contains(&zone.id) {
            continue;
        }
        probed.push(zone.id.clone());
        match api.batch(&zone, &BatchRequest::default()).await {
            Ok(_) => println!("zone {label}: DNS edit allowed"),
            Err(e) => {
                ok = false;
                println!("zone {label}: DNS edit refused: {e}");
                if let Some(h) = e.hint() {
                    println!("  hint: {h}");
                }
            }
        }
    }
    if ok {
        println!("all checks passed");
        EX_OK
    } else {
        EX_FAILURE
    }
}

fn list(specs: &[crate::detect::ProviderSpec]) -> String {
    if specs.is_empty() {
        "off".into()
    } else {
        specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
