//! `[cloudflare]` besides the credentials: the API URL (and the trace URLs that follow it),
//! extra CA roots, the request timeout and the retries. The credentials are resolved before
//! every section (their values join the scrub list first) and required after the records.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::super::context::{Ctx, Src, Val, duration, positive};
use super::super::env::Overrides;
use super::super::error::ConfigError;
use super::super::raw::{RawCloudflare, defaults};
use super::super::values::{self, Problem};
use crate::cloudflare::{CloudflareConfig, Credentials, NamedCredentials};

/// `[cloudflare]`, waiting for its credentials.
pub(super) struct Cloudflare {
    pub api_url: String,
    /// Where `cloudflare.trace` asks unless `detect.trace_url` says: follows `api_url`.
    pub default_traces: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub request_timeout: Val<Duration>,
    pub max_retries: u32,
}

impl Cloudflare {
    pub fn with(
        self,
        credentials: Credentials,
        token_file: Option<PathBuf>,
        named: Vec<NamedCredentials>,
    ) -> CloudflareConfig {
        CloudflareConfig {
            credentials,
            token_file,
            named,
            api_url: self.api_url,
            ca_file: self.ca_file,
            request_timeout: self.request_timeout.value,
            max_retries: self.max_retries,
        }
    }
}

pub(super) fn build(
    cf: &RawCloudflare,
    env: &Overrides,
    ctx: &Ctx<'_>,
) -> Result<Cloudflare, ConfigError> {
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
    Ok(Cloudflare {
        api_url,
        default_traces,
        ca_file,
        request_timeout,
        max_retries,
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
    // Not read here (http.rs does, through the same checks): only that it is a regular file
    // within the cap, so that a FIFO or a huge file is refused with its key and line.
    match crate::files::check(Path::new(path), crate::files::Kind::CaBundle) {
        Ok(()) => Ok(PathBuf::from(path)),
        Err(e) => Err(ctx.err(
            &src,
            Problem::new(format!(
                "expected a readable PEM file, cannot use `{path}`: {}",
                e.reason()
            ))
            .hint(e.hint()),
        )),
    }
}
