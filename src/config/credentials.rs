//! Which credentials the configuration gives: an API token, or the legacy Global API Key with
//! its account email, each from the environment (first) or the file, or the systemd credential
//! as a last resort for the token. Contradictions are errors that name both settings; every
//! value read joins the scrub list before it is checked.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::context::{Ctx, Src, push_secret};
use super::env::{self, EnvVar, Overrides};
use super::error::ConfigError;
use super::raw::{RawCloudflare, RawCredentials, RawToken};
use super::token::{self, Kind};
use super::values::Problem;
use crate::cloudflare::{Credentials, NamedCredentials};
use crate::secret::Secret;

/// What [`resolve`] found.
pub(crate) struct Resolved {
    /// `None` when nothing is given (reported after the rest is validated).
    pub credentials: Option<Credentials>,
    /// The key and span of a secret written inline in the file (`api_token` or `api_key`),
    /// for the file-mode check that only `load` can make.
    pub inline: Option<(&'static str, Range<usize>)>,
    /// The file the API token was read from (`api_token_file`, CLOUDFLARE_API_TOKEN_FILE, the
    /// systemd credential): the client reads it again when it changes.
    pub token_file: Option<PathBuf>,
}

/// One part of the credentials and where it is set.
enum Given<'a> {
    Env(&'a EnvVar),
    /// A file key: its dotted name and value.
    Inline(&'static str, &'a Spanned<RawToken>),
    Path(&'static str, &'a Spanned<String>),
}

impl Given<'_> {
    fn src(&self) -> Src {
        match self {
            Given::Env(v) => Src::env(v.name),
            Given::Inline(key, s) => Src::file(*key, s.span()),
            Given::Path(key, s) => Src::file(*key, s.span()),
        }
    }

    /// The file the value is read from, when it is a file.
    fn file(&self) -> Option<PathBuf> {
        match self {
            Given::Env(v) if v.name == env::TOKEN_FILE || v.name == env::KEY_FILE => {
                Some(PathBuf::from(v.value.trim()))
            }
            Given::Path(_, s) => Some(PathBuf::from(s.get_ref().trim())),
            Given::Env(_) | Given::Inline(..) => None,
        }
    }
}

/// The variable or key that sets one part, for messages naming two settings.
fn describe(ctx: &Ctx<'_>, src: &Src) -> String {
    match src {
        Src::File { key, span } => format!("`{key}` on line {}", ctx.line(span)),
        Src::Env { var, .. } => format!("`{var}`"),
    }
}

/// Two keys of one table that exclude each other (`api_token` and `api_token_file`).
fn not_both_in_file(
    ctx: &Ctx<'_>,
    inline: Option<&Spanned<RawToken>>,
    file: Option<&Spanned<String>>,
    (inline_key, file_key): (&str, &str),
) -> Result<(), ConfigError> {
    if let (Some(i), Some(f)) = (inline, file) {
        return Err(ctx.err(
            &Src::file(format!("cloudflare.{file_key}"), f.span()),
            Problem::new(format!(
                "expected either {inline_key} or {file_key}, found both ({inline_key} on line {})",
                ctx.line(&i.span())
            ))
            .hint(format!("keep {file_key} and delete the {inline_key} line")),
        ));
    }
    Ok(())
}

fn not_both_in_env(
    ctx: &Ctx<'_>,
    value: Option<&EnvVar>,
    file: Option<&EnvVar>,
) -> Result<(), ConfigError> {
    if let (Some(v), Some(f)) = (value, file) {
        return Err(ctx.err(
            &Src::env(f.name),
            Problem::new(format!(
                "expected only one of {} and {}, found both",
                v.name, f.name
            ))
            .hint("unset one of them"),
        ));
    }
    Ok(())
}

