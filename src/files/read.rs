//! The one reader: open without blocking, check what was opened, cap the size, bound the time.
//!
//! What is bounded how:
//! - A FIFO (or a device, a socket) would block the open (until a writer comes) or the read
//!   (for ever): the open is `O_NONBLOCK`, and `fstat` on the opened descriptor refuses
//!   anything but a regular file before a single byte is read. This is the case that hung
//!   ddflare; it is caught without waiting at all.
//! - A regular file's size is checked on the descriptor before reading, and the read stops at
//!   the cap + 1 byte (a file that grows meanwhile is refused too): memory is bounded.
//! - A regular file on a local disk cannot block for ever, but a stalled network or FUSE file
//!   system can block the open or a read in the kernel. The work runs on a helper thread and
//!   the caller waits at most [`LIMIT`]; a helper still stuck then is left behind, and after
//!   [`MAX_STUCK`] of them reads are refused at once, so a dead mount costs a few threads,
//!   not one per round.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::error::FileError;
use super::kind::Kind;

/// How long a caller waits for one read.
pub const LIMIT: Duration = Duration::from_secs(5);
/// Helpers still stuck after [`LIMIT`] beyond which reads are refused at once.
const MAX_STUCK: usize = 4;
static STUCK: AtomicUsize = AtomicUsize::new(0);

/// PURE: what a file type is, for a message.
fn describe(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading without blocking and checks that it is a regular file within the
/// cap. Config and secret files may be links (followed); state files may not.
fn open(path: &Path, kind: Kind) -> Result<(File, Metadata), FileError> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // NONBLOCK: a FIFO's open returns at once; NOCTTY: a terminal never becomes ours.
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
        if kind.in_state_dir() {
            flags |= libc::O_NOFOLLOW;
        }
        opts.custom_flags(flags);
    }
    let owned = || path.to_owned();
    let file = opts.open(path).map_err(|e| {
        #[cfg(unix)]
        {
            if kind.in_state_dir() && e.raw_os_error() == Some(libc::ELOOP) {
                return FileError::Symlink {
                    kind,
                    path: owned(),
                };
            }
            // ENXIO: a socket, or a device without a driver.
            if e.raw_os_error() == Some(libc::ENXIO)
                && let Ok(m) = std::fs::metadata(path)
            {
                return FileError::NotRegular {
                    kind,
                    path: owned(),
                    found: describe(m.file_type()),
                };
            }
        }
        if e.kind() == std::io::ErrorKind::NotFound {
            FileError::NotFound {
                kind,
                path: owned(),
                source: e,
            }
        } else {
            FileError::Io {
                kind,
                path: owned(),
                doing: "open",
                source: e,
            }
        }
    })?;
    let meta = file.metadata().map_err(|e| FileError::Io {
        kind,
        path: owned(),
        doing: "inspect",
        source: e,
    })?;
    if !meta.file_type().is_file() {
        return Err(FileError::NotRegular {
            kind,
            path: owned(),
            found: describe(meta.file_type()),
        });
    }
    if meta.len() > kind.cap() {
        return Err(FileError::TooLarge {
            kind,
            path: owned(),
            len: meta.len(),
        });
    }
    Ok((file, meta))
}

/// Checks without reading that `path` is a regular file of at most `kind`'s cap (a config
/// check of a path used later).
pub fn check(path: &Path, kind: Kind) -> Result<(), FileError> {
    open(path, kind).map(|_| ())
}

/// Opens and reads, on the calling thread.
pub(super) fn read_now(path: &Path, kind: Kind) -> Result<(Vec<u8>, Metadata), FileError> {
    let (file, meta) = open(path, kind)?;
    let cap = kind.cap();
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| FileError::Io {
            kind,
            path: path.to_owned(),
            doing: "read",
            source: e,
        })?;
    if buf.len() as u64 > cap {
        return Err(FileError::TooLarge {
            kind,
            path: path.to_owned(),
            len: buf.len() as u64,
        });
    }
    Ok((buf, meta))
}

/// Reads the whole of `path`, a regular file of at most `kind`'s cap, within [`LIMIT`].
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, FileError> {
    read_meta(path, kind).map(|(bytes, _)| bytes)
}

/// What a helper hands its caller: nothing yet, the result, or word that the caller left.
/// A mutex and a condition variable rather than a channel: std's channel links three queue
/// flavours (~7 KB of the static binary) for one value.
enum Handoff {
    Running,
    Done(Result<(Vec<u8>, Metadata), FileError>),
    Abandoned,
}

type Shared = Arc<(Mutex<Handoff>, Condvar)>;

fn lock(shared: &Shared) -> MutexGuard<'_, Handoff> {
    shared.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`read`], with the metadata of what was read.
