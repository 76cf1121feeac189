//! Reading a config: [`load`] (a file, with the checks only a file allows: its mode, its
//! encoding, whether it must exist) and [`parse`] (text), both with environment overrides.
//! Whatever fails, the secrets seen so far are scrubbed from the error.

use std::path::Path;

use super::build::{self, Extra};
use super::context::Ctx;
use super::env;
use super::error::{self, ConfigError, Location};
use super::model::Config;
use super::read;
use super::token;
use crate::environment::Source;
use crate::files;

/// A validated configuration and the warnings found on the way (the caller logs them once
/// logging is set up).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Reads and validates the config file at `path`, with environment overrides from `env`.
///
/// A missing default file is fine when the environment supplies everything (containers): the
/// token and the records. A file holding a secret inline, or a token or key file, that its
/// group or others may read gets a warning, or is refused under `strict`.
pub fn load(path: &Path, opts: LoadOptions, env: &dyn Source) -> Result<Loaded, ConfigError> {
    let LoadOptions { explicit, strict } = opts;
    let strict = match env.get(env::STRICT).filter(|v| !v.trim().is_empty()) {
        None => strict,
        Some(v) => match env::parse_bool(&v) {
            Some(on) => strict || on,
            None => {
                return Err(ConfigError::new(
                    None,
                    env::STRICT,
                    "expected true/false, 1/0 or yes/no",
                ));
            }
        },
    };
    let origin = path.display().to_string();
    let whole = || {
        Some(Location {
            origin: origin.clone(),
            line: None,
            column: None,
        })
    };
    // Links are followed (a ConfigMap is mounted as links); what they lead to must be a
    // regular file, within files::Kind::Config's cap.
    match files::read(path, files::Kind::Config) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|e| {
                let (line, _) = error::line_col(
                    &String::from_utf8_lossy(e.as_bytes()),
                    e.utf8_error().valid_up_to(),
                );
                ConfigError::new(
                    Some(Location {
                        origin: origin.clone(),
                        line: Some(line),
                        column: None,
                    }),
                    "",
                    "expected UTF-8 text, found invalid bytes",
                )
                .hint("save the file as UTF-8")
            })?;
            let (mut loaded, extra) = parse_inner(&text, &origin, env, true, strict)?;
            if let Some((key, span)) = extra.inline_secret
                && let Some(access) = token::access_of(path)
            {
                let mode = access.mode;
                let exposure = token::exposure(access, true, strict);
                let kind = if key.ends_with("api_key") {
                    token::Kind::Key
                } else {
                    token::Kind::Token
                };
                let (message, hint) = token::exposed_inline(&origin, mode, kind, strict);
                let location = Location {
                    origin: origin.clone(),
                    line: Some(error::line_col(&text, span.start).0),
                    column: None,
                };
                match exposure {
                    token::Exposure::Fine => {}
                    token::Exposure::Warn => loaded.warnings.push(error::render(
                        Some(&location),
                        key,
                        &message,
                        Some(&hint),
                    )),
                    token::Exposure::Refuse => {
                        return Err(ConfigError::new(Some(location), key, message).hint(hint));
                    }
                }
            }
            Ok(loaded)
        }
        Err(e) if e.is_not_found() && !explicit => {
            parse_inner("", &origin, env, false, strict).map(|(loaded, _)| loaded)
        }
        Err(e) => {
            let err = ConfigError::new(
                whole(),
                "",
                format!("cannot read the config file: {}", e.reason()),
            );
            Err(match e.io_kind() {
                Some(std::io::ErrorKind::NotFound) => err.hint(
                    "check the path given with --config or DDFLARE_CONFIG; config.example.toml documents every key",
                ),
                Some(std::io::ErrorKind::PermissionDenied) => err.hint(
                    "run ddflare as a user that may read it (e.g. `chgrp ddflare` and `chmod 640` the file)",
                ),
                _ => err.hint(e.hint()),
            })
        }
    }
}

/// Validates config text (`origin` names it in messages, e.g. the file name) with environment
/// overrides from `env`.
pub fn parse(text: &str, origin: &str, env: &dyn Source) -> Result<Loaded, ConfigError> {
    parse_inner(text, origin, env, true, false).map(|(loaded, _)| loaded)
}

/// How [`load`] treats the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The user named the file (`--config` or `$DDFLARE_CONFIG`): a missing file is an error.
    pub explicit: bool,
    /// `--strict`: refuse a secret that group or others may read, instead of warning.
    /// `DDFLARE_STRICT=1` says the same.
    pub strict: bool,
}

fn parse_inner(
    text: &str,
    origin: &str,
    env: &dyn Source,
    file_present: bool,
    strict: bool,
) -> Result<(Loaded, Extra), ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let overrides = env::Overrides::read(env);
    let mut secrets = overrides.secrets();
    let raw = match read::read(text) {
        Ok(raw) => raw,
        Err(e) => {
            secrets.extend(inline_token_guesses(text));
            return Err(error::from_read(&e, text, origin).scrub(&secrets));
        }
    };
    let mut ctx = Ctx {
        text,
        origin,
        file_present,
        strict,
        warnings: Vec::new(),
        secrets,
        env,
    };
    match build::build(raw, &overrides, &mut ctx) {
        Ok((config, extra)) => Ok((
            Loaded {
                config,
                warnings: ctx
                    .warnings
                    .iter()
                    .map(|w| error::scrub_text(w, &ctx.secrets))
                    .collect(),
            },
            extra,
        )),
        Err(e) => Err(e.scrub(&ctx.secrets)),
    }
}

/// What follows `api_token =` (or `api_key =`, or a URL key) on any line, for scrubbing errors
/// of a file that does not parse.
fn inline_token_guesses(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let k = k.trim().trim_matches('"').trim_matches('\'');
            let secret = ["api_token", "api_key"]
                .iter()
                .any(|s| k == *s || k.ends_with(&format!(".{s}")));
            (secret || k == "url" || k == "server").then(|| {
                v.trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .trim()
                    .to_owned()
            })
        })
        .filter(|v| v.len() >= 8)
        .collect()
}
