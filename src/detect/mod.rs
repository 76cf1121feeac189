//! Public IP detection: the [`IpProvider`] trait, the provider specs written in `[detect]`,
//! and the [`Detector`] that turns a family's list of providers into one address.
//!
//! One file per provider, each with its parsing pure and its fetching thin: `static_ip.rs`,
//! `url.rs`, `trace.rs` (hedged across hosts, `hedge.rs`), `dns.rs` (`cloudflare.dns` and the
//! wire format shared with `doh.rs`), `interface.rs` (over `netlink.rs`), `local.rs`, `file.rs`.
//! `fetch.rs` is the one family-bound HTTP client. This file owns what is common to all of
//! them: a timeout per provider, the family check, the bogon filter (`bogon.rs`: only global
//! unicast is ever published unless `allow_private`), the strategy across a list (the first
//! valid answer, or agreement of two), and logging a failing provider once per failure streak.
//! `watch.rs` wakes the daemon when an `interface:` provider's interface changes;
//! `prefix.rs` is the arithmetic of IPv6 prefix mode.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tracing::{debug, info, warn};

use crate::http::{HttpSetupError, Tls};

pub mod bogon;
pub mod dns;
pub mod doh;
mod fetch;
pub mod file;
mod hedge;
pub mod interface;
pub mod local;
pub mod netlink;
pub mod prefix;
pub mod settings;
pub mod static_ip;
#[cfg(test)]
mod test_server;
pub mod trace;
pub mod url;
pub mod watch;

pub use dns::DnsProvider;
pub use doh::DohProvider;
pub use file::FileProvider;
pub use interface::InterfaceProvider;
pub use local::LocalProvider;
pub use prefix::Ipv6Host;
pub use settings::DetectConfig;
pub use static_ip::StaticProvider;
pub use trace::{TraceProvider, parse_trace};
pub use url::{UrlProvider, parse_ip_body};

/// A boxed future, so providers of different kinds can share one list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An address family; each maps to one DNS record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// `A` or `AAAA`.
    pub fn record_type(self) -> &'static str {
        match self {
            Family::V4 => "A",
            Family::V6 => "AAAA",
        }
    }

    pub fn matches(self, addr: &IpAddr) -> bool {
        matches!(
            (self, addr),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }

    /// 32 or 128.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// A provider as written in the config (`"static:203.0.113.7"`, `"url:https://…"`,
/// `"cloudflare.trace"`, …). `"none"` is not a provider: it is an empty list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    Static(IpAddr),
    /// `url:` (the connection uses the list's family), `url4:` or `url6:` (the connection
    /// uses that family, whatever the list: e.g. a router's status page reached over IPv4
    /// that shows the IPv6 address).
    Url {
        url: String,
        via: Option<Family>,
    },
    CloudflareTrace,
    CloudflareDns,
    CloudflareDoh,
    Interface(String),
    Local,
    File(PathBuf),
}

/// Every spelling, for the "expected" part of a message.
const PROVIDERS: &str = "a provider: `cloudflare.trace`, `cloudflare.dns`, `cloudflare.doh`, \
`interface:NAME`, `local`, `url:URL` (or `url4:`/`url6:`), `static:ADDR`, `file:PATH` or `none`";

impl FromStr for ProviderSpec {
    type Err = String;

    /// The error is the "expected …" part of a config message.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "cloudflare.trace" => return Ok(ProviderSpec::CloudflareTrace),
            "cloudflare.dns" => return Ok(ProviderSpec::CloudflareDns),
            "cloudflare.doh" => return Ok(ProviderSpec::CloudflareDoh),
            "local" => return Ok(ProviderSpec::Local),
            _ => {}
        }
        if let Some(addr) = s.strip_prefix("static:") {
            return addr
                .trim()
                .parse()
                .map(ProviderSpec::Static)
                .map_err(|_| format!("`static:` followed by an IP address, not `{addr}`"));
        }
        for (prefix, via) in [
            ("url:", None),
            ("url4:", Some(Family::V4)),
            ("url6:", Some(Family::V6)),
        ] {
            if let Some(url) = s.strip_prefix(prefix) {
                let url = url.trim();
                if url.starts_with("https://") || url.starts_with("http://") {
                    return Ok(ProviderSpec::Url {
                        url: url.to_owned(),
                        via,
                    });
                }
                return Err(format!(
                    "`{prefix}` followed by an http(s) URL, not `{url}`"
                ));
            }
        }
        if let Some(name) = s.strip_prefix("interface:") {
            let name = name.trim();
            // The kernel's rules: at most 15 bytes, no `/`, no whitespace, not `.` or `..`.
            let valid = !name.is_empty()
                && name.len() <= 15
                && name != "."
                && name != ".."
                && !name
                    .chars()
                    .any(|c| c == '/' || c == ':' || c.is_whitespace());
            return if valid {
                Ok(ProviderSpec::Interface(name.to_owned()))
            } else {
                Err(format!(
                    "`interface:` followed by an interface name such as `eth0` (at most 15 characters, no `/`, `:` or spaces), not `{name}`"
                ))
            };
        }
        if let Some(path) = s.strip_prefix("file:") {
            let path = path.trim();
            return if path.starts_with('/') {
                Ok(ProviderSpec::File(PathBuf::from(path)))
            } else {
                Err(format!(
                    "`file:` followed by an absolute path, not `{path}`"
                ))
            };
        }
        Err(format!("{PROVIDERS}, not `{s}`"))
    }
}

impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Static(a) => write!(f, "static:{a}"),
            ProviderSpec::Url { url, via: None } => write!(f, "url:{url}"),
            ProviderSpec::Url {
                url,
                via: Some(Family::V4),
            } => write!(f, "url4:{url}"),
            ProviderSpec::Url {
                url,
                via: Some(Family::V6),
            } => write!(f, "url6:{url}"),
            ProviderSpec::CloudflareTrace => f.write_str("cloudflare.trace"),
            ProviderSpec::CloudflareDns => f.write_str("cloudflare.dns"),
            ProviderSpec::CloudflareDoh => f.write_str("cloudflare.doh"),
            ProviderSpec::Interface(name) => write!(f, "interface:{name}"),
            ProviderSpec::Local => f.write_str("local"),
            ProviderSpec::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

