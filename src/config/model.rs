//! The validated configuration: [`Config`], one [`RecordConfig`] per managed name, and
//! [`Ttl`]. Each section's type belongs to the module that uses it (`crate::detect`,
//! `crate::schedule`, …); this file puts them together.

use crate::cloudflare::CloudflareConfig;
use crate::detect::{DetectConfig, Ipv6Host};
use crate::logging::LogConfig;
use crate::metrics::MetricsConfig;
use crate::notify::NotifyConfig;
use crate::plan::Ownership;
use crate::plan_list::ListConfig;
use crate::privileges::ProcessConfig;
use crate::push::PushConfig;
use crate::schedule::ScheduleConfig;
use crate::state::StateConfig;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub cloudflare: CloudflareConfig,
    pub detect: DetectConfig,
    pub schedule: ScheduleConfig,
    pub state: StateConfig,
    pub records: Vec<RecordConfig>,
    /// `[[list]]`: account IP lists.
    pub lists: Vec<ListConfig>,
    pub metrics: MetricsConfig,
    /// `[[notify]]`, `[[monitor]]` and `[alerts]`.
    pub notify: NotifyConfig,
    pub log: LogConfig,
    /// `[process]`: who to become when started as root.
    pub process: ProcessConfig,
    /// `[push]`: the dyndns2 endpoint, off when absent.
    pub push: Option<PushConfig>,
    /// `[[gateway_location]]`: Zero Trust Gateway locations kept on the home IPv4 address.
    pub gateway_locations: Vec<GatewayLocation>,
}

/// One `[[gateway_location]]`: its IPv4 source network is kept equal to the home address
/// (a /32); the location's other fields and networks are left as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayLocation {
    /// 32 lowercase hex characters.
    pub account_id: String,
    /// 32 lowercase hex characters.
    pub location_id: String,
    /// The `[[credentials]]` name; `None`: `[cloudflare]`'s.
    pub credentials: Option<String>,
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
    /// Update the A record. Already false when `[detect] ipv4` is `"none"`.
    pub ipv4: bool,
    /// Update the AAAA record. Already false when `[detect] ipv6` is `"none"`.
    pub ipv6: bool,
    /// `None`: keep what Cloudflare has (new records get Cloudflare's default).
    pub ttl: Option<Ttl>,
    pub proxied: Option<bool>,
    pub comment: Option<String>,
    /// `ipv6_host`: IPv6 prefix mode. The AAAA record gets the detected prefix followed by
    /// this host part, instead of the detected address itself.
    pub ipv6_host: Option<Ipv6Host>,
    /// `ownership`: which records of the name ddflare may edit or delete: all of them (the
    /// default), or only those whose comment carries the marker (`comment`).
    pub ownership: Ownership,
    /// `delete_on_stop`: on a graceful stop of `run`, delete the records ddflare created for
    /// this name. Default false.
    pub delete_on_stop: bool,
    /// `credentials`: the `[[credentials]]` name the record is updated with; `None`: the
    /// `[cloudflare]` credentials.
    pub credentials: Option<String>,
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
