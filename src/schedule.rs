//! When rounds run: every `schedule.interval`, or at the minutes a `schedule.cron` expression
//! names, each wait lengthened by a random part of `schedule.jitter`. PURE: [`Cron`] parses the
//! standard five fields and finds the next fire time; [`regular_delay`] turns a schedule, the
//! wall clock and a random number into the wait. The daemon owns the clock and the randomness.
//!
//! Cron follows Vixie cron (the one in Debian and busybox's crond): `minute hour day-of-month
//! month day-of-week`, with `*`, lists `a,b`, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`,
//! month and day names (`jan`, `mon`), `0` or `7` for Sunday, and the macros `@hourly`,
//! `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`). When both
//! day-of-month and day-of-week are restricted, a day matching either fires (the classic
//! rule); a field starting with `*` is unrestricted. Times are UTC, or the local time of
//! `schedule.timezone` (read from the system's zoneinfo, see [`crate::tz`]).
//!
//! Daylight saving time, as Vixie cron does it: a job at a fixed time (neither the minute nor
//! the hour field starts with `*`) whose time a spring-forward skips runs at the change (a
//! 02:30 job in Berlin on the last Sunday of March runs at 03:00 CEST); one whose time a
//! fall-back repeats runs once, at the first occurrence (a 01:30 job in New York on the first
//! Sunday of November runs at 01:30 EDT, not again at 01:30 EST). Jobs with `*` in the minute
//! or hour field follow the wall clock: they skip the skipped hour and run again in the
//! repeated one.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::tz::Zone;

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// `interval`: time between two rounds. Default 5m.
    pub interval: Duration,
    /// `cycle_deadline`: the longest one round may take, retries included. Default 2m.
    pub cycle_deadline: Duration,
    /// `shutdown_grace`: how long an in-flight round may go on after SIGTERM. Default 10s.
    pub shutdown_grace: Duration,
    /// `cron`: when set, rounds run at the minutes it names (UTC) instead of every `interval`.
    pub cron: Option<Cron>,
    /// `jitter`: each regular wait is lengthened by a random part of this. Default 0.
    pub jitter: Duration,
    /// `update_on_start`: run a round at once on start (else wait for the first tick).
    /// Default true; `ddflare run --update-on-start=false` overrides it.
    pub update_on_start: bool,
    /// `timezone`: the zone whose local time `cron` is written in; `None`: UTC.
    pub timezone: Option<Zone>,
}

/// Days searched for the next fire time. A starred field makes day-of-month and day-of-week
/// both required (Vixie's rule), so an expression can ask for a date on a weekday: June 1st on
/// a Monday recurs after 5, 6 or 11 years, February 29th on a Monday after up to 40 (2072 →
/// 2112, 14,609 days: the longest gap of any month, day and weekday in the 400-year Gregorian
/// cycle). Forty years of 366 days and one more cover it, so an expression that fires at all
/// fires in them. (Eight years, the longest gap between two February 29ths, was too short.)
const HORIZON_DAYS: u64 = 40 * 366 + 1;

