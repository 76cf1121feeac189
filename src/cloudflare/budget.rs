//! A client-side request budget, so ddflare never exceeds Cloudflare's documented limit of
//! 1,200 requests per 5 minutes, whatever the number of records or failures. Cloudflare counts
//! it per user, across all of that user's tokens: the clients of every `[[credentials]]` share
//! one budget (`Client::all`).
//!
//! A leaky bucket: `burst` requests may go at once, then one every `window / per_window`.
//! In any window of length `window` at most `burst + per_window` requests pass; with the
//! defaults (100 + 1,000) that stays under 1,200 with room for the dashboard and other tools.

use std::time::Duration;

use tokio::time::Instant;

/// Cloudflare's limit: 1,200 requests per 300 seconds per user (all its tokens together).
pub const CLOUDFLARE_LIMIT: u32 = 1200;
pub const CLOUDFLARE_WINDOW: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Budget {
    /// The time at which the bucket is empty again (GCRA's "theoretical arrival time").
    tat: Option<Instant>,
    interval: Duration,
    burst: Duration,
}

impl Budget {
    /// `per_window` requests per `window` on average, `burst` of them at once.
    pub fn new(per_window: u32, window: Duration, burst: u32) -> Self {
        let interval = window / per_window.max(1);
        Budget {
            tat: None,
            interval,
            burst: interval * burst.max(1),
        }
    }

    /// The default: 1,000 per 5 minutes with a burst of 100.
    pub fn cloudflare() -> Self {
        Budget::new(1000, CLOUDFLARE_WINDOW, 100)
    }

    /// Takes one request slot at `now`; returns how long to wait before sending.
    pub fn take(&mut self, now: Instant) -> Duration {
        let tat = self.tat.map_or(now, |t| t.max(now));
        let new_tat = tat + self.interval;
        let allowed_at = new_tat.checked_sub(self.burst).unwrap_or(now);
        self.tat = Some(new_tat);
        allowed_at.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_requests_are_paced() {
        let mut b = Budget::new(10, Duration::from_secs(10), 3);
        let now = Instant::now();
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::from_secs(1));
        assert_eq!(b.take(now), Duration::from_secs(2));
        // After a quiet spell the burst is back.
        let later = now + Duration::from_secs(60);
        assert_eq!(b.take(later), Duration::ZERO);
    }

    proptest! {
        /// Whatever the arrival pattern, no 300-second window holds more than burst + rate
        /// (1,100) sends, under Cloudflare's 1,200.
        #[test]
        fn never_more_than_cloudflare_allows_in_any_window(
            gaps in proptest::collection::vec(0u64..2_000, 1..4000)
        ) {
            let start = Instant::now();
            let mut b = Budget::cloudflare();
            let mut clock = start;
            let mut sends: Vec<Instant> = Vec::new();
            for gap in gaps {
                clock += Duration::from_millis(gap);
                let wait = b.take(clock);
                // The caller sleeps, so its clock moves to the send time.
                clock += wait;
                sends.push(clock);
            }
            let mut lo = 0;
            for hi in 0..sends.len() {
                while sends[hi] - sends[lo] >= CLOUDFLARE_WINDOW {
                    lo += 1;
                }
                prop_assert!(hi - lo < 1100, "{} sends in one window", hi - lo + 1);
                prop_assert!(hi - lo < CLOUDFLARE_LIMIT as usize);
            }
        }
    }
}
