//! `[push]` and its `[[push.client]]` tables: the listen address, the trusted proxies, and
//! each client's user, password (`password_file` through `files/`, or `password_hash`) and
//! the names it may update. Which names those are is known before the records are built
//! ([`names`]), so a record fed only by pushes keeps its families; that each is a configured
//! record is checked after ([`check_names`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;

use toml::Spanned;

use super::super::context::{Ctx, Src, push_secret};
use super::super::error::ConfigError;
use super::super::model::RecordConfig;
use super::super::raw::{RawPush, RawPushClient};
use super::super::token;
use super::super::values::{self, Problem};
use crate::detect::Cidr;
use crate::push::{Password, PushClient, PushConfig, protocol};
use crate::secret::Secret;

/// The names some client may update (normalized like record names), for the families check.
pub(super) fn names(raw: Option<&Spanned<RawPush>>) -> BTreeSet<String> {
    // extend, not collect: BTreeSet's FromIterator sorts (a stable sort per type).
    let mut names = BTreeSet::new();
    names.extend(
        raw.into_iter()
            .flat_map(|p| &p.get_ref().client)
            .filter_map(|c| c.get_ref().hostnames.as_ref())
            .flat_map(|h| h.get_ref().iter())
            .filter_map(|n| values::dns_name(n, false).ok()),
    );
    names
}

