//! The loop: every `interval`, detect → reconcile, under a per-round deadline. A failed round
//! is retried sooner, with backoff (never sooner than Cloudflare's `Retry-After`). Shutdown is
//! a parameter: when it fires, no new round starts, an in-flight one may finish within the
//! grace period, the state is saved and the loop returns.
//!
//! Waits follow two clocks. tokio's timers run on CLOCK_MONOTONIC, which stops while the
//! machine is suspended; the schedule (cron above all) is about the wall clock, which does
//! not. So the loop sleeps at most [`WAKE_CHECK`] at a time and looks at the wall clock
//! ([`Clock`], injected) after each sleep: a round is due when either clock says so. A wall
//! clock that moved more than [`JUMP`] beyond the monotonic one during a sleep is a resume
//! (or a clock stepped forward): a round runs at once, as a resume often brings a new address.
//! A wall clock stepped backward cannot delay a round: the monotonic deadline still holds.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};
use tracing::{debug, info, warn};

use crate::clock::{Clock, Random, SystemClock, ThreadRandom};
use crate::cloudflare::{DnsApi, deadline};
use crate::detect::{Detected, Family};
use crate::push::Pushed;
use crate::round::RoundEnd;
use crate::schedule::ScheduleConfig;
use crate::updater::Updater;

/// What started a round early, for its summary line (`trigger="SIGUSR1"`): a message of the
/// wake channel ([`run_woken`]). `None`: the schedule, a start, a reload, a push.
pub type Trigger = Option<&'static str>;

/// The longest single sleep of the loop: a round due during a suspend runs at most this long
/// after the resume.
pub const WAKE_CHECK: Duration = Duration::from_secs(30);

/// How much further the wall clock must move than the monotonic clock during one sleep to
/// count as a resume (or a forward step): NTP's slewing never comes near it.
pub const JUMP: Duration = Duration::from_secs(60);

/// The longest `Retry-After` the loop honours: Cloudflare's blocks last five minutes, and a
/// bigger value (a broken or hostile answer) must not stop the daemon for good.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Detection as the loop sees it: the addresses found this round, by family. A family that
/// could not be detected is absent (its records are left alone).
pub trait Detect: Sync {
    fn detect(
        &self,
        families: &[Family],
    ) -> impl Future<Output = BTreeMap<Family, Detected>> + Send;
}

/// The future `make` returns, built in a stack frame of its own and moved to the heap. A
/// future is as large as its largest state (a command's or a round's is several KB). Built
/// where it is awaited, it would take that room in the frame of the caller's `poll`, below
/// which every later poll runs: the stack grows by it for good (a stack page touched once
/// stays resident). Used for the command futures and for each round and wait of the loop.
#[inline(never)]
pub fn boxed<F: Future, M: FnOnce() -> F>(make: M) -> std::pin::Pin<Box<F>> {
    Box::pin(make())
}

/// One round: detect, then reconcile what was detected.
pub async fn round<A: DnsApi, D: Detect>(updater: &mut Updater<A>, detector: &D) -> RoundEnd {
    round_with(updater, detector, &SystemClock, None).await
}

/// [`round`] on the given wall clock (the cache's ages are wall-clock times), started by
/// `trigger` (said on its warning when nothing is detected).
pub async fn round_with<A: DnsApi, D: Detect, C: Clock>(
    updater: &mut Updater<A>,
    detector: &D,
    clock: &C,
    trigger: Trigger,
) -> RoundEnd {
    let families = updater.families();
    let addrs = detector.detect(&families).await;
    // A name fed by pushes is checked against its last pushed address whatever detection
    // found (with `ipv4 = ipv6 = "none"`, detection finds nothing by design).
    if addrs.is_empty() && !updater.has_push() {
        warn!(
            trigger,
            "no address could be detected; the records stay as they are"
        );
        return RoundEnd::NothingDetected;
    }
    RoundEnd::Done(updater.reconcile(&addrs, clock.now()).await)
}