/// How a family's list of providers gives one address (`detect.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Try the providers in order; the first valid answer wins.
    #[default]
    Fallback,
    /// Ask every provider at once; publish only an address that at least two of them gave.
    Agree,
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "fallback" => Ok(Strategy::Fallback),
            "agree" => Ok(Strategy::Agree),
            other => Err(format!(
                "\"fallback\" or \"agree\", not \"{}\"",
                other.escape_debug()
            )),
        }
    }
}

/// Why a provider gave no usable address.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{provider}: {message}")]
    Failed { provider: String, message: String },
    #[error("{provider}: answered {addr}, which is not an {family} address")]
    WrongFamily {
        provider: String,
        addr: IpAddr,
        family: Family,
    },
    /// A bogon: never published unless `detect.allow_private`.
    #[error("{provider}: answered {addr}, {}", not_global_message(.bogon))]
    NotGlobal {
        provider: String,
        addr: IpAddr,
        bogon: bogon::Bogon,
    },
    #[error("{provider}: no answer within {timeout:?}")]
    Timeout {
        provider: String,
        timeout: std::time::Duration,
    },
    #[error("no {0} provider is configured")]
    NoProvider(Family),
    /// Every provider of the family failed; one entry per provider, in order.
    #[error("no {family} provider answered: {}", join(.failures))]
    AllFailed {
        family: Family,
        failures: Vec<DetectError>,
    },
    /// `strategy = "agree"` and no address was given by at least two providers.
    #[error("no two {family} providers agree: {}", .answers.join("; "))]
    NoAgreement {
        family: Family,
        /// Each provider's answer or failure, in order.
        answers: Vec<String>,
    },
}

fn not_global_message(b: &bogon::Bogon) -> String {
    if b.is_cgnat() {
        format!(
            "which is in {} ({}): this host is behind carrier-grade NAT, so its IPv4 address is \
             shared with other customers of the ISP and cannot be reached from outside; ask the \
             ISP for a public IPv4 address, or use IPv6 only (ipv4 = \"none\")",
            b.range, b.what
        )
    } else {
        format!(
            "which is in {} ({}), not a public address: it is never published; set \
             detect.allow_private = true to publish private addresses (DNS for a LAN)",
            b.range, b.what
        )
    }
}

fn join(failures: &[DetectError]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a provider found: the address, and the prefix length when the provider knows it
/// (an interface does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub addr: IpAddr,
    pub prefix_len: Option<u8>,
}

impl From<IpAddr> for Found {
    fn from(addr: IpAddr) -> Self {
        Found {
            addr,
            prefix_len: None,
        }
    }
}

/// Finds this host's public address of one family. One instance serves one family, so it can
/// hold a connection forced to that family and reuse it across rounds.
pub trait IpProvider: Send + Sync {
    /// The spec as the user wrote it, for logs.
    fn name(&self) -> String;
    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>>;
    /// The local interface this provider reads, whose address changes are worth a round.
    fn interface(&self) -> Option<&str> {
        None
    }
}

/// `addr` if it is of `family`, else [`DetectError::WrongFamily`]: an answer of the other
/// family is never published, whatever produced it.
pub(crate) fn ensure_family(
    family: Family,
    provider: String,
    addr: IpAddr,
) -> Result<IpAddr, DetectError> {
    if family.matches(&addr) {
        Ok(addr)
    } else {
        Err(DetectError::WrongFamily {
            provider,
            addr,
            family,
        })
    }
}

/// The longest echo of a server's answer in a message, in characters.
const SNIPPET_CHARS: usize = 60;

/// A server's answer fit for a log line: at most [`SNIPPET_CHARS`] characters (then `…`),
/// control characters escaped so a body cannot forge log lines or move the terminal.
pub(crate) fn snippet(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SNIPPET_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What [`build`] needs besides the spec: shared settings of `[detect]` and the TLS setup.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    pub tls: &'a Tls,
    /// Bounds one request of a web provider.
    pub timeout: Duration,
    /// Where `cloudflare.trace` asks, hedged in this order.
    pub trace_urls: &'a [String],
    /// Where `cloudflare.dns` asks (and what `local` routes towards), by family.
    pub dns_servers: &'a [SocketAddr],
    /// Where `cloudflare.doh` asks.
    pub doh_url: &'a str,
}

/// One provider instance for `family`. Web providers get their own family-bound client here,
/// so their connections are reused across rounds.
pub fn build(
    spec: &ProviderSpec,
    family: Family,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn IpProvider>, HttpSetupError> {
    let servers = || -> Vec<SocketAddr> {
        ctx.dns_servers
            .iter()
            .filter(|s| family.matches(&s.ip()))
            .copied()
            .collect()
    };
    Ok(match spec {
        ProviderSpec::Static(addr) => Box::new(StaticProvider::new(*addr, family)),
        ProviderSpec::Url { url, via: None } => {
            Box::new(UrlProvider::new(url, family, ctx.tls, ctx.timeout)?)
        }
        ProviderSpec::Url {
            url,
            via: Some(via),
        } => Box::new(UrlProvider::with_connection_family(
            url,
            family,
            *via,
            ctx.tls,
            ctx.timeout,
        )?),
        ProviderSpec::CloudflareTrace => Box::new(TraceProvider::new(
            ctx.trace_urls,
            family,
            ctx.tls,
            ctx.timeout,
        )?),
        ProviderSpec::CloudflareDns => Box::new(DnsProvider::new(servers(), family)),
        ProviderSpec::CloudflareDoh => {
            Box::new(DohProvider::new(ctx.doh_url, family, ctx.tls, ctx.timeout)?)
        }
        ProviderSpec::Interface(name) => Box::new(InterfaceProvider::new(name, family)),
        ProviderSpec::Local => Box::new(LocalProvider::new(servers().first().copied(), family)),
        ProviderSpec::File(path) => Box::new(FileProvider::new(path.clone(), family)),
    })
}

/// A detected address and the provider that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub addr: IpAddr,
    /// The prefix length for IPv6 prefix mode: the interface's, else `detect.ipv6_prefix_len`
    /// (the family's full length for IPv4).
    pub prefix_len: u8,
    pub provider: String,
}

