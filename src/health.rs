//! The daemon's heartbeat and `ddflare health`.
//!
//! After each successful round the daemon writes the time of that success to `heartbeat` in
//! the state dir (through [`crate::files`]: a temporary file, then rename, so a reader never
//! sees half a file).
//! `ddflare health` reads it and says whether it is recent enough: exit 0, or 1 with a
//! one-line reason. A scratch container image has no curl, so its `HEALTHCHECK` runs the
//! binary itself. The decision ([`judge`]) is pure; file I/O stays in [`read`] and
//! [`Heartbeat::write`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::files::{self, FileError, Kind};
use crate::round::RoundEnd;
use crate::schedule::ScheduleConfig;

pub const FILE_NAME: &str = "heartbeat";
const VERSION: u32 = 1;

/// Where the heartbeat of the state dir `dir` lives (see [`crate::files::state_dir`]).
pub fn path(dir: &Path) -> PathBuf {
    files::state_file(dir, FILE_NAME)
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beat {
    pub version: u32,
    /// Unix seconds of the end of the last successful round.
    pub last_success: u64,
    /// The same, for a person reading the file.
    #[serde(default)]
    pub last_success_utc: String,
}

impl Beat {
    pub fn at(time: SystemTime) -> Beat {
        Beat {
            version: VERSION,
            last_success: crate::clock::unix(time),
            last_success_utc: humantime::format_rfc3339_seconds(time).to_string(),
        }
    }
}

/// The longest gap between two regular rounds: `interval` (or the longest gap of `cron`)
/// plus `jitter`.
fn regular_wait(schedule: &ScheduleConfig) -> Duration {
    crate::schedule::longest_gap(schedule) + schedule.jitter
}

/// The one health rule, of `ddflare health` (its default `--max-age`) and `/healthz` alike:
/// the last success may be two regular waits and the longest a round may take old, so one
/// late or failed round is not yet unhealthy, two in a row are. What acts on a probe adds its
/// own slack (Docker's `--retries`, Kubernetes' `failureThreshold` × `periodSeconds`).
pub fn default_max_age(schedule: &ScheduleConfig) -> Duration {
    regular_wait(schedule) * 2 + schedule.cycle_deadline
}

/// Why the daemon is not healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhealthy {
    /// No heartbeat file: no round has succeeded yet, or no daemon uses this state dir.
    Missing { path: PathBuf },
    /// The file could not be read or parsed.
    Unreadable { path: PathBuf, error: String },
    /// The last success is older than allowed.
    Stale { age: Duration, max_age: Duration },
}

impl fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unhealthy::Missing { path } => write!(
                f,
                "no heartbeat at {}: no round has succeeded yet, or no daemon (`ddflare run`) uses this state dir",
                path.display()
            ),
            Unhealthy::Unreadable { path, error } => {
                write!(f, "cannot read the heartbeat {}: {error}", path.display())
            }
            Unhealthy::Stale { age, max_age } => write!(
                f,
                "the last successful round was {} ago, longer than the allowed {}; see the daemon's log for why rounds fail",
                show(*age),
                show(*max_age)
            ),
        }
    }
}

pub fn show(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// What [`read`] found.
pub type Reading = Result<Beat, Unhealthy>;

/// PURE: healthy (with the age of the last success) when it is at most `max_age` old. A
/// heartbeat from the future (the clock was set back) counts as fresh: the daemon is alive.
pub fn judge(reading: Reading, now: SystemTime, max_age: Duration) -> Result<Duration, Unhealthy> {
    let beat = reading?;
    let age = Duration::from_secs(crate::clock::unix(now).saturating_sub(beat.last_success));
    if age > max_age {
        Err(Unhealthy::Stale { age, max_age })
    } else {
        Ok(age)
    }
}

/// Reads the heartbeat of the state dir `dir`.
pub fn read(dir: &Path) -> Reading {
    let bytes = match files::read_state(dir, FILE_NAME, Kind::Heartbeat) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Err(Unhealthy::Missing { path: path(dir) }),
        Err(e) => {
            return Err(Unhealthy::Unreadable {
                path: path(dir),
                error: format!("{}; {}", e.reason(), e.hint()),
            });
        }
    };
    let path = path(dir);
    match serde_json::from_slice::<Beat>(&bytes) {
        Ok(b) if b.version == VERSION => Ok(b),
        Ok(b) => Err(Unhealthy::Unreadable {
            path,
            error: format!("version {}, this ddflare reads {VERSION}", b.version),
        }),
        Err(e) => Err(Unhealthy::Unreadable {
            path,
            error: e.to_string(),
        }),
    }
}