/// Why a wait ended.
#[derive(Debug)]
enum Woke<W> {
    /// One of the two deadlines passed.
    Due,
    /// The wall clock jumped forward by this much more than the monotonic clock moved.
    Jumped(Duration),
    /// Woken early, for this reason (a watched interface's address changed, SIGUSR1).
    Wake(&'static str),
    /// A router pushed an address (`[push]`).
    Push(Pushed),
    /// The shutdown future completed, with this.
    Shutdown(W),
}

/// Waits until `mono` (tokio time) or `wall` (the clock; `None` when it cannot be
/// represented) passes, whichever comes first, in sleeps of at most [`WAKE_CHECK`]. With
/// `watch`, also ends early on a forward jump of the wall clock, on `wake` and on `shutdown`;
/// without, only on `shutdown`.
async fn wait_until<C: Clock, W, S: Future<Output = W>>(
    mono: Instant,
    wall: Option<SystemTime>,
    clock: &C,
    watch: bool,
    wake: &mut Option<mpsc::Receiver<&'static str>>,
    push: &mut Option<mpsc::Receiver<Pushed>>,
    shutdown: &mut std::pin::Pin<&mut S>,
) -> Woke<W> {
    loop {
        let (m0, w0) = (Instant::now(), clock.now());
        if m0 >= mono || wall.is_some_and(|w| w0 >= w) {
            return Woke::Due;
        }
        // Whichever deadline is nearer by its own clock, and never longer than WAKE_CHECK.
        let to_wall = wall.map_or(WAKE_CHECK, |w| w.duration_since(w0).unwrap_or_default());
        let chunk = (mono - m0).min(to_wall).min(WAKE_CHECK);
        tokio::select! {
            () = sleep(chunk) => {}
            why = woken(wake), if watch => return Woke::Wake(why),
            p = pushed(push) => return Woke::Push(p),
            why = shutdown.as_mut() => return Woke::Shutdown(why),
        }
        let slept = m0.elapsed();
        // A wall clock stepped backward gives no duration: the monotonic deadline rules.
        if let Ok(moved) = clock.now().duration_since(w0)
            && watch
            && moved > slept + JUMP
        {
            return Woke::Jumped(moved - slept);
        }
    }
}

/// `delete_on_stop` on a graceful stop: deletes the records ddflare created (see
/// [`Updater::delete_created`]) within `budget`; what is not done by then is left in place.
pub async fn delete_on_stop<A: DnsApi>(updater: &mut Updater<A>, budget: Duration) {
    match timeout(budget, updater.delete_created()).await {
        Ok(c) if c.deleted + c.kept + c.failed > 0 => info!(
            deleted = c.deleted,
            left_in_place = c.kept + c.failed,
            "delete_on_stop: done"
        ),
        Ok(_) => {}
        Err(_) => {
            warn!(
                budget_secs = budget.as_secs(),
                "delete_on_stop: not finished within `schedule.shutdown_grace`; the records not deleted yet stay on Cloudflare"
            );
            updater.save_state();
        }
    }
}

/// The wait before the next round, for a round that started at `wall`.
pub fn next_delay(
    schedule: &ScheduleConfig,
    end: &RoundEnd,
    failures: u32,
    wall: SystemTime,
    random: &dyn Random,
) -> Duration {
    let regular = crate::schedule::regular_delay(schedule, wall, random.unit());
    if end.ok() || failures == 0 {
        return regular;
    }
    // 15s, 30s, 1m, 2m… up to the regular wait.
    let backoff = Duration::from_secs(15 << (failures - 1).min(10)).min(regular);
    let backoff = backoff.mul_f64(0.8 + random.unit() * 0.4);
    match end {
        RoundEnd::Done(r) => r
            .retry_after
            .map_or(backoff, |ra| backoff.max(ra.min(MAX_RETRY_AFTER))),
        _ => backoff,
    }
}

/// Runs rounds until `shutdown` completes, and returns what it completed with (`None` only if
/// the loop ended otherwise). `on_round` sees each round's end and what started it (the
/// summary line, heartbeat, readiness, notifications).
pub async fn run<A, D, S, W, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    on_round: F,
) -> Option<W>
where
    A: DnsApi,
    D: Detect,
    S: Future<Output = W>,
    F: FnMut(&RoundEnd, Trigger),
{
    run_woken(updater, detector, schedule, shutdown, None, on_round).await
}

