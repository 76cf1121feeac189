//! The credentials: the API token and the legacy Global API Key with its email. Reading them
//! (env, file key, secret file, systemd credential) and the offline checks that catch a value
//! pasted wrongly. No message here quotes a secret, a part of it, or a character of it: only
//! its length and positions.

use std::io;
use std::path::Path;

use super::values::Problem;
pub use crate::cloudflare::TOKEN_STEPS;
use crate::files;

/// How to make a token and where to put it: the hint of "no token".
pub const CREATE_HINT: &str = "create a token at https://dash.cloudflare.com/profile/api-tokens \
(My Profile → API Tokens → Create Token, template \"Edit zone DNS\", i.e. permission Zone → DNS → Edit), \
save it in a file only ddflare can read (chmod 600) and set `api_token_file = \"/etc/ddflare/token\"` \
under [cloudflare], or set CLOUDFLARE_API_TOKEN or CLOUDFLARE_API_TOKEN_FILE, or pass it as the systemd \
credential `cloudflare_api_token` (LoadCredential=cloudflare_api_token:/path)";

const SHORTEST: usize = 20;
const LONGEST: usize = 200;

/// Which secret a value is meant to be, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An API token, sent as `Authorization: Bearer`.
    Token,
    /// A legacy Global API Key, sent as `X-Auth-Key` with the email in `X-Auth-Email`.
    Key,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Token => "API token",
            Kind::Key => "Global API Key",
        }
    }

    /// The noun in one word.
    pub fn short(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::Key => "key",
        }
    }

    /// The noun with its article.
    pub fn a_noun(self) -> &'static str {
        match self {
            Kind::Token => "an API token",
            Kind::Key => "a Global API Key",
        }
    }

    /// The variable that holds this secret inline, for the "whole assignment" message.
    fn variable(self) -> &'static str {
        match self {
            Kind::Token => "CLOUDFLARE_API_TOKEN",
            Kind::Key => "CLOUDFLARE_API_KEY",
        }
    }
}

/// True when `t` has the shape of a Global API Key: 37 to 45 hex digits, or `cfk_` and 40 or
/// more characters (the 2026 format).
pub fn looks_like_global_key(t: &str) -> bool {
    if let Some(rest) = t.strip_prefix("cfk_") {
        return rest.len() >= 40;
    }
    (37..=45).contains(&t.len()) && t.chars().all(|c| c.is_ascii_hexdigit())
}

/// The checks shared by tokens and keys: no assignment, quotes, `Bearer `, whitespace or
/// foreign characters. Returns the trimmed value and its length in characters.
fn common(given: &str, kind: Kind) -> Result<(&str, usize), Problem> {
    let t = given.trim();
    if t.is_empty() {
        let p = Problem::new(format!("expected {}, found an empty value", kind.a_noun()));
        return Err(match kind {
            Kind::Token => p.hint(CREATE_HINT),
            Kind::Key => p.hint(format!("better, {TOKEN_STEPS}")),
        });
    }
    let assignment = {
        let s = t.strip_prefix("export ").unwrap_or(t).trim_start();
        s.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && k.chars().any(|c| c.is_ascii_alphabetic())
        })
    };
    if assignment {
        let which = if t.contains(&format!("{}=", kind.variable())) {
            format!("`{}=…`", kind.variable())
        } else {
            "`NAME=…`".to_owned()
        };
        return Err(Problem::new(format!(
            "expected the {} alone, found a whole {which} assignment",
            kind.noun()
        ))
        .hint("keep only the part after `=`"));
    }
    let quotes = ['"', '\'', '`', '“', '”', '‘', '’'];
    if t.starts_with(quotes) || t.ends_with(quotes) {
        return Err(Problem::new(format!(
            "expected the {} without quotes, found a value in quotes",
            kind.noun()
        ))
        .hint("remove the quotes (in a file or an env file, write it bare)"));
    }
    if t.len() >= 7
        && t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        return Err(Problem::new(format!(
            "expected the {} alone, found it preceded by `Bearer `",
            kind.noun()
        ))
        .hint("remove `Bearer `: ddflare adds the header itself"));
    }
    let len = t.chars().count();
    if let Some(pos) = t.chars().position(char::is_whitespace) {
        return Err(Problem::new(format!(
            "expected a single word, found whitespace at character {} of {len}",
            pos + 1
        ))
        .hint("it may have been pasted twice or wrapped; copy it again"));
    }
    if let Some(pos) = t
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(Problem::new(format!(
            "expected only letters, digits, `_` and `-`, found another character at position {} of {len}",
            pos + 1
        ))
        .hint(match kind {
            Kind::Token => "copy the token again from the dashboard; it is shown once, right after creation",
            Kind::Key => "copy the key again at My Profile → API Tokens → Global API Key → View",
        }));
    }
    Ok((t, len))
}

