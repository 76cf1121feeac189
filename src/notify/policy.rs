//! PURE: when to tell someone. A round's end becomes a [`Summary`]; the [`Tracker`] turns the
//! stream of summaries into [`Event`]s: every address change, a failure alert once failures
//! have persisted (`[alerts] after_failed_rounds` rounds or `after`, whichever comes first), a
//! reminder every `remind_every` while they last, and a recovery message when a round works
//! again after an alert. A failing tick alone never notifies. [`RateLimit`] caps the messages
//! per target and hour.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::round::Outcome;
use crate::round::RoundEnd;

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts {
    /// Alert after this many failed rounds in a row. Default 3.
    pub after_failed_rounds: u32,
    /// … or once failures have lasted this long. Default 15m.
    pub after: Duration,
    /// Remind while failures last; `None`: never. Default 24h.
    pub remind_every: Option<Duration>,
    /// Messages per target in any hour; more are dropped (and counted). Default 12.
    pub max_per_hour: u32,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            after_failed_rounds: 3,
            after: Duration::from_secs(15 * 60),
            remind_every: Some(Duration::from_secs(24 * 3600)),
            max_per_hour: 12,
        }
    }
}

/// One address change on Cloudflare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    pub rtype: &'static str,
    /// `None` for a new record.
    pub from: Option<String>,
    pub to: IpAddr,
}

/// One thing that failed in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `name TYPE`, or `None` for the round as a whole.
    pub record: Option<String>,
    pub error: String,
    pub hint: Option<String>,
}

/// What a round meant for the people watching.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub ok: bool,
    pub changes: Vec<Change>,
    pub failures: Vec<Failure>,
    /// Records confirmed right (cached or unchanged), for the monitors' success message.
    pub unchanged: usize,
}

/// The summary of a round's end.
pub fn summarize(end: &RoundEnd) -> Summary {
    match end {
        RoundEnd::NothingDetected => Summary {
            ok: false,
            failures: vec![Failure {
                record: None,
                error: "no address could be detected".into(),
                hint: Some("check the host's connectivity and the providers in [detect]".into()),
            }],
            ..Summary::default()
        },
        RoundEnd::DeadlineExceeded => Summary {
            ok: false,
            failures: vec![Failure {
                record: None,
                error: "the round took longer than `schedule.cycle_deadline`".into(),
                hint: None,
            }],
            ..Summary::default()
        },
        RoundEnd::Done(report) => {
            let mut s = Summary {
                ok: report.ok(),
                ..Summary::default()
            };
            for line in &report.lines {
                match &line.outcome {
                    Outcome::Created => s.changes.push(Change {
                        name: line.name.clone(),
                        rtype: line.rtype,
                        from: None,
                        to: line.content,
                    }),
                    // A settings-only update ("settings") is not an address change.
                    Outcome::Updated { from } if from.parse::<IpAddr>().is_ok() => {
                        s.changes.push(Change {
                            name: line.name.clone(),
                            rtype: line.rtype,
                            from: Some(from.clone()),
                            to: line.content,
                        });
                    }
                    Outcome::Failed { error, hint } => s.failures.push(Failure {
                        record: Some(format!("{} {}", line.name, line.rtype)),
                        error: error.clone(),
                        hint: hint.clone(),
                    }),
                    Outcome::Cached | Outcome::Unchanged => s.unchanged += 1,
                    _ => {}
                }
            }
            s
        }
    }
}

/// Something worth a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Changed(Vec<Change>),
    /// Failures have persisted: `rounds` failed in a row since `since`. `reminder`: an alert
    /// was already sent for this streak.
    Failing {
        rounds: u32,
        since: SystemTime,
        failures: Vec<Failure>,
        reminder: bool,
    },
    /// A round worked after an alert.
    Recovered {
        rounds: u32,
        since: SystemTime,
    },
}

impl Event {
    /// `change`, `failure` or `recovery`: the `events` filter and the webhook's `event`.
    pub fn class(&self) -> &'static str {
        match self {
            Event::Changed(_) => "change",
            Event::Failing { .. } => "failure",
            Event::Recovered { .. } => "recovery",
        }
    }
}

