//! The seams for time and chance: the wall [`Clock`] and the [`Random`] numbers behind jitter
//! and backoff, injected like any other edge so that suspends, clock steps and every random
//! wait can be tested under tokio's paused time with a fixed sequence. Also [`unix`], the one
//! conversion of a wall-clock time to Unix seconds. A leaf: it imports nothing of the crate.
//!
//! Monotonic time is tokio's (`tokio::time::Instant`, which paused time controls);
//! `std::time::Instant` is banned by `clippy.toml` for that reason.

use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock, a seam so that suspends and clock steps can be tested under paused time.
pub trait Clock: Sync {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Uniform random numbers in `[0, 1)`, for jitter and backoff.
pub trait Random: Sync {
    fn unit(&self) -> f64;
}

impl std::fmt::Debug for dyn Random + Send {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Random")
    }
}

/// The process's random numbers (fastrand's thread-local generator, seeded from the OS).
pub struct ThreadRandom;

impl Random for ThreadRandom {
    fn unit(&self) -> f64 {
        fastrand::f64()
    }
}

/// A fixed sequence, for tests: `Fixed(0.0)` always waits the shortest, `Fixed(1.0)` the
/// longest.
#[derive(Debug, Clone, Copy)]
pub struct Fixed(pub f64);

impl Random for Fixed {
    fn unit(&self) -> f64 {
        self.0
    }
}

/// Unix seconds of `t`; 0 before 1970 (a clock that is that wrong is reported elsewhere).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unix_seconds_and_before_the_epoch() {
        assert_eq!(unix(UNIX_EPOCH + Duration::from_millis(90_500)), 90);
        assert_eq!(unix(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }

    #[test]
    fn thread_random_stays_in_the_unit_interval() {
        for _ in 0..1000 {
            let r = ThreadRandom.unit();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
