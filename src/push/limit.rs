//! Failed logins per source, PURE (time is a parameter): after [`MAX_FAILURES`] within
//! [`WINDOW`], a source is answered `abuse` without a look at its password until the window
//! ends. An IPv6 source counts by its /64, which one host can fill with addresses; the table
//! is capped, the oldest entry going first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_SOURCES: usize = 4096;

#[derive(Debug, Default)]
pub struct Limiter {
    /// Failures and the time of the first in the current window, by source.
    failures: HashMap<IpAddr, (u32, Instant)>,
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !0u128 << 64).into()),
        v4 => v4,
    }
}

impl Limiter {
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> bool {
        self.failures
            .get(&key(ip))
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && now.duration_since(*since) < WINDOW)
    }

    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        if self.failures.len() >= MAX_SOURCES && !self.failures.contains_key(&key(ip)) {
            self.failures
                .retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
            if self.failures.len() >= MAX_SOURCES
                && let Some(oldest) = self
                    .failures
                    .iter()
                    .min_by_key(|(_, v)| v.1)
                    .map(|(k, _)| *k)
            {
                self.failures.remove(&oldest);
            }
        }
        let entry = self.failures.entry(key(ip)).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    pub fn succeeded(&mut self, ip: IpAddr) {
        self.failures.remove(&key(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_source_is_blocked_after_five_failures_until_the_window_ends() {
        let mut l = Limiter::default();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(!l.blocked(a, t0));
            l.failed(a, t0);
        }
        assert!(l.blocked(a, t0));
        assert!(!l.blocked(other, t0));
        assert!(l.blocked(a, t0 + WINDOW - Duration::from_secs(1)));
        assert!(!l.blocked(a, t0 + WINDOW));
        // A new window starts counting again.
        l.failed(a, t0 + WINDOW);
        assert!(!l.blocked(a, t0 + WINDOW));
        l.succeeded(a);
        assert!(l.failures.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_counts_by_slash_64_and_the_table_is_capped() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            l.failed(format!("2001:db8:1:2::{i:x}").parse().unwrap(), t0);
        }
        assert!(l.blocked("2001:db8:1:2::ffff".parse().unwrap(), t0));
        assert!(!l.blocked("2001:db8:1:3::1".parse().unwrap(), t0));
        for i in 0..(MAX_SOURCES as u32 + 10) {
            l.failed(IpAddr::V4(i.into()), t0);
        }
        assert!(l.failures.len() <= MAX_SOURCES);
    }
}
