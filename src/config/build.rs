//! Raw file + environment → validated [`Config`]. Env wins over the file, the file over the
//! defaults in `raw::defaults`. Every error carries the key and the line it came from (or the
//! variable's name); settings that make others useless produce warnings, not errors.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::env::{self, EnvVar, Overrides};
use super::error::{ConfigError, Location, line_col, render};
use super::raw::{RawConfig, RawDuration, RawProcess, RawSchedule, RawTtl, defaults};
use super::values::{self, Problem, TtlInput};
use super::{
    CloudflareConfig, Config, DetectConfig, LogConfig, MetricsConfig, RecordConfig, ScheduleConfig,
    StateConfig, Ttl,
};
use super::{credentials, token};
use crate::detect::{Ipv6Host, ProviderSpec, Strategy};
use crate::notify::{Alerts, Events, Monitor, NotifyConfig, Target};
use crate::privileges::{self, ProcessConfig, RunAs};
use crate::schedule::Cron;

/// Where a value came from, to name it in messages.
#[derive(Debug, Clone)]
pub(crate) enum Src {
    /// A key of the file, with its dotted name and span.
    File { key: String, span: Range<usize> },
    /// An environment variable; `detail` (e.g. "entry 2 (`x`)") goes before the message.
    Env {
        var: &'static str,
        detail: Option<String>,
    },
}

impl Src {
    pub(crate) fn file(key: impl Into<String>, span: Range<usize>) -> Src {
        Src::File {
            key: key.into(),
            span,
        }
    }

    pub(crate) fn env(var: &'static str) -> Src {
        Src::Env { var, detail: None }
    }

    pub(crate) fn is_env(&self) -> bool {
        matches!(self, Src::Env { .. })
    }
}

/// The state of one build: the text (for line numbers), warnings, and the secrets seen so far.
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub origin: &'a str,
    /// False when the default file does not exist and everything comes from the environment.
    pub file_present: bool,
    /// `--strict`: a secret file that group or others may read is refused, not warned about.
    pub strict: bool,
    pub warnings: Vec<String>,
    /// Token values read so far, scrubbed from any error as a last line of defence.
    pub secrets: Vec<String>,
}

impl Ctx<'_> {
    pub fn loc(&self, span: &Range<usize>) -> Location {
        Location {
            origin: self.origin.to_owned(),
            line: Some(line_col(self.text, span.start).0),
            column: None,
        }
    }

    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    /// The file without a line (for what is missing), when there is a file.
    fn whole(&self) -> Option<Location> {
        self.file_present.then(|| Location {
            origin: self.origin.to_owned(),
            line: None,
            column: None,
        })
    }

    pub fn err(&self, src: &Src, p: Problem) -> ConfigError {
        match src {
            Src::File { key, span } => {
                ConfigError::new(Some(self.loc(span)), key.clone(), p.message).maybe_hint(p.hint)
            }
            Src::Env { var, detail } => {
                let message = match detail {
                    Some(d) => format!("{d}: {}", p.message),
                    None => p.message,
                };
                ConfigError::new(None, *var, message).maybe_hint(p.hint)
            }
        }
    }

    pub fn warn(&mut self, src: &Src, message: &str, hint: Option<&str>) {
        let w = match src {
            Src::File { key, span } => render(Some(&self.loc(span)), key, message, hint),
            Src::Env { var, detail } => {
                let message = match detail {
                    Some(d) => format!("{d}: {message}"),
                    None => message.to_owned(),
                };
                render(None, var, &message, hint)
            }
        };
        self.warnings.push(w);
    }
}

