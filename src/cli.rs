//! The composition root: parse the command line, start logging, load the config, drop root,
//! start the runtime and hand the command to [`crate::commands`], which builds the I/O edges
//! and runs it. Exit codes are mapped in one place, `commands::exit`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing::{info, warn};

use crate::commands::exit::{self, EX_OK, EX_USAGE, Fatal, Verdict};
use crate::commands::signals::Origin;
use crate::commands::{check, detect, edges, health, history, once, run, status};
use crate::config::{self, Config, ProcessEnv, Source};
use crate::daemon::boxed;
use crate::logging;
use crate::privileges;

/// `ddflare --version`: the version, the commit and the target it was built for (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("DDFLARE_COMMIT"),
    ", ",
    env!("DDFLARE_TARGET"),
    ")"
);

const DEFAULT_CONFIG: &str = "/etc/ddflare/ddflare.toml";
/// How long the end of a command waits for blocking tasks still running (file reads), beyond
/// which they are abandoned.
const LEFTOVERS: std::time::Duration = std::time::Duration::from_millis(200);

/// Keeps Cloudflare DNS records pointing at this host's public IPv4/IPv6 address.
#[derive(Debug, Parser)]
#[command(name = "ddflare", version = VERSION, about, max_term_width = 100)]
struct Cli {
    /// Config file [default: $DDFLARE_CONFIG, then /etc/ddflare/ddflare.toml]
    #[arg(long, short, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log format [default: $DDFLARE_LOG_FORMAT, then text]
    #[arg(long, global = true, value_enum)]
    log_format: Option<logging::Format>,
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
    Status {
        /// Print JSON for scripts (fields in docs/operations.md)
        #[arg(long)]
        json: bool,
    },
    /// Print the address changes ddflare made, oldest first (kept in the state dir; no network)
    History {
        /// Only the last N changes
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        /// Print JSON (an array of {at, name, type, from, to})
        #[arg(long)]
        json: bool,
    },
    /// Print the public address each configured provider sees
    Detect {
        /// Print JSON for scripts (fields in docs/operations.md)
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 if the daemon's last successful round is recent, else 1 (for HEALTHCHECK)
    Health {
        /// How old the last success may be [default: 2 × (interval + jitter) + cycle_deadline]
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        max_age: Option<std::time::Duration>,
    },
    /// Print a ddflare.toml equivalent to another updater's settings (no config needed)
    #[cfg(feature = "import")]
    Import {
        /// The tool: favonia, timothymiller (their environment variables) or ddclient
        #[arg(long, value_name = "TOOL", value_parser = ["favonia", "timothymiller", "ddclient"])]
        from: String,
        /// An env file (KEY=value lines) or a ddclient.conf [default for favonia and
        /// timothymiller: this process's environment]
        file: Option<PathBuf>,
        /// Write the token and secret URLs into the output instead of naming where they come
        /// from
        #[arg(long)]
        inline_secrets: bool,
    },
}

/// `ddflare import`: before any config is read.
#[cfg(feature = "import")]
fn import(from: &str, file: Option<&std::path::Path>, inline: bool) -> ExitCode {
    let Some(tool) = crate::import::From::parse(from) else {
        eprintln!("error: --from: expected favonia, timothymiller or ddclient");
        return ExitCode::from(EX_USAGE);
    };
    let input = match file {
        Some(path) => match crate::import::read_source(path) {
            Ok(text) => crate::import::Input::Text(text),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::EX_FAILURE);
            }
        },
        None => crate::import::Input::Env(&ProcessEnv),
    };
    match crate::import::convert(tool, &input, inline) {
        Ok(toml) => {
            print!("{toml}");
            ExitCode::from(EX_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::EX_FAILURE)
        }
    }
}

