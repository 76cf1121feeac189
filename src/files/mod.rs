//! Every file ddflare reads or writes on its own account, through one reader and one writer.
//! A leaf: it imports nothing of the crate.
//!
//! - [`read`] opens without blocking (a FIFO's open waits for a writer), checks on the opened
//!   descriptor that it is a regular file (a FIFO, a device or a directory is refused and
//!   named), refuses anything larger than its [`Kind`]'s cap before reading a byte, and gives
//!   up after [`read::LIMIT`]. Config and secret files may be symlinks (Kubernetes mounts a
//!   secret as `token → ..data/token`); the files of the state dir never are.
//! - [`write_atomic`] writes through a temporary file created exclusively under an
//!   unpredictable name, never through a link, then renames it over the final name (which
//!   replaces a link there, never writes through it).
//! - The state dir ([`state_dir`]): in a dir that others may write into, ddflare keeps its
//!   files in a 0700 subdirectory of its own ([`state_dir::plan`], PURE); [`read_state`],
//!   [`write_state`] and [`remove_state`] apply that rule for every file of the state dir.

mod error;
mod kind;
mod read;
pub mod state_dir;
mod write;

pub use error::{FileError, shown};
pub use kind::Kind;
pub use read::{LIMIT, check, read};
pub use state_dir::{PRIVATE, read_state, remove_state, state_file, write_state};
pub use write::{is_temp_of, write_atomic};