/// A value with where it came from (`None`: the built-in default).
struct Val<T> {
    value: T,
    src: Option<Src>,
}

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

    // [cloudflare]
    let cf = &raw.cloudflare;
    let (api_url, default_traces) = match (&env.api_url, &cf.api_url) {
        (Some(v), _) => values::api_url(&v.value)
            .map(|(api, trace)| (api, vec![trace]))
            .map_err(|p| ctx.err(&Src::env(v.name), p))?,
        (None, Some(s)) => values::api_url(s.get_ref())
            .map(|(api, trace)| (api, vec![trace]))
            .map_err(|p| ctx.err(&Src::file("cloudflare.api_url", s.span()), p))?,
        (None, None) => (
            defaults::API_URL.to_owned(),
            defaults::TRACE_URLS.map(str::to_owned).to_vec(),
        ),
    };
    let ca_file = match &cf.ca_file {
        None => None,
        Some(s) => Some(ca_file(s, ctx)?),
    };
    let request_timeout = duration(
        ctx,
        None,
        cf.request_timeout.as_ref(),
        "cloudflare.request_timeout",
        defaults::REQUEST_TIMEOUT,
    )?;
    positive(ctx, &request_timeout)?;
    let max_retries = match &cf.max_retries {
        None => defaults::MAX_RETRIES,
        Some(s) => {
            let n = *s.get_ref();
            u32::try_from(n)
                .ok()
                .filter(|n| *n <= defaults::MAX_RETRIES_LIMIT)
                .ok_or_else(|| {
                    ctx.err(
                        &Src::file("cloudflare.max_retries", s.span()),
                        Problem::new(format!(
                            "expected an integer from 0 to {}, found {n}",
                            defaults::MAX_RETRIES_LIMIT
                        )),
                    )
                })?
        }
    };

    // [detect]
    let d = &raw.detect;
    let ipv4 = providers(ctx, env.ipv4.as_ref(), d.ipv4.as_ref(), "detect.ipv4")?;
    let ipv6 = providers(ctx, env.ipv6.as_ref(), d.ipv6.as_ref(), "detect.ipv6")?;
    if ipv4.value.is_empty() && ipv6.value.is_empty() {
        let src = ipv6
            .src
            .clone()
            .or_else(|| ipv4.src.clone())
            .unwrap_or_else(|| Src::env(env::IPV6));
        return Err(ctx.err(
            &src,
            Problem::new("expected at least one address family, found both IPv4 and IPv6 set to \"none\": there is nothing to update")
                .hint("give providers for one family, e.g. ipv4 = [\"cloudflare.trace\"]"),
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
        None => default_traces,
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
    let detect_extra = detect_extra(ctx, env, d, &ipv4, &ipv6)?;

    // [schedule]
    let s = &raw.schedule;
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
    let (cron, jitter, update_on_start) = schedule_extras(ctx, env, s, &interval)?;
    for (t, name) in [
        (&detect_timeout, "detect.timeout"),
        (&request_timeout, "cloudflare.request_timeout"),
    ] {
        if t.value >= cycle_deadline.value
            && let Some(src) = t.src.clone().or_else(|| cycle_deadline.src.clone())
        {
            ctx.warn(
                &src,
                &format!(
                    "{name} ({}) is not shorter than schedule.cycle_deadline ({}): a round may be cut short before it times out",
                    values::show(t.value),
                    values::show(cycle_deadline.value)
                ),
                None,
            );
        }
    }

    // [state]
    let st = &raw.state;
    let dir = match (&env.state_dir, &st.dir, &env.state_directory) {
        (Some(v), _, _) => PathBuf::from(v.value.trim()),
        (None, Some(s), _) => {
            if s.get_ref().trim().is_empty() {
                return Err(ctx.err(
                    &Src::file("state.dir", s.span()),
                    Problem::new("expected a directory, found an empty string")
                        .hint(format!("remove the key to use {}", defaults::STATE_DIR)),
                ));
            }
            PathBuf::from(s.get_ref())
        }
        (None, None, Some(v)) => env::first_state_directory(&v.value)
            .map_or_else(|| PathBuf::from(defaults::STATE_DIR), PathBuf::from),
        (None, None, None) => PathBuf::from(defaults::STATE_DIR),
    };
    let max_age = duration(
        ctx,
        None,
        st.max_age.as_ref(),
        "state.max_age",
        defaults::STATE_MAX_AGE,
    )?;
    positive(ctx, &max_age)?;

    // [defaults]
    let df = &raw.defaults;
    let env_ttl = match &env.ttl {
        None => None,
        Some(v) => Some(ttl(
            ctx,
            &Src::env(v.name),
            &TtlInput::Str(v.value.clone()),
            true,
        )?),
    };
    let env_proxied = match &env.proxied {
        None => None,
        Some(v) => Some(env_bool(ctx, v)?),
    };
    let env_comment = match &env.comment {
        None => None,
        Some(v) => Some(values::comment(&v.value).map_err(|p| ctx.err(&Src::env(v.name), p))?),
    };
    let def_ttl = match &df.ttl {
        None => None,
        Some(s) => Some(ttl(
            ctx,
            &Src::file("defaults.ttl", s.span()),
            &ttl_input(s.get_ref()),
            false,
        )?),
    };
    let def_comment = match &df.comment {
        None => None,
        Some(s) => Some(
            values::comment(s.get_ref())
                .map_err(|p| ctx.err(&Src::file("defaults.comment", s.span()), p))?,
        ),
    };
    let def_ipv4 = df
        .ipv4
        .as_ref()
        .map_or(defaults::RECORD_IPV4, |s| *s.get_ref());
    let def_ipv6 = df
        .ipv6
        .as_ref()
        .map_or(defaults::RECORD_IPV6, |s| *s.get_ref());
    let def_proxied = df.proxied.as_ref().map(|s| *s.get_ref());

    let families = Families {
        v4: !ipv4.value.is_empty(),
        v6: !ipv6.value.is_empty(),
        v4_src: ipv4.src.clone(),
        v6_src: ipv6.src.clone(),
    };

    // Records
    let mut records = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    if let Some(v) = &env.records {
        if !raw.record.is_empty() {
            let n = raw.record.len();
            ctx.warn(
                &Src::env(v.name),
                &format!("replaces the {n} [[record]] table(s) of {}", ctx.origin),
                None,
            );
        }
        let names = env::split_list(&v.value);
        if names.is_empty() {
            return Err(ctx.err(
                &Src::env(v.name),
                Problem::new("expected comma-separated record names, found none"),
            ));
        }
        for (i, given) in names.iter().enumerate() {
            let src = Src::Env {
                var: v.name,
                detail: Some(format!("entry {} (\"{}\")", i + 1, given.escape_debug())),
            };
            let name = values::dns_name(given, true).map_err(|p| ctx.err(&src, p))?;
            if let Some(first) = seen.get(&name) {
                return Err(ctx.err(
                    &src,
                    Problem::new(format!(
                        "expected each name once, found \"{name}\" again (first as {first})"
                    )),
                ));
            }
            seen.insert(name.clone(), format!("entry {}", i + 1));
            let (ipv4, ipv6) = families.check(ctx, &src, def_ipv4, def_ipv6, None)?;
            let owner = super::ownership::resolve(ctx, env, df, None)?;
            records.push(RecordConfig {
                name,
                zone: None,
                zone_id: None,
                ipv4,
                ipv6,
                ttl: env_ttl.or(def_ttl),
                proxied: env_proxied.or(def_proxied),
                comment: env_comment.clone().or_else(|| def_comment.clone()),
                ipv6_host: None,
                ownership: owner.ownership,
                delete_on_stop: owner.delete_on_stop,
            });
        }
    } else {
        for (i, rec) in raw.record.iter().enumerate() {
            let k = format!("record[{}]", i + 1);
            let header = rec.span();
            let r = rec.get_ref();
            let Some(name_s) = &r.name else {
                return Err(ctx.err(
                    &Src::file(&k, header),
                    Problem::new("expected a `name` key, found none")
                        .hint("add `name = \"home.example.com\"` under this [[record]]"),
                ));
            };
            let name_src = Src::file(format!("{k}.name"), name_s.span());
            let name =
                values::dns_name(name_s.get_ref(), true).map_err(|p| ctx.err(&name_src, p))?;
            if let Some(first) = seen.get(&name) {
                return Err(ctx.err(
                    &name_src,
                    Problem::new(format!(
                        "expected each name once, found \"{name}\" again (first in {first})"
                    ))
                    .hint("remove one of the two [[record]] tables"),
                ));
            }
            seen.insert(
                name.clone(),
                format!("{k} on line {}", ctx.line(&name_s.span())),
            );
            let zone = match &r.zone {
                None => None,
                Some(z) => {
                    let zsrc = Src::file(format!("{k}.zone"), z.span());
                    let zone =
                        values::dns_name(z.get_ref(), false).map_err(|p| ctx.err(&zsrc, p))?;
                    let inside = name == zone || name.ends_with(&format!(".{zone}"));
                    if !inside {
                        return Err(ctx.err(
                            &zsrc,
                            Problem::new(format!(
                                "expected the zone that contains \"{name}\", found \"{zone}\""
                            ))
                            .hint("the name must equal the zone or end in \".\" + zone; remove `zone` to let ddflare find it"),
                        ));
                    }
                    Some(zone)
                }
            };
            let zone_id = match &r.zone_id {
                None => None,
                Some(z) => Some(
                    values::zone_id(z.get_ref())
                        .map_err(|p| ctx.err(&Src::file(format!("{k}.zone_id"), z.span()), p))?,
                ),
            };
            let rec_ttl = match &r.ttl {
                None => None,
                Some(s) => Some(ttl(
                    ctx,
                    &Src::file(format!("{k}.ttl"), s.span()),
                    &ttl_input(s.get_ref()),
                    false,
                )?),
            };
            let rec_comment = match &r.comment {
                None => None,
                Some(s) => Some(
                    values::comment(s.get_ref())
                        .map_err(|p| ctx.err(&Src::file(format!("{k}.comment"), s.span()), p))?,
                ),
            };
            let want4 = r.ipv4.as_ref().map_or(def_ipv4, |s| *s.get_ref());
            let want6 = r.ipv6.as_ref().map_or(def_ipv6, |s| *s.get_ref());
            let explicit = Explicit {
                v4: r
                    .ipv4
                    .as_ref()
                    .filter(|s| *s.get_ref())
                    .map(|s| Src::file(format!("{k}.ipv4"), s.span())),
                v6: r
                    .ipv6
                    .as_ref()
                    .filter(|s| *s.get_ref())
                    .map(|s| Src::file(format!("{k}.ipv6"), s.span())),
            };
            let (ipv4, ipv6) =
                families.check(ctx, &Src::file(&k, header), want4, want6, Some(explicit))?;
            let ipv6_host = match &r.ipv6_host {
                None => None,
                Some(h) => {
                    let src = Src::file(format!("{k}.ipv6_host"), h.span());
                    let host = h
                        .get_ref()
                        .parse::<Ipv6Host>()
                        .map_err(|e| ctx.err(&src, Problem::new(format!("expected {e}"))))?;
                    if !ipv6 {
                        ctx.warn(
                            &src,
                            "has no effect: this record has no AAAA record to manage (IPv6 is off for it)",
                            None,
                        );
                    }
                    Some(host)
                }
            };
            let owner = super::ownership::resolve(ctx, env, df, Some((r, &k)))?;
            records.push(RecordConfig {
                name,
                zone,
                zone_id,
                ipv4,
                ipv6,
                ttl: env_ttl.or(rec_ttl).or(def_ttl),
                proxied: env_proxied
                    .or_else(|| r.proxied.as_ref().map(|s| *s.get_ref()))
                    .or(def_proxied),
                comment: env_comment
                    .clone()
                    .or(rec_comment)
                    .or_else(|| def_comment.clone()),
                ipv6_host,
                ownership: owner.ownership,
                delete_on_stop: owner.delete_on_stop,
            });
        }
    }

    let Some(credentials) = resolved.credentials else {
        let mut message = "expected an API token, found none (no api_token or api_token_file under [cloudflare], no CLOUDFLARE_API_TOKEN or CLOUDFLARE_API_TOKEN_FILE, no systemd credential)".to_owned();
        if !ctx.file_present {
            message.push_str(&format!("; there is no config file at `{}`", ctx.origin));
        }
        return Err(
            ConfigError::new(ctx.whole(), "cloudflare.api_token", message).hint(token::CREATE_HINT),
        );
    };
    if records.is_empty() {
        let mut message = "expected at least one [[record]], found none".to_owned();
        if !ctx.file_present {
            message.push_str(&format!(
                " (there is no config file at `{}` and DDFLARE_RECORDS is not set)",
                ctx.origin
            ));
        }
        return Err(ConfigError::new(ctx.whole(), "record", message).hint(
            "add a table such as\n  [[record]]\n  name = \"home.example.com\"\nor set DDFLARE_RECORDS=home.example.com",
        ));
    }

    let (metrics, notify, log) = ops(&raw, env, ctx)?;
    let process = process(&raw.process, env, ctx)?;
    let config = Config {
        cloudflare: CloudflareConfig {
            credentials,
            api_url,
            ca_file,
            request_timeout: request_timeout.value,
            max_retries,
        },
        detect: DetectConfig {
            ipv4: ipv4.value,
            ipv6: ipv6.value,
            timeout: detect_timeout.value,
            strategy: detect_extra.strategy,
            allow_private: detect_extra.allow_private,
            ipv6_prefix_len: detect_extra.ipv6_prefix_len,
            trace_urls,
            dns_servers: detect_extra.dns_servers,
            doh_url: detect_extra.doh_url,
        },
        schedule: ScheduleConfig {
            interval: interval.value,
            cycle_deadline: cycle_deadline.value,
            shutdown_grace: shutdown_grace.value,
            cron,
            jitter,
            update_on_start,
        },
        state: StateConfig {
            dir,
            max_age: max_age.value,
        },
        records,
        metrics,
        notify,
        log,
        process,
    };
    Ok((
        config,
        Extra {
            inline_secret: resolved.inline,
        },
    ))
}

/// The `[detect]` keys besides the provider lists, timeout and trace URLs.
struct DetectExtra {
    strategy: Strategy,
    allow_private: bool,
    ipv6_prefix_len: u8,
    dns_servers: Vec<SocketAddr>,
    doh_url: String,
}

fn detect_extra(
    ctx: &Ctx<'_>,
    env: &Overrides,
    d: &super::raw::RawDetect,
    ipv4: &Val<Vec<ProviderSpec>>,
    ipv6: &Val<Vec<ProviderSpec>>,
) -> Result<DetectExtra, ConfigError> {
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
    Ok(DetectExtra {
        strategy,
        allow_private,
        ipv6_prefix_len,
        dns_servers,
        doh_url,
    })
}

/// Which families have providers, and where that was said.
struct Families {
    v4: bool,
    v6: bool,
    v4_src: Option<Src>,
    v6_src: Option<Src>,
}

/// A record's `ipv4 = true` / `ipv6 = true`, when written in the record itself.
struct Explicit {
    v4: Option<Src>,
    v6: Option<Src>,
}

impl Families {
    /// The record's effective families; an error when none is left.
    fn check(
        &self,
        ctx: &mut Ctx<'_>,
        src: &Src,
        want4: bool,
        want6: bool,
        explicit: Option<Explicit>,
    ) -> Result<(bool, bool), ConfigError> {
        let v4 = want4 && self.v4;
        let v6 = want6 && self.v6;
        if let Some(ex) = explicit {
            for (asked, on, fam, detect_key) in [
                (ex.v4, self.v4, "IPv4", "detect.ipv4"),
                (ex.v6, self.v6, "IPv6", "detect.ipv6"),
            ] {
                if let Some(asked) = asked
                    && !on
                {
                    ctx.warn(
                        &asked,
                        &format!("has no effect: {fam} is off because {detect_key} is \"none\""),
                        None,
                    );
                }
            }
        }
        if v4 || v6 {
            return Ok((v4, v6));
        }
        let why = |want: bool, fam: &str, key: &str, src: &Option<Src>| {
            if !want {
                format!("{fam} is off ({} = false)", fam.to_ascii_lowercase())
            } else {
                let at = match src {
                    Some(Src::Env { var, .. }) => (*var).to_owned(),
                    _ => key.to_owned(),
                };
                format!("{fam} is off ({at} is \"none\")")
            }
        };
        let message = format!(
            "expected at least one address family, found none: {} and {}",
            why(want4, "IPv4", "detect.ipv4", &self.v4_src),
            why(want6, "IPv6", "detect.ipv6", &self.v6_src)
        );
        Err(ctx.err(
            src,
            Problem::new(message).hint("set ipv4 = true or ipv6 = true for this record, or give providers for that family in [detect]"),
        ))
    }
}

fn ttl_input(raw: &RawTtl) -> TtlInput {
    match raw {
        RawTtl::Int(n) => TtlInput::Int(*n),
        RawTtl::Str(s) => TtlInput::Str(s.clone()),
    }
}

fn ttl(ctx: &mut Ctx<'_>, src: &Src, input: &TtlInput, from_env: bool) -> Result<Ttl, ConfigError> {
    let (t, warning) = values::ttl(input, from_env).map_err(|p| ctx.err(src, p))?;
    if let Some(w) = warning {
        ctx.warn(src, &w, None);
    }
    Ok(t)
}

/// A duration key: the environment variable when set, else the file, else `default`.
fn duration(
    ctx: &Ctx<'_>,
    env: Option<&EnvVar>,
    file: Option<&Spanned<RawDuration>>,
    key: &str,
    default: Duration,
) -> Result<Val<Duration>, ConfigError> {
    let (text, src) = match (env, file) {
        (Some(v), _) => (v.value.as_str(), Src::env(v.name)),
        (None, Some(s)) => (s.get_ref().0.as_str(), Src::file(key, s.span())),
        (None, None) => {
            return Ok(Val {
                value: default,
                src: None,
            });
        }
    };
    let value = values::duration(text).map_err(|p| ctx.err(&src, p))?;
    Ok(Val {
        value,
        src: Some(src),
    })
}

fn positive(ctx: &Ctx<'_>, v: &Val<Duration>) -> Result<(), ConfigError> {
    match &v.src {
        Some(src) if v.value.is_zero() => Err(ctx.err(
            src,
            Problem::new("expected a duration greater than zero, found 0"),
        )),
        _ => Ok(()),
    }
}

fn providers(
    ctx: &Ctx<'_>,
    env: Option<&EnvVar>,
    file: Option<&Spanned<super::raw::RawProviders>>,
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

fn ca_file(s: &Spanned<String>, ctx: &Ctx<'_>) -> Result<PathBuf, ConfigError> {
    let src = Src::file("cloudflare.ca_file", s.span());
    let path = s.get_ref();
    if path.trim().is_empty() {
        return Err(ctx.err(
            &src,
            Problem::new("expected the path of a PEM file, found an empty string")
                .hint("remove the key to trust only the built-in roots"),
        ));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(PathBuf::from(path)),
        Ok(_) => Err(ctx.err(
            &src,
            Problem::new(format!("expected a PEM file, found the directory `{path}`")),
        )),
        Err(e) => Err(ctx.err(
            &src,
            Problem::new(format!(
                "expected a readable PEM file, cannot read `{path}`: {e}"
            )),
        )),
    }
}

pub(crate) fn push_secret(ctx: &mut Ctx<'_>, value: &str) {
    let v = value.trim();
    if !v.is_empty() {
        ctx.secrets.push(v.to_owned());
    }
}

/// `[process]`: `user` (or DDFLARE_USER) and `drop_privileges` (or DDFLARE_DROP_PRIVILEGES).
fn process(
    raw: &RawProcess,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<ProcessConfig, ConfigError> {
    let (given, src) = match (&env.user, &raw.user) {
        (Some(v), _) => (Some(v.value.as_str()), Src::env(v.name)),
        (None, Some(s)) => (
            Some(s.get_ref().as_str()),
            Src::file("process.user", s.span()),
        ),
        (None, None) => (None, Src::env(env::USER)),
    };
    let user = match given {
        None => RunAs::default(),
        Some(g) => privileges::parse_user(g)
            .map_err(|(message, hint)| ctx.err(&src, Problem::new(message).hint(hint)))?,
    };
    let drop_privileges = match (&env.drop_privileges, &raw.drop_privileges) {
        (Some(v), _) => env_bool(ctx, v)?,
        (None, Some(s)) => *s.get_ref(),
        (None, None) => true,
    };
    if !drop_privileges && given.is_some() {
        ctx.warn(
            &src,
            "has no effect: drop_privileges is false, so ddflare keeps the user it is started as",
            None,
        );
    }
    Ok(ProcessConfig {
        user,
        drop_privileges,
    })
}

/// `schedule.cron`, `schedule.jitter` and `schedule.update_on_start`. `cron` and `interval`
/// exclude each other in the file; `DDFLARE_INTERVAL` replaces a file's `cron` (with a
/// warning). The jitter must be shorter than the time between two rounds.
fn schedule_extras(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    s: &RawSchedule,
    interval: &Val<Duration>,
) -> Result<(Option<Cron>, Duration, bool), ConfigError> {
    const CRON_HINT: &str =
        "five fields, minute hour day-of-month month day-of-week, in UTC: e.g. \"*/5 * * * *\"";
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

/// A boolean variable: `true/false/1/0/yes/no/on/off`.
pub(crate) fn env_bool(ctx: &Ctx<'_>, v: &env::EnvVar) -> Result<bool, ConfigError> {
    env::parse_bool(&v.value).ok_or_else(|| {
        ctx.err(
            &Src::env(v.name),
            Problem::new(format!(
                "expected true/false, 1/0 or yes/no, found \"{}\"",
                v.value.escape_debug()
            )),
        )
    })
}

/// `[metrics]`, `[alerts]`, `[[notify]]`, `[[monitor]]` and `[log]`. Notification URLs hold
/// secrets: they join the scrub list, and no message quotes them.
fn ops(
    raw: &RawConfig,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<(MetricsConfig, NotifyConfig, LogConfig), ConfigError> {
    let listen = match (&env.metrics_listen, &raw.metrics.listen) {
        (None, None) => None,
        (Some(v), _) => Some((v.value.trim(), Src::env(v.name))),
        (None, Some(s)) => Some((s.get_ref().trim(), Src::file("metrics.listen", s.span()))),
    };
    let listen = match listen {
        None => None,
        Some((text, src)) => match text.parse::<std::net::SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                let p = Problem::new(format!(
                    "expected an address and a port such as \"127.0.0.1:9489\" or \"[::1]:9489\", found \"{}\"",
                    text.escape_debug()
                ));
                let p = if text.starts_with("localhost") {
                    p.hint("write 127.0.0.1 instead of localhost")
                } else if text.parse::<std::net::IpAddr>().is_ok() {
                    p.hint(format!("add the port: \"{text}:9489\""))
                } else {
                    p.hint("\"0.0.0.0:9489\" listens on every IPv4 interface (e.g. in a container)")
                };
                return Err(ctx.err(&src, p));
            }
        },
    };

    let a = &raw.alerts;
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
    let alerts = Alerts {
        after_failed_rounds,
        after: after.value,
        remind_every,
        max_per_hour,
    };

    let mut targets = Vec::new();
    if let Some(v) = &env.notify {
        targets = env_urls(ctx, v, raw.notify.len(), "[[notify]]", |url| {
            Target::parse(url, None, Events::default())
        })?;
    }
    // The variable replaces the file's tables.
    let file_notifys = if env.notify.is_some() {
        &[][..]
    } else {
        &raw.notify[..]
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
    let mut monitors = Vec::new();
    if let Some(v) = &env.monitor {
        monitors = env_urls(ctx, v, raw.monitor.len(), "[[monitor]]", |url| {
            Monitor::parse(url, None)
        })?;
    }
    // The variable replaces the file's tables.
    let file_monitors = if env.monitor.is_some() {
        &[][..]
    } else {
        &raw.monitor[..]
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
    let quiet = match &env.quiet {
        Some(v) => env_bool(ctx, v)?,
        None => raw
            .log
            .quiet
            .as_ref()
            .map_or(defaults::LOG_QUIET, |s| *s.get_ref()),
    };
    Ok((
        MetricsConfig { listen },
        NotifyConfig {
            targets,
            monitors,
            alerts,
        },
        LogConfig { quiet },
    ))
}

/// `DDFLARE_NOTIFY` or `DDFLARE_MONITOR`: URLs separated by whitespace, each parsed by `parse`,
/// replacing the file's `file_count` tables (with a warning). The URLs are secrets (tokens in
/// their paths or passwords): they join the scrub list and messages name only the entry.
fn env_urls<T>(
    ctx: &mut Ctx<'_>,
    v: &env::EnvVar,
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
                var: v.name,
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
