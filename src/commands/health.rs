//! `ddflare health`: healthy while the daemon's last successful round is recent enough (a
//! container's HEALTHCHECK, a Kubernetes exec probe). The rules are in `crate::health`.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::exit::Verdict;
use super::out::say;
use crate::health::{judge, read, show};

pub fn health(state_dir: &Path, max_age: Duration) -> Verdict {
    match judge(read(state_dir), SystemTime::now(), max_age) {
        Ok(age) => {
            say!(
                "healthy: the last successful round was {} ago (allowed: {})",
                show(age),
                show(max_age)
            );
            Verdict::Ok
        }
        Err(why) => {
            say!("unhealthy: {why}");
            Verdict::Failed
        }
    }
}