/// The failure streak, across rounds (and config reloads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracker {
    failed: u32,
    since: Option<SystemTime>,
    alerted: bool,
    last_alert: Option<SystemTime>,
}

fn elapsed(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}

impl Tracker {
    /// The events a round's summary brings, at `now`.
    pub fn observe(&mut self, alerts: &Alerts, s: &Summary, now: SystemTime) -> Vec<Event> {
        let mut events = Vec::new();
        if s.ok {
            if self.alerted
                && let Some(since) = self.since
            {
                events.push(Event::Recovered {
                    rounds: self.failed,
                    since,
                });
            }
            *self = Tracker::default();
        } else {
            self.failed = self.failed.saturating_add(1);
            let since = *self.since.get_or_insert(now);
            let persisted =
                self.failed >= alerts.after_failed_rounds || elapsed(now, since) >= alerts.after;
            let remind = self.alerted
                && alerts.remind_every.is_some_and(|every| {
                    self.last_alert
                        .is_none_or(|last| elapsed(now, last) >= every)
                });
            if (persisted && !self.alerted) || remind {
                events.push(Event::Failing {
                    rounds: self.failed,
                    since,
                    failures: s.failures.clone(),
                    reminder: self.alerted,
                });
                self.alerted = true;
                self.last_alert = Some(now);
            }
        }
        if !s.changes.is_empty() {
            events.push(Event::Changed(s.changes.clone()));
        }
        events
    }
}

/// At most `max` messages in any hour, for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimit {
    sent: VecDeque<SystemTime>,
    /// Messages dropped since the last one that went out.
    pub suppressed: u32,
}

