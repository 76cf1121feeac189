//! The one writer of ddflare's own files: a temporary file beside the final one, created with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` (never an existing file, never through a link) under a name no
//! one can guess, mode 0600, then renamed over the final name. `rename` replaces whatever is
//! at the final name, a link included, and never writes through it.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary twin of `name`: `.state.json.5f0c…e1.tmp`.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.{:016x}.tmp", fastrand::u64(..))
}

/// PURE: whether `file` is a temporary twin of `name` (this version's or an older one's
/// fixed `.name.tmp`).
pub fn is_temp_of(file: &str, name: &str) -> bool {
    let Some(rest) = file
        .strip_prefix('.')
        .and_then(|f| f.strip_prefix(name))
        .and_then(|f| f.strip_suffix(".tmp"))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Creates a new file at a fresh temporary name in `dir`; a name taken (by a crash's leftover
/// or a planted file) is skipped, never opened.
fn create_temp(dir: &Path, name: &str) -> io::Result<(std::fs::File, PathBuf)> {
    let mut last = None;
    for _ in 0..8 {
        let tmp = dir.join(temp_name(name));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Writes `data` to `dir/name` atomically: a reader sees the old file or the new one. With
/// `durable`, the data and the rename are fsynced (a crash keeps the new file).
pub fn write_atomic(dir: &Path, name: &str, data: &[u8], durable: bool) -> io::Result<()> {
    let (mut file, tmp) = create_temp(dir, name)?;
    let written = file
        .write_all(data)
        .and_then(|()| if durable { file.sync_all() } else { Ok(()) });
    drop(file);
    let renamed = written.and_then(|()| std::fs::rename(&tmp, dir.join(name)));
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if durable && let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn a_link_at_the_final_name_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, dir.path().join("state.json")).unwrap();
        symlink(&victim, dir.path().join(".state.json.tmp")).unwrap();
        write_atomic(dir.path(), "state.json", b"{}", true).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(dir.path().join("state.json")).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(dir.path().join("state.json")).unwrap(), b"{}");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".state.json.tmp", "state.json", "victim"]);
    }

    #[test]
    fn temporary_names_are_unpredictable_and_recognised() {
        let a = temp_name("heartbeat");
        assert_ne!(a, temp_name("heartbeat"));
        assert!(is_temp_of(&a, "heartbeat"), "{a}");
        assert!(is_temp_of(".heartbeat.tmp", "heartbeat"));
        for not in [
            "heartbeat",
            ".heartbeat.x.tmp",
            ".heartbeat.0123456789abcdeg.tmp",
            ".state.json.tmp",
        ] {
            assert!(!is_temp_of(not, "heartbeat"), "{not}");
        }
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The final name is a non-empty directory: the rename fails.
        std::fs::create_dir_all(dir.path().join("state.json/x")).unwrap();
        assert!(write_atomic(dir.path(), "state.json", b"{}", false).is_err());
        let n = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(n, 1);
    }
}