pub(super) fn build(
    raw: Option<&Spanned<RawPush>>,
    ctx: &mut Ctx<'_>,
    records: &[RecordConfig],
) -> Result<Option<PushConfig>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if cfg!(not(feature = "push")) {
        return Err(ctx.err(
            &Src::file("push", raw.span()),
            Problem::new(
                "this build of ddflare has no push endpoint (built without the `push` feature, \
                 as the router builds are)",
            )
            .hint("remove [push], or run a build with every feature (x86_64, aarch64, the .deb, the image)"),
        ));
    }
    let p = raw.get_ref();
    let Some(listen) = &p.listen else {
        return Err(ctx.err(
            &Src::file("push.listen", raw.span()),
            Problem::new("expected an address and a port to listen on, found none")
                .hint("listen = \"0.0.0.0:8245\""),
        ));
    };
    let listen_src = Src::file("push.listen", listen.span());
    let listen: SocketAddr = listen.get_ref().trim().parse().map_err(|_| {
        ctx.err(
            &listen_src,
            Problem::new(format!(
                "expected an address and a port such as \"0.0.0.0:8245\", found \"{}\"",
                listen.get_ref().escape_debug()
            )),
        )
    })?;
    let trusted_proxies = match &p.trusted_proxies {
        None => Vec::new(),
        Some(s) => {
            let src = Src::file("push.trusted_proxies", s.span());
            s.get_ref()
                .0
                .iter()
                .map(|t| {
                    Cidr::parse(t.trim()).map_err(|why| {
                        ctx.err(
                            &src,
                            Problem::new(format!("{why}, found \"{}\"", t.escape_debug())),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    if p.client.is_empty() {
        return Err(ctx.err(
            &Src::file("push.client", raw.span()),
            Problem::new("expected at least one [[push.client]], found none").hint(
                "[[push.client]]\nuser = \"router\"\npassword_file = \"/etc/ddflare/push-router\"\nhostnames = [\"home.example.com\"]",
            ),
        ));
    }
    let mut clients: Vec<PushClient> = Vec::new();
    for (i, c) in p.client.iter().enumerate() {
        let k = format!("push.client[{}]", i + 1);
        let client = client(ctx, &k, c, records)?;
        if clients.iter().any(|o| o.user == client.user) {
            return Err(ctx.err(
                &Src::file(format!("{k}.user"), c.span()),
                Problem::new(format!(
                    "expected each user once, found \"{}\" twice",
                    client.user
                )),
            ));
        }
        clients.push(client);
    }
    Ok(Some(PushConfig {
        listen,
        trusted_proxies,
        clients,
    }))
}

fn client(
    ctx: &mut Ctx<'_>,
    k: &str,
    c: &Spanned<RawPushClient>,
    records: &[RecordConfig],
) -> Result<PushClient, ConfigError> {
    let raw = c.get_ref();
    let missing = |ctx: &Ctx<'_>, key: &str, what: &str| {
        ctx.err(
            &Src::file(format!("{k}.{key}"), c.span()),
            Problem::new(format!("expected {what}, found none")),
        )
    };
    let user = raw
        .user
        .as_ref()
        .ok_or_else(|| missing(ctx, "user", "a user name"))?;
    let user_src = Src::file(format!("{k}.user"), user.span());
    let user = user.get_ref().clone();
    if user.is_empty()
        || user.len() > 64
        || user.contains(':')
        || user.chars().any(char::is_control)
    {
        return Err(ctx.err(
            &user_src,
            Problem::new("expected 1 to 64 characters without `:` (basic auth splits there)"),
        ));
    }
    let password = match (&raw.password_file, &raw.password_hash) {
        (Some(_), Some(h)) => {
            return Err(ctx.err(
                &Src::file(format!("{k}.password_hash"), h.span()),
                Problem::new("expected password_file or password_hash, found both"),
            ));
        }
        (None, None) => {
            return Err(missing(
                ctx,
                "password_file",
                "password_file or password_hash",
            ));
        }
        (Some(f), None) => {
            let src = Src::file(format!("{k}.password_file"), f.span());
            let text = token::read_file(Path::new(f.get_ref()), false)
                .map_err(|p| ctx.err(&src, p))?
                .unwrap_or_default();
            let pw = text.trim_end_matches(['\r', '\n']).to_owned();
            push_secret(ctx, &pw);
            if pw.is_empty() {
                return Err(ctx.err(
                    &src,
                    Problem::new(format!(
                        "expected a password in `{}`, found an empty file",
                        f.get_ref()
                    )),
                ));
            }
            Password::Plain(Secret::new(pw))
        }
        (None, Some(h)) => {
            push_secret(ctx, &h.get_ref().0);
            hash(&h.get_ref().0).ok_or_else(|| {
                ctx.err(
                    &Src::file(format!("{k}.password_hash"), h.span()),
                    Problem::new("expected pbkdf2_sha256$<iterations>$<salt>$<base64 hash>")
                        .hint("python3 -c 'import hashlib,base64,secrets,getpass;s=secrets.token_hex(8);print(\"pbkdf2_sha256$600000$%s$%s\"%(s,base64.b64encode(hashlib.pbkdf2_hmac(\"sha256\",getpass.getpass().encode(),s.encode(),600000)).decode()))'"),
                )
            })?
        }
    };
    let Some(hostnames) = &raw.hostnames else {
        return Err(missing(
            ctx,
            "hostnames",
            "the names this client may update",
        ));
    };
    let src = Src::file(format!("{k}.hostnames"), hostnames.span());
    if hostnames.get_ref().is_empty() {
        return Err(ctx.err(
            &src,
            Problem::new("expected at least one name, found an empty list"),
        ));
    }
    let mut names = Vec::new();
    for n in hostnames.get_ref() {
        let name = values::dns_name(n, false).map_err(|p| ctx.err(&src, p))?;
        if !records.iter().any(|r| r.name == name) || !protocol::is_fqdn(&name) {
            return Err(ctx.err(
                &src,
                Problem::new(format!(
                    "expected the name of a [[record]], found \"{name}\""
                ))
                .hint(format!("add a [[record]] with name = \"{name}\"")),
            ));
        }
        names.push(name);
    }
    Ok(PushClient {
        user,
        password,
        hostnames: names,
    })
}

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
fn hash(text: &str) -> Option<Password> {
    let mut parts = text.trim().split('$');
    let (Some("pbkdf2_sha256"), Some(n), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let hash = protocol::base64(hash).filter(|h| h.len() == 32)?;
    Some(Password::Pbkdf2 {
        iterations: n.parse::<NonZeroU32>().ok()?,
        salt: salt.as_bytes().to_vec(),
        hash,
    })
}
