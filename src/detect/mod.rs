//! Public IP detection: the [`IpProvider`] trait, the provider specs written in `[detect]`,
//! and the [`Detector`] that turns a family's list of providers into one address.
//!
//! The common parts: `spec.rs` (the vocabulary: [`Family`], [`ProviderSpec`], [`Strategy`]),
//! `provider.rs` (the provider contract: [`IpProvider`], [`Found`], [`DetectError`]),
//! `factory.rs` (one provider instance per spec) and `detector.rs` (the strategy engine: a
//! timeout per provider, the family check, the bogon filter of `bogon.rs`, the first valid
//! answer or agreement of two, the accept/reject prefixes of `filter.rs`, and logging a failing provider once per failure streak).
//!
//! One file per provider, each with its parsing pure and its fetching thin: `static_ip.rs`,
//! `url.rs`, `trace.rs` (hedged across hosts, `hedge.rs`), `dns.rs` (`cloudflare.dns` and the
//! wire format shared with `doh.rs`), `interface.rs` (over `netlink.rs`), `local.rs`, `file.rs`,
//! `router.rs` (`router.natpmp`, `router.pcp`, `router.upnp`; their bytes in `router/wire.rs`).
//! `fetch.rs` is the one family-bound HTTP client. `watch.rs` wakes the daemon when an
//! `interface:` provider's interface changes; `prefix.rs` is the arithmetic of IPv6 prefix
//! mode; `settings.rs` holds the `[detect]` settings.

pub mod bogon;
mod detector;
#[cfg(feature = "dns-detect")]
pub mod dns;
#[cfg(feature = "dns-detect")]
pub mod doh;
mod factory;
mod fetch;
pub mod file;
pub mod filter;
mod hedge;
pub mod interface;
pub mod local;
pub mod netlink;
pub mod prefix;
mod provider;
#[cfg(feature = "router-query")]
pub mod router;
pub mod settings;
mod spec;
pub mod static_ip;
#[cfg(test)]
mod test_server;
pub mod trace;
pub mod url;
pub mod watch;

pub use detector::{DetectReport, Detected, Detection, Detector, Policy, admit};
#[cfg(feature = "dns-detect")]
pub use dns::DnsProvider;
#[cfg(feature = "dns-detect")]
pub use doh::DohProvider;
pub use factory::{BuildContext, build};
pub use file::FileProvider;
pub use filter::{Cidr, Filters, Refusal};
pub use interface::InterfaceProvider;
pub use local::LocalProvider;
pub use prefix::Ipv6Host;
pub use provider::{BoxFuture, DetectError, Found, IpProvider};
#[cfg(feature = "router-query")]
pub use router::RouterProvider;
pub use settings::DetectConfig;
pub use spec::{Family, ProviderSpec, Router, Strategy};
pub use static_ip::StaticProvider;
pub use trace::{TraceProvider, parse_trace};
pub use url::{UrlProvider, parse_ip_body};
