//! The state dir, made usable by the target before root is dropped: the facts gathered from
//! the file system, the PURE plan ([`plan_state_dir`], [`blocked_ancestor`]) and carrying it
//! out as root, also for the private subdirectory of a shared dir (`files::state_dir`).

use std::io;
use std::path::{Path, PathBuf};

use super::error::PrivilegeError;
#[cfg(unix)]
use super::error::unmapped;
#[cfg(unix)]
use super::sys;

/// The files ddflare writes in its state dir (and their temporary twins), the only ones it
/// takes over.
pub fn is_own_file(name: &str) -> bool {
    const OWN: [&str; 4] = [
        crate::state::FILE_NAME,
        crate::health::FILE_NAME,
        crate::expiry::FILE_NAME,
        crate::history::FILE_NAME,
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

/// What the state dir looks like, gathered by [`apply`](super::apply::apply).
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
pub(super) fn prepare_state_dir(dir: &Path, uid: u32, gid: u32) -> Result<(), PrivilegeError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "history.json",
            ".state.json.0123456789abcdef.tmp",
        ] {
            assert!(is_own_file(f), "{f}");
        }
        for f in ["state.json.bak", "passwd", ".state.json", "heartbeat.tmp"] {
            assert!(!is_own_file(f), "{f}");
        }
    }
}
