//! The libc calls, each checked. Nothing else in ddflare is `unsafe`.

use std::io;

/// The kernel's answer to ids it cannot map (chown, setgroups, setgid, setuid).
pub fn is_invalid_id(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINVAL)
}

pub fn geteuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::geteuid() }
}

fn check(rc: libc::c_int, what: &str) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        if is_invalid_id(&e) {
            return Err(e);
        }
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// Supplementary groups, then the group, then the user (all of real, effective and saved:
/// setgid/setuid as root set all three); then proves it: the ids are the target's, the
/// only group is `gid`, and neither root's uid nor its gid can be taken back.
pub fn drop_to(uid: u32, gid: u32) -> io::Result<()> {
    let groups = [gid as libc::gid_t];
    // SAFETY: a valid pointer to one gid_t, and its length.
    check(unsafe { libc::setgroups(1, groups.as_ptr()) }, "setgroups")?;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::setgid(gid) }, "setgid")?;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::setuid(uid) }, "setuid")?;
    // SAFETY: no arguments, cannot fail.
    let ids = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    if ids != (uid, uid, gid, gid) {
        return Err(io::Error::other(format!(
            "after the drop the ids are uid {}/{} gid {}/{}",
            ids.0, ids.1, ids.2, ids.3
        )));
    }
    let mut now = [0 as libc::gid_t; 8];
    // SAFETY: a valid buffer and its length; the kernel writes at most that many.
    let n = unsafe { libc::getgroups(now.len() as libc::c_int, now.as_mut_ptr()) };
    let extra = usize::try_from(n)
        .ok()
        .and_then(|n| now.get(..n))
        .is_none_or(|g| g.iter().any(|g| *g != gid));
    if extra {
        return Err(io::Error::other(
            "supplementary groups remain after the drop",
        ));
    }
    // SAFETY: plain integer arguments; success would be the failure.
    let regained = unsafe { libc::setuid(0) == 0 || libc::setgid(0) == 0 };
    if regained {
        return Err(io::Error::other("root could be regained after the drop"));
    }
    Ok(())
}
