//! Hedged requests: start the first attempt; start the next one after `delay`, or at once
//! when an attempt fails; the first success wins and the others are dropped (cancelled).
//! One slow or broken server then costs `delay`, not a whole timeout.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::provider::BoxFuture;

/// The first `Ok` of `attempts`, started one after another as described above; when all
/// fail, their errors in the order the attempts were given.
pub(crate) async fn hedge<'a, T, E>(
    attempts: Vec<BoxFuture<'a, Result<T, E>>>,
    delay: Duration,
) -> Result<T, Vec<E>> {
    let mut waiting: VecDeque<(usize, BoxFuture<'a, Result<T, E>>)> =
        attempts.into_iter().enumerate().collect();
    let mut running: Vec<(usize, BoxFuture<'a, Result<T, E>>)> = Vec::new();
    let mut errors: Vec<(usize, E)> = Vec::new();
    running.extend(waiting.pop_front());
    let mut timer = Box::pin(sleep(delay));
    let outcome = poll_fn(|cx| {
        loop {
            let mut failed = false;
            let mut i = 0;
            while i < running.len() {
                match running[i].1.as_mut().poll(cx) {
                    Poll::Ready(Ok(v)) => return Poll::Ready(Some(v)),
                    Poll::Ready(Err(e)) => {
                        let (index, _) = running.swap_remove(i);
                        errors.push((index, e));
                        failed = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if !waiting.is_empty() && (failed || Pin::new(&mut timer).poll(cx).is_ready()) {
                running.extend(waiting.pop_front());
                timer.as_mut().reset(Instant::now() + delay);
                continue;
            }
            if running.is_empty() {
                return Poll::Ready(None);
            }
            return Poll::Pending;
        }
    })
    .await;
    match outcome {
        Some(v) => Ok(v),
        None => {
            // Every attempt failed, once each: its error goes to its place in the order given.
            // (Not a sort: one per error type was ~3 KB of binary, docs/shipping.md.)
            let mut ordered: Vec<Option<E>> = errors.iter().map(|_| None).collect();
            for (i, e) in errors {
                if let Some(slot) = ordered.get_mut(i) {
                    *slot = Some(e);
                }
            }
            Err(ordered.into_iter().flatten().collect())
        }
    }
}

/// Every future's output, in the order given, all polled concurrently.
pub(crate) async fn join_all<'a, T>(futures: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut slots: Vec<(BoxFuture<'a, T>, Option<T>)> =
        futures.into_iter().map(|f| (f, None)).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (future, out) in &mut slots {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    slots.into_iter().filter_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn after(
        ms: u64,
        r: Result<u32, &'static str>,
        started: Arc<AtomicUsize>,
    ) -> BoxFuture<'static, Result<u32, &'static str>> {
        Box::pin(async move {
            started.fetch_add(1, Ordering::SeqCst);
            sleep(Duration::from_millis(ms)).await;
            r
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_first_answer_starts_nothing_else() {
        let n = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let got = hedge(
            vec![after(50, Ok(1), n.clone()), after(10, Ok(2), n.clone())],
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(got, Ok(1));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert_eq!(t0.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_first_is_overtaken_after_the_delay() {
        let n = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let got = hedge(
            vec![after(10_000, Ok(1), n.clone()), after(30, Ok(2), n.clone())],
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(got, Ok(2));
        assert_eq!(t0.elapsed(), Duration::from_millis(230));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_starts_the_next_at_once() {
        let n = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let got = hedge(
            vec![after(5, Err("1034"), n.clone()), after(5, Ok(2), n.clone())],
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(got, Ok(2));
        assert_eq!(t0.elapsed(), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn all_failing_reports_in_order() {
        let n = Arc::new(AtomicUsize::new(0));
        let got = hedge(
            vec![
                after(300, Err("a"), n.clone()),
                after(1, Err("b"), n.clone()),
                after(1, Err("c"), n.clone()),
            ],
            Duration::from_millis(100),
        )
        .await;
        assert_eq!(got, Err(vec!["a", "b", "c"]));
        assert_eq!(n.load(Ordering::SeqCst), 3);
        let none: Vec<BoxFuture<'static, Result<u32, &str>>> = Vec::new();
        assert_eq!(hedge(none, Duration::from_millis(1)).await, Err(vec![]));
    }

    #[tokio::test(start_paused = true)]
    async fn join_all_keeps_the_order_and_runs_concurrently() {
        let n = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let got = join_all(vec![
            after(30, Ok(1), n.clone()),
            after(10, Err("x"), n.clone()),
            after(20, Ok(3), n.clone()),
        ])
        .await;
        assert_eq!(got, vec![Ok(1), Err("x"), Ok(3)]);
        assert_eq!(t0.elapsed(), Duration::from_millis(30));
        assert!(
            join_all(Vec::<BoxFuture<'static, ()>>::new())
                .await
                .is_empty()
        );
    }
}
