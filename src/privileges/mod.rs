//! Dropping root. When ddflare starts as root (a container run without `--user`, a router), it
//! becomes an unprivileged user before any network I/O: after the config and secret files are
//! read (they may be root-only), before the state dir is written. Default 65534:65534
//! (nobody/nogroup); `[process] user` (or `DDFLARE_USER`) names another, as `"uid:gid"` or a
//! name from `/etc/passwd`; `drop_privileges = false` (or `--no-drop-privileges`,
//! `DDFLARE_DROP_PRIVILEGES=false`) keeps root. Under systemd (`DynamicUser=`) or in the image
//! (`USER 65532`) ddflare is not root and nothing happens.
//!
//! The decisions are PURE ([`parse_user`], [`lookup`], [`decide`], [`plan_state_dir`],
//! [`blocked_ancestor`]); [`apply()`] gathers the facts, applies the plan, then drops:
//! supplementary groups, then the group, then the user, and checks that root cannot be
//! regained. The only `unsafe` of ddflare is the few libc calls in `sys`.
//!
//! One file per job, data flowing one way: `apply` (the decision and the drop) calls
//! `user` (who to become), `state_dir` (making the state dir the target's) and `sys` (the
//! libc calls); `error` is the leaf they share.

mod apply;
mod error;
mod state_dir;
#[cfg(unix)]
#[allow(unsafe_code)]
mod sys;
mod user;

pub use apply::{Decision, Outcome, apply, decide};
pub use error::PrivilegeError;
pub use state_dir::{DirFacts, DirPlan, Entry, blocked_ancestor, is_own_file, plan_state_dir};
pub use user::{NOBODY, ProcessConfig, RunAs, lookup, parse_user};
