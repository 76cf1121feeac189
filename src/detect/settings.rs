//! The `[detect]` settings: the providers of each family, the strategy and the limits of one
//! detection. Owned here; `config/` fills them in.

use std::net::SocketAddr;
use std::time::Duration;

use super::filter::Filters;
use super::spec::{ProviderSpec, Strategy};

#[derive(Debug, Clone, PartialEq)]
pub struct DetectConfig {
    /// Providers for IPv4, tried in order. Empty when the family is off (`"none"`).
    pub ipv4: Vec<ProviderSpec>,
    /// Providers for IPv6, tried in order. Empty when the family is off (`"none"`).
    pub ipv6: Vec<ProviderSpec>,
    /// `timeout`: how long one provider may take. Default 5s.
    pub timeout: Duration,
    /// `strategy`: the first valid answer (`fallback`, the default) or two that agree.
    pub strategy: Strategy,
    /// `allow_private`: publish addresses that are not global unicast. Default false.
    pub allow_private: bool,
    /// `ipv6_prefix_len`: the prefix length of prefix mode when the provider does not know
    /// it (an interface does). Default 64.
    pub ipv6_prefix_len: u8,
    /// `ipv4_accept`, `ipv4_reject`, `ipv6_accept`, `ipv6_reject`: the prefixes an answer
    /// must (not) be in. Empty by default.
    pub filters: Filters,
    /// `trace_url` (one or a list): where `cloudflare.trace` asks, hedged in order. Default
    /// api.cloudflare.com, www.cloudflare.com and cloudflare.com, or the origin of
    /// `cloudflare.api_url` + `/cdn-cgi/trace` when that is overridden.
    pub trace_urls: Vec<String>,
    /// `dns_servers`: where `cloudflare.dns` asks (the servers of each family); `local` routes
    /// towards the family's first. Default Cloudflare's 1.1.1.1, 1.0.0.1 and their IPv6 twins.
    pub dns_servers: Vec<SocketAddr>,
    /// `doh_url`: where `cloudflare.doh` asks. Default `https://cloudflare-dns.com/dns-query`.
    pub doh_url: String,
}
