//! The API token's expiry: `check`, `once` and `run` warn when the token expires within
//! [`WARN_WITHIN`] (or has expired), and `run` verifies it again every [`CHECK_EVERY`].
//!
//! What to say and when to ask are PURE ([`warning`], [`due`], [`next_check`]); the time is
//! always a parameter. The last answer is cached in the state dir (`token-check.json`: the time
//! of the check, the status and the expiry; never the token) so that `once` from cron keeps
//! its promise of no API call with an unchanged address: it asks again once a day, or at every
//! start while the cached answer is a warning (so a rolled token silences it at once). A
//! failed verify is not fatal and only logged: account-owned tokens fail
//! `/user/tokens/verify` and still work. A Global API Key is never verified (the endpoint is
//! for tokens).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::clock::unix;
use crate::cloudflare::{DnsApi, TokenInfo};
use crate::files::{self, FileError, Kind};
use crate::metrics::Metrics;

/// Warn when the token expires within this.
pub const WARN_WITHIN: Duration = Duration::from_secs(14 * 24 * 3600);
/// How often the token is verified again.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 3600);
/// The cache file in the state dir.
pub const FILE_NAME: &str = "token-check.json";

/// How to get a token that lasts longer.
const ROLL_HINT: &str = "roll it at My Profile → API Tokens → ⋯ next to the token → Roll \
and put the new value where ddflare reads it (api_token_file, CLOUDFLARE_API_TOKEN, the \
credential), or create a new one with the \"Edit zone DNS\" template";

/// PURE: "3 days", "20 hours", "less than an hour" (rounded to the nearest unit).
fn span(d: Duration) -> String {
    let secs = d.as_secs();
    let hours = (secs + 1800) / 3600;
    let days = (secs + 12 * 3600) / (24 * 3600);
    if secs < 3600 {
        "less than an hour".to_owned()
    } else if hours < 24 {
        if hours == 1 {
            "1 hour".to_owned()
        } else {
            format!("{hours} hours")
        }
    } else if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

/// PURE: the warning about a token with `status` and `expires_on` at `now`, if there is one
/// to give: it is expired or disabled, or expires within [`WARN_WITHIN`].
pub fn warning(status: &str, expires_on: Option<SystemTime>, now: SystemTime) -> Option<String> {
    let when = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    match (status, expires_on) {
        ("disabled", _) => Some(
            "the API token is disabled\nhint: enable it again at My Profile → API Tokens, or create a new one with the \"Edit zone DNS\" template".to_owned(),
        ),
        ("expired", Some(t)) => Some(format!(
            "the API token expired on {}\nhint: {ROLL_HINT}",
            when(t)
        )),
        ("expired", None) => Some(format!("the API token has expired\nhint: {ROLL_HINT}")),
        (_, Some(t)) => match t.duration_since(now) {
            Err(_) => Some(format!(
                "the API token expired on {}\nhint: {ROLL_HINT}",
                when(t)
            )),
            Ok(left) if left <= WARN_WITHIN => Some(format!(
                "the API token expires in {} (on {})\nhint: {ROLL_HINT}",
                span(left),
                when(t)
            )),
            Ok(_) => None,
        },
        _ => None,
    }
}

/// The last verify, as cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Unix seconds of the verify.
    pub checked_at: u64,
    /// `active`, `disabled`, `expired`; `None` when the verify failed.
    pub status: Option<String>,
    /// Unix seconds; `None` when the token does not expire or the verify failed.
    pub expires_on: Option<u64>,
}

fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

impl Check {
    /// A verify's answer at `now`.
    pub fn answered(info: &TokenInfo, now: SystemTime) -> Check {
        Check {
            checked_at: unix(now),
            status: Some(info.status.clone()),
            expires_on: info
                .expires_on
                .as_deref()
                .and_then(|e| humantime::parse_rfc3339_weak(e).ok())
                .map(unix),
        }
    }

    /// A verify that failed at `now`.
    pub fn failed(now: SystemTime) -> Check {
        Check {
            checked_at: unix(now),
            status: None,
            expires_on: None,
        }
    }

    pub fn expires(&self) -> Option<SystemTime> {
        self.expires_on.map(from_unix)
    }

    /// PURE: the warning this answer gives at `now`.
    pub fn warning(&self, now: SystemTime) -> Option<String> {
        self.status
            .as_deref()
            .and_then(|s| warning(s, self.expires(), now))
    }
}

/// PURE: whether to verify now, given the cached answer: none yet, older than
/// [`CHECK_EVERY`] (or from the future: the clock moved), or one that warns at `now`.
pub fn due(cached: Option<&Check>, now: SystemTime) -> bool {
    let Some(c) = cached else { return true };
    let at = from_unix(c.checked_at);
    let stale = match now.duration_since(at) {
        Ok(age) => age >= CHECK_EVERY,
        Err(_) => true,
    };
    stale || c.warning(now).is_some()
}

