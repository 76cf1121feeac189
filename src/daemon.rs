//! The loop: every `interval`, detect → reconcile, under a per-round deadline. A failed round
//! is retried sooner, with backoff (never sooner than Cloudflare's `Retry-After`). Shutdown is
//! a parameter: when it fires, no new round starts, an in-flight one may finish within the
//! grace period, the state is saved and the loop returns.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tracing::{debug, info, warn};

use crate::cloudflare::DnsApi;
use crate::config::ScheduleConfig;
use crate::detect::{Detected, Family};
use crate::updater::{RoundReport, Updater};

/// Detection as the loop sees it: the addresses found this round, by family. A family that
/// could not be detected is absent (its records are left alone).
pub trait Detect: Sync {
    fn detect(
        &self,
        families: &[Family],
    ) -> impl Future<Output = BTreeMap<Family, Detected>> + Send;
}

/// How a round ended, for the caller's heartbeat, notifications and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEnd {
    Done(RoundReport),
    /// No family could be detected: nothing was compared.
    NothingDetected,
    /// The round exceeded `cycle_deadline`.
    DeadlineExceeded,
}

impl RoundEnd {
    pub fn ok(&self) -> bool {
        matches!(self, RoundEnd::Done(r) if r.ok())
    }
}

/// One round: detect, then reconcile what was detected.
pub async fn round<A: DnsApi, D: Detect>(updater: &mut Updater<A>, detector: &D) -> RoundEnd {
    let families = updater.families();
    let addrs = detector.detect(&families).await;
    if addrs.is_empty() {
        warn!("no address could be detected; the records stay as they are");
        return RoundEnd::NothingDetected;
    }
    RoundEnd::Done(updater.reconcile(&addrs, SystemTime::now()).await)
}

/// The wait before the next round, for a round that started at `wall`.
pub fn next_delay(
    schedule: &ScheduleConfig,
    end: &RoundEnd,
    failures: u32,
    wall: SystemTime,
) -> Duration {
    let regular = crate::schedule::regular_delay(schedule, wall, fastrand::f64());
    if end.ok() || failures == 0 {
        return regular;
    }
    // 15s, 30s, 1m, 2m… up to the regular wait.
    let backoff = Duration::from_secs(15 << (failures - 1).min(10)).min(regular);
    let backoff = backoff.mul_f64(0.8 + fastrand::f64() * 0.4);
    match end {
        RoundEnd::Done(r) => r.retry_after.map_or(backoff, |ra| backoff.max(ra)),
        _ => backoff,
    }
}

/// Runs rounds until `shutdown` completes. `on_round` sees each round's end (heartbeat,
/// readiness, notifications).
pub async fn run<A, D, S, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    on_round: F,
) where
    A: DnsApi,
    D: Detect,
    S: Future<Output = ()>,
    F: FnMut(&RoundEnd),
{
    run_woken(updater, detector, schedule, shutdown, None, on_round).await;
}

