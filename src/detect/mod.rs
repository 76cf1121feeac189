//! Public IP detection: the [`IpProvider`] trait, the provider specs written in `[detect]`,
//! and fallback across a family's list.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::str::FromStr;

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
/// `"cloudflare.trace"`). `"none"` is not a provider: it is an empty list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    Static(IpAddr),
    Url(String),
    CloudflareTrace,
}

impl FromStr for ProviderSpec {
    type Err = String;

    /// The error is the "expected …" part of a config message.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "cloudflare.trace" {
            return Ok(ProviderSpec::CloudflareTrace);
        }
        if let Some(addr) = s.strip_prefix("static:") {
            return addr
                .trim()
                .parse()
                .map(ProviderSpec::Static)
                .map_err(|_| format!("`static:` followed by an IP address, not `{addr}`"));
        }
        if let Some(url) = s.strip_prefix("url:") {
            let url = url.trim();
            if url.starts_with("https://") || url.starts_with("http://") {
                return Ok(ProviderSpec::Url(url.to_owned()));
            }
            return Err(format!("`url:` followed by an http(s) URL, not `{url}`"));
        }
        Err(format!(
            "a provider: `cloudflare.trace`, `url:URL`, `static:ADDR` or `none`, not `{s}`"
        ))
    }
}

impl fmt::Display for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Static(a) => write!(f, "static:{a}"),
            ProviderSpec::Url(u) => write!(f, "url:{u}"),
            ProviderSpec::CloudflareTrace => f.write_str("cloudflare.trace"),
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
    #[error("{provider}: no answer within {timeout:?}")]
    Timeout {
        provider: String,
        timeout: std::time::Duration,
    },
    #[error("no {0} provider is configured")]
    NoProvider(Family),
}

/// Finds this host's public address of one family. One instance serves one family, so it can
/// hold a connection forced to that family and reuse it across rounds.
pub trait IpProvider: Send + Sync {
    /// The spec as the user wrote it, for logs.
    fn name(&self) -> String;
    fn detect(&self) -> BoxFuture<'_, Result<IpAddr, DetectError>>;
}
