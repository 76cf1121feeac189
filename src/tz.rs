//! PURE: a time zone from the system's zoneinfo (a TZif file, RFC 8536), for `schedule.timezone`.
//!
//! Hand-written rather than a crate: ddflare needs one thing, the UTC offset at an instant
//! (and its inverse for a cron's wall-clock time), and the x86_64 binary is at its budget; the
//! zone crates carry either a compiled-in database (hundreds of KB) or formatting and calendar
//! code ddflare never calls. What is parsed: the version 2+ (64-bit) block of a TZif file, its
//! transitions and their types, and the footer's POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`)
//! that gives every instant after the last transition — zic's default "slim" files hold few
//! transitions and rely on it. Version 1 files, leap-second ("right/") files and malformed
//! input are refused with a message; every count is checked against the bytes before use, so
//! hostile input cannot index out of bounds (`parse_never_panics` feeds it random bytes).

/// A parsed zone: the offset (seconds east of UTC) at any instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The name as configured (`Europe/Berlin`).
    pub name: String,
    /// (transition time, UTC offset from then on), ascending.
    transitions: Vec<(i64, i32)>,
    /// The offset before the first transition.
    initial: i32,
    /// After the last transition (or always, without transitions).
    rule: Option<Rule>,
}

/// The footer's POSIX TZ rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    std: i32,
    dst: Option<(i32, Date, i32, Date, i32)>,
}

/// A rule's date: `Jn` (1..=365, no Feb 29), `n` (0..=365), `Mm.w.d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Date {
    Julian1(u16),
    Julian0(u16),
    Month(u8, u8, u8),
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The six counts of a header at `at`: isut, isstd, leap, time, type, char.
fn counts(b: &[u8], at: usize) -> Option<[usize; 6]> {
    if b.get(at..at + 4)? != b"TZif" {
        return None;
    }
    let mut c = [0usize; 6];
    for (i, slot) in c.iter_mut().enumerate() {
        *slot = usize::try_from(be32(b, at + 20 + 4 * i)?).ok()?;
    }
    Some(c)
}

impl Zone {
    /// Parses a TZif file's bytes.
    pub fn parse(name: &str, b: &[u8]) -> Result<Zone, String> {
        let bad = |why: &str| format!("the zoneinfo file of `{name}` {why}");
        let c1 = counts(b, 0).ok_or_else(|| bad("is not a TZif file"))?;
        if b.get(4).copied().unwrap_or(0) < b'2' {
            return Err(bad("is TZif version 1 (64-bit data needed)"));
        }
        let [isut, isstd, leap, time, typ, chars] = c1;
        let v1 = time * 5 + typ * 6 + chars + leap * 8 + isstd + isut;
        let h2 = 44usize.checked_add(v1).ok_or_else(|| bad("is malformed"))?;
        let [isut, isstd, leap, time, typ, chars] =
            counts(b, h2).ok_or_else(|| bad("has no version 2 header"))?;
        if leap != 0 {
            return Err(bad(
                "counts leap seconds (a right/ zone); use the zone without right/",
            ));
        }
        if typ == 0 || typ > 256 || time > 100_000 || chars > 10_000 {
            return Err(bad("is malformed"));
        }
        let data = h2 + 44;
        let len = time * 9 + typ * 6 + chars + isstd + isut;
        if b.len() < data + len {
            return Err(bad("is cut short"));
        }
        let types_at = data + time * 9;
        let offset_of = |i: usize| -> Option<i32> {
            let at = types_at + 6 * i;
            i32::try_from(i64::from(be32(b, at)?.cast_signed())).ok()
        };
        let mut transitions = Vec::with_capacity(time);
        for i in 0..time {
            let t = be64(b, data + 8 * i).ok_or_else(|| bad("is cut short"))?;
            let idx = usize::from(b[data + time * 8 + i]);
            if idx >= typ {
                return Err(bad("is malformed"));
            }
            let off = offset_of(idx).ok_or_else(|| bad("is malformed"))?;
            if !(-86_400..=86_400).contains(&off) {
                return Err(bad("has an offset over 24 hours"));
            }
            if transitions.last().is_some_and(|(last, _)| *last >= t) {
                return Err(bad("has transitions out of order"));
            }
            transitions.push((t, off));
        }
        let initial = offset_of(0).ok_or_else(|| bad("is malformed"))?;
        let footer = &b[data + len..];
        let rule = match footer.strip_prefix(b"\n") {
            Some(rest) => {
                let end = rest
                    .iter()
                    .position(|&c| c == b'\n')
                    .ok_or_else(|| bad("has an unterminated footer"))?;
                let text =
                    std::str::from_utf8(&rest[..end]).map_err(|_| bad("has a bad footer"))?;
                if text.is_empty() {
                    None
                } else {
                    Some(
                        Rule::parse(text)
                            .ok_or_else(|| bad("has a footer rule ddflare cannot read"))?,
                    )
                }
            }
            None => None,
        };
        Ok(Zone {
            name: name.to_owned(),
            transitions,
            initial,
            rule,
        })
    }