/// [`run`], where a message on `wake` (why: an address of a watched interface changed,
/// SIGUSR1) starts a round at once instead of at the next tick, also before the first
/// scheduled round; never sooner than Cloudflare's `Retry-After`.
pub async fn run_woken<A, D, S, W, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    wake: Option<mpsc::Receiver<&'static str>>,
    on_round: F,
) -> Option<W>
where
    A: DnsApi,
    D: Detect,
    S: Future<Output = W>,
    F: FnMut(&RoundEnd, Trigger),
{
    let seams = Seams {
        clock: &SystemClock,
        random: &ThreadRandom,
    };
    run_clocked(updater, detector, schedule, shutdown, wake, seams, on_round).await
}

/// The wall clock and the random numbers a loop runs on: the system's in production, fixed
/// ones in tests.
pub struct Seams<'a, C> {
    pub clock: &'a C,
    pub random: &'a dyn Random,
}

/// [`run_woken`] on the given wall clock and random numbers.
pub async fn run_clocked<A, D, S, W, C, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    wake: Option<mpsc::Receiver<&'static str>>,
    seams: Seams<'_, C>,
    on_round: F,
) -> Option<W>
where
    A: DnsApi,
    D: Detect,
    S: Future<Output = W>,
    C: Clock,
    F: FnMut(&RoundEnd, Trigger),
{
    let inbox = Inbox { wake, push: None };
    run_inbox(
        updater, detector, schedule, shutdown, inbox, seams, on_round,
    )
    .await
}

/// What may start work between the scheduled rounds: a wake-up (netlink, SIGUSR1), or a
/// router's push (`[push]`), served between rounds, never beside one.
pub struct Inbox {
    pub wake: Option<mpsc::Receiver<&'static str>>,
    pub push: Option<mpsc::Receiver<Pushed>>,
}

/// [`run_woken`] that also serves pushes, on the system's clock.
pub async fn run_pushed<A, D, S, W, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    inbox: Inbox,
    on_round: F,
) -> Option<W>
where
    A: DnsApi,
    D: Detect,
    S: Future<Output = W>,
    F: FnMut(&RoundEnd, Trigger),
{
    let seams = Seams {
        clock: &SystemClock,
        random: &ThreadRandom,
    };
    run_inbox(
        updater, detector, schedule, shutdown, inbox, seams, on_round,
    )
    .await
}

/// [`run_clocked`] with pushes.
pub async fn run_inbox<A, D, S, W, C, F>(
    updater: &mut Updater<A>,
    detector: &D,
    schedule: &ScheduleConfig,
    shutdown: S,
    inbox: Inbox,
    seams: Seams<'_, C>,
    mut on_round: F,
) -> Option<W>
where
    A: DnsApi,
    D: Detect,
    S: Future<Output = W>,
    C: Clock,
    F: FnMut(&RoundEnd, Trigger),
{
    let mut inbox = inbox;
    let Seams { clock, random } = seams;
    tokio::pin!(shutdown);
    let mut failures = 0u32;
    // Said on the summary line of the round it starts, not on a line of its own.
    let mut trigger: Trigger = None;
    if !schedule.update_on_start {
        let wall = clock.now();
        let first = crate::schedule::regular_delay(schedule, wall, random.unit());
        info!(
            wait_secs = first.as_secs(),
            "waiting for the first scheduled round"
        );
        let woke = wait_serving(
            updater,
            (Instant::now() + first, wall.checked_add(first)),
            (clock, schedule),
            &mut inbox,
            &mut shutdown,
            &mut on_round,
        )
        .await;
        match woke {
            Woke::Shutdown(why) => {
                debug!("loop stopped before its first round");
                return Some(why);
            }
            Woke::Jumped(by) => jumped(by),
            Woke::Wake(why) => trigger = Some(why),
            Woke::Due | Woke::Push(_) => {}
        }
    }
    let stopped = loop {
        let started = Instant::now();
        let started_wall = clock.now();
        let end = {
            // Boxed, like the waits below: a round's future (about 8 KB) lives on the heap for
            // the round alone, not in the loop's future for the daemon's life (see `boxed`).
            let mut work = boxed(|| {
                timeout(
                    schedule.cycle_deadline,
                    deadline::within(
                        deadline::for_round(started, schedule.cycle_deadline),
                        round_with(updater, detector, clock, trigger),
                    ),
                )
            });
            tokio::select! {
                r = &mut work => Ok(r.unwrap_or(RoundEnd::DeadlineExceeded)),
                why = &mut shutdown => {
                    info!(grace_secs = schedule.shutdown_grace.as_secs(), "stopping: letting the round in flight finish");
                    match timeout(schedule.shutdown_grace, &mut work).await {
                        Ok(r) => { if let Ok(end) = r { on_round(&end, trigger); } }
                        Err(_) => warn!("the round in flight did not finish within the grace period; stopping anyway"),
                    }
                    Err(why)
                }
            }
        };
        let end = match end {
            Ok(end) => end,
            Err(why) => {
                break Some(why);
            }
        };
        if end == RoundEnd::DeadlineExceeded {
            warn!(
                deadline_secs = schedule.cycle_deadline.as_secs(),
                trigger, "the round took longer than `schedule.cycle_deadline`; trying again later"
            );
        }
        failures = if end.ok() { 0 } else { failures + 1 };
        on_round(&end, trigger.take());
        let delay = next_delay(schedule, &end, failures, started_wall, random);
        let retry_after = match &end {
            RoundEnd::Done(r) => r.retry_after.map(|ra| ra.min(MAX_RETRY_AFTER)),
            _ => None,
        };
        let woke = wait_serving(
            updater,
            (started + delay, started_wall.checked_add(delay)),
            (clock, schedule),
            &mut inbox,
            &mut shutdown,
            &mut on_round,
        )
        .await;
        match woke {
            Woke::Due => continue,
            Woke::Shutdown(why) => {
                break Some(why);
            }
            Woke::Wake(why) => trigger = Some(why),
            Woke::Jumped(by) => jumped(by),
            Woke::Push(_) => {}
        }
        // Early: never sooner than Cloudflare's Retry-After (by either clock).
        if let Some(ra) = retry_after {
            let woke = wait_until(
                started + ra,
                started_wall.checked_add(ra),
                clock,
                false,
                &mut None,
                &mut None,
                &mut shutdown,
            )
            .await;
            if let Woke::Shutdown(why) = woke {
                break Some(why);
            }
        }
    };
    updater.save_state();
    debug!("loop stopped");
    stopped
}

