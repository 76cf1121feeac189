//! Raw file + environment → validated [`Config`], one section per file. Env wins over the
//! file, the file over the defaults in `raw::defaults`. Every error carries the key and the
//! line it came from (or the variable's name); settings that make others useless produce
//! warnings, not errors.
//!
//! The sections run in file order, so the first error and the warnings come in that order;
//! the credentials are resolved first (their values join the scrub list before anything can
//! fail) and required only after the records, and `[process]` comes last.

mod cloudflare;
mod detect;
mod families;
mod gateway;
mod lists;
mod metrics_log;
mod notify;
mod process;
mod push;
mod records;
mod schedule;
mod state;

use std::ops::Range;

use super::context::Ctx;
use super::credentials;
use super::env::Overrides;
use super::error::ConfigError;
use super::model::Config;
use super::raw::RawConfig;
use super::token;
use families::Families;

/// What `build` found besides the config: the key and span of a secret written inline
/// (`api_token` or `api_key`), for the file-mode check that only `load` can make.
pub(crate) struct Extra {
    pub inline_secret: Option<(&'static str, Range<usize>)>,
}

pub(crate) fn build(
    raw: RawConfig,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<(Config, Extra), ConfigError> {
    let resolved = credentials::resolve(&raw.cloudflare, env, ctx)?;
    let (named, named_inline) = credentials::named(&raw.credentials, env, ctx)?;
    let names: Vec<&str> = named.iter().map(|c| c.name.as_str()).collect();
    let cloudflare = cloudflare::build(&raw.cloudflare, env, ctx)?;
    let detect = detect::build(
        &raw.detect,
        env,
        ctx,
        &cloudflare.default_traces,
        raw.push.is_some(),
    )?;
    let schedule = schedule::build(
        &raw.schedule,
        env,
        ctx,
        [
            (
                "detect.timeout",
                detect.config.timeout,
                detect.timeout_src.as_ref(),
            ),
            (
                "cloudflare.request_timeout",
                cloudflare.request_timeout.value,
                cloudflare.request_timeout.src.as_ref(),
            ),
        ],
    )?;
    let state = state::build(&raw.state, env, ctx)?;
    let pushed = push::names(raw.push.as_ref());
    let families = Families::of(&detect, pushed);
    let records = records::build(&raw.defaults, &raw.record, env, ctx, &families, &names)?;
    let lists = lists::build(&raw.list, ctx, &families, &names)?;

    let gateway_locations = gateway::build(&raw.gateway_location, ctx, &names)?;
    // With [[credentials]] named by every record and location, [cloudflare] needs none: the
    // first named stands in as the default (nothing uses it as such).
    let default = resolved
        .credentials
        .map(|c| (c, resolved.token_file))
        .or_else(|| {
            named
                .first()
                .filter(|_| {
                    !(records.is_empty() && gateway_locations.is_empty() && lists.is_empty())
                        && records.iter().all(|r| r.credentials.is_some())
                        && gateway_locations.iter().all(|g| g.credentials.is_some())
                        && lists.iter().all(|l| l.credentials.is_some())
                })
                .map(|n| (n.credentials.clone(), n.token_file.clone()))
        });
    let Some((credentials, token_file)) = default else {
        let mut message = "expected an API token, found none (no api_token or api_token_file under [cloudflare], no CLOUDFLARE_API_TOKEN or CLOUDFLARE_API_TOKEN_FILE, no systemd credential)".to_owned();
        if !ctx.file_present {
            message.push_str(&format!("; there is no config file at `{}`", ctx.origin));
        }
        return Err(
            ConfigError::new(ctx.whole(), "cloudflare.api_token", message).hint(token::CREATE_HINT),
        );
    };
    if records.is_empty() && gateway_locations.is_empty() && lists.is_empty() {
        let mut message = "expected at least one [[record]], found none".to_owned();
        if !ctx.file_present {
            message.push_str(&format!(
                " (there is no config file at `{}` and DDFLARE_RECORDS is not set)",
                ctx.origin
            ));
        }
        return Err(ConfigError::new(ctx.whole(), "record", message).hint(
            "add a table such as\n  [[record]]\n  name = \"home.example.com\"\nor set DDFLARE_RECORDS=home.example.com (a [[list]] or a [[gateway_location]] alone will do too)",
        ));
    }

    let metrics = metrics_log::metrics(&raw.metrics, env, ctx)?;
    let notify = notify::build(&raw, env, ctx)?;
    let log = metrics_log::log(&raw.log, env, ctx)?;
    let process = process::build(&raw.process, env, ctx)?;
    let push = push::build(raw.push.as_ref(), ctx, &records)?;
    let config = Config {
        cloudflare: cloudflare.with(credentials, token_file, named),
        detect: detect.config,
        schedule,
        state,
        records,
        lists,
        metrics,
        notify,
        log,
        process,
        push,
        gateway_locations,
    };
    Ok((
        config,
        Extra {
            inline_secret: resolved.inline.or(named_inline),
        },
    ))
}