/// Checks a token as given (surrounding whitespace is trimmed) and returns it trimmed. A Global
/// API Key given as a token is refused: Cloudflare answers it with 400 6003/6111.
pub fn check(given: &str) -> Result<String, Problem> {
    let (t, len) = common(given, Kind::Token)?;
    if !(SHORTEST..=LONGEST).contains(&len) {
        return Err(Problem::new(format!(
            "expected a token of about 40 characters ({SHORTEST} to {LONGEST}), found {len} characters"
        ))
        .hint("copy the whole token again; it is shown once, right after creation"));
    }
    if looks_like_global_key(t) {
        return Err(Problem::new(
            "expected an API token, found what looks like a Global API Key (37 to 45 hex characters, or `cfk_…`)",
        )
        .hint(format!(
            "a Global API Key is sent with the account's email: set `api_email` and `api_key` \
(or CLOUDFLARE_API_EMAIL and CLOUDFLARE_API_KEY) instead; better, {TOKEN_STEPS}"
        )));
    }
    Ok(t.to_owned())
}

/// Checks a Global API Key as given and returns it trimmed.
pub fn check_key(given: &str) -> Result<String, Problem> {
    let (t, len) = common(given, Kind::Key)?;
    if looks_like_global_key(t) {
        return Ok(t.to_owned());
    }
    let hex = t.chars().all(|c| c.is_ascii_hexdigit());
    if t.starts_with("cfut_")
        || t.starts_with("cfat_")
        || (!hex && !t.starts_with("cfk_") && (SHORTEST..=LONGEST).contains(&len))
    {
        return Err(Problem::new(
            "expected a Global API Key, found what looks like an API token",
        )
        .hint("put it in `api_token_file` (or `api_token`, CLOUDFLARE_API_TOKEN) and remove `api_email` and `api_key`: a token needs no email"));
    }
    Err(Problem::new(format!(
        "expected a Global API Key of 37 to 45 hex characters (or `cfk_` and 40 more), found {len} characters"
    ))
    .hint("copy it again at My Profile → API Tokens → Global API Key → View"))
}

/// Checks the account email that goes with a Global API Key and returns it trimmed. Messages
/// do not quote it.
pub fn check_email(given: &str) -> Result<String, Problem> {
    let e = given.trim();
    let hint =
        "the email address you log in to Cloudflare with, e.g. `api_email = \"you@example.com\"`";
    if e.is_empty() {
        return Err(Problem::new("expected an email address, found an empty value").hint(hint));
    }
    if e.starts_with(['"', '\'']) || e.ends_with(['"', '\'']) {
        return Err(Problem::new(
            "expected an email address without quotes, found a value in quotes",
        )
        .hint(hint));
    }
    let shape = e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    if !shape || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Problem::new("expected an email address such as you@example.com").hint(hint));
    }
    Ok(e.to_owned())
}

