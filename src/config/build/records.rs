//! `[defaults]` and the records: the names of `DDFLARE_RECORDS` (which replaces the file's
//! tables) or the `[[record]]` tables, each with `[defaults]` merged in. `DDFLARE_TTL`,
//! `DDFLARE_PROXIED` and `DDFLARE_COMMENT` apply to every record, over both. A name given
//! twice is an error naming where it was first. Names and zones may hold `${NAME}`
//! (`config/expand.rs`), expanded before they are checked.

use std::collections::BTreeMap;

use toml::Spanned;

use super::super::context::{Ctx, Src, env_bool};
use super::super::env::{self, EnvVar, Overrides};
use super::super::error::ConfigError;
use super::super::expand;
use super::super::model::{RecordConfig, Ttl};
use super::super::ownership;
use super::super::raw::{RawRecord, RawRecordSettings, RawTtl, defaults};
use super::super::values::{self, Problem, TtlInput};
use super::families::{Explicit, Families};
use crate::detect::Ipv6Host;

/// `[defaults]` and the variables over every record, read once.
struct Defaults<'a> {
    raw: &'a RawRecordSettings,
    env_ttl: Option<Ttl>,
    env_proxied: Option<bool>,
    env_comment: Option<String>,
    ttl: Option<Ttl>,
    comment: Option<String>,
    ipv4: bool,
    ipv6: bool,
    proxied: Option<bool>,
}

/// The records, from `DDFLARE_RECORDS` or else from the `[[record]]` tables.
pub(super) fn build(
    df: &RawRecordSettings,
    tables: &[Spanned<RawRecord>],
    env: &Overrides,
    ctx: &mut Ctx<'_>,
    families: &Families,
    names: &[&str],
) -> Result<Vec<RecordConfig>, ConfigError> {
    let d = read_defaults(ctx, env, df)?;
    match &env.records {
        Some(v) => from_env(ctx, env, v, tables.len(), &d, families),
        None => {
            // BTreeMap<String, String>, a type the binary has anyway: no hash table for it.
            let mut seen = BTreeMap::new();
            let mut records = Vec::with_capacity(tables.len());
            for (i, rec) in tables.iter().enumerate() {
                let k = format!("record[{}]", i + 1);
                let mut built = file_record(ctx, env, &d, families, &mut seen, &k, rec)?;
                built.credentials =
                    credentials(ctx, &k, rec.get_ref().credentials.as_ref(), names)?;
                records.push(built);
            }
            Ok(records)
        }
    }
}

fn read_defaults<'a>(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    df: &'a RawRecordSettings,
) -> Result<Defaults<'a>, ConfigError> {
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
    Ok(Defaults {
        raw: df,
        env_ttl,
        env_proxied,
        env_comment,
        ttl: def_ttl,
        comment: def_comment,
        ipv4: df
            .ipv4
            .as_ref()
            .map_or(defaults::RECORD_IPV4, |s| *s.get_ref()),
        ipv6: df
            .ipv6
            .as_ref()
            .map_or(defaults::RECORD_IPV6, |s| *s.get_ref()),
        proxied: df.proxied.as_ref().map(|s| *s.get_ref()),
    })
}

/// `DDFLARE_RECORDS`: comma-separated names, each with the defaults; replaces the file's
/// `file_tables` tables (with a warning).
fn from_env(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    v: &EnvVar,
    file_tables: usize,
    d: &Defaults<'_>,
    families: &Families,
) -> Result<Vec<RecordConfig>, ConfigError> {
    if file_tables > 0 {
        let n = file_tables;
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
    let mut records = Vec::with_capacity(names.len());
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, given) in names.iter().enumerate() {
        let src = Src::Env {
            var: v.name.into(),
            detail: Some(format!("entry {} (\"{}\")", i + 1, given.escape_debug())),
        };
        let name = expanded_name(ctx, &src, given, true)?;
        if let Some(first) = seen.get(&name) {
            return Err(ctx.err(
                &src,
                Problem::new(format!(
                    "expected each name once, found \"{name}\" again (first as {first})"
                )),
            ));
        }
        seen.insert(name.clone(), format!("entry {}", i + 1));
        let (ipv4, ipv6) = families.check(ctx, &src, &name, d.ipv4, d.ipv6, None)?;
        let owner = ownership::resolve(ctx, env, d.raw, None)?;
        records.push(RecordConfig {
            name,
            zone: None,
            zone_id: None,
            ipv4,
            ipv6,
            ttl: d.env_ttl.or(d.ttl),
            proxied: d.env_proxied.or(d.proxied),
            comment: d.env_comment.clone().or_else(|| d.comment.clone()),
            ipv6_host: None,
            ownership: owner.ownership,
            delete_on_stop: owner.delete_on_stop,
            credentials: None,
        });
    }
    Ok(records)
}

