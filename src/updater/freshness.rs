//! PURE: whether the cache can answer for a (name, type) without asking Cloudflare: same
//! address, same settings, and synced less than `max_age` ago. Also what "same settings"
//! means (the string a cache entry keeps), and the clock in the unit the cache stores.

use std::time::Duration;

use crate::plan::{Desired, Ownership};
use crate::state::{self, State};

/// The settings of a desired record as the cache keeps them: a change of any of them makes
/// the entry stale.
pub(super) fn settings_of(d: &Desired) -> String {
    let mut s = format!(
        "ttl={:?};proxied={:?};comment={:?}",
        d.ttl, d.proxied, d.comment
    );
    // Only comment mode adds a part, so the caches written before ownership existed stay fresh.
    if d.ownership == Ownership::Comment {
        s.push_str(";ownership=comment");
    }
    s
}

/// Whether the cache says `d` is on Cloudflare as wanted, recently enough to trust it.
pub(super) fn is_fresh(state: &State, d: &Desired, now: u64, max_age: Duration) -> bool {
    state
        .records
        .get(&state::key(&d.name, d.rtype))
        .is_some_and(|e| {
            e.content == d.content
                && e.settings == settings_of(d)
                && now.saturating_sub(e.synced_at) < max_age.as_secs()
        })
}
