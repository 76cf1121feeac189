//! [`FileError`]: what went wrong with which file, and what to do about it.

use std::io;
use std::path::{Path, PathBuf};

use super::kind::Kind;

/// A path as shown in a message: control characters escaped, at most 300 characters (a path
/// comes from a config or the environment, and ends up in a log or on a terminal).
pub fn shown(path: &Path) -> String {
    crate::text::bounded(&path.display().to_string(), 300)
}

/// "64 KiB", "16 MiB": caps are powers of two.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{} `{}` does not exist ({source})", .kind.noun(), shown(.path))]
    NotFound {
        kind: Kind,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot {doing} {} `{}`: {source}", .kind.noun(), shown(.path))]
    Io {
        kind: Kind,
        path: PathBuf,
        doing: &'static str,
        source: io::Error,
    },
    #[error("{} `{}` is {found}, not a regular file", .kind.noun(), shown(.path))]
    NotRegular {
        kind: Kind,
        path: PathBuf,
        found: &'static str,
    },
    #[error("{} `{}` is a symbolic link, and ddflare follows no link in its state dir", .kind.noun(), shown(.path))]
    Symlink { kind: Kind, path: PathBuf },
    #[error("{} `{}` is larger than {} ({len} bytes)", .kind.noun(), shown(.path), size(.kind.cap()))]
    TooLarge { kind: Kind, path: PathBuf, len: u64 },
    #[error("{} `{}` could not be read within {}s: the file system does not answer", .kind.noun(), shown(.path), .after.as_secs())]
    TimedOut {
        kind: Kind,
        path: PathBuf,
        after: std::time::Duration,
    },
    #[error("{} `{}` was not read: {stuck} earlier reads are still stuck, the file system does not answer", .kind.noun(), shown(.path))]
    Stalled {
        kind: Kind,
        path: PathBuf,
        stuck: usize,
    },
    /// The state dir cannot be used as it is (see [`super::state_dir::plan`]).
    #[error("{message}")]
    StateDir { message: String, hint: String },
}

impl FileError {
    /// The file does not exist: a first start, a missing heartbeat.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::NotFound { .. })
    }

    /// What is wrong, without naming the file (for a caller that names it already).
    pub fn reason(&self) -> String {
        match self {
            FileError::NotFound { source, .. } => source.to_string(),
            FileError::Io { doing, source, .. } => format!("cannot {doing} it: {source}"),
            FileError::NotRegular { found, .. } => format!("it is {found}, not a regular file"),
            FileError::Symlink { .. } => {
                "it is a symbolic link, and ddflare follows no link in its state dir".to_owned()
            }
            FileError::TooLarge { kind, len, .. } => {
                format!("it is larger than {} ({len} bytes)", size(kind.cap()))
            }
            FileError::TimedOut { .. } | FileError::Stalled { .. } => {
                "the file system does not answer".to_owned()
            }
            FileError::StateDir { message, .. } => message.clone(),
        }
    }

    /// The I/O error kind, for callers that tell "permission denied" apart.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            FileError::NotFound { .. } => Some(io::ErrorKind::NotFound),
            FileError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            FileError::NotFound { kind, .. } => format!("check {}", kind.setting()),
            FileError::Io { kind, source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                format!(
                    "make it readable (and its directory writable, for the state dir) by the user ddflare runs as, or change {}",
                    kind.setting()
                )
            }
            FileError::Io { kind, .. } => format!("check {}", kind.setting()),
            FileError::NotRegular { kind, .. } if kind.in_state_dir() => {
                "remove it: ddflare writes this file itself, as a regular file".to_owned()
            }
            FileError::NotRegular {
                kind: Kind::AddressFile,
                ..
            } => "have the program that writes the address write a regular file (a temporary file renamed over it), not a FIFO or a device".to_owned(),
            FileError::NotRegular { kind, .. } => format!(
                "point {} at a regular file: ddflare reads it whole, which a FIFO, a device or a directory does not allow",
                kind.setting()
            ),
            FileError::Symlink { .. } => {
                "remove the link: ddflare writes this file itself and never follows a link there"
                    .to_owned()
            }
            FileError::TooLarge { kind, .. } => kind.too_large_hint().to_owned(),
            FileError::TimedOut { .. } | FileError::Stalled { .. } => {
                "check the disk or the network file system that holds it".to_owned()
            }
            FileError::StateDir { hint, .. } => hint.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_escaped_and_bounded() {
        assert_eq!(shown(Path::new("/a/b\nc\u{1b}[2J")), "/a/b\\nc\\u{1b}[2J");
        let long = "x".repeat(1000);
        assert_eq!(shown(Path::new(&long)).chars().count(), 301);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(2 << 30), "2 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
