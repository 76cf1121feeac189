//! `[push]`'s settings, filled by `config/`, and the message a push sends the loop.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;

use tokio::sync::oneshot;

use crate::detect::{Cidr, Detected, Family};
use crate::round::RoundReport;
use crate::secret::Secret;

/// `[push]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PushConfig {
    /// `listen`: plain HTTP; TLS belongs to a reverse proxy in front.
    pub listen: SocketAddr,
    /// `trusted_proxies`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
    /// `[[push.client]]`.
    pub clients: Vec<PushClient>,
}

/// One `[[push.client]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PushClient {
    pub user: String,
    pub password: Password,
    /// The record names (ASCII, lowercase) this client may update.
    pub hostnames: Vec<String>,
}

/// A client's password: the text of `password_file`, or `password_hash` (Django's
/// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, verified with ring's PBKDF2, which the
/// binary already carries for TLS).
#[derive(Clone, PartialEq)]
pub enum Password {
    Plain(Secret),
    Pbkdf2 {
        iterations: NonZeroU32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Password::Plain(_) => f.write_str("Password::Plain([redacted])"),
            Password::Pbkdf2 { iterations, .. } => {
                write!(f, "Password::Pbkdf2({iterations} iterations, [redacted])")
            }
        }
    }
}

/// A push for the loop: the names to reconcile with these addresses, and where to send what
/// the reconciliation did (`None`: it could not run, e.g. the round's deadline passed).
#[derive(Debug)]
pub struct Pushed {
    pub names: Vec<String>,
    pub addrs: BTreeMap<Family, Detected>,
    pub reply: oneshot::Sender<Option<RoundReport>>,
}
