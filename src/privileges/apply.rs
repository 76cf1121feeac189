//! The drop itself: the PURE [`decide`], then [`apply`], which resolves the target, prepares
//! the state dir and drops root through `sys`.

use std::path::Path;

use super::error::PrivilegeError;
#[cfg(unix)]
use super::error::unmapped;
#[cfg(unix)]
use super::state_dir::prepare_state_dir;
#[cfg(unix)]
use super::sys;
use super::user::ProcessConfig;
#[cfg(unix)]
use super::user::{NOBODY, resolve};

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

/// What [`apply`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    NotRoot,
    KeptRoot,
    Dropped { uid: u32, gid: u32 },
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
