//! The shape of `ddflare.toml` as written (filled by `read.rs`), and every default in one place.
//!
//! Leaf values are `Option<Spanned<_>>`: `None` when the key is
//! absent (the default applies, see [`defaults`]), and the span gives the line for messages
//! found later, during validation. Nothing here validates values: `build.rs` does.

use std::fmt;

use toml::Spanned;

/// The built-in defaults, used when neither the file nor the environment sets a key.
pub mod defaults {
    use std::time::Duration;

    pub const CONFIG_PATH: &str = "/etc/ddflare/ddflare.toml";
    pub const API_URL: &str = "https://api.cloudflare.com/client/v4";
    pub const TRACE_PATH: &str = "/cdn-cgi/trace";
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    pub const MAX_RETRIES: u32 = 3;
    pub const MAX_RETRIES_LIMIT: u32 = 10;
    /// `cloudflare.trace` for both families.
    pub const PROVIDER: &str = "cloudflare.trace";
    pub const DETECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Where `cloudflare.trace` asks with the default `api_url`, hedged in this order.
    pub const TRACE_URLS: [&str; 3] = [
        "https://api.cloudflare.com/cdn-cgi/trace",
        "https://www.cloudflare.com/cdn-cgi/trace",
        "https://cloudflare.com/cdn-cgi/trace",
    ];
    /// Cloudflare's resolvers, for `cloudflare.dns` and `local`.
    pub const DNS_SERVERS: [&str; 4] = [
        "1.1.1.1:53",
        "1.0.0.1:53",
        "[2606:4700:4700::1111]:53",
        "[2606:4700:4700::1001]:53",
    ];
    pub const DOH_URL: &str = "https://cloudflare-dns.com/dns-query";
    pub const IPV6_PREFIX_LEN: u8 = 64;
    pub const INTERVAL: Duration = Duration::from_secs(5 * 60);
    pub const MIN_INTERVAL: Duration = Duration::from_secs(10);
    pub const CYCLE_DEADLINE: Duration = Duration::from_secs(2 * 60);
    pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
    pub const JITTER: Duration = Duration::ZERO;
    pub const UPDATE_ON_START: bool = true;
    pub const STATE_DIR: &str = "/var/lib/ddflare";
    pub const STATE_MAX_AGE: Duration = Duration::from_secs(6 * 60 * 60);
    /// No duration setting may exceed this (a year): bigger values are typos, and they would
    /// overflow deadline arithmetic.
    pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 60 * 60);
    /// Record defaults: families on; TTL, proxied and comment unset (keep Cloudflare's).
    pub const RECORD_IPV4: bool = true;
    pub const RECORD_IPV6: bool = true;
    pub const TTL_MIN: i64 = 60;
    pub const TTL_MIN_ENTERPRISE: i64 = 30;
    pub const TTL_MAX: i64 = 86_400;
    /// The Free plan limit on record comments, in characters.
    pub const COMMENT_MAX: usize = 100;
    /// `[[list]]`: the API's limits on a list's name and description.
    pub const LIST_NAME_MAX: usize = 50;
    pub const LIST_DESCRIPTION_MAX: usize = 500;
    pub const LIST_DESCRIPTION: &str = "addresses of this host, kept by ddflare";
    /// `[alerts]`: see `notify::Alerts::default`.
    pub const ALERT_AFTER_ROUNDS_MAX: i64 = 1000;
    pub const ALERT_MAX_PER_HOUR_MAX: i64 = 3600;
    pub const LOG_QUIET: bool = false;
}

/// The whole file.
#[derive(Debug, Default)]
pub struct RawConfig {
    pub cloudflare: RawCloudflare,
    /// `[[credentials]]` tables: API tokens besides `[cloudflare]`'s, by name.
    pub credentials: Vec<Spanned<RawCredentials>>,
    pub detect: RawDetect,
    pub schedule: RawSchedule,
    pub state: RawState,
    pub defaults: RawRecordSettings,
    /// `[[record]]` tables; the span is the header's.
    pub record: Vec<Spanned<RawRecord>>,
    /// `[[list]]` tables (account IP lists); the span is the header's.
    pub list: Vec<Spanned<RawList>>,
    pub metrics: RawMetrics,
    pub alerts: RawAlerts,
    /// `[[notify]]` tables.
    pub notify: Vec<Spanned<RawNotify>>,
    /// `[[monitor]]` tables.
    pub monitor: Vec<Spanned<RawMonitor>>,
    pub log: RawLog,
    pub process: RawProcess,
    /// `[push]`, when present.
    pub push: Option<Spanned<RawPush>>,
    /// `[[gateway_location]]` tables.
    pub gateway_location: Vec<Spanned<RawGatewayLocation>>,
}

/// One `[[gateway_location]]`: a Zero Trust Gateway DNS location whose IPv4 source network
/// ddflare keeps equal to the home address.
#[derive(Debug, Default)]
pub struct RawGatewayLocation {
    pub account_id: Option<Spanned<String>>,
    pub location_id: Option<Spanned<String>>,
    pub credentials: Option<Spanned<String>>,
}

/// `[push]`: the dyndns2 endpoint.
#[derive(Debug, Default)]
pub struct RawPush {
    pub listen: Option<Spanned<String>>,
    pub trusted_proxies: Option<Spanned<RawStrings>>,
    /// `[[push.client]]` tables.
    pub client: Vec<Spanned<RawPushClient>>,
}

/// One `[[push.client]]`.
#[derive(Debug, Default)]
pub struct RawPushClient {
    pub user: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub password_hash: Option<Spanned<RawToken>>,
    pub hostnames: Option<Spanned<Vec<String>>>,
}