/// A parsed five-field cron expression.
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    /// Bits 1..=31.
    days: u32,
    /// Bits 1..=12.
    months: u16,
    /// Bits 0..=6, Sunday = 0.
    weekdays: u8,
    days_star: bool,
    weekdays_star: bool,
    /// Neither the minute nor the hour field starts with `*`: a job at a fixed time, which
    /// DST changes neither skip nor repeat (Vixie cron's rule).
    fixed: bool,
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.text)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One field's rules.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAY: Field = Field {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl Field {
    fn value(&self, s: &str) -> Result<u32, String> {
        let lower = s.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            // Months are 1-based, weekdays 0-based.
            let offset = if self.min == 1 { 1 } else { 0 };
            return Ok(u32::try_from(i).unwrap_or(0) + offset);
        }
        let n: u32 = s.parse().map_err(|_| {
            let names = if self.names.is_empty() {
                String::new()
            } else {
                format!(" or a name such as `{}`", self.names[0])
            };
            format!(
                "{}: expected a number from {} to {}{names}, found `{s}`",
                self.name, self.min, self.max
            )
        })?;
        if n < self.min || n > self.max {
            return Err(format!(
                "{}: expected a number from {} to {}, found {n}",
                self.name, self.min, self.max
            ));
        }
        Ok(n)
    }

    /// The bit set of a field such as `1-5,10,*/15`.
    fn parse(&self, text: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!(
                            "{}: expected a step of 1 or more after `/`, found `{s}`",
                            self.name
                        )
                    })?;
                    (r, Some(step))
                }
                None => (item, None),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a > b {
                    return Err(format!(
                        "{}: expected a range from low to high, found `{range}`",
                        self.name
                    ));
                }
                (a, b)
            } else if range.is_empty() {
                return Err(format!(
                    "{}: expected a value, found an empty list item",
                    self.name
                ));
            } else {
                let v = self.value(range)?;
                // `a/n` means `a-max/n`.
                if step.is_some() {
                    (v, self.max)
                } else {
                    (v, v)
                }
            };
            let step = step.unwrap_or(1);
            let mut v = lo;
            while v <= hi {
                bits |= 1 << v;
                match v.checked_add(step) {
                    Some(next) => v = next,
                    None => break,
                }
            }
        }
        Ok(bits)
    }
}

