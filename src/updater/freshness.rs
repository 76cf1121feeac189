//! PURE: whether the cache can answer for a (name, type) without asking Cloudflare: same
//! address, same settings, and synced less than `max_age` ago (and not in the future: a
//! `synced_at` ahead of the clock, from a clock that was ahead or a planted file, would
//! otherwise be trusted for ever). Also what "same settings"
//! means (the string a cache entry keeps), and the clock in the unit the cache stores.

use std::time::Duration;

use crate::plan::{Desired, Ownership};
use crate::state::{self, Entry, State};

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

/// The cache entry that vouches for `d`'s record: same settings, confirmed less than `max_age`
/// ago (and not in the future). Its address may differ from `d`'s.
fn vouching<'a>(state: &'a State, d: &Desired, now: u64, max_age: Duration) -> Option<&'a Entry> {
    state
        .records
        .get(&state::key(&d.name, d.rtype))
        .filter(|e| {
            e.settings == settings_of(d)
                && !e.from_the_future(now)
                && now.saturating_sub(e.synced_at) < max_age.as_secs()
        })
}

/// When the cache says `d` is on Cloudflare as wanted, recently enough to trust it: the instant (Unix seconds) its entry
/// stops being trusted, `max_age` after it was confirmed. A later `now` before that instant
/// gets the same answer (an entry from the future only comes closer).
pub(super) fn fresh_until(state: &State, d: &Desired, now: u64, max_age: Duration) -> Option<u64> {
    vouching(state, d, now, max_age)
        .filter(|e| e.content == d.content)
        .map(|e| e.synced_at.saturating_add(max_age.as_secs()))
}

/// The entry whose record `d` can be written to by id, without reading the zone first: the
/// cache vouches for it and only the address changed (see [`super::by_id`]).
pub(super) fn writable_by_id<'a>(
    state: &'a State,
    d: &Desired,
    now: u64,
    max_age: Duration,
) -> Option<&'a Entry> {
    vouching(state, d, now, max_age).filter(|e| e.content != d.content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Ownership;

    #[test]
    fn a_synced_at_in_the_future_is_stale_beyond_the_slack() {
        let d = Desired {
            name: "home.example.com".into(),
            rtype: "A",
            content: "203.0.113.7".parse().unwrap(),
            ttl: None,
            proxied: None,
            comment: None,
            ownership: Ownership::All,
        };
        let now = 1_800_000_000;
        let max_age = Duration::from_secs(86_400);
        let synced = |synced_at: u64| {
            let mut state = State::default();
            state.records.insert(
                state::key(&d.name, d.rtype),
                Entry {
                    id: "372e67954025e0ba6aaa6d586b9e0b59".into(),
                    content: d.content,
                    settings: settings_of(&d),
                    synced_at,
                },
            );
            state
        };
        let at = |synced_at: u64| fresh_until(&synced(synced_at), &d, now, max_age).is_some();
        assert!(at(now));
        assert!(at(now - 86_399));
        let state = synced(now - 100);
        assert_eq!(
            fresh_until(&state, &d, now, max_age),
            Some(now - 100 + 86_400)
        );
        assert!(fresh_until(&state, &d, now - 100 + 86_399, max_age).is_some());
        assert!(fresh_until(&state, &d, now - 100 + 86_400, max_age).is_none());
        assert!(!at(now - 86_400));
        use crate::state::FUTURE_SLACK_SECS;
        assert!(at(now + FUTURE_SLACK_SECS), "a clock a little behind");
        assert!(!at(now + FUTURE_SLACK_SECS + 1));
        assert!(!at(u64::MAX));
    }
}
