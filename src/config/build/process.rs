//! `[process]`: who to become when started as root, and whether to drop root at all.

use super::super::context::{Ctx, Src, env_bool};
use super::super::env::{self, Overrides};
use super::super::error::ConfigError;
use super::super::raw::RawProcess;
use super::super::values::Problem;
use crate::privileges::{self, ProcessConfig, RunAs};

/// `[process]`: `user` (or DDFLARE_USER) and `drop_privileges` (or DDFLARE_DROP_PRIVILEGES).
pub(super) fn build(
    raw: &RawProcess,
    env: &Overrides,
    ctx: &mut Ctx<'_>,
) -> Result<ProcessConfig, ConfigError> {
    let (given, src) = match (&env.user, &raw.user) {
        (Some(v), _) => (Some(v.value.as_str()), Src::env(v.name)),
        (None, Some(s)) => (
            Some(s.get_ref().as_str()),
            Src::file("process.user", s.span()),
        ),
        (None, None) => (None, Src::env(env::USER)),
    };
    let user = match given {
        None => RunAs::default(),
        Some(g) => privileges::parse_user(g)
            .map_err(|e| ctx.err(&src, Problem::new(e.to_string()).hint(e.hint().to_owned())))?,
    };
    let drop_privileges = match (&env.drop_privileges, &raw.drop_privileges) {
        (Some(v), _) => env_bool(ctx, v)?,
        (None, Some(s)) => *s.get_ref(),
        (None, None) => true,
    };
    if !drop_privileges && given.is_some() {
        ctx.warn(
            &src,
            "has no effect: drop_privileges is false, so ddflare keeps the user it is started as",
            None,
        );
    }
    Ok(ProcessConfig {
        user,
        drop_privileges,
    })
}
