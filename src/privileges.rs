//! Dropping root. When ddflare starts as root (a container run without `--user`, a router), it
//! becomes an unprivileged user before any network I/O: after the config and secret files are
//! read (they may be root-only), before the state dir is written. Default 65534:65534
//! (nobody/nogroup); `[process] user` (or `DDFLARE_USER`) names another, as `"uid:gid"` or a
//! name from `/etc/passwd`; `drop_privileges = false` (or `--no-drop-privileges`,
//! `DDFLARE_DROP_PRIVILEGES=false`) keeps root. Under systemd (`DynamicUser=`) or in the image
//! (`USER 65532`) ddflare is not root and nothing happens.
//!
//! The decisions are PURE ([`parse_user`], [`lookup`], [`decide`], [`plan_state_dir`],
//! [`blocked_ancestor`]); [`apply`] gathers the facts, applies the plan, then drops:
//! supplementary groups, then the group, then the user, and checks that root cannot be
//! regained. The only `unsafe` of ddflare is the few libc calls in `sys`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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

/// What to do at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not root: nothing to drop.
    NotRoot,
    /// Root, and told to stay root.
    KeepRoot,
    /// Root: become `uid`:`gid`.
    Drop { uid: u32, gid: u32 },
}

/// PURE: from the effective uid, `drop_privileges` and the resolved target.
pub fn decide(euid: u32, drop_privileges: bool, target: (u32, u32)) -> Decision {
    match (euid, drop_privileges) {
        (0, false) => Decision::KeepRoot,
        (0, true) => Decision::Drop {
            uid: target.0,
            gid: target.1,
        },
        _ => Decision::NotRoot,
    }
}

/// The files ddflare writes in its state dir (and their temporary twins), the only ones it
/// takes over.
pub fn is_own_file(name: &str) -> bool {
    const OWN: [&str; 3] = [
        crate::state::FILE_NAME,
        crate::health::FILE_NAME,
        crate::expiry::FILE_NAME,
    ];
    OWN.iter()
        .any(|f| name == *f || crate::files::is_temp_of(name, f))
}

/// One entry of the state dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub owner: u32,
}

/// What the state dir looks like, gathered by [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirFacts {
    Missing,
    NotADirectory,
    Dir {
        owner: u32,
        group: u32,
        mode: u32,
        entries: Vec<Entry>,
    },
}

/// What to do with the state dir before dropping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirPlan {
    /// Usable as it is.
    Ready,
    /// Create it (mode 700) and give it to the target.
    Create,
    /// Give the dir (when `dir`) and these files of ddflare's to the target.
    TakeOver { dir: bool, files: Vec<String> },
    /// Unusable by the target: (message, hint).
    Refuse(String, String),
}

/// PURE: how to make the state dir `dir` usable by `uid`:`gid`. ddflare takes over a
/// directory that is root's and holds nothing but its own files (it made it, as root, before);
/// it never takes one that holds anything else, and never one that is someone else's.
pub fn plan_state_dir(dir: &Path, facts: &DirFacts, uid: u32, gid: u32) -> DirPlan {
    let shown = dir.display();
    let chown = format!("`chown -R {uid}:{gid} {shown}`");
    match facts {
        DirFacts::Missing => DirPlan::Create,
        DirFacts::NotADirectory => DirPlan::Refuse(
            format!("the state dir `{shown}` is not a directory"),
            "point state.dir (or DDFLARE_STATE_DIR) at a directory".into(),
        ),
        DirFacts::Dir {
            owner,
            group,
            mode,
            entries,
        } => {
            let root_owned_own: Vec<String> = entries
                .iter()
                .filter(|e| e.owner == 0 && is_own_file(&e.name))
                .map(|e| e.name.clone())
                .collect();
            if *owner == uid {
                return if root_owned_own.is_empty() {
                    DirPlan::Ready
                } else {
                    DirPlan::TakeOver {
                        dir: false,
                        files: root_owned_own,
                    }
                };
            }
            // A dir others may write into (a Kubernetes emptyDir, an fsGroup volume) is
            // shared: it is not given away, and the target keeps its files in a private
            // subdirectory there (files::state_dir), which it needs write access to create.
            let shared = mode & 0o022 != 0;
            if *owner == 0 && !shared {
                let foreign: Vec<&str> = entries
                    .iter()
                    .filter(|e| !is_own_file(&e.name))
                    .map(|e| e.name.as_str())
                    .collect();
                if foreign.is_empty() {
                    return DirPlan::TakeOver {
                        dir: true,
                        files: root_owned_own,
                    };
                }
                let mut list: Vec<String> =
                    foreign.iter().take(3).map(|n| format!("`{n}`")).collect();
                if foreign.len() > 3 {
                    list.push(format!("and {} more", foreign.len() - 3));
                }
                return DirPlan::Refuse(
                    format!(
                        "the state dir `{shown}` belongs to root and holds files that are not ddflare's ({}), so ddflare does not give it to {uid}:{gid}",
                        list.join(", ")
                    ),
                    format!(
                        "point state.dir (or DDFLARE_STATE_DIR) at a directory of its own, or run {chown} if it is ddflare's alone"
                    ),
                );
            }
            let writable = (*group == gid && mode & 0o030 == 0o030) || mode & 0o003 == 0o003;
            if writable {
                DirPlan::Ready
            } else {
                DirPlan::Refuse(
                    format!(
                        "the state dir `{shown}` belongs to uid {owner} and {uid}:{gid} may not write to it (mode {mode:03o})"
                    ),
                    format!(
                        "run {chown}, or set [process] user (DDFLARE_USER) to its owner, \"{owner}:{group}\""
                    ),
                )
            }
        }
    }
}