impl Detection {
    pub fn detected(&self) -> Detected {
        Detected {
            addr: self.addr,
            prefix_len: self.prefix_len,
        }
    }
}

/// What the updater needs of a detection: the address and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Detected {
    /// An address with its family's full prefix length (no prefix mode).
    pub fn host(addr: IpAddr) -> Self {
        let prefix_len = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Detected { addr, prefix_len }
    }
}

/// The outcome of [`Detector::detect_all`]: `None` for a family with no provider.
#[derive(Debug)]
pub struct DetectReport {
    pub ipv4: Option<Result<Detection, DetectError>>,
    pub ipv6: Option<Result<Detection, DetectError>>,
}

impl DetectReport {
    pub fn get(&self, family: Family) -> Option<&Result<Detection, DetectError>> {
        match family {
            Family::V4 => self.ipv4.as_ref(),
            Family::V6 => self.ipv6.as_ref(),
        }
    }
}

/// Consecutive failures of one provider, so a provider that stays down is reported once at
/// `warn`, not every round.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Streak {
    failures: u32,
}

/// What to log after a provider's attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreakLog {
    /// The first failure after a success (or since start): `warn`.
    FirstFailure,
    /// The `n`th failure in a row, n ≥ 2: `debug`.
    StillFailing(u32),
    /// A success ending a streak of `n` failures: `info`.
    Recovered(u32),
    /// A success after a success: nothing.
    Quiet,
}

impl Streak {
    pub(crate) fn failure(&mut self) -> StreakLog {
        self.failures = self.failures.saturating_add(1);
        if self.failures == 1 {
            StreakLog::FirstFailure
        } else {
            StreakLog::StillFailing(self.failures)
        }
    }

    pub(crate) fn success(&mut self) -> StreakLog {
        match std::mem::take(&mut self.failures) {
            0 => StreakLog::Quiet,
            n => StreakLog::Recovered(n),
        }
    }
}

/// A provider and its failure streak.
struct Slot {
    provider: Box<dyn IpProvider>,
    streak: Mutex<Streak>,
}

impl Slot {
    fn record(&self, family: Family, outcome: Result<&Detection, &DetectError>) {
        let event = {
            let mut streak = self.streak.lock().unwrap_or_else(PoisonError::into_inner);
            match outcome {
                Ok(_) => streak.success(),
                Err(_) => streak.failure(),
            }
        };
        let provider = self.provider.name();
        match (event, outcome) {
            (StreakLog::FirstFailure, Err(e)) => {
                warn!(%family, %provider, error = %e, "address detection failed; later failures of this provider are logged at debug level until it answers again");
            }
            (StreakLog::StillFailing(n), Err(e)) => {
                debug!(%family, %provider, failures = n, error = %e, "address detection still failing");
            }
            (StreakLog::Recovered(n), Ok(d)) => {
                info!(%family, %provider, addr = %d.addr, failures = n, "provider answers again");
            }
            _ => {}
        }
    }

    #[cfg(test)]
    fn streak(&self) -> Streak {
        *self.streak.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the [`Detector`] does with the providers' answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Bounds each provider's attempt.
    pub timeout: Duration,
    pub strategy: Strategy,
    /// Publish addresses that are not global unicast (LAN DNS).
    pub allow_private: bool,
    /// The IPv6 prefix length when the provider does not know it.
    pub ipv6_prefix_len: u8,
}

impl Policy {
    /// Fallback, bogons refused, /64: the defaults, with this timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        Policy {
            timeout,
            strategy: Strategy::Fallback,
            allow_private: false,
            ipv6_prefix_len: 64,
        }
    }
}

/// Finds the public address of each configured family from its providers.
pub struct Detector {
    providers: BTreeMap<Family, Vec<Slot>>,
    policy: Policy,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Detector");
        for (family, slots) in &self.providers {
            let names: Vec<String> = slots.iter().map(|s| s.provider.name()).collect();
            d.field(&family.to_string(), &names);
        }
        d.field("policy", &self.policy).finish()
    }
}

impl Detector {
    /// One instance of each configured provider per family.
    pub fn new(cfg: &DetectConfig, tls: &Tls) -> Result<Self, HttpSetupError> {
        let ctx = BuildContext {
            tls,
            timeout: cfg.timeout,
            trace_urls: &cfg.trace_urls,
            dns_servers: &cfg.dns_servers,
            doh_url: &cfg.doh_url,
        };
        let list = |family: Family, specs: &[ProviderSpec]| {
            specs
                .iter()
                .map(|spec| build(spec, family, &ctx))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self::with_providers(
            Policy {
                timeout: cfg.timeout,
                strategy: cfg.strategy,
                allow_private: cfg.allow_private,
                ipv6_prefix_len: cfg.ipv6_prefix_len,
            },
            list(Family::V4, &cfg.ipv4)?,
            list(Family::V6, &cfg.ipv6)?,
        ))
    }

    /// From providers built elsewhere.
    pub fn with_providers(
        policy: Policy,
        ipv4: Vec<Box<dyn IpProvider>>,
        ipv6: Vec<Box<dyn IpProvider>>,
    ) -> Self {
        let slots = |list: Vec<Box<dyn IpProvider>>| {
            list.into_iter()
                .map(|provider| Slot {
                    provider,
                    streak: Mutex::new(Streak::default()),
                })
                .collect::<Vec<_>>()
        };
        let providers = [(Family::V4, slots(ipv4)), (Family::V6, slots(ipv6))]
            .into_iter()
            .filter(|(_, list)| !list.is_empty())
            .collect();
        Detector { providers, policy }
    }

    /// The families with at least one provider.
    pub fn families(&self) -> Vec<Family> {
        self.providers.keys().copied().collect()
    }

    /// The names of a family's providers, in the order they are tried.
    pub fn provider_names(&self, family: Family) -> Vec<String> {
        self.slots(family)
            .iter()
            .map(|s| s.provider.name())
            .collect()
    }

