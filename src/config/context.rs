//! The state of one build and the readers every section shares: where a value came from
//! ([`Src`], [`Val`]), the [`Ctx`] that turns a [`Problem`] into an error or a warning naming
//! that place, and the duration and boolean readers. Below `build`, `credentials` and
//! `ownership`, which all use it.

use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::env::{self, EnvVar};
use super::error::{ConfigError, Location, line_col, render};
use super::expand;
use super::raw::RawDuration;
use super::values::{self, Problem};
use crate::environment::Source;

/// Where a value came from, to name it in messages.
#[derive(Debug, Clone)]
pub(crate) enum Src {
    /// A key of the file, with its dotted name and span.
    File { key: String, span: Range<usize> },
    /// An environment variable; `detail` (e.g. "entry 2 (`x`)") goes before the message.
    Env {
        var: Cow<'static, str>,
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
        Src::Env {
            var: Cow::Borrowed(var),
            detail: None,
        }
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
    /// The environment, for `${NAME}` in record names (`expand.rs`).
    pub env: &'a dyn Source,
}

impl Ctx<'_> {
    pub fn loc(&self, span: &Range<usize>) -> Location {
        Location {
            origin: self.origin.to_owned(),
            line: Some(line_col(self.text, span.start).0),
            column: None,
        }
    }

    /// `text` with its `${NAME}`s expanded from the environment (`expand.rs`).
    pub(crate) fn expand<'t>(&self, text: &'t str) -> Result<Cow<'t, str>, Problem> {
        expand::expand(text, &|name| self.env.get(name))
    }

    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    /// The file without a line (for what is missing), when there is a file.
    pub(crate) fn whole(&self) -> Option<Location> {
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
                ConfigError::new(None, var.as_ref(), message).maybe_hint(p.hint)
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
pub(crate) struct Val<T> {
    pub value: T,
    pub src: Option<Src>,
}

/// A duration key: the environment variable when set, else the file, else `default`.
pub(crate) fn duration(
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

pub(crate) fn positive(ctx: &Ctx<'_>, v: &Val<Duration>) -> Result<(), ConfigError> {
    match &v.src {
        Some(src) if v.value.is_zero() => Err(ctx.err(
            src,
            Problem::new("expected a duration greater than zero, found 0"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn push_secret(ctx: &mut Ctx<'_>, value: &str) {
    let v = value.trim();
    if !v.is_empty() {
        ctx.secrets.push(v.to_owned());
    }
}

/// A boolean variable: `true/false/1/0/yes/no/on/off`.
pub(crate) fn env_bool(ctx: &Ctx<'_>, v: &EnvVar) -> Result<bool, ConfigError> {
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
