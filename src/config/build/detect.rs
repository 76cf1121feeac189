//! `[detect]`: the provider lists of each family, how they are used (`strategy`), which
//! addresses may be published, the prefix length, and where the Cloudflare providers ask.
//! A list that cannot work with the other keys (one provider under `agree`, a DNS provider
//! without a server of its family) is an error naming the list.

use std::net::SocketAddr;

use toml::Spanned;

use super::super::context::{Ctx, Src, Val, duration, env_bool, positive};
use super::super::env::{self, EnvVar, Overrides};
use super::super::error::ConfigError;
use super::super::raw::{RawDetect, RawProviders, defaults};
use super::super::values::{self, Problem};
use crate::detect::{Cidr, DetectConfig, Family, Filters, ProviderSpec, Strategy, bogon};

/// `[detect]`, with where its lists and timeout were set (`None`: the default), for the
/// messages of later checks.
pub(super) struct Detect {
    pub config: DetectConfig,
    pub ipv4_src: Option<Src>,
    pub ipv6_src: Option<Src>,
    pub timeout_src: Option<Src>,
}

/// `default_traces`: where `cloudflare.trace` asks when `trace_url` is not given.
pub(super) fn build(
    d: &RawDetect,
    env: &Overrides,
    ctx: &Ctx<'_>,
    default_traces: &[String],
    push: bool,
) -> Result<Detect, ConfigError> {
    let ipv4 = providers(ctx, env.ipv4.as_ref(), d.ipv4.as_ref(), "detect.ipv4")?;
    let ipv6 = providers(ctx, env.ipv6.as_ref(), d.ipv6.as_ref(), "detect.ipv6")?;
    // With [push], a router's pushes may be the only source of addresses.
    if ipv4.value.is_empty() && ipv6.value.is_empty() && !push {
        let src = ipv6
            .src
            .clone()
            .or_else(|| ipv4.src.clone())
            .unwrap_or_else(|| Src::env(env::IPV6));
        return Err(ctx.err(
            &src,
            Problem::new("expected at least one address family, found both IPv4 and IPv6 set to \"none\": there is nothing to update")
                .hint("give providers for one family, e.g. ipv4 = [\"cloudflare.trace\"], or let a router push its address ([push])"),
        ));
    }
    let detect_timeout = duration(
        ctx,
        None,
        d.timeout.as_ref(),
        "detect.timeout",
        defaults::DETECT_TIMEOUT,
    )?;
    positive(ctx, &detect_timeout)?;
    let trace_urls = match &d.trace_url {
        None => default_traces.to_vec(),
        Some(s) => {
            let src = Src::file("detect.trace_url", s.span());
            if s.get_ref().0.is_empty() {
                return Err(ctx.err(
                    &src,
                    Problem::new("expected at least one URL, found an empty list"),
                ));
            }
            s.get_ref()
                .0
                .iter()
                .map(|u| values::url(u).map(|u| u.to_string_normalized()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|p| ctx.err(&src, p))?
        }
    };
    let extra = extra(ctx, env, d)?;
    check_lists(ctx, d, (extra.strategy, &extra.dns_servers), &ipv4, &ipv6)?;
    Ok(Detect {
        config: DetectConfig {
            ipv4: ipv4.value,
            ipv6: ipv6.value,
            timeout: detect_timeout.value,
            strategy: extra.strategy,
            allow_private: extra.allow_private,
            ipv6_prefix_len: extra.ipv6_prefix_len,
            filters: filters(ctx, env, d)?,
            trace_urls,
            dns_servers: extra.dns_servers,
            doh_url: extra.doh_url,
        },
        ipv4_src: ipv4.src,
        ipv6_src: ipv6.src,
        timeout_src: detect_timeout.src,
    })
}

/// The `[detect]` keys besides the provider lists, timeout and trace URLs.
struct DetectExtra {
    strategy: Strategy,
    allow_private: bool,
    ipv6_prefix_len: u8,
    dns_servers: Vec<SocketAddr>,
    doh_url: String,
}

fn extra(ctx: &Ctx<'_>, env: &Overrides, d: &RawDetect) -> Result<DetectExtra, ConfigError> {
    let strategy = match &d.strategy {
        None => Strategy::default(),
        Some(s) => s.get_ref().parse::<Strategy>().map_err(|e| {
            ctx.err(
                &Src::file("detect.strategy", s.span()),
                Problem::new(format!("expected {e}")),
            )
        })?,
    };
    let allow_private = match &env.allow_private {
        Some(v) => env_bool(ctx, v)?,
        None => d.allow_private.as_ref().is_some_and(|s| *s.get_ref()),
    };
    let ipv6_prefix_len = match &d.ipv6_prefix_len {
        None => defaults::IPV6_PREFIX_LEN,
        Some(s) => u8::try_from(*s.get_ref())
            .ok()
            .filter(|n| (1..=127).contains(n))
            .ok_or_else(|| {
                ctx.err(
                    &Src::file("detect.ipv6_prefix_len", s.span()),
                    Problem::new(format!(
                        "expected a prefix length from 1 to 127, found {}",
                        s.get_ref()
                    ))
                    .hint("ISPs delegate /48, /56 or /64; a LAN is a /64"),
                )
            })?,
    };
    let dns_servers = match &d.dns_servers {
        None => defaults::DNS_SERVERS
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        Some(s) => {
            let src = Src::file("detect.dns_servers", s.span());
            if s.get_ref().0.is_empty() {
                return Err(ctx.err(
                    &src,
                    Problem::new("expected at least one server address, found an empty list"),
                ));
            }
            s.get_ref()
                .0
                .iter()
                .map(|a| values::server_addr(a, 53))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|p| ctx.err(&src, p))?
        }
    };
    let doh_url = match &d.doh_url {
        None => defaults::DOH_URL.to_owned(),
        Some(s) => values::url(s.get_ref())
            .map(|u| u.to_string_normalized())
            .map_err(|p| ctx.err(&Src::file("detect.doh_url", s.span()), p))?,
    };
    Ok(DetectExtra {
        strategy,
        allow_private,
        ipv6_prefix_len,
        dns_servers,
        doh_url,
    })
}