/// True when a "path" is more likely the token itself, so it is not echoed in messages.
pub fn looks_like_token(path: &str) -> bool {
    let p = path.trim();
    !p.contains(['/', '.', '\\'])
        && p.len() >= SHORTEST
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads a token file (a link is followed: Kubernetes mounts a secret as `token →
/// ..data/token`; what it leads to must be a regular file). `Ok(None)` only when
/// `missing_ok` and it does not exist.
pub fn read_file(path: &Path, missing_ok: bool) -> Result<Option<String>, Problem> {
    match files::read(path, files::Kind::Secret) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => Err(Problem::new(format!(
                "cannot use `{}`: it is not UTF-8 text",
                files::shown(path)
            ))),
        },
        Err(e) if missing_ok && e.is_not_found() => Ok(None),
        Err(e) => {
            let p = Problem::new(format!(
                "cannot read `{}`: {}",
                files::shown(path),
                e.reason()
            ));
            Err(match e.io_kind() {
                Some(io::ErrorKind::NotFound) => {
                    p.hint("check the path; the file holds the token alone")
                }
                Some(io::ErrorKind::PermissionDenied) => p.hint(
                    "make the file readable by the user ddflare runs as (and by no one else)",
                ),
                _ => p.hint(e.hint()),
            })
        }
    }
}

/// Who may read a file that may hold a secret: its permission bits (`0o640`) and whether its
/// group is private to this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub mode: u32,
    /// The file sits in a Kubernetes volume (its directory holds the `..data` link that the
    /// kubelet swaps on every update) and its group is the one ddflare runs as. The kubelet
    /// gives a Secret's files to root with the pod's `fsGroup` and adds group read (mode 0440
    /// from `defaultMode: 0400`): the volume is mounted into this pod alone, so that group
    /// reading it is this process reading it, not someone else.
    pub group_private: bool,
}

