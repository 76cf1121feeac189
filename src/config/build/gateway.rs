//! `[[gateway_location]]`: a Zero Trust Gateway location (account and location ids) whose IPv4
//! source network ddflare keeps on the home address, with the credentials it names.

use toml::Spanned;

use super::super::context::{Ctx, Src};
use super::super::error::ConfigError;
use super::super::model::GatewayLocation;
use super::super::raw::RawGatewayLocation;
use super::super::values::Problem;
use super::records::credentials;

pub(super) fn build(
    tables: &[Spanned<RawGatewayLocation>],
    ctx: &Ctx<'_>,
    names: &[&str],
) -> Result<Vec<GatewayLocation>, ConfigError> {
    let mut out: Vec<GatewayLocation> = Vec::with_capacity(tables.len());
    for (i, table) in tables.iter().enumerate() {
        let k = format!("gateway_location[{}]", i + 1);
        let t = table.get_ref();
        let account_id = id(ctx, &k, table, "account_id", t.account_id.as_ref())?;
        let location_id = id(ctx, &k, table, "location_id", t.location_id.as_ref())?;
        if let Some(first) = out.iter().position(|g| g.location_id == location_id) {
            let span = t.location_id.as_ref().map_or(table.span(), Spanned::span);
            return Err(ctx.err(
                &Src::file(format!("{k}.location_id"), span),
                Problem::new(format!(
                    "expected each location once, found it again (first in gateway_location[{}])",
                    first + 1
                )),
            ));
        }
        out.push(GatewayLocation {
            account_id,
            location_id,
            credentials: credentials(ctx, &k, t.credentials.as_ref(), names)?,
        });
    }
    Ok(out)
}

/// `account_id` or `location_id`: required, 32 lowercase hex characters.
fn id(
    ctx: &Ctx<'_>,
    k: &str,
    table: &Spanned<RawGatewayLocation>,
    key: &str,
    given: Option<&Spanned<String>>,
) -> Result<String, ConfigError> {
    let where_ = match key {
        "account_id" => {
            "the account's Overview page in the dashboard, or the URL after dash.cloudflare.com/"
        }
        _ => "Zero Trust → Networks → Resolvers & Proxies → DNS locations → the location → its ID",
    };
    let Some(s) = given else {
        return Err(ctx.err(
            &Src::file(k.to_owned(), table.span()),
            Problem::new(format!("expected a `{key}` key, found none"))
                .hint(format!("copy it from {where_}")),
        ));
    };
    let v = s.get_ref().trim();
    if v.len() == 32
        && v.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Ok(v.to_owned());
    }
    Err(ctx.err(
        &Src::file(format!("{k}.{key}"), s.span()),
        Problem::new(format!(
            "expected 32 lowercase hexadecimal characters, found \"{}\" ({} characters)",
            v.escape_debug(),
            v.chars().count()
        ))
        .hint(format!("copy it from {where_}")),
    ))
}
