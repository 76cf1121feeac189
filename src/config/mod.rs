//! Configuration: the TOML file plus environment overrides, validated into [`Config`].
//!
//! - `raw.rs`: the file's keys as written, spans kept for messages, and every default in one
//!   place ([`raw::defaults`]); `read.rs` fills it from the text (unknown keys rejected);
//! - `env.rs`: the environment overrides, read through the small [`Source`] trait (the process
//!   environment in production, a map in tests);
//! - `model.rs`: [`Config`], [`RecordConfig`], [`Ttl`]; `load.rs`: [`load`] and [`parse`];
//! - `build/`: raw + env → [`Config`], one file per section; `credentials.rs` and
//!   `ownership.rs`: the credentials and a record's ownership; `context.rs`: where a value
//!   came from and the readers they all share; `values.rs` and `token.rs`: the validators of
//!   single values and of the API token; `expand.rs`: `${NAME}` in record names and zones;
//! - `error.rs`: [`ConfigError`]. Every error names the key (`record[2].name`, 1-based) or the
//!   variable, the file and line when it came from the file, what was expected and what was
//!   found, and a `hint:` when there is a next step. No message, warning or `Debug` output ever
//!   contains the token.
//!
//! Precedence: environment, then the file, then the defaults. `DDFLARE_TTL`, `DDFLARE_PROXIED`,
//! `DDFLARE_COMMENT`, `DDFLARE_OWNERSHIP` and `DDFLARE_DELETE_ON_STOP` apply to every record,
//! over `[defaults]` and per-record values alike.

mod build;
mod context;
mod credentials;
pub mod env;
mod error;
mod expand;
mod load;
mod model;
mod ownership;
pub mod raw;
mod read;
mod token;
mod values;

#[cfg(test)]
mod tests;

pub use crate::cloudflare::{CloudflareConfig, Credentials};
pub use crate::detect::DetectConfig;
pub use crate::environment::{ProcessEnv, Source};
pub use crate::logging::LogConfig;
pub use crate::metrics::MetricsConfig;
pub use crate::plan_list::ListConfig;
pub use crate::schedule::ScheduleConfig;
pub use crate::state::StateConfig;
pub use error::{ConfigError, Location};
pub use load::{LoadOptions, Loaded, load, parse};
pub use model::{Config, GatewayLocation, RecordConfig, Ttl};
pub use raw::defaults::CONFIG_PATH as DEFAULT_CONFIG_PATH;