pub(super) fn read_meta(path: &Path, kind: Kind) -> Result<(Vec<u8>, Metadata), FileError> {
    let stuck = STUCK.load(Ordering::SeqCst);
    if stuck >= MAX_STUCK {
        return Err(FileError::Stalled {
            kind,
            path: path.to_owned(),
            stuck,
        });
    }
    let owned: PathBuf = path.to_owned();
    match handoff(LIMIT, move || read_now(&owned, kind)) {
        Some(result) => result,
        None => Err(FileError::TimedOut {
            kind,
            path: path.to_owned(),
            after: LIMIT,
        }),
    }
}

/// Runs `work` on a helper thread and waits for it at most `limit`: `None` when the helper
/// was left behind (counted in [`STUCK`] until it ends). Without a thread to spare, `work`
/// runs here, without the time bound (the FIFO case is still caught before any read).
fn handoff(
    limit: Duration,
    work: impl Fn() -> Result<(Vec<u8>, Metadata), FileError> + Send + Sync + 'static,
) -> Option<Result<(Vec<u8>, Metadata), FileError>> {
    let shared: Shared = Arc::new((Mutex::new(Handoff::Running), Condvar::new()));
    let helper = shared.clone();
    let work = Arc::new(work);
    let in_helper = work.clone();
    let spawned = std::thread::Builder::new()
        .name("ddflare-read".into())
        .spawn(move || {
            let result = in_helper();
            let mut slot = lock(&helper);
            if matches!(*slot, Handoff::Abandoned) {
                // The caller gave up on this helper and counted it as stuck.
                STUCK.fetch_sub(1, Ordering::SeqCst);
            } else {
                *slot = Handoff::Done(result);
                helper.1.notify_one();
            }
        });
    if spawned.is_err() {
        return Some(work());
    }
    let slot = lock(&shared);
    let (mut slot, _) = shared
        .1
        .wait_timeout_while(slot, limit, |h| matches!(h, Handoff::Running))
        .unwrap_or_else(PoisonError::into_inner);
    if let Handoff::Done(result) = std::mem::replace(&mut *slot, Handoff::Abandoned) {
        return Some(result);
    }
    // Counted under the lock, so that the helper's decrement never comes first.
    STUCK.fetch_add(1, Ordering::SeqCst);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    #[test]
    fn a_helper_too_slow_is_left_behind_and_counted_until_it_ends() {
        let meta = || std::fs::metadata("/").unwrap();
        let fast = handoff(Duration::from_secs(5), move || Ok((b"x".to_vec(), meta())));
        assert_eq!(fast.unwrap().unwrap().0, b"x");
        let before = STUCK.load(Ordering::SeqCst);
        let slow = handoff(Duration::from_millis(20), move || {
            std::thread::sleep(Duration::from_millis(300));
            Ok((Vec::new(), meta()))
        });
        assert!(slow.is_none());
        assert!(STUCK.load(Ordering::SeqCst) > before);
        for _ in 0..500 {
            if STUCK.load(Ordering::SeqCst) == before {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(STUCK.load(Ordering::SeqCst), before);
    }

    #[test]
    fn a_fifo_is_refused_at_once_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        for kind in [Kind::Config, Kind::Secret, Kind::State, Kind::AddressFile] {
            let e = read(&fifo, kind).unwrap_err();
            assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
            assert!(e.to_string().contains("is a FIFO (named pipe)"), "{e}");
            assert!(!e.hint().is_empty());
        }
        let e = read(dir.path(), Kind::CaBundle).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        assert!(e.hint().contains("cloudflare.ca_file"), "{}", e.hint());
        let e = read(Path::new("/dev/null"), Kind::Config).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
    }

    #[test]
    fn the_cap_is_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let f = File::create(&path).unwrap();
        f.set_len(Kind::State.cap() + 1).unwrap();
        let e = read(&path, Kind::State).unwrap_err();
        assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
        f.set_len(Kind::State.cap()).unwrap();
        assert_eq!(
            read(&path, Kind::State).unwrap().len() as u64,
            Kind::State.cap()
        );
    }

    #[test]
    fn links_are_followed_for_config_and_secrets_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("..data-token");
        std::fs::write(&target, "secret\n").unwrap();
        let link = dir.path().join("token");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, Kind::Secret).unwrap(), b"secret\n");
        assert_eq!(read(&link, Kind::Config).unwrap(), b"secret\n");
        let e = read(&link, Kind::State).unwrap_err();
        assert!(matches!(e, FileError::Symlink { .. }), "{e}");
        let missing = read(&dir.path().join("nope"), Kind::Heartbeat).unwrap_err();
        assert!(missing.is_not_found());
    }
}