/// The longest a written heartbeat may lag the last success: a round within this of the last
/// write leaves the file as it is. Each write renames over the old file, which ext4 follows
/// with a flush of the new data (its `auto_da_alloc` heuristic): two thirds of an unchanged
/// tick's CPU before, and a flash write per tick on a router.
const REFRESH_MAX: Duration = Duration::from_secs(60);

/// PURE: how stale the heartbeat may get for this schedule: a small part of `ddflare health`'s
/// default max age (two regular waits and a deadline), at most a minute.
pub fn refresh(schedule: &ScheduleConfig) -> Duration {
    (default_max_age(schedule) / 8).min(REFRESH_MAX)
}

/// PURE: whether a success at `now` is written, the last write having been at `last`: the
/// first one, one after a clock set back, and one `refresh` or more after the last write.
fn due(last: Option<SystemTime>, now: SystemTime, refresh: Duration) -> bool {
    last.is_none_or(|last| now.duration_since(last).map_or(true, |d| d >= refresh))
}

/// The daemon's side: writes the heartbeat after a successful round, unless the file already
/// says a success less than [`refresh`] ago.
#[derive(Debug)]
pub struct Heartbeat {
    dir: PathBuf,
    refresh: Duration,
    /// The time the file says, as last written by this daemon.
    written: Option<SystemTime>,
    /// Warn once per run of failures, not on every round.
    warned: bool,
}

impl Heartbeat {
    /// `refresh`: see [`refresh`]; `Duration::ZERO` writes every success.
    pub fn new(state_dir: &Path, refresh: Duration) -> Heartbeat {
        Heartbeat {
            dir: state_dir.to_owned(),
            refresh,
            written: None,
            warned: false,
        }
    }

    /// Called with each round's end; only a successful round beats.
    pub fn round(&mut self, end: &RoundEnd) {
        if !end.ok() {
            return;
        }
        let now = SystemTime::now();
        if !due(self.written, now, self.refresh) {
            return;
        }
        match self.write(now) {
            Ok(()) => {
                self.warned = false;
                self.written = Some(now);
            }
            Err(e) if !self.warned => {
                self.warned = true;
                warn!(
                    "cannot write the heartbeat: {e}; `ddflare health` will report the daemon as unhealthy; {}",
                    e.hint()
                );
            }
            Err(_) => {}
        }
    }

