//! Where the files of the state dir live. A dir that someone else may create files in (group-
//! or world-writable, such as a Kubernetes `emptyDir` (0777) or an `fsGroup` volume (2775), or
//! one owned by another user) could hold a `state.json` planted by that someone (and with it
//! the record ids `delete_on_stop` deletes): there ddflare keeps its files in [`PRIVATE`], a
//! 0700 subdirectory it creates and owns. The rule is [`plan`] (PURE); [`read_state`],
//! [`write_state`] and [`remove_state`] apply it for every file of the state dir.
//!
//! Upgrades are not outages: a file an older ddflare left in the dir itself is still read
//! (when it is ddflare's: see [`trust_legacy`]) until the first write puts the new one in the
//! subdirectory and removes the old.
//!
//! The subdirectory is opened once per operation (`O_DIRECTORY|O_NOFOLLOW`) and checked on
//! the descriptor; files are then reached through `/proc/self/fd/N/`, so a subdirectory
//! renamed away and replaced by a link after the check is not followed. Without `/proc` the
//! path is used (the check still refuses a link or someone else's directory).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::error::{FileError, shown};
use super::kind::Kind;
use super::read::read_meta;
use super::write::write_atomic;

/// The private subdirectory's name.
pub const PRIVATE: &str = "ddflare";

/// Owner and permission bits of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub mode: u32,
}

/// What is at [`PRIVATE`] in the state dir (never following a link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    Missing,
    Dir(Owner),
    /// A link, a file, anything else.
    Other,
}

/// Where the files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// In the dir itself: only ddflare's user (or root) can create files there.
    Here,
    /// In [`PRIVATE`], which is to be created when `create`.
    Private {
        create: bool,
    },
    Refuse {
        message: String,
        hint: String,
    },
}

/// PURE: whether a user other than `uid` and root may create files in a dir owned by `owner`
/// with `mode`. The sticky bit does not help: it protects files, not free names.
pub fn shared(dir: Owner, uid: u32) -> bool {
    dir.mode & 0o022 != 0 || (dir.uid != uid && dir.uid != 0)
}

/// PURE: where ddflare, running as `uid`, keeps its files in the state dir `dir` (`None`:
/// missing; it is created 0700, which is [`Plan::Here`]).
pub fn plan(dir: &Path, facts: Option<Owner>, sub: Sub, uid: u32) -> Plan {
    let Some(facts) = facts else {
        return Plan::Here;
    };
    if !shared(facts, uid) {
        return Plan::Here;
    }
    let private = dir.join(PRIVATE);
    let fix = "point state.dir (or DDFLARE_STATE_DIR) at a directory of ddflare's own";
    match sub {
        Sub::Missing => Plan::Private { create: true },
        Sub::Dir(o) if o.uid == uid && o.mode & 0o022 == 0 => Plan::Private { create: false },
        Sub::Dir(o) if o.uid == uid => Plan::Refuse {
            message: format!(
                "the private state dir `{}` may be written by others (mode {:03o})",
                shown(&private),
                o.mode & 0o777
            ),
            hint: format!("run `chmod 700 {}`", shown(&private)),
        },
        Sub::Dir(o) => Plan::Refuse {
            message: format!(
                "the state dir `{}` is shared, and its private subdirectory `{}` belongs to uid {}, not to uid {uid} that ddflare runs as",
                shown(dir),
                shown(&private),
                o.uid
            ),
            hint: format!(
                "run ddflare as uid {} again, or remove `{}` (or `chown -R {uid} {}` it), or {fix}",
                o.uid,
                shown(&private),
                shown(&private)
            ),
        },
        Sub::Other => Plan::Refuse {
            message: format!(
                "the state dir `{}` is shared, and `{}` is not a directory ddflare made (a link or a file)",
                shown(dir),
                shown(&private)
            ),
            hint: format!("remove `{}`, or {fix}", shown(&private)),
        },
    }
}

