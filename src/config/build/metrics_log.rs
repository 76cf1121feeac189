//! `[metrics]` (where `/metrics` and `/healthz` listen, off by default) and `[log]`.

use std::net::{IpAddr, SocketAddr};

use super::super::context::{Ctx, Src, env_bool};
use super::super::env::Overrides;
use super::super::error::ConfigError;
use super::super::raw::{RawLog, RawMetrics, defaults};
use super::super::values::Problem;
use crate::logging::LogConfig;
use crate::metrics::MetricsConfig;

/// `metrics.listen` or `DDFLARE_METRICS_LISTEN`: an address with its port.
pub(super) fn metrics(
    raw: &RawMetrics,
    env: &Overrides,
    ctx: &Ctx<'_>,
) -> Result<MetricsConfig, ConfigError> {
    let listen = match (&env.metrics_listen, &raw.listen) {
        (None, None) => None,
        (Some(v), _) => Some((v.value.trim(), Src::env(v.name))),
        (None, Some(s)) => Some((s.get_ref().trim(), Src::file("metrics.listen", s.span()))),
    };
    let listen = match listen {
        None => None,
        Some((text, src)) => match text.parse::<SocketAddr>() {
            Ok(_) if cfg!(not(feature = "metrics")) => {
                return Err(ctx.err(
                    &src,
                    Problem::new(
                        "this build of ddflare has no metrics listener (built without the \
                         `metrics` feature, as the router builds are)",
                    )
                    .hint(
                        "remove it; `ddflare health` and `ddflare status` read the same state \
                         without a listener",
                    ),
                ));
            }
            Ok(a) => Some(a),
            Err(_) => {
                let p = Problem::new(format!(
                    "expected an address and a port such as \"127.0.0.1:9489\" or \"[::1]:9489\", found \"{}\"",
                    text.escape_debug()
                ));
                let p = if text.starts_with("localhost") {
                    p.hint("write 127.0.0.1 instead of localhost")
                } else if text.parse::<IpAddr>().is_ok() {
                    p.hint(format!("add the port: \"{text}:9489\""))
                } else {
                    p.hint("\"0.0.0.0:9489\" listens on every IPv4 interface (e.g. in a container)")
                };
                return Err(ctx.err(&src, p));
            }
        },
    };
    Ok(MetricsConfig { listen })
}

/// `log.quiet` or `DDFLARE_QUIET`.
pub(super) fn log(raw: &RawLog, env: &Overrides, ctx: &Ctx<'_>) -> Result<LogConfig, ConfigError> {
    let quiet = match &env.quiet {
        Some(v) => env_bool(ctx, v)?,
        None => raw
            .quiet
            .as_ref()
            .map_or(defaults::LOG_QUIET, |s| *s.get_ref()),
    };
    Ok(LogConfig { quiet })
}
