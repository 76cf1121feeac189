//! The strategy engine: the [`Detector`] holds each family's providers and turns them into
//! one address, with a timeout per provider, the family check, the bogon filter (`bogon.rs`:
//! only global unicast is ever published unless `allow_private`), the accept/reject prefixes
//! (`filter.rs`), the strategy across a list
//! (the first valid answer, or agreement of two), and logging a failing provider once per
//! failure streak.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tracing::{debug, info, warn};

use super::bogon;
use super::factory::{BuildContext, build};
use super::filter::Filters;
use super::hedge;
use super::provider::{BoxFuture, DetectError, Found, IpProvider, ensure_family};
use super::settings::DetectConfig;
use super::spec::{Family, ProviderSpec, Strategy};
use crate::http::{HttpSetupError, Tls};

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

/// Whether `addr` may be published at all (bogons unless `allow_private`, then the
/// accept/reject prefixes): the check every provider's answer passes, and so does an address
/// pushed by a router. Gives `provider` back.
pub fn admit(
    provider: String,
    addr: IpAddr,
    allow_private: bool,
    filters: &Filters,
) -> Result<String, DetectError> {
    if let Some(bogon) = bogon::refused(addr, allow_private) {
        return Err(DetectError::NotGlobal {
            provider,
            addr,
            bogon,
        });
    }
    if let Err(why) = filters.check(addr) {
        return Err(DetectError::Filtered {
            provider,
            addr,
            why,
        });
    }
    Ok(provider)
}

/// Finds the public address of each configured family from its providers.
pub struct Detector {
    providers: BTreeMap<Family, Vec<Slot>>,
    policy: Policy,
    filters: Filters,
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
        let mut detector = Self::with_providers(
            Policy {
                timeout: cfg.timeout,
                strategy: cfg.strategy,
                allow_private: cfg.allow_private,
                ipv6_prefix_len: cfg.ipv6_prefix_len,
            },
            list(Family::V4, &cfg.ipv4)?,
            list(Family::V6, &cfg.ipv6)?,
        );
        detector.filters = cfg.filters.clone();
        Ok(detector)
    }

    /// With these accept/reject prefixes.
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
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
        // extend, not collect: BTreeMap's FromIterator sorts (a stable sort per type).
        let mut providers = BTreeMap::new();
        providers.extend(
            [(Family::V4, slots(ipv4)), (Family::V6, slots(ipv6))]
                .into_iter()
                .filter(|(_, list)| !list.is_empty()),
        );
        Detector {
            providers,
            policy,
            filters: Filters::default(),
        }
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

    /// The interfaces read by `interface:` providers, with the family each is read for, each
    /// pair once, by family.
    pub fn interfaces(&self) -> Vec<(Family, String)> {
        let mut pairs = Vec::new();
        for (family, slots) in &self.providers {
            let mut names: Vec<String> = slots
                .iter()
                .filter_map(|s| s.provider.interface().map(str::to_owned))
                .collect();
            names.sort_unstable(); // equal strings are indistinguishable: the cheaper sort
            names.dedup();
            pairs.extend(names.into_iter().map(|name| (*family, name)));
        }
        pairs
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

    /// The family check, the bogon filter and the accept/reject prefixes, whatever the
    /// provider. A refused answer is that provider's failure, so `fallback` moves on to the
    /// next one.
    fn check(
        &self,
        family: Family,
        provider: String,
        found: Found,
    ) -> Result<Detection, DetectError> {
        let addr = ensure_family(family, provider.clone(), found.addr)?;
        let provider = self.admit(provider, addr)?;
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

    /// Whether `addr` may be published at all: see [`admit`].
    pub fn admit(&self, provider: String, addr: IpAddr) -> Result<String, DetectError> {
        admit(provider, addr, self.policy.allow_private, &self.filters)
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
mod tests;
