//! How a command ended, and the one place that turns it into the process's exit code: 0 ok,
//! 1 failure, 2 usage, 78 configuration error (EX_CONFIG, so systemd does not restart-loop on
//! a bad file). A [`Fatal`] error is rendered here, at the edge, with its hint.

use std::net::SocketAddr;

use tracing::error;

use crate::config::ConfigError;
use crate::http::HttpSetupError;
use crate::privileges::PrivilegeError;

pub const EX_OK: u8 = 0;
pub const EX_FAILURE: u8 = 1;
pub const EX_USAGE: u8 = 2;
pub const EX_CONFIG: u8 = 78;

/// A command that ran to its end: whether what it did or checked succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Failed,
}

impl From<bool> for Verdict {
    fn from(ok: bool) -> Verdict {
        if ok { Verdict::Ok } else { Verdict::Failed }
    }
}

/// Why a command could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("`cloudflare.ca_file`: {0}")]
    CaFile(HttpSetupError),
    #[error("{0}")]
    Setup(HttpSetupError),
    #[error("{0}")]
    Proxy(HttpSetupError),
    #[error("{0}")]
    Privileges(#[from] PrivilegeError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot install the SIGTERM/SIGINT/SIGHUP handlers: {0}")]
    Signals(std::io::Error),
    #[error("metrics: cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
}

impl Fatal {
    /// The next step, when there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Fatal::Privileges(e) => Some(e.hint()),
            Fatal::Proxy(_) => Some(
                "set the variable to http://[USER:PASSWORD@]HOST:PORT (or https://), or unset it to connect directly",
            ),
            _ => None,
        }
    }

    /// The exit code: the configuration's fault (78) or a failure (1).
    pub fn code(&self) -> u8 {
        match self {
            Fatal::Config(_) | Fatal::CaFile(_) | Fatal::Proxy(_) | Fatal::Privileges(_) => {
                EX_CONFIG
            }
            Fatal::Setup(_) | Fatal::Runtime(_) | Fatal::Signals(_) | Fatal::Listen { .. } => {
                EX_FAILURE
            }
        }
    }
}

/// Logs a fatal error with its hint (logging is up).
pub fn log(e: &Fatal) {
    match e.hint() {
        Some(hint) => error!("{e}\nhint: {hint}"),
        None => error!("{e}"),
    }
}

/// The exit code of a command's result, logging a fatal error.
pub fn code(result: Result<Verdict, Fatal>) -> u8 {
    match result {
        Ok(Verdict::Ok) => EX_OK,
        Ok(Verdict::Failed) => EX_FAILURE,
        Err(e) => {
            log(&e);
            e.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_whose_fault_it_is() {
        assert_eq!(code(Ok(Verdict::Ok)), EX_OK);
        assert_eq!(code(Ok(Verdict::Failed)), EX_FAILURE);
        let refused = PrivilegeError::new("cannot become 1:1".into(), "set user".into());
        assert_eq!(code(Err(refused.into())), EX_CONFIG);
        let runtime = Fatal::Runtime(std::io::Error::other("no"));
        assert_eq!(code(Err(runtime)), EX_FAILURE);
    }
}
