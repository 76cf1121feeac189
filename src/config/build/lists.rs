//! The `[[list]]` tables: account IP lists kept holding the current addresses. Each error
//! names the key (`list[2].name`) and its line.

use toml::Spanned;

use super::super::context::{Ctx, Src};
use super::super::error::ConfigError;
use super::super::raw::{RawList, defaults};
use super::super::values::{self, Problem};
use super::families::Families;
use crate::plan_list::{DEFAULT_LIST_COMMENT, ListConfig};

pub(super) fn build(
    tables: &[Spanned<RawList>],
    ctx: &mut Ctx<'_>,
    families: &Families,
    names: &[&str],
) -> Result<Vec<ListConfig>, ConfigError> {
    let mut out: Vec<ListConfig> = Vec::with_capacity(tables.len());
    for (i, t) in tables.iter().enumerate() {
        let k = format!("list[{}]", i + 1);
        let list = one(ctx, families, &k, t, names)?;
        if let Some(first) = out
            .iter()
            .position(|l| l.account_id == list.account_id && l.name == list.name)
        {
            let name = t.get_ref().name.as_ref().map_or(t.span(), Spanned::span);
            return Err(ctx.err(
                &Src::file(format!("{k}.name"), name),
                Problem::new(format!(
                    "expected each list once per account, found \"{}\" again (first in list[{}])",
                    list.name,
                    first + 1
                ))
                .hint("remove one of the two [[list]] tables"),
            ));
        }
        out.push(list);
    }
    Ok(out)
}

fn required<'a>(
    ctx: &Ctx<'_>,
    k: &str,
    header: std::ops::Range<usize>,
    value: Option<&'a Spanned<String>>,
    key: &str,
    example: &str,
) -> Result<&'a Spanned<String>, ConfigError> {
    value.ok_or_else(|| {
        ctx.err(
            &Src::file(k, header),
            Problem::new(format!("expected a `{key}` key, found none"))
                .hint(format!("add `{key} = {example}` under this [[list]]")),
        )
    })
}

fn one(
    ctx: &mut Ctx<'_>,
    families: &Families,
    k: &str,
    t: &Spanned<RawList>,
    names: &[&str],
) -> Result<ListConfig, ConfigError> {
    let header = t.span();
    let r = t.get_ref();
    let account = required(
        ctx,
        k,
        header.clone(),
        r.account_id.as_ref(),
        "account_id",
        "\"<32 hex characters>\"",
    )?;
    let account_id = account_id(account.get_ref())
        .map_err(|p| ctx.err(&Src::file(format!("{k}.account_id"), account.span()), p))?;
    let name_s = required(
        ctx,
        k,
        header.clone(),
        r.name.as_ref(),
        "name",
        "\"home_ips\"",
    )?;
    let name = list_name(name_s.get_ref())
        .map_err(|p| ctx.err(&Src::file(format!("{k}.name"), name_s.span()), p))?;
    let description = match &r.description {
        None => defaults::LIST_DESCRIPTION.to_owned(),
        Some(d) => {
            let n = d.get_ref().chars().count();
            if n > defaults::LIST_DESCRIPTION_MAX || d.get_ref().contains(['\n', '\r']) {
                return Err(ctx.err(
                    &Src::file(format!("{k}.description"), d.span()),
                    Problem::new(format!(
                        "expected one line of at most {} characters, found {n} characters",
                        defaults::LIST_DESCRIPTION_MAX
                    )),
                ));
            }
            d.get_ref().clone()
        }
    };
    let comment = match &r.comment {
        None => DEFAULT_LIST_COMMENT.to_owned(),
        Some(c) => {
            let src = Src::file(format!("{k}.comment"), c.span());
            let text = values::comment(c.get_ref()).map_err(|p| ctx.err(&src, p))?;
            if text.trim().is_empty() {
                return Err(ctx.err(
                    &src,
                    Problem::new("expected a comment, found an empty one").hint(
                        "ddflare owns the items carrying this comment: an empty one would claim every item without a comment",
                    ),
                ));
            }
            text
        }
    };
    let (v4, v6) = families.detected();
    let want4 = r.ipv4.as_ref().is_none_or(|s| *s.get_ref());
    let want6 = r.ipv6.as_ref().is_none_or(|s| *s.get_ref());
    if !want4 && !want6 {
        return Err(ctx.err(
            &Src::file(k, header),
            Problem::new("expected `ipv4` or `ipv6` (or both) to be true, found both false")
                .hint("remove this [[list]], or set one of them to true"),
        ));
    }
    for (written, on, key) in [(&r.ipv4, v4, "ipv4"), (&r.ipv6, v6, "ipv6")] {
        if let Some(s) = written.as_ref().filter(|s| *s.get_ref() && !on) {
            ctx.warn(
                &Src::file(format!("{k}.{key}"), s.span()),
                "has no effect: [detect] has no provider for this family",
                None,
            );
        }
    }
    Ok(ListConfig {
        account_id,
        name,
        description,
        ipv4: want4 && v4,
        ipv6: want6 && v6,
        comment,
        credentials: super::records::credentials(ctx, k, r.credentials.as_ref(), names)?,
    })
}

/// A Cloudflare account ID: 32 lowercase hex characters.
fn account_id(text: &str) -> Result<String, Problem> {
    let all_hex = text.chars().all(|c| c.is_ascii_hexdigit());
    if text.len() == 32 && all_hex && !text.chars().any(|c| c.is_ascii_uppercase()) {
        return Ok(text.to_owned());
    }
    let p = Problem::new(format!(
        "expected an account ID of 32 lowercase hexadecimal characters, found \"{}\" ({} characters)",
        text.escape_debug(),
        text.chars().count()
    ));
    Err(if text.len() == 32 && all_hex {
        p.hint("write it in lowercase")
    } else {
        p.hint("copy the Account ID from the dashboard: the account's home page, ⋯ menu → Copy account ID")
    })
}

/// A list name as Cloudflare takes it: `[a-z0-9_]+`, at most 50 characters.
fn list_name(text: &str) -> Result<String, Problem> {
    let n = text.chars().count();
    let ok = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if n == 0 || n > defaults::LIST_NAME_MAX || !ok {
        let fixed: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(defaults::LIST_NAME_MAX)
            .collect();
        let p = Problem::new(format!(
            "expected 1 to {} lowercase letters, digits or underscores (Cloudflare's rule for list names), found \"{}\"",
            defaults::LIST_NAME_MAX,
            text.escape_debug()
        ));
        return Err(if fixed.is_empty() {
            p
        } else {
            p.hint(format!("for example `name = \"{fixed}\"`"))
        });
    }
    Ok(text.to_owned())
}