    /// The interfaces read by `interface:` providers, each once.
    pub fn interfaces(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .providers
            .values()
            .flatten()
            .filter_map(|s| s.provider.interface().map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn slots(&self, family: Family) -> &[Slot] {
        self.providers.get(&family).map_or(&[], Vec::as_slice)
    }

    /// One provider's attempt under the timeout, checked (family, bogons) and recorded in its
    /// streak.
    async fn attempt(&self, family: Family, slot: &Slot) -> Result<Detection, DetectError> {
        let provider = slot.provider.name();
        let outcome = match tokio::time::timeout(self.policy.timeout, slot.provider.detect()).await
        {
            Ok(Ok(found)) => self.check(family, provider, found),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DetectError::Timeout {
                provider,
                timeout: self.policy.timeout,
            }),
        };
        slot.record(family, outcome.as_ref());
        outcome
    }

    /// The family check and the bogon filter, whatever the provider.
    fn check(
        &self,
        family: Family,
        provider: String,
        found: Found,
    ) -> Result<Detection, DetectError> {
        let addr = ensure_family(family, provider.clone(), found.addr)?;
        if !self.policy.allow_private
            && let Some(bogon) = bogon::not_global(addr)
        {
            return Err(DetectError::NotGlobal {
                provider,
                addr,
                bogon,
            });
        }
        let prefix_len = match family {
            Family::V4 => found.prefix_len.unwrap_or(32),
            Family::V6 => found.prefix_len.unwrap_or(self.policy.ipv6_prefix_len),
        }
        .min(family.bits());
        Ok(Detection {
            addr,
            prefix_len,
            provider,
        })
    }

    /// The address of `family` by the configured strategy.
    pub async fn detect(&self, family: Family) -> Result<Detection, DetectError> {
        let slots = self.slots(family);
        if slots.is_empty() {
            return Err(DetectError::NoProvider(family));
        }
        match self.policy.strategy {
            Strategy::Fallback => self.first_valid(family, slots).await,
            Strategy::Agree => self.agreement(family, slots).await,
        }
    }

    /// The first valid answer, trying the providers in order. When all fail, the error lists
    /// each one's failure.
    async fn first_valid(&self, family: Family, slots: &[Slot]) -> Result<Detection, DetectError> {
        let mut failures = Vec::new();
        for slot in slots {
            match self.attempt(family, slot).await {
                Ok(detection) => return Ok(detection),
                Err(e) => failures.push(e),
            }
        }
        Err(DetectError::AllFailed { family, failures })
    }

    /// Every provider at once; the address given by the most of them, if at least two and no
    /// other address has as many. A disagreement is logged with every answer.
    async fn agreement(&self, family: Family, slots: &[Slot]) -> Result<Detection, DetectError> {
        let attempts: Vec<BoxFuture<'_, Result<Detection, DetectError>>> = slots
            .iter()
            .map(|slot| Box::pin(self.attempt(family, slot)) as BoxFuture<'_, _>)
            .collect();
        let outcomes = hedge::join_all(attempts).await;
        let mut votes: BTreeMap<IpAddr, Vec<&Detection>> = BTreeMap::new();
        for d in outcomes.iter().flatten() {
            votes.entry(d.addr).or_default().push(d);
        }
        let answers = || -> Vec<String> {
            outcomes
                .iter()
                .map(|o| match o {
                    Ok(d) => format!("{} → {}", d.provider, d.addr),
                    Err(e) => format!("{e}"),
                })
                .collect()
        };
        let most = votes.values().map(Vec::len).max().unwrap_or(0);
        let leaders: Vec<&Vec<&Detection>> = votes.values().filter(|v| v.len() == most).collect();
        match leaders.as_slice() {
            [winner] if most >= 2 => {
                if votes.len() > 1 {
                    warn!(%family, answers = %answers().join("; "), "providers disagree; publishing the address most of them gave");
                }
                Ok(Detection {
                    addr: winner[0].addr,
                    prefix_len: winner[0].prefix_len,
                    provider: winner
                        .iter()
                        .map(|d| d.provider.as_str())
                        .collect::<Vec<_>>()
                        .join(" + "),
                })
            }
            _ => {
                let answers = answers();
                if votes.len() > 1 {
                    warn!(%family, answers = %answers.join("; "), "providers disagree and no address has a majority of two; nothing is published for this family");
                }
                Err(DetectError::NoAgreement { family, answers })
            }
        }
    }

    /// Both families at once; `None` for a family with no provider.
    pub async fn detect_all(&self) -> DetectReport {
        let one = |family| async move {
            if self.slots(family).is_empty() {
                None
            } else {
                Some(self.detect(family).await)
            }
        };
        let (ipv4, ipv6) = tokio::join!(one(Family::V4), one(Family::V6));
        DetectReport { ipv4, ipv6 }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use super::*;
    use crate::detect::test_server::{Reply, TestServer};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The tests answer documentation addresses, which are not global: allow them here; the
    /// bogon tests turn the filter on.
    fn config(ipv4: Vec<ProviderSpec>, ipv6: Vec<ProviderSpec>, timeout: Duration) -> DetectConfig {
        DetectConfig {
            ipv4,
            ipv6,
            timeout,
            strategy: Strategy::Fallback,
            allow_private: true,
            ipv6_prefix_len: 64,
            trace_urls: vec!["https://api.cloudflare.com/cdn-cgi/trace".to_owned()],
            dns_servers: vec!["127.0.0.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()],
            doh_url: "https://cloudflare-dns.com/dns-query".to_owned(),
        }
    }

    fn lenient(timeout: Duration) -> Policy {
        Policy {
            allow_private: true,
            ..Policy::with_timeout(timeout)
        }
    }

    fn detector(ipv4: Vec<ProviderSpec>, ipv6: Vec<ProviderSpec>) -> Detector {
        let tls = Tls::new(None).unwrap();
        Detector::new(&config(ipv4, ipv6, Duration::from_secs(5)), &tls).unwrap()
    }

    fn url(server: &TestServer) -> ProviderSpec {
        ProviderSpec::Url {
            url: server.url("/"),
            via: None,
        }
    }

    fn failures(result: Result<Detection, DetectError>) -> Vec<DetectError> {
        match result {
            Err(DetectError::AllFailed { failures, .. }) => failures,
            other => panic!("expected AllFailed, got {other:?}"),
        }
    }

    /// Answers a fixed address without checking its family, to prove the Detector checks.
    struct Careless(IpAddr);

    impl IpProvider for Careless {
        fn name(&self) -> String {
            "careless".to_owned()
        }

        fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
            let addr = self.0;
            Box::pin(async move { Ok(Found::from(addr)) })
        }
    }

    #[test]
    fn snippet_escapes_and_truncates() {
        assert_eq!(snippet("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            snippet("a\nb\r\tc\x1b[0m\0"),
            "a\\nb\\r\\tc\\u{1b}[0m\\u{0}"
        );
        assert_eq!(snippet("é".repeat(60).as_str()), "é".repeat(60));
        assert_eq!(
            snippet("é".repeat(61).as_str()),
            format!("{}…", "é".repeat(60))
        );
        assert_eq!(snippet(""), "");
    }

    #[test]
    fn family_check() {
        assert_eq!(
            ensure_family(Family::V4, "p".into(), ip("203.0.113.7")).unwrap(),
            ip("203.0.113.7")
        );
        let err = ensure_family(Family::V6, "p".into(), ip("203.0.113.7")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p: answered 203.0.113.7, which is not an IPv6 address"
        );
    }

    #[test]
    fn streak_logs_once_per_streak() {
        let mut s = Streak::default();
        assert_eq!(s.success(), StreakLog::Quiet);
        assert_eq!(s.failure(), StreakLog::FirstFailure);
        assert_eq!(s.failure(), StreakLog::StillFailing(2));
        assert_eq!(s.failure(), StreakLog::StillFailing(3));
        assert_eq!(s.success(), StreakLog::Recovered(3));
        assert_eq!(s.success(), StreakLog::Quiet);
        // A new streak warns again.
        assert_eq!(s.failure(), StreakLog::FirstFailure);
        assert_eq!(s.success(), StreakLog::Recovered(1));
    }

    #[test]
    fn streak_saturates() {
        let mut s = Streak {
            failures: u32::MAX - 1,
        };
        assert_eq!(s.failure(), StreakLog::StillFailing(u32::MAX));
        assert_eq!(s.failure(), StreakLog::StillFailing(u32::MAX));
        assert_eq!(s.success(), StreakLog::Recovered(u32::MAX));
    }

    #[test]
    fn all_failed_lists_each_failure() {
        let err = DetectError::AllFailed {
            family: Family::V4,
            failures: vec![
                DetectError::Failed {
                    provider: "url:http://a/".into(),
                    message: "answered HTTP 500 Internal Server Error".into(),
                },
                DetectError::Timeout {
                    provider: "cloudflare.trace".into(),
                    timeout: Duration::from_secs(5),
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "no IPv4 provider answered: url:http://a/: answered HTTP 500 Internal Server Error; \
             cloudflare.trace: no answer within 5s"
        );
    }

    #[test]
    fn builds_every_kind_from_the_config() {
        let d = detector(
            vec![
                ProviderSpec::CloudflareTrace,
                ProviderSpec::Url {
                    url: "https://ipv4.icanhazip.com/".into(),
                    via: None,
                },
                ProviderSpec::Static(ip("203.0.113.7")),
            ],
            vec![ProviderSpec::CloudflareTrace],
        );
        assert_eq!(d.families(), vec![Family::V4, Family::V6]);
        assert_eq!(
            d.provider_names(Family::V4),
            [
                "cloudflare.trace",
                "url:https://ipv4.icanhazip.com/",
                "static:203.0.113.7"
            ]
        );
        assert_eq!(d.provider_names(Family::V6), ["cloudflare.trace"]);

        let d = detector(vec![], vec![ProviderSpec::Static(ip("2001:db8::7"))]);
        assert_eq!(d.families(), vec![Family::V6]);
        assert!(detector(vec![], vec![]).families().is_empty());
    }

    #[test]
    fn refuses_an_unparsable_url() {
        let tls = Tls::new(None).unwrap();
        let cfg = config(
            vec![ProviderSpec::Url {
                url: "https://exa mple.com/".into(),
                via: None,
            }],
            vec![],
            Duration::from_secs(5),
        );
        let err = Detector::new(&cfg, &tls).unwrap_err();
        assert!(
            err.to_string().contains("`url:https://exa mple.com/`"),
            "{err}"
        );

        let mut cfg = config(
            vec![ProviderSpec::CloudflareTrace],
            vec![],
            Duration::from_secs(5),
        );
        cfg.trace_urls = vec!["not a url".into()];
        let err = Detector::new(&cfg, &tls).unwrap_err();
        assert!(err.to_string().contains("cloudflare.trace"), "{err}");
    }

    #[tokio::test]
    async fn static_answers() {
        let d = detector(vec![ProviderSpec::Static(ip("203.0.113.7"))], vec![]);
        assert_eq!(
            d.detect(Family::V4).await.unwrap(),
            Detection {
                addr: ip("203.0.113.7"),
                prefix_len: 32,
                provider: "static:203.0.113.7".into()
            }
        );
    }

    #[tokio::test]
    async fn a_family_without_providers() {
        let d = detector(vec![ProviderSpec::Static(ip("203.0.113.7"))], vec![]);
        assert!(matches!(
            d.detect(Family::V6).await,
            Err(DetectError::NoProvider(Family::V6))
        ));
    }

    #[tokio::test]
    async fn falls_back_to_the_next_provider() {
        let down = TestServer::v4(|_| Reply::text(503, "maintenance")).await;
        let up = TestServer::v4(|_| Reply::text(200, "198.51.100.4\n")).await;
        let d = detector(vec![url(&down), url(&up)], vec![]);
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!(got.addr, ip("198.51.100.4"));
        assert_eq!(got.provider, format!("url:{}", up.url("/")));
        assert_eq!((down.hits(), up.hits()), (1, 1));
    }

    #[tokio::test]
    async fn the_first_answer_wins() {
        let first = TestServer::v4(|_| Reply::text(200, "198.51.100.4")).await;
        let second = TestServer::v4(|_| Reply::text(200, "198.51.100.5")).await;
        let d = detector(vec![url(&first), url(&second)], vec![]);
        assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("198.51.100.4"));
        assert_eq!(second.hits(), 0);
    }

    #[tokio::test]
    async fn all_failing_lists_each_provider() {
        let down = TestServer::v4(|_| Reply::text(500, "")).await;
        let html = TestServer::v4(|_| Reply::text(200, "<html>")).await;
        let d = detector(vec![url(&down), url(&html)], vec![]);
        let err = d.detect(Family::V4).await.unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("no IPv4 provider answered: "), "{text}");
        assert!(
            text.contains("answered HTTP 500 Internal Server Error; "),
            "{text}"
        );
        assert!(text.contains("answered `<html>`"), "{text}");
        assert_eq!(failures(Err(err)).len(), 2);
    }

    #[tokio::test]
    async fn a_slow_provider_times_out_and_the_next_answers() {
        let slow =
            TestServer::v4(|_| Reply::text(200, "198.51.100.4").after(Duration::from_secs(30)))
                .await;
        let tls = Tls::new(None).unwrap();
        let timeout = Duration::from_millis(300);
        let d = Detector::new(&config(vec![url(&slow)], vec![], timeout), &tls).unwrap();
        let started = Instant::now();
        let failures = failures(d.detect(Family::V4).await);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(&failures[..], [DetectError::Timeout { timeout: t, .. }] if *t == timeout),
            "{failures:?}"
        );

        // The same under the Detector's own timeout, with a patient client.
        let patient =
            UrlProvider::new(&slow.url("/"), Family::V4, &tls, Duration::from_secs(60)).unwrap();
        let d = Detector::with_providers(
            lenient(timeout),
            vec![
                Box::new(patient),
                Box::new(StaticProvider::new(ip("203.0.113.9"), Family::V4)),
            ],
            vec![],
        );
        let started = Instant::now();
        let got = d.detect(Family::V4).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(got.addr, ip("203.0.113.9"));
        assert!(matches!(
            d.slots(Family::V4)[0].streak(),
            Streak { failures: 1 }
        ));
    }

    #[tokio::test]
    async fn the_detector_refuses_the_wrong_family() {
        let d = Detector::with_providers(
            lenient(Duration::from_secs(1)),
            vec![
                Box::new(Careless(ip("2001:db8::7"))),
                Box::new(Careless(ip("203.0.113.7"))),
            ],
            vec![Box::new(Careless(ip("203.0.113.7")))],
        );
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!(got.addr, ip("203.0.113.7"));
        let failures = failures(d.detect(Family::V6).await);
        assert!(
            matches!(
                &failures[..],
                [DetectError::WrongFamily { family: Family::V6, provider, .. }] if provider == "careless"
            ),
            "{failures:?}"
        );
    }

    #[tokio::test]
    async fn a_wrong_family_answer_over_http_is_never_returned() {
        let server = TestServer::v4(|_| Reply::text(200, "2001:db8::7")).await;
        let d = detector(vec![url(&server)], vec![]);
        let failures = failures(d.detect(Family::V4).await);
        assert!(
            matches!(&failures[..], [DetectError::WrongFamily { .. }]),
            "{failures:?}"
        );
    }

    #[tokio::test]
    async fn failure_streaks_are_tracked_per_provider() {
        let healthy = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&healthy);
        let flaky = TestServer::v4(move |_| {
            if flag.load(Ordering::SeqCst) {
                Reply::text(200, "198.51.100.1")
            } else {
                Reply::text(503, "")
            }
        })
        .await;
        let d = Detector::with_providers(
            lenient(Duration::from_secs(5)),
            vec![
                build(
                    &url(&flaky),
                    Family::V4,
                    &BuildContext {
                        tls: &Tls::new(None).unwrap(),
                        timeout: Duration::from_secs(5),
                        trace_urls: &[],
                        dns_servers: &[],
                        doh_url: "https://cloudflare-dns.com/dns-query",
                    },
                )
                .unwrap(),
                Box::new(StaticProvider::new(ip("203.0.113.7"), Family::V4)),
            ],
            vec![],
        );
        let streaks = |d: &Detector| -> Vec<u32> {
            d.slots(Family::V4)
                .iter()
                .map(|s| s.streak().failures)
                .collect()
        };

        for round in 1..=3 {
            let got = d.detect(Family::V4).await.unwrap();
            assert_eq!(got.addr, ip("203.0.113.7"));
            assert_eq!(streaks(&d), [round, 0]);
        }
        healthy.store(true, Ordering::SeqCst);
        assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("198.51.100.1"));
        assert_eq!(streaks(&d), [0, 0]);
        healthy.store(false, Ordering::SeqCst);
        d.detect(Family::V4).await.unwrap();
        assert_eq!(streaks(&d), [1, 0]);
    }

    #[tokio::test]
    async fn detects_both_families_at_once() {
        let v4 = TestServer::v4(|_| Reply::text(200, "198.51.100.1")).await;
        let v6 = TestServer::v6(|_| Reply::text(200, "2001:db8::1")).await;
        let d = detector(vec![url(&v4)], vec![url(&v6)]);
        let report = d.detect_all().await;
        assert_eq!(
            report.get(Family::V4).unwrap().as_ref().unwrap().addr,
            ip("198.51.100.1")
        );
        assert_eq!(
            report.get(Family::V6).unwrap().as_ref().unwrap().addr,
            ip("2001:db8::1")
        );

        let d = detector(vec![url(&v4)], vec![]);
        let report = d.detect_all().await;
        assert!(report.ipv4.is_some());
        assert!(report.ipv6.is_none());

        // An IPv6 provider pointed at an IPv4-only server fails; IPv4 is unaffected.
        let d = detector(vec![url(&v4)], vec![url(&v4)]);
        let report = d.detect_all().await;
        assert!(report.ipv4.unwrap().is_ok());
        let text = report.ipv6.unwrap().unwrap_err().to_string();
        assert!(text.contains("over IPv6"), "{text}");
    }

    fn strict(timeout: Duration) -> Policy {
        Policy::with_timeout(timeout)
    }

    fn fixed(addrs: &[&str]) -> Vec<Box<dyn IpProvider>> {
        addrs
            .iter()
            .map(|a| Box::new(Careless(ip(a))) as Box<dyn IpProvider>)
            .collect()
    }

    /// Answers a fixed address under its own name, for the agreement tests.
    struct Named(&'static str, Result<IpAddr, &'static str>);

    impl IpProvider for Named {
        fn name(&self) -> String {
            self.0.to_owned()
        }

        fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
            let r = self.1.map(Found::from).map_err(|m| DetectError::Failed {
                provider: self.0.to_owned(),
                message: m.to_owned(),
            });
            Box::pin(async move { r })
        }
    }

    /// A provider's name and its answer (an address, or a failure message).
    type Script<'a> = Vec<(&'static str, Result<&'a str, &'static str>)>;