/// Finds the credentials. The token: CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_TOKEN_FILE, the
/// file's api_token or api_token_file, then `$CREDENTIALS_DIRECTORY/cloudflare_api_token`. The
/// Global API Key: CLOUDFLARE_API_KEY, CLOUDFLARE_API_KEY_FILE, api_key or api_key_file, with
/// CLOUDFLARE_API_EMAIL or api_email. A token and a key together are an error, as is a key
/// without its email or an email without a key.
pub(crate) fn resolve(
    cf: &RawCloudflare,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<Resolved, ConfigError> {
    for s in [&cf.api_token, &cf.api_key].into_iter().flatten() {
        push_secret(ctx, &s.get_ref().0);
    }
    let inline = cf
        .api_token
        .as_ref()
        .map(|t| ("cloudflare.api_token", t.span()))
        .or_else(|| {
            cf.api_key
                .as_ref()
                .map(|k| ("cloudflare.api_key", k.span()))
        });
    not_both_in_file(
        ctx,
        cf.api_token.as_ref(),
        cf.api_token_file.as_ref(),
        ("api_token", "api_token_file"),
    )?;
    not_both_in_file(
        ctx,
        cf.api_key.as_ref(),
        cf.api_key_file.as_ref(),
        ("api_key", "api_key_file"),
    )?;
    not_both_in_env(ctx, env.token.as_ref(), env.token_file.as_ref())?;
    not_both_in_env(ctx, env.key.as_ref(), env.key_file.as_ref())?;

    // Each part from the environment first, then the file.
    let token = env
        .token
        .as_ref()
        .or(env.token_file.as_ref())
        .map(Given::Env)
        .or_else(|| {
            cf.api_token
                .as_ref()
                .map(|t| Given::Inline("cloudflare.api_token", t))
        })
        .or_else(|| {
            cf.api_token_file
                .as_ref()
                .map(|f| Given::Path("cloudflare.api_token_file", f))
        });
    let key = env
        .key
        .as_ref()
        .or(env.key_file.as_ref())
        .map(Given::Env)
        .or_else(|| {
            cf.api_key
                .as_ref()
                .map(|k| Given::Inline("cloudflare.api_key", k))
        })
        .or_else(|| {
            cf.api_key_file
                .as_ref()
                .map(|f| Given::Path("cloudflare.api_key_file", f))
        });
    let email = env
        .email
        .as_ref()
        .map(|v| (Src::env(v.name), v.value.as_str()))
        .or_else(|| {
            cf.api_email.as_ref().map(|e| {
                (
                    Src::file("cloudflare.api_email", e.span()),
                    e.get_ref().as_str(),
                )
            })
        });

    let (credentials, token_file) = combine(ctx, env, token, key, email)?;
    Ok(Resolved {
        credentials,
        inline,
        token_file,
    })
}

/// The credentials the parts make (and the file of a token read from one): a token alone, or
/// a key with its email; any other mix is an error naming the parts.
fn combine(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
    token: Option<Given<'_>>,
    key: Option<Given<'_>>,
    email: Option<(Src, &str)>,
) -> Result<(Option<Credentials>, Option<PathBuf>), ConfigError> {
    if let (Some(t), Some(k)) = (&token, &key) {
        let (t, k) = (t.src(), k.src());
        return Err(ctx.err(
            &k,
            Problem::new(format!(
                "expected either an API token or a Global API Key, found both ({} and {})",
                describe(ctx, &t),
                describe(ctx, &k)
            ))
            .hint("keep the API token (it is the safer of the two) and remove `api_email` and `api_key` (or CLOUDFLARE_API_EMAIL and CLOUDFLARE_API_KEY)"),
        ));
    }
    match (key, email) {
        (Some(k), Some((email_src, email))) => {
            let email = token::check_email(email).map_err(|p| ctx.err(&email_src, p))?;
            let key = read(ctx, &k, Kind::Key)?;
            Ok((Some(Credentials::GlobalKey { email, key }), None))
        }
        (Some(k), None) => Err(ctx.err(
            &k.src(),
            Problem::new(
                "expected `api_email` (or CLOUDFLARE_API_EMAIL) with the Global API Key, found none",
            )
            .hint(format!(
                "set `api_email` to the email you log in to Cloudflare with; better, {}",
                token::TOKEN_STEPS
            )),
        )),
        (None, Some((email_src, _))) => {
            let hint = if token.is_some() {
                "an API token needs no email: remove `api_email` (or CLOUDFLARE_API_EMAIL)"
                    .to_owned()
            } else {
                format!(
                    "give the Global API Key (My Profile → API Tokens → Global API Key) in `api_key_file`; better, {}",
                    token::TOKEN_STEPS
                )
            };
            Err(ctx.err(
                &email_src,
                Problem::new(
                    "expected `api_key` or `api_key_file` (or CLOUDFLARE_API_KEY or CLOUDFLARE_API_KEY_FILE) with the email, found none",
                )
                .hint(hint),
            ))
        }
        (None, None) => Ok(match &token {
            Some(t) => (Some(Credentials::Token(read(ctx, t, Kind::Token)?)), t.file()),
            None => match systemd_credential(ctx, env)? {
                Some((secret, path)) => (Some(Credentials::Token(secret)), Some(path)),
                None => (None, None),
            },
        }),
    }
}

/// The value of a token or key, checked, from wherever it is given.
fn read(ctx: &mut Ctx<'_>, given: &Given<'_>, kind: Kind) -> Result<Secret, ConfigError> {
    let src = given.src();
    match given {
        Given::Env(v) if v.name == env::TOKEN_FILE || v.name == env::KEY_FILE => {
            from_file(ctx, &src, &v.value, kind)
        }
        Given::Env(v) => checked(ctx, &src, &v.value, None, kind),
        Given::Inline(_, s) => checked(ctx, &src, &s.get_ref().0, None, kind),
        Given::Path(_, s) => from_file(ctx, &src, s.get_ref(), kind),
    }
}

/// `$CREDENTIALS_DIRECTORY/cloudflare_api_token` and its path, when the directory is set and
/// holds it.
fn systemd_credential(
    ctx: &mut Ctx<'_>,
    env: &Overrides,
) -> Result<Option<(Secret, PathBuf)>, ConfigError> {
    let Some(dir) = &env.credentials_directory else {
        return Ok(None);
    };
    let path = Path::new(dir.value.trim()).join(env::CREDENTIAL_NAME);
    let src = Src::Env {
        var: dir.name.into(),
        detail: Some(format!("credential `{}`", path.display())),
    };
    match token::read_file(&path, true).map_err(|p| ctx.err(&src, p))? {
        Some(content) => Ok(Some((
            checked(ctx, &src, &content, None, Kind::Token)?,
            path,
        ))),
        None => Ok(None),
    }
}

/// Runs the offline checks of `kind`; `file` names the file the value came from.
fn checked(
    ctx: &mut Ctx<'_>,
    src: &Src,
    value: &str,
    file: Option<&Path>,
    kind: Kind,
) -> Result<Secret, ConfigError> {
    push_secret(ctx, value);
    let outcome = match kind {
        Kind::Token => token::check(value),
        Kind::Key => token::check_key(value),
    };
    match outcome {
        Ok(t) => Ok(Secret::new(t)),
        Err(mut p) => {
            if let Some(path) = file {
                p.message = format!(
                    "the {} in `{}`: {}",
                    kind.short(),
                    path.display(),
                    p.message
                );
            }
            Err(ctx.err(src, p))
        }
    }
}

/// Reads a token or key file (`api_token_file`, CLOUDFLARE_API_KEY_FILE, …) and checks it.
fn from_file(ctx: &mut Ctx<'_>, src: &Src, given: &str, kind: Kind) -> Result<Secret, ConfigError> {
    let path = given.trim();
    let noun = kind.noun();
    if path.is_empty() {
        return Err(ctx.err(
            src,
            Problem::new(format!(
                "expected the path of a file holding the {noun}, found an empty value"
            ))
            .hint("give the path, or unset it and give the value another way"),
        ));
    }
    if token::looks_like_token(path) {
        push_secret(ctx, path);
        let hint = match (src.is_env(), kind) {
            (true, Kind::Token) => {
                "put the token in CLOUDFLARE_API_TOKEN, or save it in a file and give that file's path"
            }
            (true, Kind::Key) => {
                "put the key in CLOUDFLARE_API_KEY, or save it in a file and give that file's path"
            }
            (false, Kind::Token) => {
                "write `api_token = …` for an inline token, or save it in a file (chmod 600) and give that file's path"
            }
            (false, Kind::Key) => {
                "write `api_key = …` for an inline key, or save it in a file (chmod 600) and give that file's path"
            }
        };
        return Err(ctx.err(
            src,
            Problem::new(format!(
                "expected the path of a file holding the {noun}, found what looks like the {} itself",
                kind.short()
            ))
            .hint(hint),
        ));
    }
    let path = Path::new(path);
    let content = match token::read_file(path, false) {
        Ok(Some(c)) => c,
        Ok(None) => String::new(),
        Err(p) => return Err(ctx.err(src, p)),
    };
    let secret = checked(ctx, src, &content, Some(path), kind)?;
    if let Some(access) = token::access_of(path) {
        let message = format!(
            "`{}` can be read by group or others (mode {:03o})",
            path.display(),
            access.mode
        );
        let hint = format!("run `chmod 600 {}`", path.display());
        match token::exposure(access, true, ctx.strict) {
            token::Exposure::Fine => {}
            token::Exposure::Warn => ctx.warn(src, &message, Some(&hint)),
            token::Exposure::Refuse => {
                return Err(ctx.err(
                    src,
                    Problem::new(format!("refused (--strict): {message}")).hint(hint),
                ));
            }
        }
    }
    Ok(secret)
}

/// The key and span of a token written inline, for the file-mode check.
pub(crate) type Inline = Option<(&'static str, Range<usize>)>;

/// The longest `[[credentials]]` name.
const NAME_MAX: usize = 64;

/// The variables that give credentials `name`'s token, inline and as a file:
/// `CLOUDFLARE_API_TOKEN_<NAME>` and `CLOUDFLARE_API_TOKEN_<NAME>_FILE`, the name upper-cased
/// with `-` as `_`.
pub(crate) fn env_names(name: &str) -> (String, String) {
    let var = format!(
        "{}_{}",
        env::TOKEN,
        name.to_ascii_uppercase().replace('-', "_")
    );
    let file = format!("{var}_FILE");
    (var, file)
}

/// `[[credentials]]`: each a `name` and its token, from `CLOUDFLARE_API_TOKEN_<NAME>` or
/// `…_FILE` (first), the table's `api_token` or `api_token_file`, else the systemd credential
/// `cloudflare_api_token_<name>`. Every value joins the scrub list before it is checked. Also
/// returns the key and span of the first token written inline, for the file-mode check.
pub(crate) fn named(
    tables: &[Spanned<RawCredentials>],
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<(Vec<NamedCredentials>, Inline), ConfigError> {
    for t in tables {
        if let Some(s) = &t.get_ref().api_token {
            push_secret(ctx, &s.get_ref().0);
        }
    }
    let mut out: Vec<NamedCredentials> = Vec::with_capacity(tables.len());
    let mut inline = None;
    for (i, table) in tables.iter().enumerate() {
        let k = format!("credentials[{}]", i + 1);
        let t = table.get_ref();
        let Some(name_s) = &t.name else {
            return Err(ctx.err(
                &Src::file(k.clone(), table.span()),
                Problem::new("expected a `name` key, found none")
                    .hint("add `name = \"work\"` under this [[credentials]]; records then say `credentials = \"work\"`"),
            ));
        };
        let name_src = Src::file(format!("{k}.name"), name_s.span());
        let name = name_s.get_ref().as_str();
        check_name(ctx, &name_src, name)?;
        let (var, file_var) = env_names(name);
        if let Some(first) = out.iter().position(|c| env_names(&c.name).0 == var) {
            return Err(ctx.err(
                &name_src,
                Problem::new(format!(
                    "expected each credentials name once, found \"{name}\" again (credentials[{}] is \"{}\"; both would be read from {var})",
                    first + 1,
                    out[first].name
                ))
                .hint("give each [[credentials]] its own name"),
            ));
        }
        if let (Some(a), Some(f)) = (&t.api_token, &t.api_token_file) {
            return Err(ctx.err(
                &Src::file(format!("{k}.api_token_file"), f.span()),
                Problem::new(format!(
                    "expected either api_token or api_token_file, found both (api_token on line {})",
                    ctx.line(&a.span())
                ))
                .hint("keep api_token_file and delete the api_token line"),
            ));
        }
        let get = |v: &str| ctx.env.get(v);
        let (env_value, env_file) = (get(&var), get(&file_var));
        if let Some(v) = &env_value {
            push_secret(ctx, v);
        }
        let env_src = |v: &str| Src::Env {
            var: v.to_owned().into(),
            detail: None,
        };
        if env_value.is_some() && env_file.is_some() {
            return Err(ctx.err(
                &env_src(&file_var),
                Problem::new(format!(
                    "expected only one of {var} and {file_var}, found both"
                ))
                .hint("unset one of them"),
            ));
        }
        let (secret, token_file) = if let Some(v) = env_value {
            (checked(ctx, &env_src(&var), &v, None, Kind::Token)?, None)
        } else if let Some(f) = env_file {
            let secret = from_file(ctx, &env_src(&file_var), &f, Kind::Token)?;
            (secret, Some(PathBuf::from(f.trim())))
        } else if let Some(a) = &t.api_token {
            if inline.is_none() {
                inline = Some(("credentials.api_token", a.span()));
            }
            let src = Src::file(format!("{k}.api_token"), a.span());
            (checked(ctx, &src, &a.get_ref().0, None, Kind::Token)?, None)
        } else if let Some(f) = &t.api_token_file {
            let src = Src::file(format!("{k}.api_token_file"), f.span());
            let secret = from_file(ctx, &src, f.get_ref(), Kind::Token)?;
            (secret, Some(PathBuf::from(f.get_ref().trim())))
        } else {
            let found = match &env.credentials_directory {
                None => None,
                Some(dir) => {
                    let path = Path::new(dir.value.trim())
                        .join(format!("{}_{name}", env::CREDENTIAL_NAME));
                    let src = Src::Env {
                        var: dir.name.into(),
                        detail: Some(format!("credential `{}`", path.display())),
                    };
                    match token::read_file(&path, true).map_err(|p| ctx.err(&src, p))? {
                        Some(content) => {
                            Some((checked(ctx, &src, &content, None, Kind::Token)?, path))
                        }
                        None => None,
                    }
                }
            };
            let Some((secret, path)) = found else {
                return Err(ctx.err(
                    &Src::file(k, table.span()),
                    Problem::new(format!(
                        "expected api_token or api_token_file for credentials \"{name}\", found neither (nor {var}, {file_var} or the systemd credential `{}_{name}`)",
                        env::CREDENTIAL_NAME
                    ))
                    .hint(format!(
                        "save the token in a file only ddflare can read (chmod 600) and add `api_token_file = \"/etc/ddflare/{name}.token\"` under this [[credentials]]"
                    )),
                ));
            };
            (secret, Some(path))
        };
        out.push(NamedCredentials {
            name: name.to_owned(),
            credentials: Credentials::Token(secret),
            token_file,
        });
    }
    Ok((out, inline))
}

/// A `[[credentials]]` name: `[a-z0-9_-]+`, at most [`NAME_MAX`] characters, not ending in
/// `file` after a separator (its variable would be another name's `…_FILE`).
fn check_name(ctx: &Ctx<'_>, src: &Src, name: &str) -> Result<(), ConfigError> {
    let problem = if name.is_empty() || name.len() > NAME_MAX {
        Some(format!(
            "expected a name of 1 to {NAME_MAX} characters, found {}",
            name.chars().count()
        ))
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        Some(format!(
            "expected only lowercase letters, digits, `_` and `-`, found {:?}",
            c
        ))
    } else if name == "file" || name.ends_with("_file") || name.ends_with("-file") {
        Some(format!(
            "expected a name not ending in `file`, found \"{name}\" (its variable CLOUDFLARE_API_TOKEN_…_FILE would be read as another's token file)"
        ))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(ctx.err(
            src,
            Problem::new(p).hint("name it like `work` or `home-zone`"),
        )),
    }
}