    /// UTC as a zone (no key: cron in UTC).
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            transitions: Vec::new(),
            initial: 0,
            rule: None,
        }
    }

    /// The offset (seconds east of UTC) at `t` (Unix seconds).
    pub fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.last() {
            Some((last, _)) if t >= *last && self.rule.is_some() => {
                self.rule.as_ref().map_or(0, |r| r.offset_at(t))
            }
            None => self.rule.as_ref().map_or(self.initial, |r| r.offset_at(t)),
            Some(_) => match self.transitions.partition_point(|(at, _)| *at <= t) {
                0 => self.initial,
                i => self.transitions[i - 1].1,
            },
        }
    }

    /// The instants whose local time is `wall` (local seconds since the epoch), ascending:
    /// one, two when a fall-back repeats it, none when a spring-forward skips it.
    pub fn from_local(&self, wall: i64) -> Vec<i64> {
        // Ascending and without repeats, each candidate put in its place (three at most: no
        // sort compiled for them).
        let mut out: Vec<i64> = Vec::new();
        for o in [
            self.offset_at(wall - 86_400 * 2),
            self.offset_at(wall),
            self.offset_at(wall + 86_400 * 2),
        ] {
            let u = wall - i64::from(o);
            if i64::from(self.offset_at(u)) == wall - u
                && let Err(at) = out.binary_search(&u)
            {
                out.insert(at, u);
            }
        }
        out
    }

    /// The first instant after a skipped `wall` time: the spring-forward transition.
    pub fn gap_end(&self, wall: i64) -> i64 {
        let before = self.offset_at(wall - 86_400 * 2);
        let after = self.offset_at(wall + 86_400 * 2);
        let (mut lo, mut hi) = (wall - i64::from(after), wall - i64::from(before));
        // offset_at(lo) is the old offset, offset_at(hi) the new one.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.offset_at(mid) == after {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// The first instant after `t` where the offset decreases (clocks go back), within a
    /// year; `None` when there is none.
    pub fn next_fall_back(&self, t: i64) -> Option<i64> {
        // Offsets change at most a few times a year and never within a day of each other in
        // tzdata; scanning by 6 hours and refining finds every change.
        let step = 6 * 3600;
        let mut a = t;
        let mut off = self.offset_at(a);
        while a < t + 366 * 86_400 {
            let b = a + step;
            let ob = self.offset_at(b);
            if ob != off {
                let (mut lo, mut hi) = (a, b);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.offset_at(mid) == off {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                if ob < off {
                    return Some(hi);
                }
                off = ob;
            }
            a = b;
        }
        None
    }
}

impl Rule {
    fn parse(s: &str) -> Option<Rule> {
        let b = s.as_bytes();
        let mut i = 0;
        name(b, &mut i)?;
        let std = -offset(b, &mut i)?;
        if i == b.len() {
            return Some(Rule { std, dst: None });
        }
        name(b, &mut i)?;
        let dst_off = if b.get(i) == Some(&b',') {
            std + 3600
        } else {
            -offset(b, &mut i)?
        };
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
        let start = date(b, &mut i)?;
        let start_time = if b.get(i) == Some(&b'/') {
            i += 1;
            offset(b, &mut i)?
        } else {
            7200
        };
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
        let end = date(b, &mut i)?;
        let end_time = if b.get(i) == Some(&b'/') {
            i += 1;
            offset(b, &mut i)?
        } else {
            7200
        };
        (i == b.len()).then_some(Rule {
            std,
            dst: Some((dst_off, start, start_time, end, end_time)),
        })
    }

    fn offset_at(&self, t: i64) -> i32 {
        let Some((dst, start, st, end, et)) = self.dst else {
            return self.std;
        };
        let year = year_of(t + i64::from(self.std));
        let begin = day_of(start, year) * 86_400 + i64::from(st) - i64::from(self.std);
        let finish = day_of(end, year) * 86_400 + i64::from(et) - i64::from(dst);
        let in_dst = if begin < finish {
            t >= begin && t < finish
        } else {
            t >= begin || t < finish
        };
        if in_dst { dst } else { self.std }
    }
}

/// A zone abbreviation: letters, or `<…>` with signs and digits.
fn name(b: &[u8], i: &mut usize) -> Option<()> {
    let start = *i;
    if b.get(*i) == Some(&b'<') {
        let close = b[*i..].iter().position(|&c| c == b'>')?;
        *i += close + 1;
    } else {
        while b.get(*i).is_some_and(u8::is_ascii_alphabetic) {
            *i += 1;
        }
    }
    (*i - start >= 3).then_some(())
}

/// `[+-]h[h][:mm[:ss]]` in seconds (hours up to 167, RFC 8536's extension).
fn offset(b: &[u8], i: &mut usize) -> Option<i32> {
    let sign = match b.get(*i) {
        Some(b'-') => {
            *i += 1;
            -1
        }
        Some(b'+') => {
            *i += 1;
            1
        }
        _ => 1,
    };
    let mut parts = [0i32; 3];
    for (n, part) in parts.iter_mut().enumerate() {
        if n > 0 {
            if b.get(*i) != Some(&b':') {
                break;
            }
            *i += 1;
        }
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) && *i - start < 3 {
            *part = *part * 10 + i32::from(b[*i] - b'0');
            *i += 1;
        }
        if *i == start {
            return None;
        }
    }
    if parts[0] > 167 || parts[1] > 59 || parts[2] > 59 {
        return None;
    }
    Some(sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]))
}