/// PURE: whether a file an older ddflare may have left in the dir itself (`file_uid`) is
/// ddflare's: its own, or the owner's of a dir no one else may write into.
pub fn trust_legacy(file_uid: u32, dir: Owner, uid: u32) -> bool {
    file_uid == uid || (file_uid == dir.uid && dir.mode & 0o022 == 0)
}

/// The effective uid, without `unsafe`: a new pipe belongs to it.
#[cfg(unix)]
fn euid() -> io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let (r, _w) = io::pipe()?;
    let fd: std::os::fd::OwnedFd = r.into();
    Ok(File::from(fd).metadata()?.uid())
}

#[cfg(unix)]
fn owner_of(meta: &std::fs::Metadata) -> Owner {
    use std::os::unix::fs::MetadataExt;
    Owner {
        uid: meta.uid(),
        mode: meta.mode() & 0o7777,
    }
}

/// Where the files are, for one operation.
enum Located {
    Here,
    /// The subdirectory, opened and checked; `base` reaches it through the descriptor.
    Private {
        _fd: File,
        base: PathBuf,
        legacy: Owner,
        uid: u32,
    },
    /// Shared, and no subdirectory yet (reading only).
    NoPrivate {
        legacy: Owner,
        uid: u32,
    },
}

impl Located {
    fn base<'a>(&'a self, dir: &'a Path) -> &'a Path {
        match self {
            Located::Private { base, .. } => base,
            _ => dir,
        }
    }
}

fn dir_error(dir: &Path, doing: &str, e: &io::Error) -> FileError {
    FileError::StateDir {
        message: format!("cannot {doing} the state dir `{}`: {e}", shown(dir)),
        hint: "check state.dir (or DDFLARE_STATE_DIR): ddflare's user must be able to write it"
            .to_owned(),
    }
}

#[cfg(unix)]
fn locate(dir: &Path, create: bool) -> Result<Located, FileError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let uid = euid().map_err(|e| dir_error(dir, "inspect", &e))?;
    let facts = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Some(owner_of(&m)),
        Ok(_) => {
            return Err(FileError::StateDir {
                message: format!("the state dir `{}` is not a directory", shown(dir)),
                hint: "point state.dir (or DDFLARE_STATE_DIR) at a directory".to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(dir_error(dir, "inspect", &e)),
    };
    let private = dir.join(PRIVATE);
    let sub = match std::fs::symlink_metadata(&private) {
        Ok(m) if m.is_dir() => Sub::Dir(owner_of(&m)),
        Ok(_) => Sub::Other,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Sub::Missing,
        Err(e) => return Err(dir_error(&private, "inspect", &e)),
    };
    let legacy = match (plan(dir, facts, sub, uid), facts) {
        (Plan::Here, None) => {
            if create {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| dir_error(dir, "create", &e))?;
            }
            return Ok(Located::Here);
        }
        (Plan::Here, Some(_)) => return Ok(Located::Here),
        (Plan::Refuse { message, hint }, _) => return Err(FileError::StateDir { message, hint }),
        (Plan::Private { create: false }, Some(f)) => f,
        (Plan::Private { create: true }, Some(f)) if !create => {
            return Ok(Located::NoPrivate { legacy: f, uid });
        }
        (Plan::Private { .. }, facts) => {
            let f = facts.unwrap_or(Owner { uid, mode: 0o700 });
            match std::fs::DirBuilder::new().mode(0o700).create(&private) {
                Ok(()) => {}
                // Made meanwhile: checked on the descriptor below.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(FileError::StateDir {
                        message: format!(
                            "the state dir `{}` may be written by others (owner uid {}, mode {:03o}), so ddflare (uid {uid}) keeps its files in `{}`, and cannot create it: {e}",
                            shown(dir),
                            f.uid,
                            f.mode & 0o7777,
                            shown(&private)
                        ),
                        hint: format!(
                            "run `chown {uid} {d} && chmod 700 {d}`, or point state.dir (or DDFLARE_STATE_DIR) at a directory of ddflare's own",
                            d = shown(dir)
                        ),
                    });
                }
            }
            f
        }
    };
    let fd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&private)
        .map_err(|e| dir_error(&private, "open", &e))?;
    let meta = fd
        .metadata()
        .map_err(|e| dir_error(&private, "inspect", &e))?;
    // Checked again on what was opened: the names may have changed since.
    if let Plan::Refuse { message, hint } = plan(dir, Some(legacy), Sub::Dir(owner_of(&meta)), uid)
    {
        return Err(FileError::StateDir { message, hint });
    }
    let base = through_fd(&fd, &meta).unwrap_or(private);
    Ok(Located::Private {
        _fd: fd,
        base,
        legacy,
        uid,
    })
}