/// Each family's list against `strategy` and `dns_servers`.
fn check_lists(
    ctx: &Ctx<'_>,
    d: &RawDetect,
    (strategy, dns_servers): (Strategy, &[SocketAddr]),
    ipv4: &Val<Vec<ProviderSpec>>,
    ipv6: &Val<Vec<ProviderSpec>>,
) -> Result<(), ConfigError> {
    for (list, family, key, ip_ok) in [
        (
            ipv4,
            "IPv4",
            "detect.ipv4",
            dns_servers.iter().any(SocketAddr::is_ipv4),
        ),
        (
            ipv6,
            "IPv6",
            "detect.ipv6",
            dns_servers.iter().any(SocketAddr::is_ipv6),
        ),
    ] {
        // A default list has no line of its own: point at `strategy`, which made it wrong.
        let src = list
            .src
            .clone()
            .or_else(|| {
                d.strategy
                    .as_ref()
                    .map(|s| Src::file("detect.strategy", s.span()))
            })
            .unwrap_or_else(|| Src::file(key, 0..0));
        if strategy == Strategy::Agree && list.value.len() == 1 {
            return Err(ctx.err(
                &src,
                Problem::new(format!(
                    "expected at least two {family} providers with strategy = \"agree\", found one"
                ))
                .hint("add a second provider, e.g. [\"cloudflare.trace\", \"cloudflare.dns\"], or remove strategy"),
            ));
        }
        static_values(ctx, &src, list, family == "IPv4")?;
        if family == "IPv6"
            && let Some(p) = list
                .value
                .iter()
                .find(|p| matches!(p, ProviderSpec::Router(_)))
        {
            return Err(ctx.err(
                &src,
                Problem::new(format!(
                    "`{p}` tells only the router's IPv4 address, found it in detect.ipv6"
                ))
                .hint("move it to detect.ipv4; for IPv6, use interface:NAME or cloudflare.trace"),
            ));
        }
        let needs_server = list
            .value
            .iter()
            .find(|p| matches!(p, ProviderSpec::CloudflareDns | ProviderSpec::Local));
        if let Some(p) = needs_server
            && !ip_ok
        {
            return Err(ctx.err(
                &src,
                Problem::new(format!(
                    "`{p}` needs an {family} address in detect.dns_servers, found none"
                ))
                .hint("add one to detect.dns_servers, or remove dns_servers to use Cloudflare's"),
            ));
        }
    }
    Ok(())
}