    /// Writes the heartbeat atomically (temporary file + rename). No fsync: after a crash an
    /// old or missing heartbeat only makes `health` stricter, and a router's flash is spared.
    pub fn write(&self, time: SystemTime) -> Result<(), FileError> {
        let data = serde_json::to_vec(&Beat::at(time)).map_err(|e| FileError::Io {
            kind: Kind::Heartbeat,
            path: path(&self.dir),
            doing: "encode",
            source: e.into(),
        })?;
        files::write_state(&self.dir, FILE_NAME, Kind::Heartbeat, &data, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::UNIX_EPOCH;

    const T0: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn beat(secs: u64) -> Reading {
        Ok(Beat::at(at(secs)))
    }

    #[test]
    fn default_max_age_is_two_intervals_and_a_deadline() {
        let mut s = crate::testing::schedule();
        assert_eq!(default_max_age(&s), Duration::from_secs(720));
        s.jitter = Duration::from_secs(30);
        assert_eq!(default_max_age(&s), Duration::from_secs(780));
    }

    #[test]
    fn the_heartbeat_is_rewritten_a_refresh_after_the_last_write_or_after_the_clock_went_back() {
        let refresh = Duration::from_secs(60);
        assert!(due(None, at(T0), refresh), "the first success");
        assert!(!due(Some(at(T0)), at(T0), refresh));
        assert!(!due(Some(at(T0)), at(T0 + 59), refresh));
        assert!(due(Some(at(T0)), at(T0 + 60), refresh));
        assert!(
            due(Some(at(T0)), at(T0 - 1), refresh),
            "the clock was set back"
        );
        assert!(due(Some(at(T0)), at(T0), Duration::ZERO));
    }

    #[test]
    fn the_refresh_is_an_eighth_of_the_default_max_age_and_at_most_a_minute() {
        let mut s = crate::testing::schedule();
        assert_eq!(refresh(&s), Duration::from_secs(60), "12 min / 8 is 90 s");
        s.interval = Duration::from_secs(10);
        s.cycle_deadline = Duration::from_secs(20);
        assert_eq!(refresh(&s), Duration::from_secs(5), "(2 × 10 s + 20 s) / 8");
        // Well inside what `health` allows: one late round is not yet unhealthy.
        assert!(refresh(&s) * 4 < default_max_age(&s));
    }

    #[test]
    fn fresh_is_healthy_up_to_and_including_max_age() {
        let max = Duration::from_secs(720);
        assert_eq!(
            judge(beat(T0), at(T0 + 30), max),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(judge(beat(T0), at(T0 + 720), max), Ok(max));
        assert_eq!(
            judge(beat(T0), at(T0 + 721), max),
            Err(Unhealthy::Stale {
                age: Duration::from_secs(721),
                max_age: max
            })
        );
    }

    #[test]
    fn a_heartbeat_from_the_future_counts_as_fresh() {
        assert_eq!(
            judge(beat(T0 + 100), at(T0), Duration::from_secs(60)),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn reasons_are_one_line_and_say_what_to_do() {
        let stale = Unhealthy::Stale {
            age: Duration::from_millis(1_250_500),
            max_age: Duration::from_secs(720),
        };
        assert_eq!(
            stale.to_string(),
            "the last successful round was 20m 50s ago, longer than the allowed 12m; see the daemon's log for why rounds fail"
        );
        let missing = Unhealthy::Missing {
            path: PathBuf::from("/var/lib/ddflare/heartbeat"),
        };
        assert!(!missing.to_string().contains('\n'));
        assert!(missing.to_string().contains("/var/lib/ddflare/heartbeat"));
    }

    #[test]
    fn write_then_read_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let hb = Heartbeat::new(&dir.path().join("sub"), Duration::ZERO);
        hb.write(at(T0)).unwrap();
        let b = read(&dir.path().join("sub")).unwrap();
        assert_eq!(b.last_success, T0);
        assert_eq!(b.last_success_utc, "2027-01-15T08:00:00Z");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME]);
    }

    #[test]
    fn missing_damaged_and_foreign_files_are_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), Err(Unhealthy::Missing { .. })));
        fs::write(path(dir.path()), b"{not json").unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(Unhealthy::Unreadable { .. })
        ));
        fs::write(path(dir.path()), br#"{"version":9,"last_success":1}"#).unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
    }

    #[test]
    fn only_successful_rounds_beat() {
        let dir = tempfile::tempdir().unwrap();
        let mut hb = Heartbeat::new(dir.path(), Duration::ZERO);
        hb.round(&RoundEnd::NothingDetected);
        hb.round(&RoundEnd::DeadlineExceeded);
        assert!(matches!(read(dir.path()), Err(Unhealthy::Missing { .. })));
        hb.round(&RoundEnd::Done(Default::default()));
        assert!(read(dir.path()).is_ok());
    }

    #[test]
    fn an_unwritable_dir_warns_and_does_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        fs::write(&file, b"").unwrap();
        let mut hb = Heartbeat::new(&file.join("under-a-file"), Duration::from_secs(60));
        hb.round(&RoundEnd::Done(Default::default()));
        hb.round(&RoundEnd::Done(Default::default()));
        assert!(hb.warned);
        assert_eq!(hb.written, None, "a failed write is tried again next round");
    }

    #[test]
    fn a_success_within_the_refresh_of_the_last_write_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut hb = Heartbeat::new(dir.path(), Duration::from_secs(3600));
        hb.round(&RoundEnd::Done(Default::default()));
        let beat = path(dir.path());
        fs::remove_file(&beat).unwrap();
        hb.round(&RoundEnd::Done(Default::default()));
        assert!(!beat.exists(), "written again within the refresh");
        let mut every = Heartbeat::new(dir.path(), Duration::ZERO);
        every.round(&RoundEnd::Done(Default::default()));
        every.round(&RoundEnd::Done(Default::default()));
        assert!(beat.exists());
    }
}