/// PURE: how long until the next verify is due after `cached` (zero when it is due now).
pub fn next_check(cached: Option<&Check>, now: SystemTime) -> Duration {
    match cached {
        Some(c) if !due(cached, now) => {
            let at = from_unix(c.checked_at) + CHECK_EVERY;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
        _ => Duration::ZERO,
    }
}

/// Where the cache of the state dir `dir` lives (see [`crate::files::state_dir`]).
pub fn path(dir: &Path) -> PathBuf {
    files::state_file(dir, FILE_NAME)
}

/// Reads the cache; a missing or damaged file is "none" (one more verify). A file that cannot
/// be read (a FIFO, too large) is logged: it is replaced on the next save.
pub fn load(dir: &Path) -> Option<Check> {
    let data = match files::read_state(dir, FILE_NAME, Kind::TokenCheck) {
        Ok(data) => data,
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            info!("{e}; the token is verified again");
            return None;
        }
    };
    serde_json::from_slice(&data).ok()
}

/// Writes the cache atomically and durably (a temporary file renamed over it).
pub fn save(dir: &Path, check: &Check) -> Result<(), FileError> {
    let data = serde_json::to_vec_pretty(check).map_err(|e| FileError::Io {
        kind: Kind::TokenCheck,
        path: path(dir),
        doing: "encode",
        source: e.into(),
    })?;
    files::write_state(dir, FILE_NAME, Kind::TokenCheck, &data, true)
}

/// Forgets the cached answer (the credentials changed): the next start verifies again.
pub fn forget(dir: &Path) {
    let _ = files::remove_state(dir, FILE_NAME, Kind::TokenCheck);
}

/// Verifies the token (once, `api` should not retry) and returns the answer to cache, logging
/// the warning if there is one and a failure as information.
pub async fn verify<A: DnsApi>(
    api: &A,
    now: SystemTime,
    on_warning: &(dyn Fn(String) + Sync),
) -> Check {
    match api.verify_token().await {
        Ok(info) => {
            let check = Check::answered(&info, now);
            if let Some(w) = check.warning(now) {
                on_warning(w);
            }
            check
        }
        Err(e) => {
            // 1000 is what account-owned tokens get here; they work on the zones all the same.
            let why = if e.kind == crate::cloudflare::ErrorKind::InvalidToken {
                " (an account-owned token fails this check and still works)"
            } else {
                ""
            };
            info!("the API token's expiry is unknown: {e}{why}");
            Check::failed(now)
        }
    }
}

/// `once` (and `run` at start): verifies when [`due`], warns, and caches the answer unless
/// `dry_run`. Nothing for a Global API Key.
pub async fn at_start<A: DnsApi>(
    api: &A,
    global_key: bool,
    state_dir: &Path,
    dry_run: bool,
    now: SystemTime,
) -> Option<Check> {
    if global_key {
        return None;
    }
    let cached = load(state_dir);
    if !due(cached.as_ref(), now) {
        return cached;
    }
    let check = verify(api, now, &|w| warn!("{w}")).await;
    if !dry_run && let Err(e) = save(state_dir, &check) {
        info!(
            "cannot cache the token check in {}: {e}",
            state_dir.display()
        );
    }
    Some(check)
}