/// PURE: the first directory on the way to the state dir that `uid`:`gid` may not enter
/// (ancestors with their owner, group and mode, outermost first).
pub fn blocked_ancestor(
    ancestors: &[(PathBuf, u32, u32, u32)],
    uid: u32,
    gid: u32,
) -> Option<(&Path, u32)> {
    ancestors
        .iter()
        .find(|(_, owner, group, mode)| {
            let x = if *owner == uid {
                mode & 0o100
            } else if *group == gid {
                mode & 0o010
            } else {
                mode & 0o001
            };
            x == 0
        })
        .map(|(p, _, _, mode)| (p.as_path(), *mode))
}

/// What [`apply`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    NotRoot,
    KeptRoot,
    Dropped { uid: u32, gid: u32 },
}

/// Reads `/etc/passwd` when the user is a name.
fn resolve(user: &RunAs) -> Result<(u32, u32), PrivilegeError> {
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

/// The facts of `dir`, never through a link (links are resolved before: what is checked is
/// what is given away).
#[cfg(unix)]
fn facts(dir: &Path) -> io::Result<DirFacts> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DirFacts::Missing),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok(DirFacts::NotADirectory);
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let m = entry.metadata()?;
        entries.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            owner: m.uid(),
        });
    }
    Ok(DirFacts::Dir {
        owner: meta.uid(),
        group: meta.gid(),
        mode: meta.permissions().mode() & 0o7777,
        entries,
    })
}

/// The directories above `dir` that exist, outermost first, with owner, group and mode.
#[cfg(unix)]
fn ancestors(dir: &Path) -> Vec<(PathBuf, u32, u32, u32)> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut out: Vec<_> = absolute
        .ancestors()
        .skip(1)
        .filter_map(|p| {
            let m = std::fs::metadata(p).ok()?;
            Some((
                p.to_owned(),
                m.uid(),
                m.gid(),
                m.permissions().mode() & 0o7777,
            ))
        })
        .collect();
    out.reverse();
    out
}

/// Makes `dir` usable by `uid`:`gid`, as root.
#[cfg(unix)]
fn prepare_state_dir(dir: &Path, uid: u32, gid: u32) -> Result<(), PrivilegeError> {
    let io_err = |what: &str, e: io::Error| {
        if sys::is_invalid_id(&e) {
            return unmapped(uid, gid);
        }
        PrivilegeError::new(
            format!(
                "cannot prepare the state dir `{}`: {what}: {e}",
                dir.display()
            ),
            "check the path of state.dir (or DDFLARE_STATE_DIR)".to_owned(),
        )
    };
    // First: a directory on the way that the user cannot enter makes everything else moot.
    if let Some((blocked, mode)) = blocked_ancestor(&ancestors(dir), uid, gid) {
        return Err(PrivilegeError::new(
            format!(
                "{uid}:{gid} cannot reach the state dir `{}`: `{}` is closed to it (mode {mode:03o})",
                dir.display(),
                blocked.display()
            ),
            format!(
                "run `chmod o+x {}`, or point state.dir (or DDFLARE_STATE_DIR) elsewhere",
                blocked.display()
            ),
        ));
    }
    let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let facts = facts(dir).map_err(|e| io_err("reading it", e))?;
    apply_plan(
        dir,
        plan_state_dir(dir, &facts, uid, gid),
        uid,
        gid,
        &io_err,
    )?;
    // A shared dir (files::state_dir): the target keeps its files in the private
    // subdirectory, prepared the same way (created for it, or taken over from a run as root).
    if let DirFacts::Dir { owner, mode, .. } = facts
        && crate::files::state_dir::shared(crate::files::state_dir::Owner { uid: owner, mode }, uid)
    {
        let sub = dir.join(crate::files::PRIVATE);
        let sub_facts = self::facts(&sub).map_err(|e| io_err("reading it", e))?;
        apply_plan(
            &sub,
            plan_state_dir(&sub, &sub_facts, uid, gid),
            uid,
            gid,
            &io_err,
        )?;
    }
    Ok(())
}