fn jumped(by: Duration) {
    info!(
        jump_secs = by.as_secs(),
        "the wall clock jumped forward (a resume from suspend?): reconciling now"
    );
}

/// Completes on the next push; never when there is no channel or it closed.
async fn pushed(push: &mut Option<mpsc::Receiver<Pushed>>) -> Pushed {
    if let Some(rx) = push.as_mut()
        && let Some(p) = rx.recv().await
    {
        return p;
    }
    *push = None;
    std::future::pending().await
}

/// A push's own reconciliation, under the round's deadline, between two scheduled rounds
/// (never beside one): the names it pushed, with its addresses. Its end is reported like a
/// round's, and sent back to the endpoint, which answers the router.
async fn serve_push<A: DnsApi, C: Clock, F: FnMut(&RoundEnd, Trigger)>(
    updater: &mut Updater<A>,
    push: Pushed,
    schedule: &ScheduleConfig,
    clock: &C,
    on_round: &mut F,
) {
    let work = updater.reconcile_push(&push.names, &push.addrs, clock.now());
    let report = timeout(
        schedule.cycle_deadline,
        deadline::within(
            deadline::for_round(Instant::now(), schedule.cycle_deadline),
            work,
        ),
    )
    .await
    .ok();
    let end = report
        .clone()
        .map_or(RoundEnd::DeadlineExceeded, RoundEnd::Done);
    on_round(&end, None);
    let _ = push.reply.send(report);
}

/// [`wait_until`] watching the inbox, serving each push that arrives meanwhile: it ends on
/// anything else. The wait is [`boxed`], as the loop's waits all are.
fn wait_serving<'a, A, C, W, S, F>(
    updater: &'a mut Updater<A>,
    (mono, wall): (Instant, Option<SystemTime>),
    (clock, schedule): (&'a C, &'a ScheduleConfig),
    inbox: &'a mut Inbox,
    shutdown: &'a mut std::pin::Pin<&mut S>,
    on_round: &'a mut F,
) -> std::pin::Pin<Box<impl Future<Output = Woke<W>> + 'a>>
where
    A: DnsApi,
    C: Clock,
    S: Future<Output = W>,
    F: FnMut(&RoundEnd, Trigger),
{
    boxed(move || async move {
        loop {
            let Inbox { wake, push } = &mut *inbox;
            match wait_until(mono, wall, clock, true, wake, push, shutdown).await {
                Woke::Push(p) => serve_push(updater, p, schedule, clock, on_round).await,
                other => return other,
            }
        }
    })
}