impl Cron {
    /// Parses an expression; the error says which field is wrong and what it expected.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let trimmed = text.trim();
        let expanded = match trimmed.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            "@reboot" => {
                return Err("`@reboot` is not a schedule: ddflare runs a round at start unless `update_on_start` is false".to_owned());
            }
            m if m.starts_with('@') => {
                return Err(format!(
                    "expected @hourly, @daily, @weekly, @monthly or @yearly, found `{trimmed}`"
                ));
            }
            _ => trimmed,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            let mut e = format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            );
            if fields.len() == 6 {
                e.push_str(": seconds and years are not supported");
            }
            return Err(e);
        }
        let weekdays = WEEKDAY.parse(fields[4])?;
        // 7 is Sunday too.
        let weekdays = (weekdays | (weekdays >> 7)) & 0x7f;
        let cron = Cron {
            text: trimmed.to_owned(),
            minutes: MINUTE.parse(fields[0])?,
            hours: u32::try_from(HOUR.parse(fields[1])?).unwrap_or(0),
            days: u32::try_from(DAY.parse(fields[2])?).unwrap_or(0),
            months: u16::try_from(MONTH.parse(fields[3])?).unwrap_or(0),
            weekdays: u8::try_from(weekdays).unwrap_or(0),
            days_star: fields[2].starts_with('*'),
            weekdays_star: fields[4].starts_with('*'),
            fixed: !fields[0].starts_with('*') && !fields[1].starts_with('*'),
        };
        if cron.next_after(0).is_none() {
            return Err(format!(
                "`{trimmed}` never fires: no month in it has that day"
            ));
        }
        Ok(cron)
    }

    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let d = self.days & (1 << day) != 0;
        let w = self.weekdays & (1 << weekday) != 0;
        if self.days_star || self.weekdays_star {
            d && w
        } else {
            d || w
        }
    }

    /// Whether the expression fires at the minute starting at `unix` seconds (UTC).
    pub fn matches(&self, unix: u64) -> bool {
        let minute = unix / 60;
        let day = minute / 1440;
        let (_, month, dom) = civil_from_days(day);
        let hour = (minute % 1440) / 60;
        self.minutes & (1 << (minute % 60)) != 0
            && self.hours & (1 << hour) != 0
            && self.months & (1 << month) != 0
            && self.day_matches(dom, weekday(day))
    }

    /// The first whole minute strictly after `unix` (seconds, UTC) at which the expression
    /// fires, in seconds; `None` only for an expression that never fires.
    pub fn next_after(&self, unix: u64) -> Option<u64> {
        let first = unix / 60 + 1;
        let start = first / 1440;
        let mut from = first % 1440;
        for day in start..start + HORIZON_DAYS {
            let (_, month, dom) = civil_from_days(day);
            if self.months & (1 << month) != 0 && self.day_matches(dom, weekday(day)) {
                let (mut hour, mut minute) = (from / 60, from % 60);
                while hour < 24 {
                    if self.hours & (1 << hour) != 0
                        && let Some(m) = (minute..60).find(|m| self.minutes & (1 << m) != 0)
                    {
                        return Some((day * 1440 + hour * 60 + m) * 60);
                    }
                    hour += 1;
                    minute = 0;
                }
            }
            from = 0;
        }
        None
    }

    /// [`Cron::next_after`] with the fields read as local time in `zone` (UTC when `None`),
    /// with Vixie cron's handling of skipped and repeated times (see the module's doc).
    pub fn next_after_in(&self, unix: u64, zone: Option<&Zone>) -> Option<u64> {
        let Some(z) = zone else {
            return self.next_after(unix);
        };
        let now = i64::try_from(unix).ok()?;
        let first = self.next_local(now, now, z)?;
        // A fall-back before that restarts the wall clock: wildcard jobs run again in the
        // repeated hour, so search from just before it too.
        match z.next_fall_back(now) {
            Some(back) if back <= first => {
                let wall = back + i64::from(z.offset_at(back)) - 1;
                let again = self.next_local_from_wall(wall, now, z);
                Some(again.map_or(first, |a| a.min(first)))
            }
            _ => Some(first),
        }
        .and_then(|t| u64::try_from(t).ok())
    }

    fn next_local(&self, from: i64, now: i64, z: &Zone) -> Option<i64> {
        self.next_local_from_wall(from + i64::from(z.offset_at(from)), now, z)
    }

    /// The first fire after `now` among the wall-clock matches after `wall`.
    fn next_local_from_wall(&self, mut wall: i64, now: i64, z: &Zone) -> Option<i64> {
        // Each pass moves to the next wall-clock match; skipped or already-past ones are
        // rare (two a year), so few passes are needed; the bound only guards the loop.
        for _ in 0..64 {
            let w = i64::try_from(self.next_after(u64::try_from(wall).ok()?)?).ok()?;
            let at = z.from_local(w);
            let pick = match at.as_slice() {
                [] if self.fixed => Some(z.gap_end(w)),
                [] => None,
                [one, ..] if self.fixed => Some(*one),
                all => all.iter().copied().find(|t| *t > now),
            };
            if let Some(t) = pick.filter(|t| *t > now) {
                return Some(t);
            }
            wall = w;
        }
        None
    }

    /// The shortest and the longest time between two fires among the `samples` fires after
    /// `unix`.
    pub fn gaps(&self, unix: u64, samples: usize) -> Option<(Duration, Duration)> {
        let mut prev = self.next_after(unix)?;
        let mut range: Option<(u64, u64)> = None;
        for _ in 0..samples {
            let next = self.next_after(prev)?;
            let gap = next - prev;
            range = Some(range.map_or((gap, gap), |(lo, hi)| (lo.min(gap), hi.max(gap))));
            prev = next;
        }
        range.map(|(lo, hi)| (Duration::from_secs(lo), Duration::from_secs(hi)))
    }
}

