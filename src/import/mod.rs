//! `ddflare import`: another updater's settings → an equivalent `ddflare.toml` on stdout.
//! PURE apart from [`read_source`]: each converter takes the settings as text or key/value
//! pairs and returns a [`Toml`] of sections and comments; every setting it could not carry
//! over becomes a `# not carried over: …` line, secrets shown by name only.
//!
//! - `env.rs`: favonia's cloudflare-ddns and timothymiller's cloudflare-ddns v2 (their
//!   environment variables, from an env file or the process environment);
//! - `ddclient.rs`: the `protocol=cloudflare` entries of a `ddclient.conf`.

mod ddclient;
mod env;
mod out;

use std::path::Path;

pub use out::From;

use crate::environment::Source;

/// What the settings are read from.
pub enum Input<'a> {
    /// The text of a file.
    Text(String),
    /// The process environment (favonia and timothymiller without a FILE).
    Env(&'a dyn Source),
}

/// The text of `path`, through the one reader (size-capped, regular files only).
pub fn read_source(path: &Path) -> Result<String, String> {
    let bytes = crate::files::read(path, crate::files::Kind::Config).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

/// The ddflare config equivalent to `input` from `from`; `inline_secrets` writes tokens and
/// secret URLs into it instead of naming where they come from.
pub fn convert(from: From, input: &Input<'_>, inline_secrets: bool) -> Result<String, String> {
    let toml = match (from, input) {
        (From::Ddclient, Input::Text(t)) => ddclient::convert(t, inline_secrets)?,
        (From::Ddclient, Input::Env(_)) => {
            return Err(
                "`--from ddclient` needs the ddclient.conf to read (e.g. /etc/ddclient.conf)"
                    .to_owned(),
            );
        }
        (tool, Input::Text(t)) => env::convert(tool, &env::parse_env_file(t), true, inline_secrets),
        (tool, Input::Env(e)) => {
            let pairs = env::KNOWN
                .iter()
                .filter_map(|k| e.get(k).map(|v| ((*k).to_owned(), v)))
                .collect::<Vec<_>>();
            env::convert(tool, &pairs, false, inline_secrets)
        }
    };
    Ok(toml.render())
}

#[cfg(test)]
mod tests;
