//! `[alerts]`, `[[notify]]` and `[[monitor]]`, or `DDFLARE_NOTIFY` and `DDFLARE_MONITOR`,
//! which replace the file's tables. Notification and monitor URLs hold secrets (tokens in
//! their paths, passwords): they join the scrub list, and no message quotes them.

use toml::Spanned;

use super::super::context::{Ctx, Src, duration, positive, push_secret};
use super::super::env::{self, EnvVar, Overrides};
use super::super::error::ConfigError;
use super::super::raw::{RawAlerts, RawConfig, RawMonitor, RawNotify, defaults};
use super::super::values::{self, Problem};
use crate::notify::{Alerts, Events, Monitor, NotifyConfig, Target};

pub(super) fn build(
    raw: &RawConfig,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<NotifyConfig, ConfigError> {
    let alerts = alerts(&raw.alerts, ctx)?;
    let targets = targets(&raw.notify, env, ctx)?;
    let monitors = monitors(&raw.monitor, env, ctx)?;
    Ok(NotifyConfig {
        targets,
        monitors,
        alerts,
    })
}

fn alerts(a: &RawAlerts, ctx: &Ctx<'_>) -> Result<Alerts, ConfigError> {
    let defaults_alerts = Alerts::default();
    let after_failed_rounds = int_in(
        ctx,
        a.after_failed_rounds.as_ref(),
        "alerts.after_failed_rounds",
        (1, defaults::ALERT_AFTER_ROUNDS_MAX),
        defaults_alerts.after_failed_rounds,
    )?;
    let max_per_hour = int_in(
        ctx,
        a.max_per_hour.as_ref(),
        "alerts.max_per_hour",
        (1, defaults::ALERT_MAX_PER_HOUR_MAX),
        defaults_alerts.max_per_hour,
    )?;
    let after = duration(
        ctx,
        None,
        a.after.as_ref(),
        "alerts.after",
        defaults_alerts.after,
    )?;
    positive(ctx, &after)?;
    let remind_every = match &a.remind_every {
        None => defaults_alerts.remind_every,
        Some(s) => {
            let d = values::duration(&s.get_ref().0)
                .map_err(|p| ctx.err(&Src::file("alerts.remind_every", s.span()), p))?;
            (!d.is_zero()).then_some(d)
        }
    };
    Ok(Alerts {
        after_failed_rounds,
        after: after.value,
        remind_every,
        max_per_hour,
    })
}

fn targets(
    tables: &[Spanned<RawNotify>],
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Target>, ConfigError> {
    let mut targets = Vec::new();
    if let Some(v) = &env.notify {
        targets = env_urls(ctx, v, tables.len(), "[[notify]]", |url| {
            Target::parse(url, None, Events::default())
        })?;
    }
    // The variable replaces the file's tables.
    let file_notifys = if env.notify.is_some() {
        &[][..]
    } else {
        tables
    };
    for (i, n) in file_notifys.iter().enumerate() {
        let k = format!("notify[{}]", i + 1);
        let r = n.get_ref();
        for v in [&r.url, &r.server].into_iter().flatten() {
            push_secret(ctx, v.get_ref());
        }
        let Some(url) = &r.url else {
            return Err(ctx.err(
                &Src::file(&k, n.span()),
                Problem::new("expected a `url` key, found none")
                    .hint("add e.g. `url = \"ntfy://ntfy.sh/YOUR_TOPIC\"` under this [[notify]]"),
            ));
        };
        let events = match &r.events {
            None => Events::default(),
            Some(e) => Events::parse(e.get_ref()).map_err(|m| {
                ctx.err(&Src::file(format!("{k}.events"), e.span()), Problem::new(m))
            })?,
        };
        let server = r.server.as_ref().map(|s| s.get_ref().as_str());
        let target = Target::parse(url.get_ref(), server, events).map_err(|m| {
            let key = if m.starts_with("`server`") {
                "server"
            } else {
                "url"
            };
            let span = match (key, &r.server) {
                ("server", Some(s)) => s.span(),
                _ => url.span(),
            };
            ctx.err(
                &Src::file(format!("{k}.{key}"), span),
                Problem::new(m).hint("config.example.toml shows each kind of URL"),
            )
        })?;
        targets.push(target);
    }
    Ok(targets)
}

fn monitors(
    tables: &[Spanned<RawMonitor>],
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Monitor>, ConfigError> {
    let mut monitors = Vec::new();
    if let Some(v) = &env.monitor {
        monitors = env_urls(ctx, v, tables.len(), "[[monitor]]", |url| {
            Monitor::parse(url, None)
        })?;
    }
    // The variable replaces the file's tables.
    let file_monitors = if env.monitor.is_some() {
        &[][..]
    } else {
        tables
    };
    for (i, m) in file_monitors.iter().enumerate() {
        let k = format!("monitor[{}]", i + 1);
        let r = m.get_ref();
        if let Some(u) = &r.url {
            push_secret(ctx, u.get_ref());
        }
        let Some(url) = &r.url else {
            return Err(ctx.err(
                &Src::file(&k, m.span()),
                Problem::new("expected a `url` key, found none").hint(
                    "add e.g. `url = \"https://hc-ping.com/YOUR-UUID\"` under this [[monitor]]",
                ),
            ));
        };
        let kind = r.kind.as_ref().map(|s| s.get_ref().as_str());
        let monitor = Monitor::parse(url.get_ref(), kind).map_err(|msg| {
            let (key, span) = match &r.kind {
                Some(kd) if msg.starts_with("`kind`") => ("kind", kd.span()),
                _ => ("url", url.span()),
            };
            ctx.err(&Src::file(format!("{k}.{key}"), span), Problem::new(msg))
        })?;
        monitors.push(monitor);
    }
    Ok(monitors)
}

/// `DDFLARE_NOTIFY` or `DDFLARE_MONITOR`: URLs separated by whitespace, each parsed by `parse`,
/// replacing the file's `file_count` tables (with a warning). The URLs are secrets (tokens in
/// their paths or passwords): they join the scrub list and messages name only the entry.
fn env_urls<T>(
    ctx: &mut Ctx<'_>,
    v: &EnvVar,
    file_count: usize,
    tables: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    let urls = env::split_urls(&v.value);
    for url in &urls {
        push_secret(ctx, url);
    }
    if file_count > 0 {
        ctx.warn(
            &Src::env(v.name),
            &format!(
                "replaces the {file_count} {tables} table(s) of {}",
                ctx.origin
            ),
            None,
        );
    }
    let mut out = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let item = parse(url).map_err(|m| {
            let src = Src::Env {
                var: v.name.into(),
                detail: Some(format!("entry {}", i + 1)),
            };
            ctx.err(
                &src,
                Problem::new(m).hint("config.example.toml shows each kind of URL"),
            )
        })?;
        out.push(item);
    }
    Ok(out)
}

/// An integer key within `lo..=hi`, or `default`.
fn int_in(
    ctx: &Ctx<'_>,
    v: Option<&Spanned<i64>>,
    key: &str,
    (lo, hi): (i64, i64),
    default: u32,
) -> Result<u32, ConfigError> {
    let Some(s) = v else { return Ok(default) };
    let n = *s.get_ref();
    if (lo..=hi).contains(&n) {
        Ok(u32::try_from(n).unwrap_or(default))
    } else {
        Err(ctx.err(
            &Src::file(key, s.span()),
            Problem::new(format!("expected an integer from {lo} to {hi}, found {n}")),
        ))
    }
}
