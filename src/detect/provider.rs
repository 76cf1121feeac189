//! The provider contract: the [`IpProvider`] trait every provider implements, what it
//! returns ([`Found`], [`DetectError`]), and the helpers all providers share: the family
//! check, the one way a provider builds its own failure, and a server's answer fit for a log.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use super::spec::Family;
use super::{bogon, filter};

/// A boxed future, so providers of different kinds can share one list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    /// Not global unicast: never published, or only with `detect.allow_private`.
    #[error("{provider}: answered {addr}, {}", .bogon.explain())]
    NotGlobal {
        provider: String,
        addr: IpAddr,
        bogon: bogon::Bogon,
    },
    /// Refused by `detect.ipv4_accept`/`_reject` or `ipv6_accept`/`_reject`.
    #[error("{provider}: answered {addr}, {why}")]
    Filtered {
        provider: String,
        addr: IpAddr,
        why: filter::Refusal,
    },
    #[error("{provider}: no answer within {timeout:?}")]
    Timeout { provider: String, timeout: Duration },
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

/// The [`DetectError::Failed`] of `provider`, as a function of the message: how every
/// provider turns its own failure into an error, `failed(message)` or `.map_err(&failed)`.
pub(crate) fn failure(provider: impl Into<String>) -> impl Fn(String) -> DetectError {
    let provider = provider.into();
    move |message| DetectError::Failed {
        provider: provider.clone(),
        message,
    }
}

/// [`failure`] for a provider that asks one of several places: the message ends with the
/// place asked, so a failure among hedged hosts says which host failed.
pub(crate) fn failure_asking(
    provider: impl Into<String>,
    asked: impl fmt::Display,
) -> impl Fn(String) -> DetectError {
    let failed = failure(provider);
    let asked = asked.to_string();
    move |message| failed(format!("{message} (asked `{asked}`)"))
}

/// The longest echo of a server's answer in a message, in characters.
const SNIPPET_CHARS: usize = 60;

/// A server's answer fit for a log line: at most [`SNIPPET_CHARS`] characters (then `…`),
/// control characters escaped so a body cannot forge log lines or move the terminal.
pub(crate) fn snippet(text: &str) -> String {
    crate::text::bounded(text, SNIPPET_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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
}