    fn named(list: Script<'_>) -> Vec<Box<dyn IpProvider>> {
        list.into_iter()
            .map(|(n, r)| Box::new(Named(n, r.map(ip))) as Box<dyn IpProvider>)
            .collect()
    }

    #[tokio::test]
    async fn every_bogon_is_refused_and_named() {
        let cases = [
            ("127.0.0.1", "127.0.0.0/8 (loopback)"),
            ("0.0.0.0", "0.0.0.0/8"),
            ("10.1.2.3", "10.0.0.0/8 (private (RFC 1918))"),
            ("172.20.0.1", "172.16.0.0/12"),
            ("192.168.1.10", "192.168.0.0/16"),
            ("169.254.7.7", "169.254.0.0/16 (link-local)"),
            ("224.0.0.251", "224.0.0.0/4 (multicast)"),
            ("255.255.255.255", "255.255.255.255/32 (limited broadcast)"),
            ("203.0.113.7", "203.0.113.0/24 (documentation)"),
            ("198.18.0.9", "198.18.0.0/15 (benchmarking)"),
            ("240.1.2.3", "240.0.0.0/4 (reserved)"),
        ];
        for (addr, why) in cases {
            let d =
                Detector::with_providers(strict(Duration::from_secs(1)), fixed(&[addr]), vec![]);
            let err = d.detect(Family::V4).await.unwrap_err().to_string();
            assert!(
                err.contains(&format!("careless: answered {addr}, which is in {why}")),
                "{err}"
            );
            assert!(err.contains("allow_private"), "{err}");
        }
        let cases6 = [
            ("::1", "::1/128 (loopback)"),
            ("::", "::/128 (unspecified)"),
            ("fe80::1", "fe80::/10 (link-local)"),
            ("fd00::1", "fc00::/7 (unique local (ULA))"),
            ("ff02::1", "ff00::/8 (multicast)"),
            ("::ffff:8.8.8.8", "::ffff:0:0/96 (IPv4-mapped IPv6)"),
            ("64:ff9b::808:808", "64:ff9b::/96 (NAT64"),
            ("2001:db8::7", "2001:db8::/32 (documentation)"),
        ];
        for (addr, why) in cases6 {
            let d =
                Detector::with_providers(strict(Duration::from_secs(1)), vec![], fixed(&[addr]));
            let err = d.detect(Family::V6).await.unwrap_err().to_string();
            assert!(
                err.contains(&format!("answered {addr}, which is in {why}")),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn cgnat_is_said_plainly() {
        let d = Detector::with_providers(
            strict(Duration::from_secs(1)),
            fixed(&["100.72.1.9"]),
            vec![],
        );
        let err = d.detect(Family::V4).await.unwrap_err().to_string();
        assert!(
            err.contains("100.64.0.0/10 (carrier-grade NAT (RFC 6598))"),
            "{err}"
        );
        assert!(
            err.contains("this host is behind carrier-grade NAT"),
            "{err}"
        );
        assert!(!err.contains("allow_private"), "{err}");
    }

    #[tokio::test]
    async fn a_bogon_falls_back_to_the_next_provider_and_global_passes() {
        let d = Detector::with_providers(
            strict(Duration::from_secs(1)),
            fixed(&["192.168.1.2", "81.2.3.4"]),
            fixed(&["fd00::5", "2a00:1:2::5"]),
        );
        assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
        assert_eq!(d.detect(Family::V6).await.unwrap().addr, ip("2a00:1:2::5"));
        assert_eq!(d.slots(Family::V4)[0].streak(), Streak { failures: 1 });
    }

    #[tokio::test]
    async fn allow_private_publishes_bogons_of_the_right_family_only() {
        let d = Detector::with_providers(
            lenient(Duration::from_secs(1)),
            fixed(&["2001:db8::1", "192.168.1.2"]),
            vec![],
        );
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!(got.addr, ip("192.168.1.2"));
    }

    #[tokio::test]
    async fn static_is_filtered_too() {
        let cfg = DetectConfig {
            allow_private: false,
            ..config(
                vec![ProviderSpec::Static(ip("10.0.0.1"))],
                vec![],
                Duration::from_secs(1),
            )
        };
        let d = Detector::new(&cfg, &Tls::new(None).unwrap()).unwrap();
        let err = d.detect(Family::V4).await.unwrap_err().to_string();
        assert!(
            err.contains("static:10.0.0.1: answered 10.0.0.1, which is in 10.0.0.0/8"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_prefix_length_comes_from_the_provider_else_the_policy() {
        struct WithPrefix;
        impl IpProvider for WithPrefix {
            fn name(&self) -> String {
                "iface".into()
            }
            fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
                Box::pin(async {
                    Ok(Found {
                        addr: "2a00:1:2::5".parse().unwrap(),
                        prefix_len: Some(56),
                    })
                })
            }
        }
        let policy = Policy {
            ipv6_prefix_len: 48,
            ..strict(Duration::from_secs(1))
        };
        let d = Detector::with_providers(policy, fixed(&["81.2.3.4"]), vec![Box::new(WithPrefix)]);
        assert_eq!(d.detect(Family::V6).await.unwrap().prefix_len, 56);
        assert_eq!(d.detect(Family::V4).await.unwrap().prefix_len, 32);
        let d = Detector::with_providers(policy, vec![], fixed(&["2a00:1:2::5"]));
        assert_eq!(
            d.detect(Family::V6).await.unwrap().detected(),
            Detected {
                addr: ip("2a00:1:2::5"),
                prefix_len: 48
            }
        );
    }

    fn agree(ipv4: Vec<Box<dyn IpProvider>>) -> Detector {
        let policy = Policy {
            strategy: Strategy::Agree,
            ..strict(Duration::from_secs(1))
        };
        Detector::with_providers(policy, ipv4, vec![])
    }

    #[tokio::test]
    async fn agree_publishes_what_two_agree_on() {
        let d = agree(named(vec![("a", Ok("81.2.3.4")), ("b", Ok("81.2.3.4"))]));
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!(got.addr, ip("81.2.3.4"));
        assert_eq!(got.provider, "a + b");

        // Two of three agree: the odd one out is outvoted (and logged).
        let d = agree(named(vec![
            ("a", Ok("81.2.3.4")),
            ("hijacked", Ok("81.9.9.9")),
            ("c", Ok("81.2.3.4")),
        ]));
        let got = d.detect(Family::V4).await.unwrap();
        assert_eq!((got.addr, got.provider.as_str()), (ip("81.2.3.4"), "a + c"));

        // One failing does not matter while two agree.
        let d = agree(named(vec![
            ("a", Err("down")),
            ("b", Ok("81.2.3.4")),
            ("c", Ok("81.2.3.4")),
        ]));
        assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
    }

    #[tokio::test]
    async fn agree_publishes_nothing_without_two_votes() {
        let cases: Vec<(Script<'_>, &str)> = vec![
            (
                vec![("a", Ok("81.2.3.4")), ("b", Ok("81.9.9.9"))],
                "no two IPv4 providers agree: a → 81.2.3.4; b → 81.9.9.9",
            ),
            (
                vec![("a", Ok("81.2.3.4")), ("b", Err("down"))],
                "no two IPv4 providers agree: a → 81.2.3.4; b: down",
            ),
            (
                vec![
                    ("a", Ok("81.2.3.4")),
                    ("b", Ok("81.9.9.9")),
                    ("c", Ok("81.2.3.4")),
                    ("d", Ok("81.9.9.9")),
                ],
                "a → 81.2.3.4; b → 81.9.9.9; c → 81.2.3.4; d → 81.9.9.9",
            ),
            (
                // Two agree on a bogon: it never counts.
                vec![
                    ("a", Ok("10.0.0.1")),
                    ("b", Ok("10.0.0.1")),
                    ("c", Ok("81.2.3.4")),
                ],
                "a: answered 10.0.0.1, which is in 10.0.0.0/8",
            ),
        ];
        for (list, needle) in cases {
            let err = agree(named(list)).detect(Family::V4).await.unwrap_err();
            assert!(matches!(err, DetectError::NoAgreement { .. }), "{err:?}");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[tokio::test]
    async fn agree_asks_everyone_at_once() {
        let slow = |a: &'static str| {
            TestServer::v4(move |_| Reply::text(200, a).after(Duration::from_millis(400)))
        };
        let (s1, s2, s3) = (
            slow("81.2.3.4").await,
            slow("81.2.3.4").await,
            slow("81.2.3.4").await,
        );
        let cfg = DetectConfig {
            strategy: Strategy::Agree,
            ..config(
                vec![url(&s1), url(&s2), url(&s3)],
                vec![],
                Duration::from_secs(5),
            )
        };
        let d = Detector::new(&cfg, &Tls::new(None).unwrap()).unwrap();
        let started = Instant::now();
        assert_eq!(d.detect(Family::V4).await.unwrap().addr, ip("81.2.3.4"));
        assert!(
            started.elapsed() < Duration::from_millis(1100),
            "{:?}",
            started.elapsed()
        );
        assert_eq!((s1.hits(), s2.hits(), s3.hits()), (1, 1, 1));
    }

    #[test]
    fn provider_specs_round_trip() {
        for s in [
            "cloudflare.trace",
            "cloudflare.dns",
            "cloudflare.doh",
            "local",
            "interface:eth0",
            "interface:ppp0.100",
            "url:https://ip.example/",
            "url4:http://192.0.2.1/ip6",
            "url6:https://ip.example/",
            "static:203.0.113.7",
            "static:2001:db8::1",
            "file:/run/wan-ip",
        ] {
            let spec: ProviderSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
        }
        for (s, needle) in [
            ("interface:", "`interface:` followed by an interface name"),
            ("interface:a/b", "not `a/b`"),
            ("interface:abcdefghijklmnop", "at most 15"),
            ("file:relative", "absolute path"),
            ("url4:ftp://x", "`url4:` followed by an http(s) URL"),
            ("ipify", "`cloudflare.dns`"),
            ("cloudflare", "not `cloudflare`"),
        ] {
            let err = s.parse::<ProviderSpec>().unwrap_err();
            assert!(err.contains(needle), "{s}: {err}");
        }
        assert_eq!("agree".parse::<Strategy>(), Ok(Strategy::Agree));
        assert_eq!("fallback".parse::<Strategy>(), Ok(Strategy::Fallback));
        assert!("majority".parse::<Strategy>().is_err());
    }

    #[test]
    fn interfaces_are_listed_once() {
        let d = Detector::with_providers(
            strict(Duration::from_secs(1)),
            vec![
                Box::new(InterfaceProvider::new("eth0", Family::V4)),
                Box::new(StaticProvider::new(ip("81.2.3.4"), Family::V4)),
            ],
            vec![
                Box::new(InterfaceProvider::new("eth0", Family::V6)),
                Box::new(InterfaceProvider::new("br-lan", Family::V6)),
            ],
        );
        assert_eq!(d.interfaces(), ["br-lan", "eth0"]);
    }
}
