//! What a command prints for the user, on stdout. A reader that went away (`ddflare check |
//! head -1`) ends the command quietly with exit 0, as ripgrep and other Unix tools do, instead
//! of the panic `println!` gives on a closed pipe.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stdout; on a closed pipe the process exits quietly.
pub fn line(args: fmt::Arguments<'_>) {
    write(format_args!("{args}\n"));
}

/// Writes `args` to stdout as they are; on a closed pipe the process exits quietly.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Another failure (a full disk behind a redirect): the command goes on; its exit code
        // still says whether what it checked succeeded.
        tracing::warn!("cannot write to stdout: {e}");
    }
}

/// `println!` for a command's output: see [`line`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::out::line(format_args!($($arg)*))
    };
}

pub(crate) use say;
