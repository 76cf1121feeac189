//! Configuration: the TOML file plus environment overrides, validated into [`Config`].
//!
//! `raw.rs` is the serde wire type (unknown keys rejected, every default in one place),
//! `env.rs` applies the environment through the small [`Source`] trait (the process environment
//! in production, a map in tests), and this file holds the validated types the rest of ddflare
//! uses. Every error names the key, its line when it came from the file, and what was expected.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::detect::ProviderSpec;
use crate::secret::Secret;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub cloudflare: CloudflareConfig,
    pub detect: DetectConfig,
    pub schedule: ScheduleConfig,
    pub state: StateConfig,
    pub records: Vec<RecordConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudflareConfig {
    /// `api_token`, `api_token_file`, `CLOUDFLARE_API_TOKEN` or `CLOUDFLARE_API_TOKEN_FILE`.
    pub token: Secret,
    /// `api_url`, without a trailing slash. https, or http only on a loopback address.
    pub api_url: String,
    /// `ca_file`: extra PEM roots trusted besides the compiled-in ones (tests, private CAs).
    pub ca_file: Option<PathBuf>,
    /// `request_timeout`: one HTTP request, connect to last byte. Default 10s.
    pub request_timeout: Duration,
    /// `max_retries`: retries of one request after 429, 5xx or a timeout. Default 3.
    pub max_retries: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetectConfig {
    /// Providers for IPv4, tried in order. Empty when the family is off (`"none"`).
    pub ipv4: Vec<ProviderSpec>,
    /// Providers for IPv6, tried in order. Empty when the family is off (`"none"`).
    pub ipv6: Vec<ProviderSpec>,
    /// `timeout`: how long one provider may take. Default 5s.
    pub timeout: Duration,
    /// `trace_url`: where `cloudflare.trace` asks. Default `https://api.cloudflare.com/cdn-cgi/trace`,
    /// or the origin of `cloudflare.api_url` + `/cdn-cgi/trace` when that is overridden.
    pub trace_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// `interval`: time between two rounds. Default 5m.
    pub interval: Duration,
    /// `cycle_deadline`: the longest one round may take, retries included. Default 2m.
    pub cycle_deadline: Duration,
    /// `shutdown_grace`: how long an in-flight round may go on after SIGTERM. Default 10s.
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateConfig {
    /// `dir`: default `$STATE_DIRECTORY` (systemd), else `/var/lib/ddflare`.
    pub dir: PathBuf,
    /// `max_age`: re-read the records from Cloudflare when the cache is older. Default 6h.
    pub max_age: Duration,
}

/// One managed name, with `[defaults]` already merged in.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordConfig {
    /// Lowercase ASCII (IDN converted to punycode), no trailing dot.
    pub name: String,
    /// `zone`: the zone name (ASCII), if given; else found by walking up the labels.
    pub zone: Option<String>,
    /// `zone_id`: skips the zone lookup.
    pub zone_id: Option<String>,
    pub ipv4: bool,
    pub ipv6: bool,
    /// `None`: keep what Cloudflare has (new records get Cloudflare's default).
    pub ttl: Option<Ttl>,
    pub proxied: Option<bool>,
    pub comment: Option<String>,
}

/// A record TTL: `"auto"` (sent as 1) or seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ttl {
    Auto,
    Seconds(u32),
}

impl Ttl {
    /// The value the API uses: 1 means automatic.
    pub fn api_value(self) -> u32 {
        match self {
            Ttl::Auto => 1,
            Ttl::Seconds(s) => s,
        }
    }
}

/// Where environment overrides come from: the process environment in production, a map in
/// tests (no `env::set_var` in tests).
pub trait Source {
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}
