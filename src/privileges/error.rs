//! [`PrivilegeError`]: why root could not be dropped, or why `[process] user` cannot be used,
//! with the next step; shared by the parse of `user`, the state dir and the drop.

/// Why root could not be dropped, or why `[process] user` cannot be used, with the next step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PrivilegeError {
    message: String,
    hint: String,
}

impl PrivilegeError {
    pub fn new(message: String, hint: String) -> PrivilegeError {
        PrivilegeError { message, hint }
    }

    pub fn hint(&self) -> &str {
        &self.hint
    }
}

/// EINVAL from chown or setuid: the ids do not exist here (a user namespace that maps root
/// alone, as `unshare -r` does).
#[cfg(unix)]
pub(super) fn unmapped(uid: u32, gid: u32) -> PrivilegeError {
    PrivilegeError::new(
        format!("cannot become {uid}:{gid}: those ids do not exist here (a user namespace that maps only root?)"),
        "set [process] user (DDFLARE_USER) to ids mapped in this namespace, or `drop_privileges = false`".to_owned(),
    )
}