/// `[process]`: who ddflare becomes when started as root.
#[derive(Debug, Default)]
pub struct RawProcess {
    pub user: Option<Spanned<String>>,
    pub drop_privileges: Option<Spanned<bool>>,
}

#[derive(Debug, Default)]
pub struct RawMetrics {
    pub listen: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawAlerts {
    pub after_failed_rounds: Option<Spanned<i64>>,
    pub after: Option<Spanned<RawDuration>>,
    pub remind_every: Option<Spanned<RawDuration>>,
    pub max_per_hour: Option<Spanned<i64>>,
}

/// One `[[notify]]`.
#[derive(Debug, Default)]
pub struct RawNotify {
    pub url: Option<Spanned<String>>,
    pub server: Option<Spanned<String>>,
    pub events: Option<Spanned<Vec<String>>>,
}

/// One `[[monitor]]`.
#[derive(Debug, Default)]
pub struct RawMonitor {
    pub url: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawLog {
    pub quiet: Option<Spanned<bool>>,
}

#[derive(Debug, Default)]
pub struct RawCloudflare {
    pub api_token: Option<Spanned<RawToken>>,
    pub api_token_file: Option<Spanned<String>>,
    /// The legacy Global API Key: the account's email, with `api_key` or `api_key_file`.
    pub api_email: Option<Spanned<String>>,
    pub api_key: Option<Spanned<RawToken>>,
    pub api_key_file: Option<Spanned<String>>,
    pub api_url: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub request_timeout: Option<Spanned<RawDuration>>,
    pub max_retries: Option<Spanned<i64>>,
}

/// One `[[credentials]]`: a named API token, for the records that name it.
#[derive(Debug, Default)]
pub struct RawCredentials {
    pub name: Option<Spanned<String>>,
    pub api_token: Option<Spanned<RawToken>>,
    pub api_token_file: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawDetect {
    pub ipv4: Option<Spanned<RawProviders>>,
    pub ipv6: Option<Spanned<RawProviders>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub strategy: Option<Spanned<String>>,
    pub allow_private: Option<Spanned<bool>>,
    pub ipv6_prefix_len: Option<Spanned<i64>>,
    /// One URL or a list.
    pub trace_url: Option<Spanned<RawStrings>>,
    pub dns_servers: Option<Spanned<RawStrings>>,
    pub doh_url: Option<Spanned<String>>,
    /// CIDR prefixes: one or a list.
    pub ipv4_accept: Option<Spanned<RawStrings>>,
    pub ipv4_reject: Option<Spanned<RawStrings>>,
    pub ipv6_accept: Option<Spanned<RawStrings>>,
    pub ipv6_reject: Option<Spanned<RawStrings>>,
}

#[derive(Debug, Default)]
pub struct RawSchedule {
    pub interval: Option<Spanned<RawDuration>>,
    pub cycle_deadline: Option<Spanned<RawDuration>>,
    pub shutdown_grace: Option<Spanned<RawDuration>>,
    pub cron: Option<Spanned<String>>,
    pub jitter: Option<Spanned<RawDuration>>,
    pub update_on_start: Option<Spanned<bool>>,
    pub timezone: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawState {
    pub dir: Option<Spanned<String>>,
    pub max_age: Option<Spanned<RawDuration>>,
}

/// `[defaults]`: the keys a record may override.
#[derive(Debug, Default)]
pub struct RawRecordSettings {
    pub ipv4: Option<Spanned<bool>>,
    pub ipv6: Option<Spanned<bool>>,
    pub ttl: Option<Spanned<RawTtl>>,
    pub proxied: Option<Spanned<bool>>,
    pub comment: Option<Spanned<String>>,
    /// `"all"` (default) or `"comment"`.
    pub ownership: Option<Spanned<String>>,
    /// Default false.
    pub delete_on_stop: Option<Spanned<bool>>,
}

/// One `[[record]]`.
#[derive(Debug, Default)]
pub struct RawRecord {
    pub name: Option<Spanned<String>>,
    pub zone: Option<Spanned<String>>,
    pub zone_id: Option<Spanned<String>>,
    pub ipv4: Option<Spanned<bool>>,
    pub ipv6: Option<Spanned<bool>>,
    pub ttl: Option<Spanned<RawTtl>>,
    pub proxied: Option<Spanned<bool>>,
    pub comment: Option<Spanned<String>>,
    pub ipv6_host: Option<Spanned<String>>,
    pub ownership: Option<Spanned<String>>,
    pub delete_on_stop: Option<Spanned<bool>>,
    /// The `[[credentials]]` name the record is updated with (default: `[cloudflare]`'s).
    pub credentials: Option<Spanned<String>>,
}

/// One `[[list]]`: an account IP list kept holding the current addresses.
#[derive(Debug, Default)]
pub struct RawList {
    pub account_id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub ipv4: Option<Spanned<bool>>,
    pub ipv6: Option<Spanned<bool>>,
    pub comment: Option<Spanned<String>>,
    pub credentials: Option<Spanned<String>>,
}

/// An inline secret (`api_token`, `api_key`); its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct RawToken(pub String);

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawToken([redacted])")
    }
}

/// A duration as written (`"5m"`); parsed with humantime during validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDuration(pub String);

/// A TTL as written: `"auto"` or a number of seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawTtl {
    Int(i64),
    Str(String),
}

/// A provider list: one string (`"none"`, `"cloudflare.trace"`) or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProviders(pub Vec<String>);

/// One string or an array of strings (`trace_url`, `dns_servers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStrings(pub Vec<String>);