/// One `[[record]]` table, `k` its key prefix (`record[2]`); `seen` holds the names so far
/// and where each was given.
fn file_record(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    d: &Defaults<'_>,
    families: &Families,
    seen: &mut BTreeMap<String, String>,
    k: &str,
    rec: &Spanned<RawRecord>,
) -> Result<RecordConfig, ConfigError> {
    let header = rec.span();
    let r = rec.get_ref();
    let Some(name_s) = &r.name else {
        return Err(ctx.err(
            &Src::file(k, header),
            Problem::new("expected a `name` key, found none")
                .hint("add `name = \"home.example.com\"` under this [[record]]"),
        ));
    };
    let name_src = Src::file(format!("{k}.name"), name_s.span());
    let name = expanded_name(ctx, &name_src, name_s.get_ref(), true)?;
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
    let zone = zone(ctx, k, &name, r)?;
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
    let want4 = r.ipv4.as_ref().map_or(d.ipv4, |s| *s.get_ref());
    let want6 = r.ipv6.as_ref().map_or(d.ipv6, |s| *s.get_ref());
    let explicit = Explicit::of(r, k);
    let (ipv4, ipv6) = families.check(
        ctx,
        &Src::file(k, header),
        &name,
        want4,
        want6,
        Some(explicit),
    )?;
    let ipv6_host = ipv6_host(ctx, k, r, ipv6)?;
    let owner = ownership::resolve(ctx, env, d.raw, Some((r, k)))?;
    Ok(RecordConfig {
        name,
        zone,
        zone_id,
        ipv4,
        ipv6,
        ttl: d.env_ttl.or(rec_ttl).or(d.ttl),
        proxied: d
            .env_proxied
            .or_else(|| r.proxied.as_ref().map(|s| *s.get_ref()))
            .or(d.proxied),
        comment: d
            .env_comment
            .clone()
            .or(rec_comment)
            .or_else(|| d.comment.clone()),
        ipv6_host,
        ownership: owner.ownership,
        delete_on_stop: owner.delete_on_stop,
        credentials: None,
    })
}

/// The `credentials` key of table `k` (`record[2]`): one of the `[[credentials]]` names
/// (`names`); an unknown one is an error naming `k` and listing the names defined.
pub(super) fn credentials(
    ctx: &Ctx<'_>,
    k: &str,
    given: Option<&Spanned<String>>,
    names: &[&str],
) -> Result<Option<String>, ConfigError> {
    let Some(s) = given else {
        return Ok(None);
    };
    let given = s.get_ref();
    if names.contains(&given.as_str()) {
        return Ok(Some(given.clone()));
    }
    let defined = if names.is_empty() {
        "no [[credentials]] table defines any".to_owned()
    } else {
        format!("defined: {}", names.join(", "))
    };
    Err(ctx.err(
        &Src::file(format!("{k}.credentials"), s.span()),
        Problem::new(format!(
            "{k} names credentials \"{}\", which no [[credentials]] defines ({defined})",
            given.escape_debug()
        ))
        .hint("use one of the names defined, or add a [[credentials]] table with this `name` and its `api_token_file`; leave `credentials` out to use [cloudflare]'s"),
    ))
}

/// A record name (`wildcard`) or a zone, its `${NAME}`s expanded first; an error about the
/// result says what it was expanded from.
fn expanded_name(
    ctx: &Ctx<'_>,
    src: &Src,
    raw: &str,
    wildcard: bool,
) -> Result<String, ConfigError> {
    let text = ctx.expand(raw).map_err(|p| ctx.err(src, p))?;
    values::dns_name(&text, wildcard).map_err(|mut p| {
        p.message.push_str(&expand::origin_note(raw, &text));
        ctx.err(src, p)
    })
}

/// `zone`: must contain the record's `name`.
fn zone(ctx: &Ctx<'_>, k: &str, name: &str, r: &RawRecord) -> Result<Option<String>, ConfigError> {
    let Some(z) = &r.zone else { return Ok(None) };
    let zsrc = Src::file(format!("{k}.zone"), z.span());
    let zone = expanded_name(ctx, &zsrc, z.get_ref(), false)?;
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
    Ok(Some(zone))
}

/// `ipv6_host`: a warning when the record has no AAAA record for it to shape.
fn ipv6_host(
    ctx: &mut Ctx<'_>,
    k: &str,
    r: &RawRecord,
    ipv6: bool,
) -> Result<Option<Ipv6Host>, ConfigError> {
    let Some(h) = &r.ipv6_host else {
        return Ok(None);
    };
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
    Ok(Some(host))
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
