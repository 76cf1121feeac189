use proptest::prelude::*;

use super::*;

/// A zone from the system's tzdata; `None` (and a loud notice) when tzdata is missing.
pub fn system(name: &str) -> Option<Zone> {
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

fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
    days(y, mo, d) * 86_400 + h * 3600 + mi * 60
}

#[test]
fn berlin_and_new_york_transitions() {
    let (Some(be), Some(ny)) = (system("Europe/Berlin"), system("America/New_York")) else {
        return;
    };
    // 2026: Berlin springs forward at 01:00 UTC on March 29 and falls back on October 25.
    assert_eq!(be.offset_at(utc(2026, 3, 29, 1, 0) - 1), 3600);
    assert_eq!(be.offset_at(utc(2026, 3, 29, 1, 0)), 7200);
    assert_eq!(be.offset_at(utc(2026, 10, 25, 1, 0) - 1), 7200);
    assert_eq!(be.offset_at(utc(2026, 10, 25, 1, 0)), 3600);
    // New York: March 8 at 07:00 UTC, November 1 at 06:00 UTC.
    assert_eq!(ny.offset_at(utc(2026, 3, 8, 7, 0) - 1), -18_000);
    assert_eq!(ny.offset_at(utc(2026, 3, 8, 7, 0)), -14_400);
    assert_eq!(ny.offset_at(utc(2026, 11, 1, 6, 0) - 1), -14_400);
    assert_eq!(ny.offset_at(utc(2026, 11, 1, 6, 0)), -18_000);
    // Far beyond any table: the footer's rule.
    assert_eq!(be.offset_at(utc(2200, 7, 1, 0, 0)), 7200);
    assert_eq!(be.offset_at(utc(2200, 1, 1, 0, 0)), 3600);
    // Before 1970 and before the first transition.
    assert_eq!(ny.offset_at(utc(1800, 1, 1, 0, 0)), ny.initial);
}

#[test]
fn skipped_and_repeated_local_times() {
    let (Some(be), Some(ny)) = (system("Europe/Berlin"), system("America/New_York")) else {
        return;
    };
    let wall = |y, mo, d, h, mi| utc(y, mo, d, h, mi);
    // Berlin 2026-03-29 02:30 does not exist; the clocks jump at 01:00 UTC.
    assert!(be.from_local(wall(2026, 3, 29, 2, 30)).is_empty());
    assert_eq!(be.gap_end(wall(2026, 3, 29, 2, 30)), utc(2026, 3, 29, 1, 0));
    // New York 2026-11-01 01:30 happens twice: EDT then EST.
    assert_eq!(
        ny.from_local(wall(2026, 11, 1, 1, 30)),
        [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)]
    );
    assert_eq!(
        ny.from_local(wall(2026, 7, 1, 12, 0)),
        [utc(2026, 7, 1, 16, 0)]
    );
    assert_eq!(
        ny.next_fall_back(utc(2026, 7, 1, 0, 0)),
        Some(utc(2026, 11, 1, 6, 0))
    );
}

/// The footer rule agrees with the table wherever both speak, for zones of both hemispheres.
#[test]
fn footer_rules_agree_with_the_tables() {
    for name in [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "America/Santiago",
    ] {
        let Some(z) = system(name) else { return };
        let Some(rule) = z.rule.clone() else { continue };
        let Some(&(last, _)) = z.transitions.last() else {
            continue;
        };
        // The last ten years of the table.
        let mut t = last - 10 * 366 * 86_400;
        while t < last {
            let i = z.transitions.partition_point(|(at, _)| *at <= t);
            let table = if i == 0 {
                z.initial
            } else {
                z.transitions[i - 1].1
            };
            // Only years where the current rule applies (zones change rules).
            if year_of(t) >= year_of(last) - 3 {
                assert_eq!(rule.offset_at(t), table, "{name} at {t}");
            }
            t += 3 * 3600;
        }
    }
}

#[test]
fn posix_rules() {
    let r = Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    assert_eq!(r.offset_at(utc(2030, 3, 31, 1, 0) - 1), 3600);
    assert_eq!(r.offset_at(utc(2030, 3, 31, 1, 0)), 7200);
    let r = Rule::parse("<-03>3").unwrap();
    assert_eq!(r.offset_at(0), -10_800);
    let r = Rule::parse("IST-2IDT,M3.4.4/26,M10.5.0").unwrap();
    assert!(r.dst.is_some());
    let r = Rule::parse("EST5EDT,J60/2,300").unwrap();
    assert!(r.dst.is_some());
    for bad in [
        "",
        "C",
        "CET",
        "CET-1CEST,M13.1.0,M1.1.0",
        "CET-1CEST,M3.5.0",
        "CET-1x",
        "CET-200",
    ] {
        assert!(Rule::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    assert!(Zone::parse("X", b"").unwrap_err().contains("not a TZif"));
    let mut v1 = b"TZif\0".to_vec();
    v1.resize(44, 0);
    assert!(Zone::parse("X", &v1).unwrap_err().contains("version 1"));
    if let Ok(b) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") {
        for cut in [45, 100, b.len() / 2, b.len() - 3] {
            assert!(Zone::parse("X", &b[..cut]).is_err(), "{cut}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut b = b"TZif2".to_vec();
        b.extend(bytes);
        if let Ok(z) = Zone::parse("X", &b) {
            let _ = z.offset_at(0);
            let _ = z.from_local(1_800_000_000);
        }
    }

    #[test]
    fn mutated_real_files_never_panic(at in 0usize..2400, byte in any::<u8>(), t in -4_000_000_000i64..8_000_000_000) {
        if let Ok(mut b) = std::fs::read("/usr/share/zoneinfo/America/New_York") {
            if at < b.len() {
                b[at] = byte;
            }
            if let Ok(z) = Zone::parse("X", &b) {
                let _ = z.offset_at(t);
                let _ = z.from_local(t);
                let _ = z.next_fall_back(t);
            }
        }
    }

    #[test]
    fn local_round_trips(t in 0i64..4_000_000_000) {
        if let Some(z) = system("America/New_York") {
            let wall = t + i64::from(z.offset_at(t));
            prop_assert!(z.from_local(wall).contains(&t));
        }
    }
}