/// The command line's definition, for the man pages and shell completions that
/// examples/gen-docs generates at package build time (the binary never calls it).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
    #[cfg(feature = "import")]
    if let Command::Import {
        from,
        file,
        inline_secrets,
    } = &cli.command
    {
        return import(from, file.as_deref(), *inline_secrets);
    }
    let env = ProcessEnv;
    let env_level = env
        .get("DDFLARE_LOG_LEVEL")
        .and_then(|v| clap::ValueEnum::from_str(&v, true).ok());
    let level = cli.log_level.or(env_level).unwrap_or(logging::Level::Info);
    let env_format = env
        .get("DDFLARE_LOG_FORMAT")
        .and_then(|v| clap::ValueEnum::from_str(&v, true).ok());
    let format = cli
        .log_format
        .or(env_format)
        .unwrap_or(logging::Format::Text);
    // https://no-color.org: present and not empty turns colour off.
    let color = env.get("NO_COLOR").is_none_or(|v| v.is_empty());

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
            // Logging is not up yet (`log.quiet` is in the file): the error goes to stderr.
            let fatal = Fatal::from(e);
            eprintln!("error: {fatal}");
            return ExitCode::from(fatal.code());
        }
    };
    if cli.no_drop_privileges {
        loaded.config.process.drop_privileges = false;
    }
    // Logging starts once the config is read (`log.quiet`); config errors go to stderr as is.
    let quiet =
        cli.quiet || (loaded.config.log.quiet && cli.log_level.is_none() && env_level.is_none());
    logging::init(
        format,
        level,
        logging::stderr_is_journal(env.get("JOURNAL_STREAM").as_deref()),
        quiet,
        color,
    );
    for (var, known) in [
        ("DDFLARE_LOG_LEVEL", env_level.is_some()),
        ("DDFLARE_LOG_FORMAT", env_format.is_some()),
    ] {
        if let Some(v) = env.get(var).filter(|v| !v.trim().is_empty() && !known) {
            warn!(
                "{var}={} is not a value ddflare knows; using the default\nhint: see `ddflare --help` for the values of --log-level and --log-format",
                crate::text::bounded(&v, 40)
            );
        }
    }
    for w in &loaded.warnings {
        warn!("{w}");
    }
    // Root is dropped before any network I/O: after the config and secrets are read, before
    // the state dir is written. `status`, `health` and `history` only read the state dir.
    let dropped_root = match drop_root(&cli.command, &loaded.config) {
        Ok(dropped) => dropped,
        Err(e) => return ExitCode::from(exit::code(Err(e))),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return ExitCode::from(exit::code(Err(Fatal::Runtime(e)))),
    };
    let origin = Origin {
        path,
        opts,
        dropped_root,
    };
    let result = runtime.block_on(boxed(move || dispatch(cli.command, loaded.config, origin)));
    // Dropping a runtime waits for every blocking task: one stuck in the kernel (a dead
    // network mount) would keep ddflare alive after `stopped`. What is left is abandoned.
    runtime.shutdown_timeout(LEFTOVERS);
    ExitCode::from(exit::code(result))
}

/// Drops root for the commands that go on the network (privileges.rs), preparing the state
/// dir for those that write it. `Ok(true)` when root was dropped.
fn drop_root(command: &Command, config: &Config) -> Result<bool, Fatal> {
    let state_dir = match command {
        Command::Status { .. } | Command::Health { .. } | Command::History { .. } => {
            return Ok(false);
        }
        Command::Once { dry_run } | Command::Run { dry_run, .. } => {
            (!dry_run).then_some(config.state.dir.as_path())
        }
        Command::Check | Command::Detect { .. } => None,
        #[cfg(feature = "import")]
        Command::Import { .. } => None,
    };
    match privileges::apply(&config.process, state_dir)? {
        privileges::Outcome::NotRoot => Ok(false),
        privileges::Outcome::KeptRoot => {
            info!(
                "running as root: dropping privileges is off (process.drop_privileges, DDFLARE_DROP_PRIVILEGES or --no-drop-privileges)"
            );
            Ok(false)
        }
        privileges::Outcome::Dropped { uid, gid } => {
            info!("started as root: now running as uid {uid}, gid {gid} (process.user)");
            Ok(true)
        }
    }
}

async fn dispatch(command: Command, config: Config, origin: Origin) -> Result<Verdict, Fatal> {
    match command {
        // Handled in `main` before any config is read.
        #[cfg(feature = "import")]
        Command::Import { .. } => Ok(Verdict::Ok),
        Command::Status { json } => Ok(status::status(&config, json)),
        Command::History { last, json } => Ok(history::history(&config, last, json)),
        Command::Health { max_age } => {
            let max_age =
                max_age.unwrap_or_else(|| crate::health::default_max_age(&config.schedule));
            Ok(health::health(&config.state.dir, max_age))
        }
        Command::Check => {
            let edges = networked(&config, true)?;
            Ok(boxed(|| check::check(&config, &edges.api)).await)
        }
        Command::Detect { json } => {
            let edges = networked(&config, false)?;
            Ok(boxed(|| detect::detect(&edges.detector, json)).await)
        }
        Command::Once { dry_run } => {
            let edges = networked(&config, true)?;
            Ok(boxed(|| once::once(&config, edges, dry_run)).await)
        }
        Command::Run {
            dry_run,
            update_on_start,
        } => {
            let edges = networked(&config, true)?;
            boxed(move || run::run(config, edges, origin, dry_run, update_on_start)).await
        }
    }
}

/// The edges of a command that goes on the network; `to_cloudflare`: it talks to the API, so
/// a Global API Key is warned about.
fn networked(config: &Config, to_cloudflare: bool) -> Result<edges::Edges, Fatal> {
    let edges = edges::edges(config)?;
    if to_cloudflare && let Some(w) = config.cloudflare.credentials.warning() {
        warn!("{w}");
    }
    Ok(edges)
}
