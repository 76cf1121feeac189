//! The provider factory: one [`IpProvider`] instance per spec and family, built with the
//! shared settings of `[detect]` ([`BuildContext`]).

use std::net::SocketAddr;
use std::time::Duration;

#[cfg(feature = "dns-detect")]
use super::dns::DnsProvider;
#[cfg(feature = "dns-detect")]
use super::doh::DohProvider;
use super::file::FileProvider;
use super::interface::InterfaceProvider;
use super::local::LocalProvider;
use super::provider::IpProvider;
#[cfg(feature = "router-query")]
use super::router::RouterProvider;
use super::spec::{Family, ProviderSpec};
use super::static_ip::StaticProvider;
use super::trace::TraceProvider;
use super::url::UrlProvider;
use crate::http::{HttpSetupError, Tls};

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
        #[cfg(feature = "dns-detect")]
        ProviderSpec::CloudflareDns => Box::new(DnsProvider::new(servers(), family)),
        #[cfg(feature = "dns-detect")]
        ProviderSpec::CloudflareDoh => {
            Box::new(DohProvider::new(ctx.doh_url, family, ctx.tls, ctx.timeout)?)
        }
        // Never parsed without the feature (ProviderSpec's FromStr refuses both).
        #[cfg(not(feature = "dns-detect"))]
        ProviderSpec::CloudflareDns | ProviderSpec::CloudflareDoh => {
            unreachable!("cloudflare.dns and cloudflare.doh are refused without dns-detect")
        }
        ProviderSpec::Interface(name) => Box::new(InterfaceProvider::new(name, family)),
        ProviderSpec::Local => Box::new(LocalProvider::new(servers().first().copied(), family)),
        ProviderSpec::File(path) => Box::new(FileProvider::new(path.clone(), family)),
        #[cfg(feature = "router-query")]
        ProviderSpec::Router(router) => {
            Box::new(RouterProvider::new(router, family, ctx.tls, ctx.timeout)?)
        }
        // Never parsed without the feature (ProviderSpec's FromStr refuses `router.*`).
        #[cfg(not(feature = "router-query"))]
        ProviderSpec::Router(_) => {
            unreachable!("router.* providers are refused without router-query")
        }
    })
}