/// The access of the file at `path` (through links), when it can be read (the edge of
/// [`exposure`]).
pub fn access_of(path: &Path) -> Option<Access> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(path).ok()?;
        let mode = meta.permissions().mode() & 0o777;
        // /proc/self belongs to the effective uid and gid of the process: no libc call needed.
        let own_gid = std::fs::metadata("/proc/self").ok().map(|m| m.gid());
        let in_kubernetes_volume = path
            .parent()
            .map(|dir| dir.join("..data"))
            .and_then(|link| std::fs::symlink_metadata(link).ok())
            .is_some_and(|m| m.file_type().is_symlink());
        let group_private = in_kubernetes_volume && own_gid == Some(meta.gid());
        Some(Access {
            mode,
            group_private,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// What to do about a file that may hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// No secret in it, or readable by its owner only.
    Fine,
    /// It holds a secret and its group or others may read it: say so and go on.
    Warn,
    /// The same under `--strict` (or `DDFLARE_STRICT`): refuse to start.
    Refuse,
}

/// PURE: decides from a file's access, whether it holds a secret (an inline `api_token` or
/// `api_key` in the config, or a token or key file) and `--strict`. Group read counts only when
/// the group is not private to this process ([`Access::group_private`]).
pub fn exposure(access: Access, holds_secret: bool, strict: bool) -> Exposure {
    let readers = if access.group_private { 0o004 } else { 0o044 };
    if !holds_secret || access.mode & readers == 0 {
        Exposure::Fine
    } else if strict {
        Exposure::Refuse
    } else {
        Exposure::Warn
    }
}

/// PURE: the message and hint for a secret in the config file `file` (mode `mode`) that its
/// group or others may read. `kind` says which secret; the fix names the file.
pub fn exposed_inline(file: &str, mode: u32, kind: Kind, strict: bool) -> (String, String) {
    let (noun, file_key, file_var, credential) = match kind {
        Kind::Token => (
            "the API token",
            "api_token_file",
            "CLOUDFLARE_API_TOKEN_FILE",
            " or the systemd credential (LoadCredential=cloudflare_api_token:/path)",
        ),
        Kind::Key => (
            "the Global API Key",
            "api_key_file",
            "CLOUDFLARE_API_KEY_FILE",
            "",
        ),
    };
    let refused = if strict { "refused (--strict): " } else { "" };
    (
        format!(
            "{refused}`{file}` holds {noun} inline and can be read by group or others (mode {mode:03o})"
        ),
        format!(
            "run `chmod 600 {file}`, or move the secret to a file of its own (chmod 600) named by `{file_key}` or {file_var}{credential}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Xy7_abcdefghijklmnopqrstuvwxyz0123456789";

    fn problem(given: &str) -> Problem {
        match check(given) {
            Ok(_) => panic!("accepted a bad token"),
            Err(p) => p,
        }
    }

    fn no_leak(given: &str) {
        let p = problem(given);
        let text = format!("{p:?} {}", p.message);
        assert!(!text.contains(GOOD), "{text}");
        assert!(!text.contains(&GOOD[..10]), "{text}");
        assert!(!text.contains(&GOOD[GOOD.len() - 10..]), "{text}");
    }

    #[test]
    fn good_tokens_pass() {
        assert_eq!(check(GOOD), Ok(GOOD.to_owned()));
        assert_eq!(check(&format!("  {GOOD}\n")), Ok(GOOD.to_owned()));
        let new_format = format!("cfut_{}", "a1B2".repeat(11));
        assert!(check(&new_format).is_ok());
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef01234";

    #[test]
    fn a_global_key_given_as_a_token_is_refused_with_the_way_to_use_it() {
        for key in [KEY.to_owned(), format!("cfk_{}", "a".repeat(40))] {
            let p = problem(&key);
            assert!(p.message.contains("looks like a Global API Key"), "{p:?}");
            let hint = p.hint.unwrap_or_default();
            assert!(
                hint.contains("api_email") && hint.contains("api_key"),
                "{hint}"
            );
            assert!(hint.contains("Edit zone DNS"), "{hint}");
            assert!(!hint.contains(&key) && !p.message.contains(&key));
        }
    }

    #[test]
    fn global_keys_are_checked_without_echo() {
        assert_eq!(check_key(KEY), Ok(KEY.to_owned()));
        assert_eq!(check_key(&format!(" {KEY}\n")), Ok(KEY.to_owned()));
        let cfk = format!("cfk_{}", "Ab1_".repeat(11));
        assert_eq!(check_key(&cfk), Ok(cfk.clone()));
        let msg = |given: &str| match check_key(given) {
            Ok(_) => panic!("accepted a bad key"),
            Err(p) => {
                assert!(!p.message.contains(KEY) && !p.message.contains(&KEY[..12]));
                p.message
            }
        };
        assert!(msg("").contains("expected a Global API Key, found an empty value"));
        assert!(msg(&format!("\"{KEY}\"")).contains("quotes"));
        assert!(msg(&format!("CLOUDFLARE_API_KEY={KEY}")).contains("`CLOUDFLARE_API_KEY=…`"));
        assert!(msg(&format!("{KEY} {KEY}")).contains("whitespace"));
        assert!(msg(&KEY[..20]).contains("found 20 characters"));
        assert!(msg(GOOD).contains("looks like an API token"));
        assert!(msg(&format!("cfut_{}", "a".repeat(40))).contains("looks like an API token"));
        assert!(msg(&format!("cfk_{}", "a".repeat(30))).contains("found 34 characters"));
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(
            check_email(" me@example.com\n"),
            Ok("me@example.com".to_owned())
        );
        for bad in [
            "",
            "me",
            "me@",
            "@example.com",
            "me@example",
            "me@.com",
            "a b@example.com",
            "\"me@example.com\"",
            "a@b@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_tokens_are_explained_without_echo() {
        assert!(problem("").message.contains("empty"));
        assert!(problem("   ").message.contains("empty"));
        assert!(problem(&format!("\"{GOOD}\"")).message.contains("quotes"));
        assert!(problem(&format!("'{GOOD}'")).message.contains("quotes"));
        assert!(
            problem(&format!("CLOUDFLARE_API_TOKEN={GOOD}"))
                .message
                .contains("CLOUDFLARE_API_TOKEN=")
        );
        assert!(
            problem(&format!("export CLOUDFLARE_API_TOKEN={GOOD}"))
                .message
                .contains("assignment")
        );
        assert!(
            problem(&format!("Bearer {GOOD}"))
                .message
                .contains("Bearer")
        );
        assert!(
            problem(&format!("bearer {GOOD}"))
                .message
                .contains("Bearer")
        );
        assert!(
            problem(&format!("{GOOD} {GOOD}"))
                .message
                .contains("whitespace at character 41")
        );
        assert!(
            problem(&format!("{GOOD}.x"))
                .message
                .contains("position 41")
        );
        assert!(problem(&format!("{GOOD}é")).message.contains("position 41"));
        assert!(problem("abc123").message.contains("found 6 characters"));
        assert!(problem(&"a".repeat(19)).message.contains("19"));
        assert!(check(&"a".repeat(20)).is_ok());
        assert!(check(&"a".repeat(200)).is_ok());
        assert!(problem(&"a".repeat(201)).message.contains("201"));
        for bad in [
            format!("\"{GOOD}\""),
            format!("CLOUDFLARE_API_TOKEN={GOOD}"),
            format!("Bearer {GOOD}"),
            format!("{GOOD} {GOOD}"),
            format!("{GOOD}.x"),
            format!("{GOOD}{GOOD}{GOOD}{GOOD}{GOOD}{GOOD}"),
        ] {
            no_leak(&bad);
        }
    }

    #[test]
    fn exposure_depends_on_the_mode_the_secret_and_strict() {
        let shared = |mode| Access {
            mode,
            group_private: false,
        };
        for mode in [0o600, 0o400, 0o700, 0o611, 0o601] {
            assert_eq!(
                exposure(shared(mode), true, false),
                Exposure::Fine,
                "{mode:o}"
            );
            assert_eq!(
                exposure(shared(mode), true, true),
                Exposure::Fine,
                "{mode:o}"
            );
        }
        for mode in [0o640, 0o604, 0o644, 0o660, 0o666, 0o755] {
            assert_eq!(
                exposure(shared(mode), true, false),
                Exposure::Warn,
                "{mode:o}"
            );
            assert_eq!(
                exposure(shared(mode), true, true),
                Exposure::Refuse,
                "{mode:o}"
            );
            // No secret in it: any mode is fine, strict or not.
            assert_eq!(
                exposure(shared(mode), false, true),
                Exposure::Fine,
                "{mode:o}"
            );
        }
    }

    #[test]
    fn a_kubernetes_secret_readable_by_the_pods_own_group_is_not_exposed() {
        let private = |mode| Access {
            mode,
            group_private: true,
        };
        // The kubelet's 0440 (root, fsGroup) and 0640: only this pod's group reads them.
        for mode in [0o440, 0o640, 0o460, 0o400] {
            assert_eq!(
                exposure(private(mode), true, true),
                Exposure::Fine,
                "{mode:o}"
            );
        }
        // Others may still read: the pod's group changes nothing about that.
        for mode in [0o444, 0o644, 0o404] {
            assert_eq!(
                exposure(private(mode), true, true),
                Exposure::Refuse,
                "{mode:o}"
            );
        }
    }

    #[test]
    fn the_exposure_message_names_the_file_the_mode_and_the_fixes() {
        let (msg, hint) = exposed_inline("/etc/ddflare/ddflare.toml", 0o644, Kind::Token, false);
        assert_eq!(
            msg,
            "`/etc/ddflare/ddflare.toml` holds the API token inline and can be read by group or others (mode 644)"
        );
        for part in [
            "chmod 600 /etc/ddflare/ddflare.toml",
            "api_token_file",
            "CLOUDFLARE_API_TOKEN_FILE",
            "LoadCredential",
        ] {
            assert!(hint.contains(part), "{part}: {hint}");
        }
        let (msg, hint) = exposed_inline("c.toml", 0o640, Kind::Key, true);
        assert!(msg.starts_with("refused (--strict): `c.toml` holds the Global API Key"));
        assert!(msg.ends_with("(mode 640)"));
        assert!(hint.contains("api_key_file") && hint.contains("CLOUDFLARE_API_KEY_FILE"));
    }

    #[test]
    fn token_like_paths() {
        assert!(looks_like_token(GOOD));
        assert!(!looks_like_token("/etc/ddflare/token"));
        assert!(!looks_like_token("token.txt"));
        assert!(!looks_like_token("token"));
    }
}