fn number(b: &[u8], i: &mut usize) -> Option<u16> {
    let start = *i;
    let mut n: u16 = 0;
    while b.get(*i).is_some_and(u8::is_ascii_digit) && *i - start < 3 {
        n = n * 10 + u16::from(b[*i] - b'0');
        *i += 1;
    }
    (*i > start).then_some(n)
}

fn date(b: &[u8], i: &mut usize) -> Option<Date> {
    match b.get(*i) {
        Some(b'J') => {
            *i += 1;
            let n = number(b, i)?;
            (1..=365).contains(&n).then_some(Date::Julian1(n))
        }
        Some(b'M') => {
            *i += 1;
            let m = number(b, i)?;
            (b.get(*i) == Some(&b'.')).then_some(())?;
            *i += 1;
            let w = number(b, i)?;
            (b.get(*i) == Some(&b'.')).then_some(())?;
            *i += 1;
            let d = number(b, i)?;
            let (m, w, d) = (
                u8::try_from(m).ok()?,
                u8::try_from(w).ok()?,
                u8::try_from(d).ok()?,
            );
            ((1..=12).contains(&m) && (1..=5).contains(&w) && d <= 6)
                .then_some(Date::Month(m, w, d))
        }
        _ => {
            let n = number(b, i)?;
            (n <= 365).then_some(Date::Julian0(n))
        }
    }
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of (y, m, d), proleptic Gregorian, any year.
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn year_of(t: i64) -> i64 {
    let day = t.div_euclid(86_400);
    // Estimate, then correct.
    let mut y = 1970 + day.div_euclid(365);
    while days(y, 1, 1) > day {
        y -= 1;
    }
    while days(y + 1, 1, 1) <= day {
        y += 1;
    }
    y
}

/// The day (since the epoch) a rule date falls on in `year`.
fn day_of(d: Date, year: i64) -> i64 {
    let jan1 = days(year, 1, 1);
    match d {
        Date::Julian0(n) => jan1 + i64::from(n),
        Date::Julian1(n) => jan1 + i64::from(n) - 1 + i64::from(leap(year) && n >= 60),
        Date::Month(m, w, wd) => {
            let m = i64::from(m);
            let first = days(year, m, 1);
            let first_wd = (first + 4).rem_euclid(7);
            let mut day = first + (i64::from(wd) - first_wd).rem_euclid(7) + (i64::from(w) - 1) * 7;
            let next_month = if m == 12 {
                days(year + 1, 1, 1)
            } else {
                days(year, m + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
        }
    }
}

#[cfg(test)]
mod tests;