#[cfg(not(unix))]
fn locate(dir: &Path, create: bool) -> Result<Located, FileError> {
    if create {
        std::fs::create_dir_all(dir).map_err(|e| dir_error(dir, "create", &e))?;
    }
    Ok(Located::Here)
}

/// `/proc/self/fd/N`, when it reaches the very directory `fd` is.
#[cfg(unix)]
fn through_fd(fd: &File, meta: &std::fs::Metadata) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let seen = std::fs::metadata(&path).ok()?;
    (seen.dev() == meta.dev() && seen.ino() == meta.ino()).then_some(path)
}

/// Where `name` of the state dir `dir` lives (or will): for messages.
pub fn state_file(dir: &Path, name: &str) -> PathBuf {
    #[cfg(unix)]
    if let (Ok(uid), Ok(m)) = (euid(), std::fs::metadata(dir))
        && m.is_dir()
        && shared(owner_of(&m), uid)
    {
        return dir.join(PRIVATE).join(name);
    }
    dir.join(name)
}

/// Reads `name` of the state dir `dir`.
pub fn read_state(dir: &Path, name: &str, kind: Kind) -> Result<Vec<u8>, FileError> {
    let located = locate(dir, false)?;
    let (legacy, uid) = match &located {
        Located::Here => return read_meta(&dir.join(name), kind).map(|(b, _)| b),
        Located::Private {
            base, legacy, uid, ..
        } => match read_meta(&base.join(name), kind) {
            Err(e) if e.is_not_found() => (*legacy, *uid),
            Err(e) => return Err(relabel(e, &dir.join(PRIVATE).join(name))),
            Ok((bytes, _)) => return Ok(bytes),
        },
        Located::NoPrivate { legacy, uid } => (*legacy, *uid),
    };
    read_legacy(dir, name, kind, legacy, uid)
}

/// A file in the dir itself, from before the private subdirectory.
#[cfg(unix)]
fn read_legacy(
    dir: &Path,
    name: &str,
    kind: Kind,
    facts: Owner,
    uid: u32,
) -> Result<Vec<u8>, FileError> {
    use std::os::unix::fs::MetadataExt;
    let path = dir.join(name);
    let (bytes, meta) = read_meta(&path, kind)?;
    if trust_legacy(meta.uid(), facts, uid) {
        Ok(bytes)
    } else {
        Err(FileError::StateDir {
            message: format!(
                "ignored `{}`: it belongs to uid {}, not to ddflare (uid {uid}), in a dir others may write into",
                shown(&path),
                meta.uid()
            ),
            hint: format!(
                "remove it; ddflare keeps its files in `{}`",
                shown(&dir.join(PRIVATE))
            ),
        })
    }
}

#[cfg(not(unix))]
fn read_legacy(_: &Path, _: &str, _: Kind, _: Owner, _: u32) -> Result<Vec<u8>, FileError> {
    unreachable!("no private state dir off Unix")
}

