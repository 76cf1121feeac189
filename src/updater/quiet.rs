//! PURE: the quiet path. A round whose addresses are those of the last round, when that round
//! found every record cached, repeats it until the first cache entry it relied on reaches
//! `state.max_age`: the same lines, handed on without building a desired record, a cache key
//! and a settings string for each record, the cost that grew with the records on every
//! unchanged tick. A push, a cleanup or a round that had to look at Cloudflare ends it; so does
//! a clock set back (the entries' ages are not known then).

use std::collections::BTreeMap;

use crate::detect::{Detected, Family};
use crate::round::Lines;

/// What a round that found every record cached leaves for the next one.
#[derive(Debug)]
pub(super) struct Quiet {
    /// The addresses that round was given.
    addrs: BTreeMap<Family, Detected>,
    /// Its clock, and the first instant one of its entries is no longer fresh (Unix seconds).
    since: u64,
    until: u64,
    lines: Lines,
}

impl Quiet {
    pub fn new(addrs: &BTreeMap<Family, Detected>, since: u64, until: u64, lines: Lines) -> Self {
        Quiet {
            addrs: addrs.clone(),
            since,
            until,
            lines,
        }
    }

    /// The lines of the last round when a round with `addrs` at `now` would say the same.
    pub fn repeats(&self, addrs: &BTreeMap<Family, Detected>, now: u64) -> Option<Lines> {
        (self.addrs == *addrs && (self.since..self.until).contains(&now))
            .then(|| self.lines.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::{Line, Outcome};

    fn addrs(a: &str) -> BTreeMap<Family, Detected> {
        BTreeMap::from([(Family::V4, Detected::host(a.parse().unwrap()))])
    }

    #[test]
    fn the_same_addresses_repeat_until_the_first_entry_expires_and_not_after_the_clock_went_back() {
        let lines = Lines::from(vec![Line {
            name: "home.example.com".into(),
            rtype: "A",
            content: "203.0.113.7".parse().unwrap(),
            outcome: Outcome::Cached,
        }]);
        let q = Quiet::new(&addrs("203.0.113.7"), 1_000, 2_000, lines.clone());
        let again = q.repeats(&addrs("203.0.113.7"), 1_000).unwrap();
        assert!(again.same_as(&lines), "the very lines, not a copy");
        assert!(q.repeats(&addrs("203.0.113.7"), 1_999).is_some());
        assert!(
            q.repeats(&addrs("203.0.113.7"), 2_000).is_none(),
            "an entry expired"
        );
        assert!(
            q.repeats(&addrs("203.0.113.7"), 999).is_none(),
            "the clock went back"
        );
        assert!(
            q.repeats(&addrs("203.0.113.8"), 1_500).is_none(),
            "another address"
        );
        assert!(
            q.repeats(&BTreeMap::new(), 1_500).is_none(),
            "a family not detected"
        );
    }
}
