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
//! - [`state`]: the cache of what was published, per (name, type), written atomically.
//! - [`updater`]: one round: detect → compare with cache → plan → apply → save.
//! - [`daemon`]: the timer loop (woken early by address changes), backoff and graceful
//!   shutdown.
//! - [`cli`]: the command line; `main.rs` only calls it.

pub mod cli;
pub mod cloudflare;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod http;
pub mod logging;
pub mod plan;
pub mod secret;
pub mod state;
pub mod updater;