/// Completes on the next message of `wake`, with it; never when there is no channel or it
/// closed.
async fn woken(wake: &mut Option<mpsc::Receiver<&'static str>>) -> &'static str {
    if let Some(rx) = wake.as_mut()
        && let Some(why) = rx.recv().await
    {
        return why;
    }
    *wake = None;
    std::future::pending().await
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

    use crate::testing::schedule;

    fn setup(dir: &std::path::Path) -> Updater<FakeApi> {
        let record = crate::testing::record("home.example.com");
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
            |end, _| {
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

    /// A wall clock that follows tokio's (paused) clock from `base`, plus the jumps a test
    /// makes: a suspend moves the wall clock without the monotonic one.
    struct TestClock {
        t0: Instant,
        base: SystemTime,
        offset_secs: Mutex<i64>,
    }

    impl TestClock {
        /// At `unix` seconds (UTC) now.
        fn at(unix: u64) -> std::sync::Arc<TestClock> {
            std::sync::Arc::new(TestClock {
                t0: Instant::now(),
                base: std::time::UNIX_EPOCH + Duration::from_secs(unix),
                offset_secs: Mutex::new(0),
            })
        }

        fn jump(&self, secs: i64) {
            *self.offset_secs.lock().unwrap() += secs;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> SystemTime {
            let t = self.base + self.t0.elapsed();
            let off = *self.offset_secs.lock().unwrap();
            let by = Duration::from_secs(off.unsigned_abs());
            if off >= 0 { t + by } else { t - by }
        }
    }

    impl Clock for std::sync::Arc<TestClock> {
        fn now(&self) -> SystemTime {
            self.as_ref().now()
        }
    }

    /// 2026-06-01T00:00:00Z.
    const JUNE_1ST: u64 = 1_780_272_000;

    /// 10,000 rounds under a paused clock with random API faults (429 with Retry-After, 5xx,
    /// timeouts, network errors), random address changes and dashboard edits, in a zone that
    /// also holds records that are not ddflare's: TXT, MX and CNAME records and an A record at
    /// other names, and an unmarked A record beside a comment-mode name's marked one. At the
    /// end the managed records equal the last detected address, every foreign record is
    /// byte-identical, no 5-minute window saw more than Cloudflare's 1,200 calls, and the
    /// cache did not grow.
    #[tokio::test(start_paused = true)]
    async fn soak_ten_thousand_rounds_with_random_faults_converges() {
        use crate::cloudflare::fake::Chaos;
        let dir = tempfile::tempdir().unwrap();
        let chaos = Chaos::new(0x5eed, 0.15);
        let chaos_on = chaos.on.clone();
        let api = FakeApi::with_zones(&["example.com"]).with_chaos(chaos);
        let dashboard = api.handle();
        let zone = "example.com";
        // nas.example.com is in comment mode: ddflare's record (adopted: it carries the
        // marker) and someone else's, unmarked, at the same name and type.
        let nas = api.add_commented(
            zone,
            "nas.example.com",
            "A",
            "198.51.100.1",
            "managed by ddflare",
        );
        let foreign_ids = [
            api.add_commented(zone, "nas.example.com", "A", "192.0.2.50", "Bob's box"),
            api.add(zone, "home.example.com", "TXT", "\"v=spf1 -all\""),
            api.add(zone, "example.com", "MX", "mail.example.com"),
            api.add(zone, "www.example.com", "CNAME", "home.example.com"),
            api.add(zone, "other.example.com", "A", "198.51.100.4"),
            api.add_commented(zone, "other.example.com", "TXT", "hello", "hand-made"),
        ];
        let snapshot = |api: &FakeApi| -> Vec<String> {
            foreign_ids
                .iter()
                .map(|id| {
                    api.records()
                        .into_iter()
                        .find(|r| &r.id == id)
                        .map(|r| serde_json::to_string(&r).unwrap())
                        .unwrap_or_else(|| format!("{id} is gone"))
                })
                .collect()
        };
        let foreign_before = snapshot(&dashboard);
        let record = |name: &str, ownership| RecordConfig {
            ownership,
            ..crate::testing::record(name)
        };
        let mut updater = Updater::new(
            api,
            vec![
                record("home.example.com", crate::plan::Ownership::All),
                record("nas.example.com", crate::plan::Ownership::Comment),
            ],
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
        // The wall clock follows the simulated one, so `state.max_age` expires in the soak.
        let clock = TestClock::at(JUNE_1ST);
        let mut rng = fastrand::Rng::with_seed(42);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let mut rounds = 0usize;
        let mut failed = 0usize;
        let mut drifts = 0usize;
        run_clocked(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            None,
            Seams {
                clock: &clock,
                random: &ThreadRandom,
            },
            |end, _| {
                rounds += 1;
                failed += usize::from(!end.ok());
                if rng.f64() < 0.05 {
                    *script.addr.lock().unwrap() = Some(pool[rng.usize(..pool.len())]);
                }
                if rounds < 10_000 && rng.f64() < 0.01 {
                    // Someone edits ddflare's records in the dashboard: corrected within max_age.
                    dashboard.edit("home.example.com", "A", "192.0.2.200");
                    dashboard.edit_id(&nas, "192.0.2.201");
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
        // Enough failed rounds to show the faults bit (98 with this seed since a change is one
        // write by id instead of a listing and a write: fewer calls, fewer faults).
        assert!(failed > 50, "faults were injected ({failed} failed rounds)");
        let last = script.addr.lock().unwrap().unwrap();
        for name in ["home.example.com", "nas.example.com"] {
            let a: Vec<_> = updater
                .api()
                .records()
                .into_iter()
                .filter(|r| r.rtype == "A" && r.name == name && !foreign_ids.contains(&r.id))
                .collect();
            assert_eq!(a.len(), 1, "{a:?}");
            assert_eq!(a[0].content.parse::<IpAddr>().unwrap(), last);
        }
        assert_eq!(
            snapshot(updater.api()),
            foreign_before,
            "foreign records changed"
        );
        assert_eq!(updater.api().records().len(), 2 + foreign_ids.len());
        let times = updater.api().call_times();
        let mut lo = 0;
        let mut busiest = 0;
        for hi in 0..times.len() {
            while times[hi] - times[lo] >= Duration::from_secs(300) {
                lo += 1;
            }
            busiest = busiest.max(hi - lo + 1);
        }
        assert!(busiest <= 1200, "{busiest} calls in 5 minutes");
        assert_eq!(updater.state().records.len(), 2);
        assert_eq!(updater.state().zones.len(), 2);
        assert!(drifts > 50, "{drifts} dashboard edits");
        println!(
            "soak: {rounds} rounds ({} simulated days), {failed} failed by injected faults, {drifts} dashboard edits of ddflare's records, {} API calls, at most {busiest} in any 5 minutes; {} foreign records byte-identical",
            times
                .last()
                .map_or(0, |t| (*t - times[0]).as_secs() / 86_400),
            times.len(),
            foreign_ids.len()
        );
    }

    /// The figure for the README: API requests in steady state (the address does not change),
    /// with the default schedule (every 5 minutes) and cache age (6 hours), over two simulated
    /// days. `cargo test --lib steady_state -- --nocapture` prints it.
    #[tokio::test(start_paused = true)]
    async fn steady_state_requests_per_hour() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let clock = TestClock::at(JUNE_1ST);
        let hours = 48u32;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let mut rounds = 0u32;
        run_clocked(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            None,
            Seams {
                clock: &clock,
                random: &ThreadRandom,
            },
            |end, _| {
                assert!(end.ok());
                rounds += 1;
                // A round every 5 minutes: 12 an hour.
                if rounds == hours * 12
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        let calls = updater.api().calls();
        // The first round finds the zone (2), reads (1) and creates (1); after that only the
        // re-read every `state.max_age`.
        let steady = calls.len() - 4;
        let per_hour = steady as f64 / f64::from(hours);
        println!(
            "steady state: {steady} API requests in {hours} h ({per_hour:.3}/h: one read per 6 h), {} rounds, {} detections, after {} to start",
            rounds,
            script.calls.load(Ordering::SeqCst),
            4
        );
        assert_eq!(
            &calls[..4],
            [
                "GET zones home.example.com",
                "GET zones example.com",
                "GET records home.example.com",
                "POST A home.example.com"
            ]
        );
        assert!(
            calls[4..]
                .iter()
                .all(|c| c == "GET records home.example.com"),
            "{calls:?}"
        );
        assert!((7..=8).contains(&steady), "{calls:?}");
    }

    /// Records when each round ended, by tokio's clock, until `rounds` rounds; the clock may
    /// jump meanwhile (a task of the test).
    async fn round_times_on(
        schedule: &ScheduleConfig,
        clock: &std::sync::Arc<TestClock>,
        rounds: usize,
    ) -> Vec<Duration> {
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
        run_clocked(
            &mut updater,
            &script,
            schedule,
            async {
                let _ = stop_rx.await;
            },
            None,
            Seams {
                clock,
                random: &ThreadRandom,
            },
            |_, _| {
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

    /// After `after` of tokio time, the wall clock jumps by `secs` (a suspend: the monotonic
    /// clock did not move).
    fn jump_later(clock: &std::sync::Arc<TestClock>, after: Duration, secs: i64) {
        let clock = clock.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            clock.jump(secs);
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_resume_runs_a_round_promptly_then_the_interval_goes_on() {
        let clock = TestClock::at(JUNE_1ST);
        // Suspended for two hours one minute after the first round.
        jump_later(&clock, Duration::from_secs(61), 2 * 3600);
        let times = round_times_on(&schedule(), &clock, 3).await;
        assert_eq!(times[0], Duration::ZERO);
        assert!(
            times[1] > Duration::from_secs(61) && times[1] <= Duration::from_secs(61) + WAKE_CHECK,
            "{times:?}"
        );
        assert_eq!(times[2] - times[1], Duration::from_secs(300), "{times:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_resume_past_a_cron_fire_time_runs_at_once_and_not_again() {
        let mut s = schedule();
        s.cron = Some(crate::schedule::Cron::parse("0 3 * * *").unwrap());
        // 02:00; the daily round is due at 03:00. Suspended at 02:10 for five hours.
        let clock = TestClock::at(JUNE_1ST + 2 * 3600);
        jump_later(&clock, Duration::from_secs(600), 5 * 3600);
        let times = round_times_on(&s, &clock, 3).await;
        assert_eq!(times[0], Duration::ZERO);
        assert!(
            times[1] > Duration::from_secs(600)
                && times[1] <= Duration::from_secs(600) + WAKE_CHECK,
            "{times:?}"
        );
        // The next one is tomorrow's 03:00, by the wall clock (07:10 now): about 19h50m.
        let gap = times[2] - times[1];
        assert!(
            gap > Duration::from_secs(19 * 3600 + 49 * 60)
                && gap <= Duration::from_secs(19 * 3600 + 50 * 60),
            "{times:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_backward_step_neither_delays_nor_hurries_rounds() {
        for cron in [None, Some("*/5 * * * *")] {
            let mut s = schedule();
            s.cron = cron.map(|c| crate::schedule::Cron::parse(c).unwrap());
            let clock = TestClock::at(JUNE_1ST);
            // The clock is stepped back three hours a minute in.
            jump_later(&clock, Duration::from_secs(60), -3 * 3600);
            let times = round_times_on(&s, &clock, 13).await;
            let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(
                gaps.iter()
                    .all(|g| *g > Duration::from_secs(240) && *g <= Duration::from_secs(300)),
                "{cron:?}: {gaps:?}"
            );
            assert_eq!(gaps[0], Duration::from_secs(300), "{cron:?}: {gaps:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_retry_after_waits_an_hour_not_forever() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        updater
            .api()
            .fail_next(crate::cloudflare::ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(u64::MAX)),
            });
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let t0 = Instant::now();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let mut ends = Vec::new();
        run(
            &mut updater,
            &script,
            &schedule(),
            async {
                let _ = stop_rx.await;
            },
            |end, _| {
                ends.push((t0.elapsed(), end.ok()));
                if ends.len() == 2
                    && let Some(tx) = stop_tx.take()
                {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(ends, vec![(Duration::ZERO, false), (MAX_RETRY_AFTER, true)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_clock_step_is_not_a_resume() {
        let clock = TestClock::at(JUNE_1ST);
        // NTP steps the clock 20 s forward: the rounds keep their pace.
        jump_later(&clock, Duration::from_secs(61), 20);
        let times = round_times_on(&schedule(), &clock, 3).await;
        assert_eq!(times[1], Duration::from_secs(280), "{times:?}");
        assert_eq!(times[2] - times[1], Duration::from_secs(300), "{times:?}");
    }

    /// Runs the loop until `rounds` rounds ended; returns when each ended (paused clock). The
    /// wall clock starts at the real time and follows tokio's.
    async fn round_times(schedule: &ScheduleConfig, rounds: usize) -> Vec<Duration> {
        let unix = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        round_times_on(schedule, &TestClock::at(unix), rounds).await
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
            |_, trigger| {
                ends.push((t0.elapsed(), trigger));
                if ends.len() == 1 {
                    // As the netlink watcher would after `ip addr add`.
                    let _ = wake_tx.try_send("netlink");
                } else if let Some(tx) = stop_tx.take() {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(ends.len(), 2);
        assert!(ends[1].0 < Duration::from_secs(1), "{ends:?}");
        // The start's round had no trigger; the woken one says what woke it.
        assert_eq!((ends[0].1, ends[1].1), (None, Some("netlink")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_starts_the_first_round_before_its_scheduled_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let (wake_tx, wake_rx) = mpsc::channel(1);
        // As SIGUSR1 would, while ddflare waits for its first scheduled round.
        wake_tx.try_send("SIGUSR1").unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut stop_tx = Some(stop_tx);
        let t0 = Instant::now();
        let mut ends = Vec::new();
        let mut s = schedule();
        s.update_on_start = false;
        run_woken(
            &mut updater,
            &script,
            &s,
            async {
                let _ = stop_rx.await;
            },
            Some(wake_rx),
            |_, trigger| {
                ends.push((t0.elapsed(), trigger));
                if let Some(tx) = stop_tx.take() {
                    let _ = tx.send(());
                }
            },
        )
        .await;
        assert_eq!(ends.len(), 1);
        assert!(ends[0].0 < Duration::from_secs(1), "{ends:?}");
        assert_eq!(ends[0].1, Some("SIGUSR1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_wake_channel_falls_back_to_the_timer() {
        let dir = tempfile::tempdir().unwrap();
        let mut updater = setup(dir.path());
        let script = Script {
            addr: Mutex::new(Some("203.0.113.7".parse().unwrap())),
            calls: AtomicUsize::new(0),
        };
        let (wake_tx, wake_rx) = mpsc::channel::<&'static str>(1);
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
            |_, trigger| {
                assert_eq!(trigger, None, "scheduled rounds have no trigger");
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
        let first = next_delay(&s, &failed, 1, SystemTime::now(), &ThreadRandom);
        assert!(
            first >= Duration::from_secs(12) && first <= Duration::from_secs(18),
            "{first:?}"
        );
        let later = next_delay(&s, &failed, 20, SystemTime::now(), &ThreadRandom);
        assert!(later <= s.interval.mul_f64(1.2));
        let limited = RoundEnd::Done(crate::round::RoundReport {
            lines: vec![crate::round::Line {
                name: "x".into(),
                rtype: "A",
                content: "203.0.113.7".parse().unwrap(),
                outcome: crate::round::Outcome::Failed {
                    error: "429".into(),
                    hint: None,
                },
            }]
            .into(),
            retry_after: Some(Duration::from_secs(200)),
            api_calls: 1,
        });
        assert!(
            next_delay(&s, &limited, 1, SystemTime::now(), &ThreadRandom)
                >= Duration::from_secs(200)
        );
        // An absurd Retry-After is capped, never an overflow.
        let absurd = match limited.clone() {
            RoundEnd::Done(mut r) => {
                r.retry_after = Some(Duration::from_secs(u64::MAX));
                RoundEnd::Done(r)
            }
            other => other,
        };
        assert_eq!(
            next_delay(&s, &absurd, 1, SystemTime::now(), &ThreadRandom),
            MAX_RETRY_AFTER
        );
        assert_eq!(
            next_delay(
                &s,
                &RoundEnd::Done(Default::default()),
                0,
                SystemTime::now(),
                &ThreadRandom
            ),
            s.interval
        );
    }
}
