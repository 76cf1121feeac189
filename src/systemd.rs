//! systemd integration over the notification socket (`sd_notify`), with a std `UnixDatagram`
//! instead of libsystemd: `READY=1` after the first successful round (a `Type=notify` unit is
//! "active" only when its records are known to be right), `STATUS=` with the addresses and the
//! last result (shown by `systemctl status`), `WATCHDOG=1` pings at half of `$WATCHDOG_USEC`,
//! and `STOPPING=1` on shutdown. Without `$NOTIFY_SOCKET` every call is a no-op.
//!
//! Parsing the environment and composing the status line are pure; the socket is the edge.

use std::io;
use std::net::IpAddr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use crate::environment::Source;
use crate::round::Outcome;
use crate::round::RoundEnd;

/// Where `$NOTIFY_SOCKET` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketTarget {
    /// A socket file (`/run/systemd/notify`).
    Path(PathBuf),
    /// A Linux abstract-namespace socket (`@name`; the `@` stands for the leading NUL).
    Abstract(Vec<u8>),
}

/// PURE: `$NOTIFY_SOCKET` → a target; `None` when unset, empty or of an unsupported kind
/// (`vsock:`, used only by VMs).
pub fn parse_socket(value: Option<&str>) -> Option<SocketTarget> {
    let v = value?;
    if let Some(name) = v.strip_prefix('@') {
        Some(SocketTarget::Abstract(name.as_bytes().to_vec()))
    } else if v.starts_with('/') {
        Some(SocketTarget::Path(PathBuf::from(v)))
    } else {
        None
    }
}

