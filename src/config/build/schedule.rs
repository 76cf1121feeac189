//! `[schedule]`: every `interval` (at least the minimum) or at the minutes of a `cron`
//! expression, a random `jitter`, the round's deadline and the grace of the round in flight
//! at a stop. A timeout that does not fit in the deadline gets a warning.

use std::time::Duration;

use super::super::context::{Ctx, Src, Val, duration, positive};
use super::super::env::{self, Overrides};
use super::super::error::ConfigError;
use super::super::raw::{RawSchedule, defaults};
use super::super::values::{self, Problem};
use crate::schedule::{Cron, ScheduleConfig};
use crate::tz::Zone;

/// A timeout that runs inside a round: its key, value, and where it was set (`None`: the
/// default).
pub(super) type Timeout<'a> = (&'static str, Duration, Option<&'a Src>);

/// `timeouts` are checked against `cycle_deadline`.
pub(super) fn build(
    s: &RawSchedule,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
    timeouts: [Timeout<'_>; 2],
) -> Result<ScheduleConfig, ConfigError> {
    let interval = duration(
        ctx,
        env.interval.as_ref(),
        s.interval.as_ref(),
        "schedule.interval",
        defaults::INTERVAL,
    )?;
    if interval.value < defaults::MIN_INTERVAL {
        let src = interval
            .src
            .clone()
            .unwrap_or_else(|| Src::env(env::INTERVAL));
        return Err(ctx.err(
            &src,
            Problem::new(format!(
                "expected at least {}, found {}",
                values::show(defaults::MIN_INTERVAL),
                values::show(interval.value)
            ))
            .hint("Cloudflare rate-limits the API; a few minutes is plenty for a home connection"),
        ));
    }
    let cycle_deadline = duration(
        ctx,
        None,
        s.cycle_deadline.as_ref(),
        "schedule.cycle_deadline",
        defaults::CYCLE_DEADLINE,
    )?;
    positive(ctx, &cycle_deadline)?;
    let shutdown_grace = duration(
        ctx,
        None,
        s.shutdown_grace.as_ref(),
        "schedule.shutdown_grace",
        defaults::SHUTDOWN_GRACE,
    )?;
    let (cron, jitter, update_on_start) = extras(ctx, env, s, &interval)?;
    warn_long_timeouts(ctx, &cycle_deadline, timeouts);
    let timezone = timezone(ctx, env, s)?;
    Ok(ScheduleConfig {
        interval: interval.value,
        cycle_deadline: cycle_deadline.value,
        shutdown_grace: shutdown_grace.value,
        cron,
        jitter,
        update_on_start,
        timezone,
    })
}

/// `schedule.timezone` (or `DDFLARE_TIMEZONE`, which wins): an IANA name, read from `$TZDIR`
/// or /usr/share/zoneinfo. No key: UTC.
fn timezone(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    s: &RawSchedule,
) -> Result<Option<Zone>, ConfigError> {
    let (name, src) = match (&env.timezone, &s.timezone) {
        (Some(v), _) => (v.value.trim().to_owned(), Src::env(v.name)),
        (None, Some(tz)) => (
            tz.get_ref().trim().to_owned(),
            Src::file("schedule.timezone", tz.span()),
        ),
        (None, None) => return Ok(None),
    };
    let name = name.as_str();
    if name.eq_ignore_ascii_case("utc") || name == "Etc/UTC" {
        return Ok(None);
    }
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
    if !valid {
        return Err(ctx.err(
            &src,
            Problem::new(format!(
                "expected an IANA time zone name such as \"Europe/Berlin\", found {:?}",
                crate::text::bounded(name, 64)
            ))
            .hint("the names are those under /usr/share/zoneinfo (`timedatectl list-timezones`)"),
        ));
    }
    let dir = env
        .tzdir
        .as_ref()
        .map_or_else(|| "/usr/share/zoneinfo".to_owned(), |v| v.value.clone());
    let path = std::path::Path::new(&dir).join(name);
    let bytes = crate::files::read(&path, crate::files::Kind::Zoneinfo).map_err(|e| {
        ctx.err(
            &src,
            Problem::new(format!("cannot read the zone {name}: {e}")).hint(
                "install the zone data (Debian: `apt install tzdata`); in a container, mount the host's with `-v /usr/share/zoneinfo:/usr/share/zoneinfo:ro`, or point TZDIR at a directory holding it",
            ),
        )
    })?;
    Zone::parse(name, &bytes).map(Some).map_err(|m| {
        ctx.err(
            &src,
            Problem::new(m)
                .hint("reinstall the zone data (Debian: `apt install --reinstall tzdata`)"),
        )
    })
}

/// A timeout not shorter than the deadline can be cut short before it fires: warned about at
/// the timeout's key, or else at the deadline's.
fn warn_long_timeouts(
    ctx: &mut Ctx<'_>,
    cycle_deadline: &Val<Duration>,
    timeouts: [Timeout<'_>; 2],
) {
    for (name, value, src) in timeouts {
        if value >= cycle_deadline.value
            && let Some(src) = src.cloned().or_else(|| cycle_deadline.src.clone())
        {
            ctx.warn(
                &src,
                &format!(
                    "{name} ({}) is not shorter than schedule.cycle_deadline ({}): a round may be cut short before it times out",
                    values::show(value),
                    values::show(cycle_deadline.value)
                ),
                None,
            );
        }
    }
}

/// `schedule.cron`, `schedule.jitter` and `schedule.update_on_start`. `cron` and `interval`
/// exclude each other in the file; `DDFLARE_INTERVAL` replaces a file's `cron` (with a
/// warning). The jitter must be shorter than the time between two rounds.
fn extras(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    s: &RawSchedule,
    interval: &Val<Duration>,
) -> Result<(Option<Cron>, Duration, bool), ConfigError> {
    const CRON_HINT: &str = "five fields, minute hour day-of-month month day-of-week, in UTC (or schedule.timezone): e.g. \"*/5 * * * *\"";
    let cron = match (&env.cron, &s.cron) {
        (Some(v), _) => {
            let src = Src::env(v.name);
            if env.interval.is_some() {
                return Err(ctx.err(
                    &src,
                    Problem::new("expected either DDFLARE_CRON or DDFLARE_INTERVAL, found both")
                        .hint("unset one: DDFLARE_CRON says when rounds run, DDFLARE_INTERVAL how often"),
                ));
            }
            if s.cron.is_some() || s.interval.is_some() {
                ctx.warn(
                    &src,
                    "replaces the file's schedule.cron or schedule.interval",
                    None,
                );
            }
            Some(
                Cron::parse(&v.value)
                    .map_err(|m| ctx.err(&src, Problem::new(m).hint(CRON_HINT)))?,
            )
        }
        (None, None) => None,
        (None, Some(c)) => {
            let src = Src::file("schedule.cron", c.span());
            if let Some(i) = &s.interval {
                return Err(ctx.err(
                    &src,
                    Problem::new(format!(
                        "expected either `cron` or `interval`, found both (interval on line {})",
                        ctx.line(&i.span())
                    ))
                    .hint("remove `interval`: with `cron` the expression says when rounds run"),
                ));
            }
            if let Some(v) = &env.interval {
                ctx.warn(
                    &Src::env(v.name),
                    "replaces schedule.cron: rounds run every interval",
                    None,
                );
                None
            } else {
                Some(
                    Cron::parse(c.get_ref())
                        .map_err(|m| ctx.err(&src, Problem::new(m).hint(CRON_HINT)))?,
                )
            }
        }
    };
    let jitter = duration(
        ctx,
        None,
        s.jitter.as_ref(),
        "schedule.jitter",
        defaults::JITTER,
    )?;
    let gap = match &cron {
        Some(c) => c.gaps(0, 500).map_or(interval.value, |(lo, _)| lo),
        None => interval.value,
    };
    if let Some(src) = &jitter.src
        && !jitter.value.is_zero()
        && jitter.value >= gap
    {
        return Err(ctx.err(
            src,
            Problem::new(format!(
                "expected less than the time between two rounds ({}), found {}",
                values::show(gap),
                values::show(jitter.value)
            ))
            .hint(
                "a jitter of a few seconds to a minute spreads the load; it must not skip rounds",
            ),
        ));
    }
    let update_on_start = s
        .update_on_start
        .as_ref()
        .map_or(defaults::UPDATE_ON_START, |v| *v.get_ref());
    Ok((cron, jitter.value, update_on_start))
}