/// Names the real path instead of `/proc/self/fd/N`.
fn relabel(e: FileError, path: &Path) -> FileError {
    let path = path.to_owned();
    match e {
        FileError::NotFound { kind, source, .. } => FileError::NotFound { kind, path, source },
        FileError::Io {
            kind,
            doing,
            source,
            ..
        } => FileError::Io {
            kind,
            path,
            doing,
            source,
        },
        FileError::NotRegular { kind, found, .. } => FileError::NotRegular { kind, path, found },
        FileError::Symlink { kind, .. } => FileError::Symlink { kind, path },
        FileError::TooLarge { kind, len, .. } => FileError::TooLarge { kind, path, len },
        FileError::TimedOut { kind, after, .. } => FileError::TimedOut { kind, path, after },
        FileError::Stalled { kind, stuck, .. } => FileError::Stalled { kind, path, stuck },
        e @ FileError::StateDir { .. } => e,
    }
}

/// Writes `name` of the state dir `dir` atomically (see [`write_atomic`]), creating the dir
/// (0700) or the private subdirectory as needed; then removes the copy an older ddflare left
/// in the dir itself.
pub fn write_state(
    dir: &Path,
    name: &str,
    kind: Kind,
    data: &[u8],
    durable: bool,
) -> Result<(), FileError> {
    let located = locate(dir, true)?;
    write_atomic(located.base(dir), name, data, durable).map_err(|source| FileError::Io {
        kind,
        path: state_file(dir, name),
        doing: "write",
        source,
    })?;
    drop_legacy(dir, name, &located);
    Ok(())
}

/// Removes `name` of the state dir `dir` (and an older ddflare's copy); a missing file is fine.
pub fn remove_state(dir: &Path, name: &str, kind: Kind) -> Result<(), FileError> {
    let located = locate(dir, false)?;
    match std::fs::remove_file(located.base(dir).join(name)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(FileError::Io {
                kind,
                path: state_file(dir, name),
                doing: "remove",
                source,
            });
        }
    }
    drop_legacy(dir, name, &located);
    Ok(())
}