/// PURE: the watchdog ping interval: half of `$WATCHDOG_USEC`, when set for this process
/// (`$WATCHDOG_PID` absent or equal to `pid`).
pub fn watchdog_interval(
    usec: Option<&str>,
    watchdog_pid: Option<&str>,
    pid: u32,
) -> Option<Duration> {
    if let Some(p) = watchdog_pid
        && p.trim().parse::<u32>().ok() != Some(pid)
    {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// A handle on the notification socket; cheap to clone (the watchdog task holds one).
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`; disabled (every send a no-op) when it is unset or unusable.
    pub fn from_env(env: &dyn Source) -> Notifier {
        let value = env.get("NOTIFY_SOCKET");
        let Some(target) = parse_socket(value.as_deref()) else {
            if let Some(v) = value {
                warn!("NOTIFY_SOCKET={v:?} is not a socket path or @name; not notifying systemd");
            }
            return Notifier::default();
        };
        match Self::open(&target) {
            Ok(inner) => Notifier {
                inner: Some(Arc::new(inner)),
            },
            Err(e) => {
                warn!("cannot use NOTIFY_SOCKET {target:?}: {e}; not notifying systemd");
                Notifier::default()
            }
        }
    }

    fn open(target: &SocketTarget) -> io::Result<Inner> {
        let addr = match target {
            SocketTarget::Path(p) => SocketAddr::from_pathname(p)?,
            SocketTarget::Abstract(name) => SocketAddr::from_abstract_name(name)?,
        };
        Ok(Inner {
            socket: UnixDatagram::unbound()?,
            addr,
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Sends one notification (`KEY=value` lines). Best effort: a failure is logged at debug,
    /// since systemd going away must not stop the daemon.
    pub fn send(&self, message: &str) {
        if let Some(inner) = &self.inner
            && let Err(e) = inner.socket.send_to_addr(message.as_bytes(), &inner.addr)
        {
            debug!("sd_notify {message:?} failed: {e}");
        }
    }

    /// `STOPPING=1`: systemd shows "deactivating" while the round in flight finishes.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping");
    }

    /// Starts the watchdog pings when systemd asked for them (`WatchdogSec=` sets
    /// `$WATCHDOG_USEC`); they stop when the returned guard is dropped.
    pub fn start_watchdog(&self, env: &dyn Source) -> Watchdog {
        let interval = watchdog_interval(
            env.get("WATCHDOG_USEC").as_deref(),
            env.get("WATCHDOG_PID").as_deref(),
            std::process::id(),
        );
        Watchdog(interval.and_then(|i| self.spawn_watchdog(i)))
    }

    /// Pings `WATCHDOG=1` every `interval` until the returned task is aborted or the runtime
    /// ends. It runs on the daemon's runtime: a blocked runtime stops the pings too.
    pub fn spawn_watchdog(&self, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if !self.enabled() || interval.is_zero() {
            return None;
        }
        let me = self.clone();
        let task: BoxedTask = Box::pin(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                me.send("WATCHDOG=1");
            }
        });
        Some(tokio::spawn(task))
    }
}

/// The running watchdog task, stopped on drop.
#[derive(Debug)]
pub struct Watchdog(Option<tokio::task::JoinHandle<()>>);

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// The daemon's per-round hook: `READY=1` once, then a `STATUS=` line per round.
#[derive(Debug)]
pub struct Reporter {
    notifier: Notifier,
    ready: bool,
}

impl Reporter {
    pub fn new(notifier: Notifier) -> Reporter {
        Reporter {
            notifier,
            ready: false,
        }
    }

    pub fn round(&mut self, end: &RoundEnd) {
        if !self.notifier.enabled() {
            return;
        }
        let status = status_line(end);
        if !self.ready && end.ok() {
            self.ready = true;
            self.notifier.send(&format!("READY=1\nSTATUS={status}"));
        } else {
            self.notifier.send(&format!("STATUS={status}"));
        }
    }
}

/// PURE: one line for `systemctl status`: the addresses, then how the last round ended.
pub fn status_line(end: &RoundEnd) -> String {
    let report = match end {
        RoundEnd::Done(r) => r,
        RoundEnd::NothingDetected => {
            return "no public address could be detected; retrying".into();
        }
        RoundEnd::DeadlineExceeded => {
            return "the last round took longer than schedule.cycle_deadline; retrying".into();
        }
    };
    // IPv4 first, each family in the order of the lines: what a stable sort by family gave,
    // in two passes (a sort instantiated for this one use was ~3 KB of binary).
    let mut addrs: Vec<IpAddr> = Vec::new();
    for v6 in [false, true] {
        for l in &report.lines {
            if l.content.is_ipv6() == v6 && !addrs.contains(&l.content) {
                addrs.push(l.content);
            }
        }
    }
    let addrs = if addrs.is_empty() {
        "no record".to_owned()
    } else {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let total = report.lines.len();
    let first_error = report.lines.iter().find_map(|l| match &l.outcome {
        Outcome::Failed { error, .. } => Some(format!("{} {}: {error}", l.name, l.rtype)),
        _ => None,
    });
    let skipped = report
        .lines
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::Skipped { .. }))
        .count();
    let line = match first_error {
        None if skipped > 0 => format!(
            "{addrs}; {} record(s) in sync, {skipped} skipped (held by records without the `ddflare` marker)",
            total - skipped
        ),
        None => format!("{addrs}; {total} record(s) in sync"),
        Some(e) => format!(
            "{addrs}; {} of {total} record(s) failed, retrying: {e}",
            report.failed()
        ),
    };
    one_line(&line, 300)
}

/// Newlines would end the STATUS= field; very long errors are cut.
fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::{Line, RoundReport};

    fn line(name: &str, rtype: &'static str, addr: &str, outcome: Outcome) -> Line {
        Line {
            name: name.into(),
            rtype,
            content: addr.parse().unwrap(),
            outcome,
        }
    }

    #[test]
    fn notify_socket_values() {
        assert_eq!(parse_socket(None), None);
        assert_eq!(parse_socket(Some("")), None);
        assert_eq!(parse_socket(Some("vsock:2:1234")), None);
        assert_eq!(
            parse_socket(Some("/run/systemd/notify")),
            Some(SocketTarget::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            parse_socket(Some("@/org/freedesktop/systemd1/notify/42")),
            Some(SocketTarget::Abstract(
                b"/org/freedesktop/systemd1/notify/42".to_vec()
            ))
        );
    }

    #[test]
    fn watchdog_is_half_the_period_and_only_for_this_pid() {
        assert_eq!(
            watchdog_interval(Some("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(watchdog_interval(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
    }

    #[test]
    fn status_lines() {
        let ok = RoundEnd::Done(RoundReport {
            lines: vec![
                line("a.example.com", "AAAA", "2001:db8::7", Outcome::Cached),
                line("a.example.com", "A", "203.0.113.7", Outcome::Created),
                line("b.example.com", "A", "203.0.113.7", Outcome::Unchanged),
            ]
            .into(),
            retry_after: None,
            api_calls: 3,
        });
        assert_eq!(
            status_line(&ok),
            "203.0.113.7, 2001:db8::7; 3 record(s) in sync"
        );
        let failed = RoundEnd::Done(RoundReport {
            lines: vec![
                line("a.example.com", "A", "203.0.113.7", Outcome::Unchanged),
                line(
                    "b.example.com",
                    "A",
                    "203.0.113.7",
                    Outcome::Failed {
                        error: "the token lacks DNS Edit\nsecond line".into(),
                        hint: None,
                    },
                ),
            ]
            .into(),
            retry_after: None,
            api_calls: 3,
        });
        assert_eq!(
            status_line(&failed),
            "203.0.113.7; 1 of 2 record(s) failed, retrying: b.example.com A: the token lacks DNS Edit second line"
        );
        let skipped = RoundEnd::Done(RoundReport {
            lines: vec![
                line("a.example.com", "A", "203.0.113.7", Outcome::Unchanged),
                line(
                    "nas.example.com",
                    "A",
                    "203.0.113.7",
                    Outcome::Skipped {
                        reason: "not ddflare's".into(),
                        hint: None,
                    },
                ),
            ]
            .into(),
            retry_after: None,
            api_calls: 1,
        });
        assert_eq!(
            status_line(&skipped),
            "203.0.113.7; 1 record(s) in sync, 1 skipped (held by records without the `ddflare` marker)"
        );
        assert!(status_line(&RoundEnd::NothingDetected).contains("no public address"));
        assert!(status_line(&RoundEnd::DeadlineExceeded).contains("cycle_deadline"));
        let long = one_line(&"é".repeat(400), 300);
        assert!(long.len() <= 300 + '…'.len_utf8());
    }

    fn notifier_for(value: &str) -> Notifier {
        let env: std::collections::HashMap<String, String> =
            [("NOTIFY_SOCKET".to_owned(), value.to_owned())].into();
        Notifier::from_env(&env)
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 1024];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn ready_once_then_status_over_a_socket_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut r = Reporter::new(notifier_for(path.to_str().unwrap()));
        r.round(&RoundEnd::NothingDetected);
        assert_eq!(
            recv(&sock),
            "STATUS=no public address could be detected; retrying"
        );
        r.round(&RoundEnd::Done(RoundReport::default()));
        assert_eq!(
            recv(&sock),
            "READY=1\nSTATUS=no record; 0 record(s) in sync"
        );
        r.round(&RoundEnd::Done(RoundReport::default()));
        assert_eq!(recv(&sock), "STATUS=no record; 0 record(s) in sync");
        r.notifier.stopping();
        assert_eq!(recv(&sock), "STOPPING=1\nSTATUS=stopping");
    }

    #[test]
    fn abstract_sockets_work_too() {
        let name = format!("ddflare-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        notifier_for(&format!("@{name}")).send("READY=1");
        assert_eq!(recv(&sock), "READY=1");
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        let n = Notifier::from_env(&std::collections::HashMap::<String, String>::new());
        assert!(!n.enabled());
        n.send("READY=1");
        let mut r = Reporter::new(n);
        r.round(&RoundEnd::Done(RoundReport::default()));
        assert!(!r.ready);
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_pings_every_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_nonblocking(true).unwrap();
        let n = notifier_for(path.to_str().unwrap());
        let task = n.spawn_watchdog(Duration::from_secs(15)).unwrap();
        tokio::time::sleep(Duration::from_secs(46)).await;
        task.abort();
        let mut pings = 0;
        let mut buf = [0u8; 64];
        while let Ok(n) = sock.recv(&mut buf) {
            assert_eq!(&buf[..n], b"WATCHDOG=1");
            pings += 1;
        }
        // At 0s, 15s, 30s and 45s.
        assert_eq!(pings, 4);
    }
}
