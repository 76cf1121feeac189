//! The netlink trigger: when an interface read by an `interface:` provider gains or loses an
//! address, the daemon reconciles at once instead of waiting for its timer. Address events
//! come in bursts (a new prefix: old address deprecated, new one tentative, then valid after
//! DAD), so they are debounced: one wake-up once the interface has been quiet for [`QUIET`],
//! at most [`MAX_WAIT`] after the first event.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use netlink_sys::{AsyncSocketExt, TokioSocket};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

use super::Family;
use super::netlink::{self, AddrEvent};

/// Quiet time after the last event before waking the daemon.
pub const QUIET: Duration = Duration::from_millis(300);
/// The longest wait after the first event of a burst.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// What the watch logs (at debug) when it wakes the daemon.
pub const CHANGED: &str = "an address of a watched interface changed";

/// Why the watch wakes the daemon: the `trigger` of the round it starts.
pub const TRIGGER: &str = "netlink";

/// Starts watching `interfaces` (each a family and an interface's name, as `interface:`
/// providers read them); each message on the returned channel ([`TRIGGER`]) means "an address
/// of that family changed on that interface". An address of another family there (an IPv6
/// router advertisement on an interface read for IPv4 only) wakes nothing. `None` when there
/// is nothing to watch, or netlink is not available (logged: the timer still works).
pub fn watch(interfaces: Vec<(Family, String)>) -> Option<mpsc::Receiver<&'static str>> {
    if interfaces.is_empty() {
        return None;
    }
    let families: Vec<Family> = Family::ALL
        .into_iter()
        .filter(|f| interfaces.iter().any(|(g, _)| g == f))
        .collect();
    let socket = match netlink::subscribe(&families) {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "cannot subscribe to address changes over netlink; interface changes are seen at the next round only");
            return None;
        }
    };
    // One pending wake-up is enough: more would mean the same round twice.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(Box::pin(run(socket, interfaces, tx)) as BoxedTask);
    Some(rx)
}

/// Which indexes are the watched interfaces; refreshed when an unknown index shows up (an
/// interface created or re-created, as a PPP link is on every reconnect).
struct Names {
    watched: Vec<(Family, String)>,
    /// Every interface seen in the last link dump.
    all: BTreeMap<u32, String>,
}

impl Names {
    /// On this thread: the read never waits (see `netlink`).
    fn refresh(&mut self) {
        match netlink::links() {
            Ok(links) => {
                // extend, not collect: BTreeMap's FromIterator sorts (a stable sort per type).
                self.all.clear();
                self.all.extend(links);
            }
            Err(e) => debug!(error = %e, "cannot list the interfaces"),
        }
    }

    fn is_watched(&mut self, event: AddrEvent) -> bool {
        let Some(family) = event.family else {
            return false;
        };
        if !self.watched.iter().any(|(f, _)| *f == family) {
            return false;
        }
        if !self.all.contains_key(&event.index) {
            self.refresh();
        }
        self.all.get(&event.index).is_some_and(|name| {
            self.watched
                .iter()
                .any(|(f, watched)| *f == family && watched == name)
        })
    }
}

async fn run(socket: TokioSocket, watched: Vec<(Family, String)>, tx: mpsc::Sender<&'static str>) {
    let mut names = Names {
        watched,
        all: BTreeMap::new(),
    };
    names.refresh();
    // (first event, last event) of the burst in progress.
    let mut burst: Option<(Instant, Instant)> = None;
    loop {
        let deadline = burst.map(|(first, last)| (last + QUIET).min(first + MAX_WAIT));
        tokio::select! {
            read = socket.recv_from_full() => {
                let relevant = match read {
                    Ok((datagram, _)) => {
                        let mut any = false;
                        for event in netlink::events(&datagram) {
                            any |= names.is_watched(event);
                        }
                        any
                    }
                    // The kernel dropped events (ENOBUFS): something changed, maybe ours.
                    Err(e) if e.raw_os_error() == Some(105) => true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => false,
                    Err(e) => {
                        warn!(error = %e, "netlink watch stopped; interface changes are seen at the next round only");
                        return;
                    }
                };
                if relevant {
                    let now = Instant::now();
                    burst = Some(burst.map_or((now, now), |(first, _)| (first, now)));
                }
            }
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                burst = None;
                debug!("{CHANGED}");
                if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(TRIGGER) {
                    return;
                }
            }
        }
    }
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_to_watch_is_none() {
        assert!(watch(Vec::new()).is_none());
    }

    #[tokio::test]
    async fn watching_starts_and_stops_with_the_receiver() {
        // `lo` exists everywhere; no event is expected, the task only has to start and end.
        let rx = watch(vec![(Family::V4, "lo".to_owned())]);
        assert!(rx.is_some());
        drop(rx);
    }
}