/// 1970-01-01 was a Thursday; Sunday = 0.
fn weekday(days: u64) -> u32 {
    u32::try_from((days + 4) % 7).unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian (Howard
/// Hinnant's `civil_from_days`, for non-negative days).
pub fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// (year ≥ 1970, month, day) → days since 1970-01-01; the inverse of [`civil_from_days`].
pub fn days_from_civil(y: u64, m: u32, d: u32) -> u64 {
    let (m, d) = (u64::from(m), u64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `base` plus the fraction `r` (0..1) of `jitter`.
pub fn jittered(base: Duration, jitter: Duration, r: f64) -> Duration {
    base + jitter.mul_f64(r.clamp(0.0, 1.0))
}

/// The wait from `wall` to the next regular round: `interval`, or until the next cron fire,
/// plus the fraction `r` (0..1) of the jitter.
pub fn regular_delay(schedule: &ScheduleConfig, wall: SystemTime, r: f64) -> Duration {
    let base = match &schedule.cron {
        None => schedule.interval,
        Some(cron) => {
            let now = unix(wall);
            cron.next_after_in(now.as_secs(), schedule.timezone.as_ref())
                .map_or(schedule.interval, |next| {
                    Duration::from_secs(next).saturating_sub(now)
                })
        }
    };
    jittered(base, schedule.jitter, r)
}

/// The longest regular wait between two rounds, without jitter: `interval`, or the longest
/// gap between two fires of the cron expression (over its next 500 fires).
pub fn longest_gap(schedule: &ScheduleConfig) -> Duration {
    schedule
        .cron
        .as_ref()
        .and_then(|c| c.gaps(0, 500))
        .map_or(schedule.interval, |(_, hi)| hi)
}

/// The wall-clock time of the next regular round after `wall`, without jitter: for `status`.
pub fn next_fire(schedule: &ScheduleConfig, wall: SystemTime) -> Option<SystemTime> {
    let cron = schedule.cron.as_ref()?;
    let next = cron.next_after_in(unix(wall).as_secs(), schedule.timezone.as_ref())?;
    Some(UNIX_EPOCH + Duration::from_secs(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: u64, mo: u32, d: u32, h: u64, mi: u64) -> u64 {
        (days_from_civil(y, mo, d) * 1440 + h * 60 + mi) * 60
    }

    fn cron(s: &str) -> Cron {
        match Cron::parse(s) {
            Ok(c) => c,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn zone(name: &str) -> Option<Zone> {
        let path = std::path::Path::new("/usr/share/zoneinfo").join(name);
        match std::fs::read(&path) {
            Ok(b) => Some(Zone::parse(name, &b).unwrap()),
            Err(_) => {
                eprintln!(
                    "SKIPPED: {} missing (Debian package tzdata)",
                    path.display()
                );
                None
            }
        }
    }

    /// Fires of `expr` in `zone` after `from` (UTC), as UTC times.
    fn fires(expr: &str, z: &Zone, from: u64, n: usize) -> Vec<u64> {
        let c = cron(expr);
        let mut out = Vec::new();
        let mut t = from;
        for _ in 0..n {
            t = c.next_after_in(t, Some(z)).unwrap();
            out.push(t);
        }
        out
    }

    /// Vixie cron's DST rules with real zones: a fixed-time job in the skipped hour runs at the
    /// change, one in the repeated hour runs once; wildcard jobs follow the wall clock.
    #[test]
    fn dst_skipped_and_repeated_times_as_vixie_cron() {
        let (Some(be), Some(ny)) = (zone("Europe/Berlin"), zone("America/New_York")) else {
            return;
        };
        // Berlin, 2026-03-29: 02:00 CET → 03:00 CEST at 01:00 UTC. A 02:30 job runs at the
        // change (03:00 CEST), then at 02:30 CEST (00:30 UTC) the next day.
        assert_eq!(
            fires("30 2 * * *", &be, at(2026, 3, 28, 12, 0), 3),
            [
                at(2026, 3, 29, 1, 0),
                at(2026, 3, 30, 0, 30),
                at(2026, 3, 31, 0, 30)
            ]
        );
        // The day before: 02:30 CET = 01:30 UTC.
        assert_eq!(
            fires("30 2 * * *", &be, at(2026, 3, 27, 12, 0), 1),
            [at(2026, 3, 28, 1, 30)]
        );
        // A wildcard-hour job skips the hour that does not exist.
        assert_eq!(
            fires("30 * * * *", &be, at(2026, 3, 29, 0, 0), 2),
            [at(2026, 3, 29, 0, 30), at(2026, 3, 29, 1, 30)]
        );
        // New York, 2026-11-01: 02:00 EDT → 01:00 EST at 06:00 UTC. A 01:30 job runs once, at
        // 01:30 EDT (05:30 UTC); the next is 01:30 EST the day after (06:30 UTC).
        assert_eq!(
            fires("30 1 * * *", &ny, at(2026, 10, 31, 12, 0), 2),
            [at(2026, 11, 1, 5, 30), at(2026, 11, 2, 6, 30)]
        );
        // Started inside the repeated hour, after the first 01:30: not again that day.
        assert_eq!(
            fires("30 1 * * *", &ny, at(2026, 11, 1, 6, 10), 1),
            [at(2026, 11, 2, 6, 30)]
        );
        // A wildcard-minute job runs through the repeated hour twice.
        let every30 = fires("*/30 * * * *", &ny, at(2026, 11, 1, 5, 0), 5);
        assert_eq!(
            every30,
            [
                at(2026, 11, 1, 5, 30),
                at(2026, 11, 1, 6, 0),
                at(2026, 11, 1, 6, 30),
                at(2026, 11, 1, 7, 0),
                at(2026, 11, 1, 7, 30)
            ]
        );
        // New York spring forward, 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC).
        assert_eq!(
            fires("30 2 * * *", &ny, at(2026, 3, 7, 12, 0), 2),
            [at(2026, 3, 8, 7, 0), at(2026, 3, 9, 6, 30)]
        );
        // An ordinary day: local time.
        assert_eq!(
            fires("0 9 * * *", &be, at(2026, 6, 1, 0, 0), 1),
            [at(2026, 6, 1, 7, 0)]
        );
    }

    proptest! {
        /// In a zone, fires are strictly increasing and each is at a whole minute.
        #[test]
        fn zone_fires_increase(expr in expression(), t in 0u64..4_000_000_000) {
            if let (Some(z), Ok(c)) = (zone("America/New_York"), Cron::parse(&expr)) {
                let a = c.next_after_in(t, Some(&z)).unwrap();
                let b = c.next_after_in(a, Some(&z)).unwrap();
                prop_assert!(a > t && b > a && a.is_multiple_of(60) && b.is_multiple_of(60));
            }
        }
    }

    #[test]
    fn civil_dates_known_values() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        // 2026-06-01 is a Monday.
        assert_eq!(weekday(days_from_civil(2026, 6, 1)), 1);
    }

    #[test]
    fn next_fire_table() {
        let t = at(2026, 6, 1, 10, 7) + 30; // Monday 10:07:30
        let cases = [
            ("*/5 * * * *", at(2026, 6, 1, 10, 10)),
            ("* * * * *", at(2026, 6, 1, 10, 8)),
            ("7 10 * * *", at(2026, 6, 2, 10, 7)),
            ("0 3 * * *", at(2026, 6, 2, 3, 0)),
            ("30 2 * * sun", at(2026, 6, 7, 2, 30)),
            ("0 0 1 * *", at(2026, 7, 1, 0, 0)),
            ("0 0 29 2 *", at(2028, 2, 29, 0, 0)),
            ("@hourly", at(2026, 6, 1, 11, 0)),
            ("@weekly", at(2026, 6, 7, 0, 0)),
            ("@yearly", at(2027, 1, 1, 0, 0)),
            ("15/20 9-17 * * mon-fri", at(2026, 6, 1, 10, 15)),
            ("0 12 * jan,jul *", at(2026, 7, 1, 12, 0)),
            // Both day fields restricted: the 15th OR a Friday.
            ("0 0 15 * 5", at(2026, 6, 5, 0, 0)),
            // Day of week is `*`-led: both must hold (the 13th AND any day).
            ("0 0 13 * */1", at(2026, 6, 13, 0, 0)),
            ("0 0 * * 7", at(2026, 6, 7, 0, 0)),
        ];
        for (expr, want) in cases {
            assert_eq!(cron(expr).next_after(t), Some(want), "{expr}");
        }
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        let cases = [
            ("* * * *", "expected 5 fields"),
            ("0 * * * * *", "seconds and years are not supported"),
            (
                "60 * * * *",
                "minute: expected a number from 0 to 59, found 60",
            ),
            ("* 24 * * *", "hour: expected a number from 0 to 23"),
            ("* * 0 * *", "day of month: expected a number from 1 to 31"),
            ("* * * 13 *", "month: expected a number from 1 to 12"),
            ("* * * * 8", "day of week: expected a number from 0 to 7"),
            ("*/0 * * * *", "a step of 1 or more"),
            ("5-1 * * * *", "from low to high"),
            ("1,,2 * * * *", "empty list item"),
            ("* * * foo *", "or a name such as `jan`"),
            ("0 0 30 2 *", "never fires"),
            ("@reboot", "update_on_start"),
            ("@often", "expected @hourly"),
            ("* * * * 99999999999", "day of week: expected a number"),
        ];
        for (expr, want) in cases {
            match Cron::parse(expr) {
                Ok(_) => panic!("{expr} accepted"),
                Err(e) => assert!(e.contains(want), "{expr}: {e}"),
            }
        }
    }

    #[test]
    fn delays_follow_the_schedule_plus_jitter() {
        let mut s = ScheduleConfig {
            jitter: Duration::from_secs(60),
            ..crate::testing::schedule()
        };
        let wall = UNIX_EPOCH + Duration::from_secs(at(2026, 6, 1, 10, 7) + 30);
        assert_eq!(regular_delay(&s, wall, 0.0), Duration::from_secs(300));
        assert_eq!(regular_delay(&s, wall, 0.5), Duration::from_secs(330));
        s.cron = Some(cron("*/5 * * * *"));
        assert_eq!(regular_delay(&s, wall, 0.0), Duration::from_secs(150));
        assert_eq!(regular_delay(&s, wall, 1.0), Duration::from_secs(210));
        assert_eq!(
            next_fire(&s, wall),
            Some(UNIX_EPOCH + Duration::from_secs(at(2026, 6, 1, 10, 10)))
        );
        let m = Duration::from_secs(60);
        assert_eq!(cron("*/5 * * * *").gaps(0, 10), Some((5 * m, 5 * m)));
        assert_eq!(cron("0,1 0 * * *").gaps(0, 10), Some((m, 1439 * m)));
    }

    /// A random well-formed field: `*`, a value, a range, a step or a list of them.
    fn field(min: u32, max: u32) -> impl Strategy<Value = String> {
        let item = prop_oneof![
            Just("*".to_owned()),
            (min..=max).prop_map(|v| v.to_string()),
            (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
            (1u32..=max.max(1)).prop_map(|s| format!("*/{s}")),
            (min..=max, 1u32..=7).prop_map(|(a, s)| format!("{a}/{s}")),
        ];
        proptest::collection::vec(item, 1..3).prop_map(|v| v.join(","))
    }

    fn expression() -> impl Strategy<Value = String> {
        (
            field(0, 59),
            field(0, 23),
            field(1, 31),
            field(1, 12),
            field(0, 7),
        )
            .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn civil_round_trip(days in 0u64..200_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            prop_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        }

        /// The next fire is later, on a whole minute, matches, and no minute in between does
        /// (checked minute by minute over the first two days of the gap).
        #[test]
        fn next_fire_is_the_first_match(expr in expression(), t in 0u64..4_000_000_000) {
            let Ok(c) = Cron::parse(&expr) else { return Ok(()) };
            let next = c.next_after(t);
            prop_assert!(next.is_some(), "{expr} parsed but never fires");
            let next = next.unwrap_or(0);
            prop_assert!(next > t);
            prop_assert_eq!(next % 60, 0);
            prop_assert!(c.matches(next), "{} does not match at {}", expr, next);
            let mut m = (t / 60 + 1) * 60;
            let mut checked = 0;
            while m < next && checked < 2 * 1440 {
                prop_assert!(!c.matches(m), "{} matches at {} before {}", expr, m, next);
                m += 60;
                checked += 1;
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "[0-9a-z*/,@ -]{0,30}") {
            let _ = Cron::parse(&text);
        }

        #[test]
        fn huge_steps_never_overflow(a in 0u32..60, step in (u32::MAX - 100)..=u32::MAX) {
            let c = Cron::parse(&format!("{a}/{step} * * * *"));
            prop_assert!(c.is_ok());
        }
    }
}
