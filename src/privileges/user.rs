//! Who to become: `[process]` ([`ProcessConfig`], [`RunAs`]), the PURE parse of `user` and
//! lookup in the text of `/etc/passwd`, and [`resolve`], the one read of `/etc/passwd`.

use std::fmt;

use super::error::PrivilegeError;

/// nobody/nogroup on most systems: the default target.
pub const NOBODY: u32 = 65534;

/// Who to become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// `"uid:gid"`: always works, also in a scratch image without `/etc/passwd`.
    Ids { uid: u32, gid: u32 },
    /// A user name, looked up in `/etc/passwd` (its primary group).
    Name(String),
}

impl Default for RunAs {
    fn default() -> Self {
        RunAs::Ids {
            uid: NOBODY,
            gid: NOBODY,
        }
    }
}

impl fmt::Display for RunAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunAs::Ids { uid, gid } => write!(f, "{uid}:{gid}"),
            RunAs::Name(n) => f.write_str(n),
        }
    }
}

/// `[process]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// `user`: who to become when started as root. Default 65534:65534.
    pub user: RunAs,
    /// `drop_privileges`: false keeps root. Default true.
    pub drop_privileges: bool,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            user: RunAs::default(),
            drop_privileges: true,
        }
    }
}

/// PURE: `"65534:65534"` or `"ddflare"`. Root (uid 0, gid 0 or the name `root`) is refused:
/// keeping root is `drop_privileges = false`.
pub fn parse_user(given: &str) -> Result<RunAs, PrivilegeError> {
    let s = given.trim();
    let keep_root = "to keep root, set `drop_privileges = false` (or --no-drop-privileges)";
    if s.is_empty() {
        return Err(PrivilegeError::new(
            "expected a user, found an empty value".into(),
            "write \"uid:gid\", e.g. \"65534:65534\", or a user name".into(),
        ));
    }
    if let Some((u, g)) = s.split_once(':') {
        let (Ok(uid), Ok(gid)) = (u.trim().parse::<u32>(), g.trim().parse::<u32>()) else {
            return Err(PrivilegeError::new(
                format!(
                    "expected \"uid:gid\" in numbers, found \"{}\"",
                    s.escape_debug()
                ),
                "e.g. \"65534:65534\"".into(),
            ));
        };
        if uid == 0 || gid == 0 {
            return Err(PrivilegeError::new(
                format!("expected an unprivileged user, found {uid}:{gid} (root)"),
                keep_root.into(),
            ));
        }
        return Ok(RunAs::Ids { uid, gid });
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return Err(PrivilegeError::new(
            format!("expected \"uid:gid\" or a user name, found the lone number {s}"),
            format!("write \"{s}:{s}\" (or the right group id after the colon)"),
        ));
    }
    let name_ok = s.len() <= 32
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(PrivilegeError::new(
            format!(
                "expected a user name or \"uid:gid\", found \"{}\"",
                s.escape_debug()
            ),
            "e.g. \"nobody\" or \"65534:65534\"".into(),
        ));
    }
    if s == "root" {
        return Err(PrivilegeError::new(
            "expected an unprivileged user, found root".into(),
            keep_root.into(),
        ));
    }
    Ok(RunAs::Name(s.to_owned()))
}

/// PURE: the uid and primary gid of `name` in the text of `/etc/passwd`.
pub fn lookup(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        let _password = fields.next()?;
        let uid = fields.next()?.trim().parse().ok()?;
        let gid = fields.next()?.trim().parse().ok()?;
        Some((uid, gid))
    })
}

/// Reads `/etc/passwd` when the user is a name.
pub(super) fn resolve(user: &RunAs) -> Result<(u32, u32), PrivilegeError> {
    match user {
        RunAs::Ids { uid, gid } => Ok((*uid, *gid)),
        RunAs::Name(name) => {
            let hint = format!(
                "write \"uid:gid\" instead (a scratch image has no /etc/passwd), e.g. \"{NOBODY}:{NOBODY}\""
            );
            let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| {
                PrivilegeError::new(
                    format!("cannot look up the user `{name}`: /etc/passwd: {e}"),
                    hint.clone(),
                )
            })?;
            match lookup(&passwd, name) {
                Some((0, _)) => Err(PrivilegeError::new(
                    format!("the user `{name}` is root (uid 0)"),
                    "name an unprivileged user, or set `drop_privileges = false`".into(),
                )),
                Some(ids) => Ok(ids),
                None => Err(PrivilegeError::new(
                    format!("no user `{name}` in /etc/passwd"),
                    hint,
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_parsed_and_root_refused() {
        assert_eq!(parse_user("65534:65534"), Ok(RunAs::default()));
        assert_eq!(
            parse_user(" 1000 : 100 "),
            Ok(RunAs::Ids {
                uid: 1000,
                gid: 100
            })
        );
        assert_eq!(parse_user("ddflare"), Ok(RunAs::Name("ddflare".into())));
        assert_eq!(
            parse_user("_ddns.user-1"),
            Ok(RunAs::Name("_ddns.user-1".into()))
        );
        let msg = |s: &str| {
            parse_user(s)
                .err()
                .map(|e| (e.to_string(), e.hint().to_owned()))
                .unwrap_or_default()
        };
        assert!(msg("0:0").0.contains("(root)"));
        assert!(msg("1000:0").0.contains("(root)"));
        assert!(msg("0:0").1.contains("drop_privileges = false"));
        assert!(msg("root").0.contains("found root"));
        assert!(msg("65534").1.contains("\"65534:65534\""));
        assert!(msg("a:b").0.contains("in numbers"));
        assert!(msg("-x").0.contains("user name"));
        assert!(msg("bad name").0.contains("user name"));
        assert!(msg("").0.contains("empty"));
        assert!(msg("99999999999:1").0.contains("in numbers"));
        assert_eq!(RunAs::default().to_string(), "65534:65534");
    }

    #[test]
    fn passwd_lookup() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # a comment\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                      ddflare:x:998:997::/var/lib/ddflare:/usr/sbin/nologin\n\
                      broken:x:abc:1::/:\n";
        assert_eq!(lookup(passwd, "ddflare"), Some((998, 997)));
        assert_eq!(lookup(passwd, "nobody"), Some((65534, 65534)));
        assert_eq!(lookup(passwd, "root"), Some((0, 0)));
        assert_eq!(lookup(passwd, "broken"), None);
        assert_eq!(lookup(passwd, "ddflar"), None);
        assert_eq!(lookup("", "nobody"), None);
    }
}
