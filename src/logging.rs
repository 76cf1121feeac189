//! Structured logs on stderr: human text (no colours unless a terminal; no timestamps under
//! systemd, whose journal adds them) or one JSON object per line. ddflare's own events go down
//! to the chosen level; dependencies only speak from `warn` up, so no library can print a
//! request header at `trace`.

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<Level> for LevelFilter {
    fn from(l: Level) -> Self {
        match l {
            Level::Error => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Debug => LevelFilter::DEBUG,
            Level::Trace => LevelFilter::TRACE,
        }
    }
}

/// Where changes are logged (an address published, a config reloaded): the events that quiet
/// mode keeps besides warnings and errors.
pub const CHANGE_TARGET: &str = "ddflare::change";

/// Installs the global subscriber. `under_journald` drops timestamps (journald adds its own).
/// `quiet`: only changes, warnings and errors (for routers with tiny log buffers).
pub fn init(format: Format, level: Level, under_journald: bool, quiet: bool) {
    let level = if quiet {
        LevelFilter::WARN
    } else {
        LevelFilter::from(level)
    };
    let mut filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("ddflare", level);
    if quiet {
        filter = filter.with_target(CHANGE_TARGET, LevelFilter::INFO);
    }
    let stderr_tty = std::io::stderr().is_terminal();
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        Format::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        Format::Text if under_journald => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .without_time()
                    .with_ansi(false)
                    .with_target(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        Format::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(stderr_tty)
                    .with_target(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Only fails when a subscriber is already set (tests): keep that one.
    let _ = result;
}
