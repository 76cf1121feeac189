//! `[state]`: where the cache of records lives (`DDFLARE_STATE_DIR`, the key, systemd's
//! `$STATE_DIRECTORY`, the default, in that order) and how old it may get.

use std::path::PathBuf;

use super::super::context::{Ctx, Src, duration, positive};
use super::super::env::{self, Overrides};
use super::super::error::ConfigError;
use super::super::raw::{RawState, defaults};
use super::super::values::Problem;
use crate::state::StateConfig;

pub(super) fn build(
    st: &RawState,
    env: &Overrides,
    ctx: &Ctx<'_>,
) -> Result<StateConfig, ConfigError> {
    let dir = match (&env.state_dir, &st.dir, &env.state_directory) {
        (Some(v), _, _) => PathBuf::from(v.value.trim()),
        (None, Some(s), _) => {
            if s.get_ref().trim().is_empty() {
                return Err(ctx.err(
                    &Src::file("state.dir", s.span()),
                    Problem::new("expected a directory, found an empty string")
                        .hint(format!("remove the key to use {}", defaults::STATE_DIR)),
                ));
            }
            PathBuf::from(s.get_ref())
        }
        (None, None, Some(v)) => env::first_state_directory(&v.value)
            .map_or_else(|| PathBuf::from(defaults::STATE_DIR), PathBuf::from),
        (None, None, None) => PathBuf::from(defaults::STATE_DIR),
    };
    let max_age = duration(
        ctx,
        None,
        st.max_age.as_ref(),
        "state.max_age",
        defaults::STATE_MAX_AGE,
    )?;
    positive(ctx, &max_age)?;
    Ok(StateConfig {
        dir,
        max_age: max_age.value,
    })
}