/// Unlinks (never following a link) the dir's own copy of `name` when it is ddflare's.
fn drop_legacy(dir: &Path, name: &str, located: &Located) {
    #[cfg(unix)]
    if let Located::Private { legacy, uid, .. } | Located::NoPrivate { legacy, uid } = located {
        use std::os::unix::fs::MetadataExt;
        let path = dir.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&path)
            && m.is_file()
            && trust_legacy(m.uid(), *legacy, *uid)
        {
            let _ = std::fs::remove_file(&path);
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, name, located);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const ME: u32 = 1000;

    fn o(uid: u32, mode: u32) -> Owner {
        Owner { uid, mode }
    }

    #[test]
    fn the_decision_table() {
        let d = Path::new("/state");
        let p = |facts, sub| plan(d, facts, sub, ME);
        // Missing: created 0700, then private.
        assert_eq!(p(None, Sub::Missing), Plan::Here);
        // Ours or root's, and no one else may write: as is.
        assert_eq!(p(Some(o(ME, 0o700)), Sub::Missing), Plan::Here);
        assert_eq!(p(Some(o(ME, 0o755)), Sub::Missing), Plan::Here);
        assert_eq!(p(Some(o(0, 0o755)), Sub::Missing), Plan::Here);
        // Kubernetes emptyDir (root, 0777), an fsGroup volume (root, 2775), /tmp (1777), a
        // group-writable dir of ours, another user's dir: the private subdirectory.
        for facts in [
            o(0, 0o777),
            o(0, 0o2775),
            o(0, 0o1777),
            o(ME, 0o775),
            o(1001, 0o755),
            o(1001, 0o700),
        ] {
            assert_eq!(
                p(Some(facts), Sub::Missing),
                Plan::Private { create: true },
                "{facts:?}"
            );
            assert_eq!(
                p(Some(facts), Sub::Dir(o(ME, 0o700))),
                Plan::Private { create: false },
                "{facts:?}"
            );
            // setgid inherited from an fsGroup volume is fine.
            assert_eq!(
                p(Some(facts), Sub::Dir(o(ME, 0o2700))),
                Plan::Private { create: false },
                "{facts:?}"
            );
            let refused = |sub| matches!(p(Some(facts), sub), Plan::Refuse { .. });
            assert!(refused(Sub::Dir(o(1001, 0o700))), "{facts:?}");
            assert!(refused(Sub::Dir(o(0, 0o700))), "{facts:?}");
            assert!(refused(Sub::Dir(o(ME, 0o777))), "{facts:?}");
            assert!(refused(Sub::Other), "{facts:?}");
        }
        // Root running in a shared dir gets its own subdirectory too.
        assert_eq!(
            plan(d, Some(o(0, 0o777)), Sub::Missing, 0),
            Plan::Private { create: true }
        );
        assert_eq!(plan(d, Some(o(0, 0o700)), Sub::Missing, 0), Plan::Here);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let Plan::Refuse { message, hint } = plan(
            Path::new("/state"),
            Some(o(0, 0o777)),
            Sub::Dir(o(1001, 0o700)),
            ME,
        ) else {
            panic!()
        };
        assert!(
            message.contains("`/state/ddflare` belongs to uid 1001"),
            "{message}"
        );
        assert!(hint.contains("DDFLARE_STATE_DIR"), "{hint}");
        let Plan::Refuse { hint, .. } = plan(Path::new("/s"), Some(o(0, 0o777)), Sub::Other, ME)
        else {
            panic!()
        };
        assert!(hint.contains("remove `/s/ddflare`"), "{hint}");
    }

    #[test]
    fn legacy_files_are_trusted_when_no_one_else_could_have_made_them() {
        assert!(trust_legacy(ME, o(0, 0o777), ME));
        assert!(!trust_legacy(1001, o(0, 0o777), ME));
        assert!(!trust_legacy(0, o(0, 0o777), ME));
        // Root reading the dir of the user it dropped to (`sudo ddflare status`).
        assert!(trust_legacy(65534, o(65534, 0o700), 0));
        assert!(!trust_legacy(65534, o(65534, 0o770), 0));
    }

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_shared_dir_gets_a_private_subdirectory_and_old_files_move_there() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        write_state(&dir, "state.json", Kind::State, b"old", true).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(state_file(&dir, "state.json"), dir.join("state.json"));
        chmod(&dir, 0o777);
        assert_eq!(
            state_file(&dir, "state.json"),
            dir.join("ddflare/state.json")
        );
        // Read from where the older version left it, without creating anything.
        assert_eq!(read_state(&dir, "state.json", Kind::State).unwrap(), b"old");
        assert!(!dir.join(PRIVATE).exists());
        write_state(&dir, "state.json", Kind::State, b"new", true).unwrap();
        assert!(!dir.join("state.json").exists());
        let sub = std::fs::symlink_metadata(dir.join(PRIVATE)).unwrap();
        assert!(sub.is_dir());
        assert_eq!(sub.permissions().mode() & 0o777, 0o700);
        assert_eq!(read_state(&dir, "state.json", Kind::State).unwrap(), b"new");
        // A file planted in the shared dir itself is never read once ours exists.
        std::fs::write(dir.join("state.json"), "planted").unwrap();
        assert_eq!(read_state(&dir, "state.json", Kind::State).unwrap(), b"new");
        remove_state(&dir, "state.json", Kind::State).unwrap();
        assert!(!dir.join(PRIVATE).join("state.json").exists());
    }

    #[test]
    fn a_link_in_place_of_the_private_subdirectory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        chmod(&dir, 0o777);
        std::os::unix::fs::symlink(&elsewhere, dir.join(PRIVATE)).unwrap();
        let e = write_state(&dir, "heartbeat", Kind::Heartbeat, b"{}", false).unwrap_err();
        assert!(
            e.to_string().contains("not a directory ddflare made"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
