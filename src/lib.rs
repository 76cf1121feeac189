//! ddflare: keeps a host's Cloudflare A/AAAA records pointing at its public address.
//!
//! # Layout
//! - [`config`]: the TOML file and environment overrides, parsed into a raw wire type and
//!   validated into [`config::Config`]. Every error names its key and line.
//! - [`detect`]: the [`detect::IpProvider`] trait and its providers (`cloudflare.trace`,
//!   `cloudflare.dns`, `cloudflare.doh`, `interface:`, `local`, `url:`, `static:`, `file:`);
//!   the bogon filter, fallback or agreement across a family's list, IPv6 prefix mode, and
//!   the netlink watch that wakes the daemon when an interface's address changes.
//! - [`cloudflare`]: the [`cloudflare::DnsApi`] trait, the wire types of API v4 and the reqwest
//!   client that implements it (retries, rate limits, `cf-ray` logging, redacted token).
//! - [`plan`]: PURE reconciliation: desired records + existing records → changes.
//! - [`plan_list`]: PURE: an IP list's items + the addresses → items to add and delete.
//! - [`files`]: the one reader and writer of ddflare's files (regular files only, size caps,
//!   no links in the state dir, a private subdirectory in a shared state dir).
//! - [`state`]: the cache of what was published, per (name, type), written atomically.
//! - [`updater`]: one round: detect → compare with cache → plan → apply → save.
//! - [`daemon`]: the timer loop (woken early by address changes), backoff and graceful
//!   shutdown.
//! - [`schedule`]: PURE: cron expressions, jitter, the wait until the next regular round.
//! - [`metrics`]: the tally of rounds, detections, API calls and updates; PURE Prometheus
//!   rendering, `/healthz` decision and status page; the `process_*` metrics; a minimal HTTP
//!   listener (`[metrics] listen`).
//! - [`history`]: the bounded history of address changes (`history.json`, `ddflare history`).
//! - [`notify`]: notifications (webhook, ntfy, Gotify, Discord, Slack, Telegram) and monitor
//!   pings (Healthchecks, Uptime Kuma); PURE URL parsing, alert policy and message text.
//! - [`reload`]: PURE: the differences between two configs, logged on SIGHUP.
//! - [`status`]: PURE: `ddflare status`, what the cache says.
//! - [`expiry`]: the API token's expiry: PURE "is it due / what to say", the cached answer,
//!   the warning at every start and the daily verify of `run`.
//! - [`health`]: the daemon's heartbeat file and `ddflare health` (a container's HEALTHCHECK).
//! - [`systemd`]: sd_notify (READY, STATUS, WATCHDOG, STOPPING) for a `Type=notify` unit.
//! - [`privileges`]: dropping root before any network I/O (PURE decisions; the only
//!   `unsafe`, a few checked libc calls).
//! - [`service`]: the `run` command: the loop with the metrics listener, the notifier and
//!   SIGHUP reloads around it.
//! - [`cli`]: the command line; `main.rs` only calls it.

pub mod cli;
pub mod clock;
pub mod cloudflare;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod environment;
pub mod expiry;
pub mod files;
pub mod health;
pub mod history;
pub mod http;
#[cfg(feature = "import")]
pub mod import;
pub mod logging;
pub mod maps;
pub mod metrics;
pub mod notify;
pub mod plan;
pub mod plan_list;
pub mod privileges;
pub mod push;
pub mod reload;
pub mod round;
pub mod schedule;
pub mod secret;
pub mod text;
pub mod tz;

pub mod state;
pub mod status;
pub mod systemd;
#[cfg(test)]
pub(crate) mod testing;
pub mod updater;
