//! Per-credential request budget (fixed window), like Cloudflare's 1200 per 5 minutes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: HashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    used: u32,
}

/// Outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub allowed: bool,
    pub remaining: u32,
    /// Whole seconds until the window resets (rounded up, at least 1).
    pub reset_secs: u64,
}

impl RateLimiter {
    /// Counts one request for `key` and says whether it is within budget.
    pub fn hit(&mut self, key: &str, quota: u32, window: Duration, now: Instant) -> Verdict {
        let entry = self.windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            used: 0,
        });
        if now.duration_since(entry.start) >= window {
            *entry = Window {
                start: now,
                used: 0,
            };
        }
        entry.used = entry.used.saturating_add(1);
        let left = window.saturating_sub(now.duration_since(entry.start));
        let reset_secs = left.as_millis().div_ceil(1000).max(1);
        Verdict {
            allowed: entry.used <= quota,
            remaining: quota.saturating_sub(entry.used),
            reset_secs: u64::try_from(reset_secs).unwrap_or(u64::MAX),
        }
    }

    pub fn reset(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_then_block_then_reset() {
        let mut rl = RateLimiter::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        assert_eq!(rl.hit("a", 2, w, t0).remaining, 1);
        assert!(rl.hit("a", 2, w, t0).allowed);
        let v = rl.hit("a", 2, w, t0 + Duration::from_millis(2500));
        assert!(!v.allowed);
        assert_eq!(v.reset_secs, 8);
        assert!(rl.hit("b", 2, w, t0).allowed, "budgets are per key");
        assert!(rl.hit("a", 2, w, t0 + w).allowed, "new window");
    }
}