/// [`run`], where a message on `wake` (an address of a watched interface changed) starts a
/// round at once instead of at the next tick; never sooner than Cloudflare's `Retry-After`.
pub async fn run_woken<A, D, S, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    mut wake: Option<mpsc::Receiver<()>>,
    mut on_round: F,
) where
    A: DnsApi,
    D: Detect,
    S: Future<Output = ()>,
    F: FnMut(&RoundEnd),
{
    tokio::pin!(shutdown);
    let mut failures = 0u32;
    if !schedule.update_on_start {
        let first = crate::schedule::regular_delay(schedule, SystemTime::now(), fastrand::f64());
        info!(
            wait_secs = first.as_secs(),
            "waiting for the first scheduled round"
        );
        tokio::select! {
            () = tokio::time::sleep(first) => {}
            () = &mut shutdown => {
                debug!("loop stopped before its first round");
                return;
            }
        }
    }
    loop {
        let started = Instant::now();
        let started_wall = SystemTime::now();
        let end = {
            let work = timeout(schedule.cycle_deadline, round(updater, detector));
            tokio::pin!(work);
            tokio::select! {
                r = &mut work => Some(r.unwrap_or(RoundEnd::DeadlineExceeded)),
                () = &mut shutdown => {
                    info!(grace_secs = schedule.shutdown_grace.as_secs(), "stopping: letting the round in flight finish");
                    match timeout(schedule.shutdown_grace, &mut work).await {
                        Ok(r) => { if let Ok(end) = r { on_round(&end); } }
                        Err(_) => warn!("the round in flight did not finish within the grace period; stopping anyway"),
                    }
                    None
                }
            }
        };
        let Some(end) = end else { break };
        if end == RoundEnd::DeadlineExceeded {
            warn!(
                deadline_secs = schedule.cycle_deadline.as_secs(),
                "the round took longer than `schedule.cycle_deadline`; trying again later"
            );
        }
        failures = if end.ok() { 0 } else { failures + 1 };
        on_round(&end);
        let delay = next_delay(schedule, &end, failures, started_wall);
        let next = started + delay;
        let not_before = match &end {
            RoundEnd::Done(r) => r.retry_after.map(|ra| started + ra),
            _ => None,
        };
        tokio::select! {
            () = sleep_until(next) => {}
            () = woken(&mut wake) => {
                info!("an address of a watched interface changed: reconciling now");
                if let Some(t) = not_before {
                    tokio::select! {
                        () = sleep_until(t) => {}
                        () = &mut shutdown => break,
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    updater.save_state();
    debug!("loop stopped");
}

/// Completes on the next message of `wake`; never when there is no channel or it closed.
async fn woken(wake: &mut Option<mpsc::Receiver<()>>) {
    if let Some(rx) = wake.as_mut()
        && rx.recv().await.is_some()
    {
        return;
    }
    *wake = None;
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::fake::FakeApi;
    use crate::config::RecordConfig;
    use crate::state::State;
    use crate::updater::Options;
    use std::net::IpAddr;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Detection from a script the test changes between rounds.
    struct Script {
        addr: Mutex<Option<IpAddr>>,
        calls: AtomicUsize,
    }

    impl Detect for Script {
        async fn detect(&self, _families: &[Family]) -> BTreeMap<Family, Detected> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let addr = *self.addr.lock().unwrap();
            addr.map(|a| (Family::V4, Detected::host(a)))
                .into_iter()
                .collect()
        }
    }

    fn schedule() -> ScheduleConfig {
        ScheduleConfig {
            interval: Duration::from_secs(300),
            cycle_deadline: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(10),
            cron: None,
            jitter: Duration::ZERO,
            update_on_start: true,
        }
    }

    fn setup(dir: &std::path::Path) -> Updater<FakeApi> {
        let record = RecordConfig {
            name: "home.example.com".into(),
            zone: None,
            zone_id: None,
            ipv4: true,
            ipv6: false,
            ttl: None,
            proxied: None,
            comment: None,
            ipv6_host: None,
            ownership: crate::plan::Ownership::All,
            delete_on_stop: false,
        };
        let opts = Options {
            state_dir: dir.to_owned(),
            max_age: Duration::from_secs(6 * 3600),
            dry_run: false,
        };
        Updater::new(
            FakeApi::with_zones(&["example.com"]),
            vec![record],
            opts,
            State::default(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_unchanged_ticks_make_no_api_call_then_shutdown_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut rounds = 0usize;
        let mut stop_tx = Some(stop_tx);
        run(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            |end| {
                assert!(end.ok());
                rounds += 1;
                if rounds == 1000
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(rounds, 1000);
        assert_eq!(script.calls.load(Ordering::SeqCst), 1000);
        // The first round found the zone, read and created; the 999 others made no call.
        assert_eq!(
            updater.api().calls().len(),
            4,
            "{:?}",
            updater.api().calls()
        );
        assert!(crate::state::path(dir.path()).exists());
    }

    /// 10,000 rounds under a paused clock with random API faults (429 with Retry-After, 5xx,
    /// timeouts, network errors), random address changes and dashboard edits. At the end the
    /// records equal the last detected address, no 5-minute window saw more than Cloudflare's
    /// 1,200 calls, and the cache did not grow.
    #[tokio::test(start_paused = true)]
    async fn soak_ten_thousand_rounds_with_random_faults_converges() {
        use crate::cloudflare::fake::Chaos;
        let dir = tempfile::tempdir().unwrap();
        let chaos = Chaos::new(0x5eed, 0.15);
        let chaos_on = chaos.on.clone();
        let api = FakeApi::with_zones(&["example.com"]).with_chaos(chaos);
        let dashboard = api.handle();
        let mut updater = Updater::new(
            api,
            vec![RecordConfig {
                name: "home.example.com".into(),
                zone: None,
                zone_id: None,
                ipv4: true,
                ipv6: false,
                ttl: None,
                proxied: None,
                comment: None,
                ipv6_host: None,
                ownership: crate::plan::Ownership::All,
                delete_on_stop: false,
            }],
            Options {
                state_dir: dir.path().to_owned(),
                max_age: Duration::from_secs(6 * 3600),
                dry_run: false,
            },
            State::default(),
        );
        let pool: Vec<IpAddr> = ["203.0.113.7", "198.51.100.4", "192.0.2.9", "203.0.113.99"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let script = Script {
            addr: Mutex::new(Some(pool[0])),
            calls: AtomicUsize::new(0),
        };
        let mut rng = fastrand::Rng::with_seed(42);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let mut rounds = 0usize;
        let mut failed = 0usize;
        let mut drifts = 0usize;
        run(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            |end| {
                rounds += 1;
                failed += usize::from(!end.ok());
                if rng.f64() < 0.05 {
                    *script.addr.lock().unwrap() = Some(pool[rng.usize(..pool.len())]);
                }
                if rounds < 10_000 && rng.f64() < 0.01 {
                    // Someone edits the record in the dashboard: corrected within max_age.
                    dashboard.edit("home.example.com", "A", "192.0.2.200");
                    drifts += 1;
                }
                if rounds == 10_000 {
                    // Calm down for the last stretch: faults off, then stop after a few rounds.
                    chaos_on.store(false, Ordering::SeqCst);
                }
                // 100 rounds of 5 minutes outlast max_age (6h): any drift is seen and fixed.
                if rounds == 10_000 + 100
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(rounds, 10_100);
        assert!(
            failed > 100,
            "faults were injected ({failed} failed rounds)"
        );
        let last = script.addr.lock().unwrap().unwrap();
        let a: Vec<_> = updater
            .api()
            .records()
            .into_iter()
            .filter(|r| r.rtype == "A")
            .collect();
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].content.parse::<IpAddr>().unwrap(), last);
        let times = updater.api().call_times();
        let mut lo = 0;
        for hi in 0..times.len() {
            while times[hi] - times[lo] >= Duration::from_secs(300) {
                lo += 1;
            }
            assert!(hi - lo < 1200, "{} calls in 5 minutes", hi - lo + 1);
        }
        assert_eq!(updater.state().records.len(), 1);
        assert_eq!(updater.state().zones.len(), 1);
        assert!(drifts > 50, "{drifts} dashboard edits");
    }

    /// Runs the loop until `rounds` rounds ended; returns when each ended (paused clock).
    async fn round_times(schedule: &ScheduleConfig, rounds: usize) -> Vec<Duration> {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let t0 = Instant::now();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let mut times = Vec::new();
        run(
            &mut updater,
            &script,
            schedule,
            async {
                let _ = stop_rx.await;
            },
            |_| {
                times.push(t0.elapsed());
                if times.len() == rounds
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        times
    }

    #[tokio::test(start_paused = true)]
    async fn without_update_on_start_the_first_round_waits_for_the_schedule() {
        let mut s = schedule();
        assert_eq!(round_times(&s, 2).await[0], Duration::ZERO);
        s.update_on_start = false;
        let times = round_times(&s, 2).await;
        assert_eq!(times[0], s.interval);
        assert_eq!(times[1], 2 * s.interval);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_lengthens_each_wait_within_its_bound() {
        let mut s = schedule();
        s.jitter = Duration::from_secs(60);
        let times = round_times(&s, 50).await;
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter()
                .all(|g| *g >= s.interval && *g <= s.interval + s.jitter),
            "{gaps:?}"
        );
        assert!(
            gaps.iter()
                .any(|g| *g > s.interval + Duration::from_secs(5))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_starts_a_round_before_the_tick() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let (wake_tx, wake_rx) = mpsc::channel(1);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let t0 = Instant::now();
        let mut ends = Vec::new();
        run_woken(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            Some(wake_rx),
            |_| {
                ends.push(t0.elapsed());
                if ends.len() == 1 {
                    // As the netlink watcher would after `ip addr add`.
                    let _ = wake_tx.try_send(());
                } else if let Some(tx) = stop_tx.take() {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(ends.len(), 2);
        assert!(ends[1] < Duration::from_secs(1), "{ends:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_wake_channel_falls_back_to_the_timer() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let (wake_tx, wake_rx) = mpsc::channel::<()>(1);
        drop(wake_tx);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let t0 = Instant::now();
        let mut ends = Vec::new();
        run_woken(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            Some(wake_rx),
            |_| {
                ends.push(t0.elapsed());
                if ends.len() == 2
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(ends[1], Duration::from_secs(300));
    }

    #[test]
    fn failed_rounds_back_off_and_honour_retry_after() {
        let s = schedule();
        let failed = RoundEnd::NothingDetected;
        let first = next_delay(&s, &failed, 1, SystemTime::now());
        assert!(
            first >= Duration::from_secs(12) && first <= Duration::from_secs(18),
            "{first:?}"
        );
        let later = next_delay(&s, &failed, 20, SystemTime::now());
        assert!(later <= s.interval.mul_f64(1.2));
        let limited = RoundEnd::Done(crate::updater::RoundReport {
            lines: vec![crate::updater::Line {
                name: "x".into(),
                rtype: "A",
                content: "203.0.113.7".parse().unwrap(),
                outcome: crate::updater::Outcome::Failed {
                    error: "429".into(),
                    hint: None,
                },
            }],
            retry_after: Some(Duration::from_secs(200)),
            api_calls: 1,
        });
        assert!(next_delay(&s, &limited, 1, SystemTime::now()) >= Duration::from_secs(200));
        assert_eq!(
            next_delay(
                &s,
                &RoundEnd::Done(Default::default()),
                0,
                SystemTime::now()
            ),
            s.interval
        );
    }
}