/// Carries out a [`DirPlan`] for `dir` (no link in it), as root.
#[cfg(unix)]
fn apply_plan(
    dir: &Path,
    plan: DirPlan,
    uid: u32,
    gid: u32,
    io_err: &dyn Fn(&str, io::Error) -> PrivilegeError,
) -> Result<(), PrivilegeError> {
    use std::os::unix::fs::{DirBuilderExt, lchown};
    // lchown: were a name swapped for a link since it was checked, the link is given away,
    // never its target.
    let give = |p: &Path| lchown(p, Some(uid), Some(gid));
    match plan {
        DirPlan::Ready => {}
        DirPlan::Refuse(message, hint) => return Err(PrivilegeError::new(message, hint)),
        DirPlan::Create => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io_err("creating its parent", e))?;
            }
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_err("creating it", e))?;
            give(dir).map_err(|e| io_err("chown", e))?;
        }
        DirPlan::TakeOver { dir: whole, files } => {
            if whole {
                give(dir).map_err(|e| io_err("chown", e))?;
            }
            for f in files {
                give(&dir.join(&f)).map_err(|e| io_err(&format!("chown {f}"), e))?;
            }
        }
    }
    Ok(())
}

/// EINVAL from chown or setuid: the ids do not exist here (a user namespace that maps root
/// alone, as `unshare -r` does).
#[cfg(unix)]
fn unmapped(uid: u32, gid: u32) -> PrivilegeError {
    PrivilegeError::new(
        format!("cannot become {uid}:{gid}: those ids do not exist here (a user namespace that maps only root?)"),
        "set [process] user (DDFLARE_USER) to ids mapped in this namespace, or `drop_privileges = false`".to_owned(),
    )
}

/// Why root could not be dropped, or why `[process] user` cannot be used, with the next step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PrivilegeError {
    message: String,
    hint: String,
}

impl PrivilegeError {
    pub fn new(message: String, hint: String) -> PrivilegeError {
        PrivilegeError { message, hint }
    }

    pub fn hint(&self) -> &str {
        &self.hint
    }
}

/// Drops root if ddflare runs as root and may drop it, first making `state_dir` (when given:
/// the commands that write it) usable by the target. An error means ddflare must
/// not go on.
#[cfg(unix)]
pub fn apply(cfg: &ProcessConfig, state_dir: Option<&Path>) -> Result<Outcome, PrivilegeError> {
    let euid = sys::geteuid();
    // The name is looked up only when it matters.
    let target = if euid == 0 && cfg.drop_privileges {
        resolve(&cfg.user)?
    } else {
        (NOBODY, NOBODY)
    };
    match decide(euid, cfg.drop_privileges, target) {
        Decision::NotRoot => Ok(Outcome::NotRoot),
        Decision::KeepRoot => Ok(Outcome::KeptRoot),
        Decision::Drop { uid, gid } => {
            if let Some(dir) = state_dir {
                prepare_state_dir(dir, uid, gid)?;
            }
            sys::drop_to(uid, gid).map_err(|e| {
                if sys::is_invalid_id(&e) {
                    return unmapped(uid, gid);
                }
                PrivilegeError::new(
                    format!("cannot drop root to {uid}:{gid}: {e}"),
                    "the container or service may lack CAP_SETUID/CAP_SETGID: run ddflare as that user instead (docker run --user, systemd User=), or set `drop_privileges = false`".to_owned(),
                )
            })?;
            Ok(Outcome::Dropped { uid, gid })
        }
    }
}