/// A `static:` value is known now: one of the other family, or one that can never be
/// published, is a config error rather than a failure of every round.
fn static_values(
    ctx: &Ctx<'_>,
    src: &Src,
    list: &Val<Vec<ProviderSpec>>,
    v4: bool,
) -> Result<(), ConfigError> {
    let (family, other, other_key) = if v4 {
        ("IPv4", "IPv6", "detect.ipv6")
    } else {
        ("IPv6", "IPv4", "detect.ipv4")
    };
    for p in &list.value {
        let ProviderSpec::Static(addr) = p else {
            continue;
        };
        if addr.is_ipv4() != v4 {
            return Err(ctx.err(
                src,
                Problem::new(format!(
                    "expected {family} addresses only, found `{p}`, an {other} address"
                ))
                .hint(format!(
                    "move it to {other_key}, or give this host's {family} address"
                )),
            ));
        }
        if let Some(bogon) = bogon::refused(*addr, true) {
            return Err(ctx.err(
                src,
                Problem::new(format!(
                    "expected a usable address, found `{p}`, {}",
                    bogon.explain()
                )),
            ));
        }
    }
    Ok(())
}

/// The four prefix lists, each from its variable or its key: every item a prefix of the
/// key's family.
fn filters(ctx: &Ctx<'_>, env: &Overrides, d: &RawDetect) -> Result<Filters, ConfigError> {
    let raw = [
        &d.ipv4_accept,
        &d.ipv4_reject,
        &d.ipv6_accept,
        &d.ipv6_reject,
    ];
    let keys = [
        "detect.ipv4_accept",
        "detect.ipv4_reject",
        "detect.ipv6_accept",
        "detect.ipv6_reject",
    ];
    let mut lists: [Vec<Cidr>; 4] = Default::default();
    for (i, list) in lists.iter_mut().enumerate() {
        let (items, src) = match (&env.filters[i], raw[i]) {
            (Some(v), _) => (env::split_list(&v.value), Src::env(v.name)),
            (None, Some(s)) => (s.get_ref().0.clone(), Src::file(keys[i], s.span())),
            (None, None) => continue,
        };
        let family = if i < 2 { Family::V4 } else { Family::V6 };
        for item in &items {
            let cidr = Cidr::parse(item.trim()).map_err(|why| {
                ctx.err(
                    &src,
                    Problem::new(format!("{why}, found \"{}\"", item.escape_debug())),
                )
            })?;
            if cidr.family() != family {
                return Err(ctx.err(
                    &src,
                    Problem::new(format!(
                        "expected {family} prefixes only, found \"{cidr}\", an {} prefix",
                        cidr.family()
                    ))
                    .hint(format!(
                        "move it to detect.{}_{}",
                        if i < 2 { "ipv6" } else { "ipv4" },
                        if i % 2 == 0 { "accept" } else { "reject" }
                    )),
                ));
            }
            list.push(cidr);
        }
    }
    let [ipv4_accept, ipv4_reject, ipv6_accept, ipv6_reject] = lists;
    Ok(Filters {
        ipv4_accept,
        ipv4_reject,
        ipv6_accept,
        ipv6_reject,
    })
}

fn providers(
    ctx: &Ctx<'_>,
    env: Option<&EnvVar>,
    file: Option<&Spanned<RawProviders>>,
    key: &str,
) -> Result<Val<Vec<ProviderSpec>>, ConfigError> {
    let (items, src) = match (env, file) {
        (Some(v), _) => (env::split_list(&v.value), Src::env(v.name)),
        (None, Some(s)) => (s.get_ref().0.clone(), Src::file(key, s.span())),
        (None, None) => {
            return Ok(Val {
                value: vec![ProviderSpec::CloudflareTrace],
                src: None,
            });
        }
    };
    let value = values::providers(&items).map_err(|p| ctx.err(&src, p))?;
    Ok(Val {
        value,
        src: Some(src),
    })
}