/// `run`: verifies the token when due and then every [`CHECK_EVERY`], for as long as the
/// returned task runs; each answer sets `ddflare_token_expiry_timestamp_seconds` and warns
/// through `on_warning` when it should. `now` is the wall clock (a parameter for tests).
pub fn spawn_probe<A: DnsApi + 'static>(
    api: A,
    state_dir: PathBuf,
    dry_run: bool,
    metrics: Arc<Metrics>,
    now: impl Fn() -> SystemTime + Send + 'static,
    on_warning: impl Fn(String) + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    let task: BoxedTask = Box::pin(async move {
        let cached = load(&state_dir);
        if let Some(c) = &cached {
            metrics.set_token_expiry(c.expires());
        }
        let wait = next_check(cached.as_ref(), now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        loop {
            let t = now();
            let check = verify(&api, t, &on_warning).await;
            metrics.set_token_expiry(check.expires());
            if !dry_run && let Err(e) = save(&state_dir, &check) {
                info!(
                    "cannot cache the token check in {}: {e}",
                    state_dir.display()
                );
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
    tokio::spawn(task)
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    #[test]
    fn warns_within_fourteen_days_and_after_expiry() {
        let now = t0();
        assert_eq!(warning("active", None, now), None, "no expiry, no warning");
        assert_eq!(warning("active", Some(now + 15 * DAY), now), None);
        let w = warning("active", Some(now + 14 * DAY), now).unwrap_or_default();
        assert!(
            w.starts_with("the API token expires in 14 days (on 2027-01-29T"),
            "{w}"
        );
        let w = warning("active", Some(now + 3 * DAY + Duration::from_secs(60)), now)
            .unwrap_or_default();
        assert!(w.contains("expires in 3 days"), "{w}");
        assert!(w.contains("My Profile → API Tokens"), "{w}");
        assert!(w.contains("Roll"), "{w}");
        assert!(w.contains("create a new one"), "{w}");
        let w = warning("active", Some(now + Duration::from_secs(5 * 3600)), now);
        assert!(w.unwrap_or_default().contains("expires in 5 hours"));
        let w = warning("active", Some(now + Duration::from_secs(60)), now);
        assert!(
            w.unwrap_or_default()
                .contains("expires in less than an hour")
        );
        let w = warning("active", Some(now - DAY), now).unwrap_or_default();
        assert!(w.starts_with("the API token expired on "), "{w}");
        let w = warning("expired", None, now).unwrap_or_default();
        assert!(w.starts_with("the API token has expired"), "{w}");
        assert!(warning("disabled", None, now).is_some_and(|w| w.contains("disabled")));
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::from_secs(59 * 60)), "less than an hour");
        assert_eq!(span(Duration::from_secs(3600)), "1 hour");
        assert_eq!(span(Duration::from_secs(23 * 3600)), "23 hours");
        assert_eq!(span(DAY), "1 day");
        assert_eq!(span(DAY * 2 + Duration::from_secs(3600)), "2 days");
        assert_eq!(span(DAY * 3 - Duration::from_secs(1)), "3 days");
    }

    fn check(checked: SystemTime, status: Option<&str>, expires: Option<SystemTime>) -> Check {
        Check {
            checked_at: unix(checked),
            status: status.map(str::to_owned),
            expires_on: expires.map(unix),
        }
    }

    #[test]
    fn a_verify_is_due_first_daily_and_at_every_start_while_it_warns() {
        let now = t0();
        assert!(due(None, now));
        let fresh = check(
            now - Duration::from_secs(3600),
            Some("active"),
            Some(now + 60 * DAY),
        );
        assert!(!due(Some(&fresh), now));
        assert_eq!(
            next_check(Some(&fresh), now),
            DAY - Duration::from_secs(3600)
        );
        assert!(due(
            Some(&fresh),
            now + 23 * 3600 * Duration::from_secs(1) + DAY
        ));
        // A failed verify is not asked again before a day has passed.
        let failed = check(now - Duration::from_secs(60), None, None);
        assert!(!due(Some(&failed), now));
        assert!(due(Some(&failed), now + DAY));
        // Within the window: every start asks again (a rolled token stops the warning).
        let soon = check(
            now - Duration::from_secs(60),
            Some("active"),
            Some(now + 3 * DAY),
        );
        assert!(due(Some(&soon), now));
        assert_eq!(next_check(Some(&soon), now), Duration::ZERO);
        // Entering the window since the last check makes it due too.
        let edge = check(
            now - 2 * 3600 * Duration::from_secs(1),
            Some("active"),
            Some(now + 14 * DAY - Duration::from_secs(60)),
        );
        assert!(due(Some(&edge), now));
        // A check from the future (the clock moved back) is not trusted.
        assert!(due(Some(&check(now + DAY, Some("active"), None)), now));
    }

    #[test]
    fn the_cache_round_trips_and_holds_no_token() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(dir.path()), None);
        let info = TokenInfo {
            id: "f267e341f3dd4697bd3b9f71dd96247f".into(),
            status: "active".into(),
            not_before: None,
            expires_on: Some("2027-01-01T00:00:00Z".into()),
        };
        let c = Check::answered(&info, t0());
        assert_eq!(c.expires_on, Some(1_798_761_600));
        save(dir.path(), &c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(dir.path()), Some(c));
        let text = fs::read_to_string(path(dir.path())).unwrap_or_default();
        assert!(!text.contains("f267e341"), "{text}");
        fs::write(path(dir.path()), "garbage").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(dir.path()), None);
    }

    /// The probe of `run`, on paused time: a verify at start (warning), then one a day, each
    /// warning again, whether or not metrics are served.
    #[tokio::test(start_paused = true)]
    async fn run_verifies_at_start_and_daily_and_warns_each_time() {
        use crate::cloudflare::fake::FakeApi;
        use std::sync::Mutex;

        let api = FakeApi::with_zones(&["example.com"]);
        let expires = t0() + 3 * DAY;
        api.set_token_expiry(Some(
            &humantime::format_rfc3339_seconds(expires).to_string(),
        ));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = warnings.clone();
        let start = tokio::time::Instant::now();
        let metrics = Arc::new(Metrics::new(t0(), Duration::ZERO));
        let task = spawn_probe(
            api.handle(),
            dir.path().to_owned(),
            false,
            metrics,
            move || t0() + start.elapsed(),
            move |w| sink.lock().unwrap_or_else(|p| p.into_inner()).push(w),
        );
        let verifies = || api.calls().iter().filter(|c| c.contains("verify")).count();
        let said = || warnings.lock().unwrap_or_else(|p| p.into_inner()).clone();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(verifies(), 1);
        assert!(said()[0].contains("expires in 3 days"), "{:?}", said());
        tokio::time::sleep(DAY - Duration::from_secs(2)).await;
        assert_eq!(verifies(), 1, "not before a day");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(verifies(), 2);
        assert_eq!(said().len(), 2);
        assert!(said()[1].contains("expires in 2 days"), "{:?}", said());
        tokio::time::sleep(DAY * 3).await;
        assert_eq!(verifies(), 5);
        assert!(said()[4].contains("expired on"), "{:?}", said());
        assert!(load(dir.path()).is_some(), "cached");
        task.abort();
    }
}