#[cfg(not(unix))]
pub fn apply(_: &ProcessConfig, _: Option<&Path>) -> Result<Outcome, PrivilegeError> {
    Ok(Outcome::NotRoot)
}

/// The libc calls, each checked. Nothing else in ddflare is `unsafe`.
#[cfg(unix)]
#[allow(unsafe_code)]
mod sys {
    use std::io;

    /// The kernel's answer to ids it cannot map (chown, setgroups, setgid, setuid).
    pub fn is_invalid_id(e: &io::Error) -> bool {
        e.raw_os_error() == Some(libc::EINVAL)
    }

    pub fn geteuid() -> u32 {
        // SAFETY: no arguments, cannot fail.
        unsafe { libc::geteuid() }
    }

    fn check(rc: libc::c_int, what: &str) -> io::Result<()> {
        if rc == 0 {
            Ok(())
        } else {
            let e = io::Error::last_os_error();
            if is_invalid_id(&e) {
                return Err(e);
            }
            Err(io::Error::new(e.kind(), format!("{what}: {e}")))
        }
    }

    /// Supplementary groups, then the group, then the user (all of real, effective and saved:
    /// setgid/setuid as root set all three); then proves it: the ids are the target's, the
    /// only group is `gid`, and neither root's uid nor its gid can be taken back.
    pub fn drop_to(uid: u32, gid: u32) -> io::Result<()> {
        let groups = [gid as libc::gid_t];
        // SAFETY: a valid pointer to one gid_t, and its length.
        check(unsafe { libc::setgroups(1, groups.as_ptr()) }, "setgroups")?;
        // SAFETY: plain integer arguments.
        check(unsafe { libc::setgid(gid) }, "setgid")?;
        // SAFETY: plain integer arguments.
        check(unsafe { libc::setuid(uid) }, "setuid")?;
        // SAFETY: no arguments, cannot fail.
        let ids = unsafe {
            (
                libc::getuid(),
                libc::geteuid(),
                libc::getgid(),
                libc::getegid(),
            )
        };
        if ids != (uid, uid, gid, gid) {
            return Err(io::Error::other(format!(
                "after the drop the ids are uid {}/{} gid {}/{}",
                ids.0, ids.1, ids.2, ids.3
            )));
        }
        let mut now = [0 as libc::gid_t; 8];
        // SAFETY: a valid buffer and its length; the kernel writes at most that many.
        let n = unsafe { libc::getgroups(now.len() as libc::c_int, now.as_mut_ptr()) };
        let extra = usize::try_from(n)
            .ok()
            .and_then(|n| now.get(..n))
            .is_none_or(|g| g.iter().any(|g| *g != gid));
        if extra {
            return Err(io::Error::other(
                "supplementary groups remain after the drop",
            ));
        }
        // SAFETY: plain integer arguments; success would be the failure.
        let regained = unsafe { libc::setuid(0) == 0 || libc::setgid(0) == 0 };
        if regained {
            return Err(io::Error::other("root could be regained after the drop"));
        }
        Ok(())
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

    #[test]
    fn only_root_drops_unless_told_not_to() {
        assert_eq!(
            decide(0, true, (65534, 65534)),
            Decision::Drop {
                uid: 65534,
                gid: 65534
            }
        );
        assert_eq!(decide(0, false, (65534, 65534)), Decision::KeepRoot);
        assert_eq!(decide(65532, true, (65534, 65534)), Decision::NotRoot);
        assert_eq!(decide(1000, false, (65534, 65534)), Decision::NotRoot);
    }

    fn dir(owner: u32, mode: u32, entries: &[(&str, u32)]) -> DirFacts {
        DirFacts::Dir {
            owner,
            group: owner,
            mode,
            entries: entries
                .iter()
                .map(|(n, o)| Entry {
                    name: (*n).into(),
                    owner: *o,
                })
                .collect(),
        }
    }

    #[test]
    fn the_state_dir_is_created_taken_over_or_refused() {
        let p = Path::new("/var/lib/ddflare");
        let plan = |f: &DirFacts| plan_state_dir(p, f, 65534, 65534);
        assert_eq!(plan(&DirFacts::Missing), DirPlan::Create);
        assert_eq!(
            plan(&dir(65534, 0o700, &[("state.json", 65534)])),
            DirPlan::Ready
        );
        // Root's, with only ddflare's files (an earlier run as root): taken over.
        assert_eq!(
            plan(&dir(
                0,
                0o755,
                &[("state.json", 0), ("heartbeat", 0), (".state.json.tmp", 0)]
            )),
            DirPlan::TakeOver {
                dir: true,
                files: vec![
                    "state.json".into(),
                    "heartbeat".into(),
                    ".state.json.tmp".into()
                ]
            }
        );
        assert_eq!(
            plan(&dir(0, 0o755, &[])),
            DirPlan::TakeOver {
                dir: true,
                files: vec![]
            }
        );
        // The target's dir with root's files left in it: those files.
        assert_eq!(
            plan(&dir(65534, 0o700, &[("token-check.json", 0), ("notes", 0)])),
            DirPlan::TakeOver {
                dir: false,
                files: vec!["token-check.json".into()]
            }
        );
        // Root's with anything else: never taken (state.dir = "/var/lib" must not be given away).
        let DirPlan::Refuse(msg, hint) = plan(&dir(
            0,
            0o755,
            &[
                ("state.json", 0),
                ("dpkg", 0),
                ("apt", 0),
                ("x", 0),
                ("y", 0),
            ],
        )) else {
            panic!("took over a shared directory")
        };
        assert!(msg.contains("`/var/lib/ddflare` belongs to root"), "{msg}");
        assert!(msg.contains("`dpkg`, `apt`, `x`, and 1 more"), "{msg}");
        assert!(
            hint.contains("chown -R 65534:65534 /var/lib/ddflare"),
            "{hint}"
        );
        assert!(hint.contains("DDFLARE_STATE_DIR"), "{hint}");
        // Someone else's: usable only when writable for the target.
        assert_eq!(plan(&dir(1000, 0o777, &[])), DirPlan::Ready);
        let DirPlan::Refuse(msg, hint) = plan(&dir(1000, 0o755, &[])) else {
            panic!("accepted a dir the target cannot write")
        };
        assert!(
            msg.contains("belongs to uid 1000") && msg.contains("(mode 755)"),
            "{msg}"
        );
        assert!(
            hint.contains("chown -R 65534:65534") && hint.contains("\"1000:1000\""),
            "{hint}"
        );
        assert!(matches!(
            plan(&DirFacts::NotADirectory),
            DirPlan::Refuse(..)
        ));
    }

    #[test]
    fn a_shared_dir_is_never_taken_over() {
        let p = Path::new("/state");
        // emptyDir (root, 0777), even holding only ddflare's files: left as is, the target
        // makes its own subdirectory there.
        assert_eq!(
            plan_state_dir(p, &dir(0, 0o777, &[("state.json", 0)]), 65534, 65534),
            DirPlan::Ready
        );
        // fsGroup volume: root's, group-writable with setgid, group = the target's group.
        let fs_group = DirFacts::Dir {
            owner: 0,
            group: 2000,
            mode: 0o2775,
            entries: vec![],
        };
        assert_eq!(plan_state_dir(p, &fs_group, 1000, 2000), DirPlan::Ready);
        assert!(matches!(
            plan_state_dir(p, &fs_group, 1000, 3000),
            DirPlan::Refuse(..)
        ));
    }

    #[test]
    fn a_closed_ancestor_is_named() {
        let a = |p: &str, owner: u32, mode: u32| (PathBuf::from(p), owner, owner, mode);
        let path = [
            a("/", 0, 0o755),
            a("/tmp", 0, 0o1777),
            a("/tmp/work", 0, 0o700),
        ];
        assert_eq!(
            blocked_ancestor(&path, 65534, 65534),
            Some((Path::new("/tmp/work"), 0o700))
        );
        let open = [a("/", 0, 0o755), a("/tmp/work", 0, 0o711)];
        assert_eq!(blocked_ancestor(&open, 65534, 65534), None);
        let own = [a("/", 0, 0o755), a("/home/me", 1000, 0o700)];
        assert_eq!(blocked_ancestor(&own, 1000, 1000), None);
    }

    #[test]
    fn only_ddflares_files_are_its_own() {
        for f in [
            "state.json",
            ".state.json.tmp",
            "heartbeat",
            ".heartbeat.tmp",
            "token-check.json",
            ".token-check.json.tmp",
            ".state.json.0123456789abcdef.tmp",
        ] {
            assert!(is_own_file(f), "{f}");
        }
        for f in ["state.json.bak", "passwd", ".state.json", "heartbeat.tmp"] {
            assert!(!is_own_file(f), "{f}");
        }
    }
}
