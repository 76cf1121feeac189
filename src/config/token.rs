//! The API token: where it comes from (env, file key, token file, systemd credential) and the
//! offline checks that catch a token pasted wrongly. No message here quotes the token, a part of
//! it, or a character of it: only its length and positions.

use std::io;
use std::path::Path;

use super::values::Problem;

/// How to make a token and where to put it: the hint of "no token".
pub const CREATE_HINT: &str = "create a token at https://dash.cloudflare.com/profile/api-tokens \
(My Profile → API Tokens → Create Token, template \"Edit zone DNS\", i.e. permission Zone → DNS → Edit), \
save it in a file only ddflare can read (chmod 600) and set `api_token_file = \"/etc/ddflare/token\"` \
under [cloudflare], or set CLOUDFLARE_API_TOKEN or CLOUDFLARE_API_TOKEN_FILE, or pass it as the systemd \
credential `cloudflare_api_token` (LoadCredential=cloudflare_api_token:/path)";

const SHORTEST: usize = 20;
const LONGEST: usize = 200;

/// Checks a token as given (surrounding whitespace is trimmed) and returns it trimmed, with a
/// warning when it looks like a Global API Key.
pub fn check(given: &str) -> Result<(String, Option<String>), Problem> {
    let t = given.trim();
    if t.is_empty() {
        return Err(Problem::new("expected an API token, found an empty value").hint(CREATE_HINT));
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
        let which = if t.contains("CLOUDFLARE_API_TOKEN=") {
            "`CLOUDFLARE_API_TOKEN=…`"
        } else {
            "`NAME=…`"
        };
        return Err(Problem::new(format!(
            "expected the token alone, found a whole {which} assignment"
        ))
        .hint("keep only the part after `=`"));
    }
    let quotes = ['"', '\'', '`', '“', '”', '‘', '’'];
    if t.starts_with(quotes) || t.ends_with(quotes) {
        return Err(
            Problem::new("expected the token without quotes, found a value in quotes").hint(
                "remove the quotes around the token (in a file or an env file, write it bare)",
            ),
        );
    }
    if t.len() >= 7
        && t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        return Err(
            Problem::new("expected the token alone, found it preceded by `Bearer `")
                .hint("remove `Bearer `: ddflare adds the Authorization header itself"),
        );
    }
    let len = t.chars().count();
    if let Some(pos) = t.chars().position(char::is_whitespace) {
        return Err(Problem::new(format!(
            "expected a single word, found whitespace at character {} of {len}",
            pos + 1
        ))
        .hint("the token may have been pasted twice or wrapped; copy it again"));
    }
    if let Some(pos) = t
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(Problem::new(format!(
            "expected only letters, digits, `_` and `-`, found another character at position {} of {len}",
            pos + 1
        ))
        .hint("copy the token again from the dashboard; it is shown once, right after creation"));
    }
    if !(SHORTEST..=LONGEST).contains(&len) {
        return Err(Problem::new(format!(
            "expected a token of about 40 characters ({SHORTEST} to {LONGEST}), found {len} characters"
        ))
        .hint("copy the whole token again; it is shown once, right after creation"));
    }
    let global_key = t.starts_with("cfk_")
        || ((37..=45).contains(&len)
            && t.chars().all(|c| c.is_ascii_hexdigit())
            && !t.chars().any(|c| c.is_ascii_uppercase()));
    let warning = global_key.then(|| {
        "this looks like a Global API Key, which ddflare cannot use; create an API token (Zone → DNS → Edit) instead".to_owned()
    });
    Ok((t.to_owned(), warning))
}

/// True when a "path" is more likely the token itself, so it is not echoed in messages.
pub fn looks_like_token(path: &str) -> bool {
    let p = path.trim();
    !p.contains(['/', '.', '\\'])
        && p.len() >= SHORTEST
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads a token file. `Ok(None)` only when `missing_ok` and it does not exist.
pub fn read_file(path: &Path, missing_ok: bool) -> Result<Option<String>, Problem> {
    match read_limited(path, MAX_TOKEN_FILE) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => Err(Problem::new(format!(
                "cannot use `{}`: it is not UTF-8 text",
                path.display()
            ))),
        },
        Err(e) if missing_ok && e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => {
            let p = Problem::new(format!("cannot read `{}`: {e}", path.display()));
            Err(match e.kind() {
                io::ErrorKind::NotFound => p.hint("check the path; the file holds the token alone"),
                io::ErrorKind::PermissionDenied => p.hint(
                    "make the file readable by the user ddflare runs as (and by no one else)",
                ),
                _ => p,
            })
        }
    }
}

/// A token file is small; reading stops here (a device or a wrong path must not eat memory).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// Reads at most `limit` bytes of a file.
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// The octal mode when a file can be read by its group or others.
pub fn loose_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o044 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
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
        assert_eq!(check(GOOD), Ok((GOOD.to_owned(), None)));
        assert_eq!(check(&format!("  {GOOD}\n")), Ok((GOOD.to_owned(), None)));
        let new_format = format!("cfut_{}", "a1B2".repeat(11));
        assert!(check(&new_format).is_ok_and(|(_, w)| w.is_none()));
    }

    #[test]
    fn global_keys_warn() {
        let hex = "0123456789abcdef0123456789abcdef01234";
        assert!(check(hex).is_ok_and(|(_, w)| w.is_some()));
        let cfk = format!("cfk_{}", "a".repeat(40));
        assert!(check(&cfk).is_ok_and(|(_, w)| w.is_some()));
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
    fn token_like_paths() {
        assert!(looks_like_token(GOOD));
        assert!(!looks_like_token("/etc/ddflare/token"));
        assert!(!looks_like_token("token.txt"));
        assert!(!looks_like_token("token"));
    }
}