impl RateLimit {
    /// Whether a message may go out at `now`; counts it when it may, counts a drop when not.
    pub fn allow(&mut self, now: SystemTime, max: u32) -> bool {
        let hour = Duration::from_secs(3600);
        while self.sent.front().is_some_and(|t| elapsed(now, *t) >= hour) {
            self.sent.pop_front();
        }
        if self.sent.len() < max as usize {
            self.sent.push_back(now);
            true
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::{Line, RoundReport};
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    fn t(mins: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + mins * 60)
    }

    fn failed() -> Summary {
        summarize(&RoundEnd::NothingDetected)
    }

    fn ok() -> Summary {
        Summary {
            ok: true,
            ..Summary::default()
        }
    }

    #[test]
    fn summaries_keep_address_changes_and_failures_only() {
        let line = |name: &str, outcome| Line {
            name: name.into(),
            rtype: "A",
            content: "203.0.113.7".parse().unwrap(),
            outcome,
        };
        let end = RoundEnd::Done(RoundReport {
            lines: vec![
                line(
                    "a.example.com",
                    Outcome::Updated {
                        from: "198.51.100.4".into(),
                    },
                ),
                line(
                    "b.example.com",
                    Outcome::Updated {
                        from: "settings".into(),
                    },
                ),
                line("c.example.com", Outcome::Created),
                line("d.example.com", Outcome::Cached),
                line(
                    "e.example.com",
                    Outcome::Failed {
                        error: "HTTP 403".into(),
                        hint: Some("fix the token".into()),
                    },
                ),
            ]
            .into(),
            retry_after: None,
            api_calls: 3,
        });
        let s = summarize(&end);
        assert!(!s.ok);
        assert_eq!(s.unchanged, 1);
        assert_eq!(
            s.changes
                .iter()
                .map(|c| (c.name.as_str(), c.from.as_deref()))
                .collect::<Vec<_>>(),
            vec![
                ("a.example.com", Some("198.51.100.4")),
                ("c.example.com", None)
            ]
        );
        assert_eq!(s.failures[0].record.as_deref(), Some("e.example.com A"));
    }

    #[test]
    fn a_failure_alerts_once_after_three_rounds_then_recovers() {
        let a = Alerts::default();
        let mut tr = Tracker::default();
        assert!(tr.observe(&a, &failed(), t(0)).is_empty());
        assert!(tr.observe(&a, &failed(), t(5)).is_empty());
        let ev = tr.observe(&a, &failed(), t(10));
        assert!(
            matches!(&ev[..], [Event::Failing { rounds: 3, reminder: false, since, .. }] if *since == t(0)),
            "{ev:?}"
        );
        for m in 3..20 {
            assert!(tr.observe(&a, &failed(), t(m * 5)).is_empty());
        }
        let ev = tr.observe(&a, &ok(), t(100));
        assert!(
            matches!(&ev[..], [Event::Recovered { rounds: 20, since }] if *since == t(0)),
            "{ev:?}"
        );
        assert!(tr.observe(&a, &ok(), t(105)).is_empty());
    }

    #[test]
    fn a_long_failure_alerts_by_time_and_reminds() {
        let a = Alerts {
            after_failed_rounds: 100,
            after: Duration::from_secs(30 * 60),
            remind_every: Some(Duration::from_secs(3600)),
            max_per_hour: 12,
        };
        let mut tr = Tracker::default();
        assert!(tr.observe(&a, &failed(), t(0)).is_empty());
        assert!(tr.observe(&a, &failed(), t(29)).is_empty());
        assert_eq!(tr.observe(&a, &failed(), t(30)).len(), 1);
        assert!(tr.observe(&a, &failed(), t(89)).is_empty());
        let ev = tr.observe(&a, &failed(), t(90));
        assert!(
            matches!(
                &ev[..],
                [Event::Failing {
                    reminder: true,
                    rounds: 5,
                    ..
                }]
            ),
            "{ev:?}"
        );
        // A short blip (recovered before the alert) says nothing at all.
        let mut tr = Tracker::default();
        tr.observe(&a, &failed(), t(0));
        assert!(tr.observe(&a, &ok(), t(5)).is_empty());
    }

    #[test]
    fn changes_are_told_even_in_a_failing_round() {
        let mut s = failed();
        s.changes.push(Change {
            name: "a.example.com".into(),
            rtype: "A",
            from: None,
            to: "203.0.113.7".parse().unwrap(),
        });
        let ev = Tracker::default().observe(&Alerts::default(), &s, t(0));
        assert!(
            matches!(&ev[..], [Event::Changed(c)] if c.len() == 1),
            "{ev:?}"
        );
    }

    #[test]
    fn the_rate_limit_is_a_sliding_hour() {
        let mut r = RateLimit::default();
        assert!(r.allow(t(0), 2));
        assert!(r.allow(t(10), 2));
        assert!(!r.allow(t(59), 2));
        assert_eq!(r.suppressed, 1);
        assert!(r.allow(t(60), 2));
        assert!(!r.allow(t(61), 2));
        assert!(r.allow(t(71), 2));
    }

    proptest! {
        /// Whatever the sequence of rounds: at most one non-reminder alert per failure streak,
        /// a recovery only after an alert, and none without a preceding failure.
        #[test]
        fn alerts_are_one_per_streak(rounds in proptest::collection::vec(any::<bool>(), 0..200)) {
            let a = Alerts { remind_every: None, ..Alerts::default() };
            let mut tr = Tracker::default();
            let mut alerted = false;
            let mut streak = 0u32;
            for (i, ok_round) in rounds.iter().enumerate() {
                let s = if *ok_round { ok() } else { failed() };
                let ev = tr.observe(&a, &s, t(i as u64 * 5));
                streak = if *ok_round { 0 } else { streak + 1 };
                for e in &ev {
                    match e {
                        Event::Failing { reminder, rounds, .. } => {
                            prop_assert!(!alerted && !reminder);
                            prop_assert_eq!(*rounds, streak);
                            prop_assert!(streak >= 3);
                            alerted = true;
                        }
                        Event::Recovered { .. } => {
                            prop_assert!(alerted && *ok_round);
                            alerted = false;
                        }
                        Event::Changed(_) => prop_assert!(false),
                    }
                }
                if *ok_round {
                    prop_assert!(!alerted || ev.is_empty());
                    alerted = false;
                }
            }
        }
    }
}
