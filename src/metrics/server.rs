//! The `[metrics] listen` HTTP/1.1 server: `GET /metrics`, `GET /healthz` and the status page
//! at `GET /` (page.rs), one request per
//! connection (`Connection: close`). Hand-rolled rather than hyper's server: two read-only
//! paths need a request line and nothing else, and the release binary stays small.
//!
//! The parsing and the answers are PURE ([`parse_head`], [`answer`], [`encode`]); [`serve`]
//! is the accept loop, with a bounded head (8 KiB), a deadline for the head and a cap on
//! concurrent connections, so a slow or hostile client cannot tie it up.
//!
//! A full house evicts the oldest connection, not the newest: clients that trickle their
//! request a byte at a time (slowloris) hold their slots until the deadline, and refusing new
//! connections then would fail every probe of an orchestrator, which restarts a healthy pod.
//! A probe sends its request at once and is answered in microseconds; evicting the oldest keeps
//! it served however many slow clients there are ([`Slots`], PURE bookkeeping).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::debug;

use super::render::render;
use super::{Metrics, Snapshot, health, page};

/// The most a request head may hold.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head (a probe sends it in one packet), and
/// to take the answer.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections served at once; a new one beyond evicts the oldest.
const MAX_CONNECTIONS: usize = 16;

/// The connections in flight, oldest first, each with a handle to end it.
#[derive(Debug)]
pub struct Slots<H> {
    cap: usize,
    next: u64,
    open: std::collections::VecDeque<(u64, H)>,
}

impl<H> Slots<H> {
    pub fn new(cap: usize) -> Self {
        Slots {
            cap: cap.max(1),
            next: 0,
            open: std::collections::VecDeque::with_capacity(cap),
        }
    }

    /// The id [`admit`](Slots::admit) gives next.
    pub fn next_id(&self) -> u64 {
        self.next
    }

    /// Takes a slot for a new connection: its id, and the handle of the oldest one to end
    /// when the house was full.
    pub fn admit(&mut self, handle: H) -> (u64, Option<H>) {
        let evicted = if self.open.len() >= self.cap {
            self.open.pop_front().map(|(_, h)| h)
        } else {
            None
        };
        let id = self.next;
        self.next += 1;
        self.open.push_back((id, handle));
        (id, evicted)
    }

    /// Frees the slot of a connection that ended by itself.
    pub fn release(&mut self, id: u64) {
        if let Some(i) = self.open.iter().position(|(open, _)| *open == id) {
            self.open.remove(i);
        }
    }

    /// Empties the table: the handles of every connection still open.
    pub fn drain(&mut self) -> Vec<H> {
        self.open.drain(..).map(|(_, h)| h).collect()
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// An answer before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// For 405.
    pub allow: bool,
    /// The status page's Content-Security-Policy ([`page::CSP`]).
    pub csp: bool,
}

fn plain(status: u16, body: impl Into<String>) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.into(),
        allow: false,
        csp: false,
    }
}

/// The method and the path (query dropped) of a request head, or the error status.
pub fn parse_head(head: &[u8]) -> Result<(String, String), u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let line = text.split("\r\n").next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(505);
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(400);
    }
    if !target.starts_with('/') {
        return Err(400);
    }
    let path = target.split('?').next().unwrap_or(target);
    Ok((method.to_owned(), path.to_owned()))
}

/// The answer to `method path` given the current tally.
pub fn answer(method: &str, path: &str, snapshot: &Snapshot, now: SystemTime) -> Response {
    let known = matches!(path, "/" | "/metrics" | "/healthz");
    if known && method != "GET" && method != "HEAD" {
        return Response {
            allow: true,
            ..plain(405, "method not allowed: use GET\n")
        };
    }
    match path {
        "/metrics" => Response {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: render(snapshot, now, &super::process::Sample::read()),
            allow: false,
            csp: false,
        },
        "/healthz" => {
            let h = health(snapshot, now);
            plain(if h.ok { 200 } else { 503 }, format!("{}\n", h.reason))
        }
        "/" => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: page::page(snapshot, now),
            allow: false,
            csp: true,
        },
        _ => plain(404, "not found: see /metrics and /healthz\n"),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// The bytes on the wire; a HEAD answer has the headers only.
pub fn encode(r: &Response, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if r.allow {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    if r.csp {
        out.push_str("Content-Security-Policy: ");
        out.push_str(page::CSP);
        out.push_str("\r\nX-Content-Type-Options: nosniff\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(r.body.as_bytes());
    }
    bytes
}

/// Reads until the end of the head, the cap, or EOF.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, u16> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(431);
        }
    }
}

async fn handle(mut stream: TcpStream, metrics: &Metrics) {
    let response = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => (plain(408, "request timeout\n"), false),
        Ok(Err(status)) => (plain(status, format!("{}\n", reason(status))), false),
        Ok(Ok(head)) => match parse_head(&head) {
            Err(status) => (plain(status, format!("{}\n", reason(status))), false),
            Ok((method, path)) => (
                answer(&method, &path, &metrics.snapshot(), SystemTime::now()),
                method == "HEAD",
            ),
        },
    };
    let bytes = encode(&response.0, response.1);
    let _ = tokio::time::timeout(READ_TIMEOUT, async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves until `shutdown` completes.
pub async fn serve<S: Future<Output = ()>>(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: S,
) {
    let slots = Arc::new(Mutex::new(Slots::new(MAX_CONNECTIONS)));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                debug!("metrics: accept failed: {e}");
                // E.g. out of file descriptors: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        let released = slots.clone();
        // The table stays locked until the new connection is in it, so the task cannot
        // release its slot before it was taken (on a multi-thread runtime too).
        let mut table = slots.lock().unwrap_or_else(PoisonError::into_inner);
        let id = table.next_id();
        let task = tokio::spawn(Box::pin(async move {
            handle(stream, &metrics).await;
            released
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .release(id);
        }) as BoxedTask);
        let (_, evicted) = table.admit(task.abort_handle());
        drop(table);
        if let Some(oldest) = evicted {
            debug!(%peer, "metrics: {MAX_CONNECTIONS} connections open; closing the oldest");
            oldest.abort();
        }
    }
    let open = slots.lock().unwrap_or_else(PoisonError::into_inner).drain();
    for handle in open {
        handle.abort();
    }
}

/// A spawned `()` task boxed: all of them share one tokio task type, instead of tokio's task
/// machinery compiled again for each future (~2 KB of binary each).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_house_evicts_the_oldest_connection() {
        let mut slots = Slots::new(3);
        assert_eq!(slots.admit("a"), (0, None));
        assert_eq!(slots.admit("b"), (1, None));
        assert_eq!(slots.admit("c"), (2, None));
        assert_eq!(slots.admit("d"), (3, Some("a")));
        slots.release(2);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots.admit("e"), (4, None));
        assert_eq!(slots.admit("f"), (5, Some("b")));
        // Releasing an evicted or unknown id changes nothing.
        slots.release(0);
        slots.release(99);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots.drain(), vec!["d", "e", "f"]);
        assert!(slots.is_empty());
    }
    use crate::round::RoundEnd;
    use crate::round::{Line, Outcome, RoundReport};
    use prom_text_format_parser::{Scrape, Type};
    use std::time::UNIX_EPOCH;

    #[test]
    fn heads_are_parsed_strictly() {
        assert_eq!(
            parse_head(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a"),
            Ok(("GET".into(), "/metrics".into()))
        );
        assert_eq!(parse_head(b"GET /metrics"), Err(400));
        assert_eq!(parse_head(b"GET /metrics HTTP/2.0"), Err(505));
        assert_eq!(parse_head(b"get /metrics HTTP/1.1"), Err(400));
        assert_eq!(parse_head(b"GET metrics HTTP/1.1"), Err(400));
        assert_eq!(parse_head(b"GET  /metrics HTTP/1.1"), Err(400));
        assert_eq!(parse_head(&[0xff, 0xfe]), Err(400));
    }

    #[test]
    fn routes_and_methods() {
        let m = Metrics::new(SystemTime::now(), Duration::from_secs(60));
        let s = m.snapshot();
        let now = SystemTime::now();
        assert_eq!(answer("GET", "/metrics", &s, now).status, 200);
        assert_eq!(answer("GET", "/healthz", &s, now).status, 200);
        assert_eq!(answer("GET", "/nope", &s, now).status, 404);
        let r = answer("POST", "/metrics", &s, now);
        assert_eq!(r.status, 405);
        let wire = String::from_utf8(encode(&r, false)).unwrap();
        assert!(wire.contains("Allow: GET, HEAD\r\n"), "{wire}");
        let later = now + Duration::from_secs(120);
        assert_eq!(answer("GET", "/healthz", &s, later).status, 503);
        let page = answer("GET", "/", &s, now);
        let head = String::from_utf8(encode(&page, true)).unwrap();
        let length = format!("Content-Length: {}\r\n", page.body.len());
        assert!(
            head.ends_with("\r\n\r\n") && head.contains(&length),
            "{head}"
        );
        assert!(
            head.contains("Content-Type: text/html; charset=utf-8\r\n"),
            "{head}"
        );
        assert!(
            head.contains("Content-Security-Policy: default-src 'none'; style-src 'sha256-"),
            "{head}"
        );
        assert_eq!(answer("POST", "/", &s, now).status, 405);
    }

    async fn get(addr: std::net::SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    /// Scrapes a live server over loopback and parses the answer with a Prometheus text
    /// parser: every family typed, the values what was counted.
    #[tokio::test]
    async fn a_scrape_parses_as_prometheus_text() {
        let metrics = Arc::new(Metrics::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(900),
        ));
        metrics.detection("IPv4", "cloudflare.trace", "ok");
        metrics.detection("IPv6", "url:https://v6.example/", "timeout");
        metrics.api_request("GET", "/client/v4/zones", Some(200));
        metrics.api_request("POST", "/client/v4/zones/abc/dns_records/batch", Some(429));
        metrics.api_request("POST", "/client/v4/zones/abc/dns_records/batch", None);
        metrics.set_token_expiry(Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
        metrics.notification("ntfy", "sent");
        metrics.round(
            &RoundEnd::Done(RoundReport {
                lines: vec![Line {
                    name: "home.example.com".into(),
                    rtype: "A",
                    content: "203.0.113.7".parse().unwrap(),
                    outcome: Outcome::Updated {
                        from: "198.51.100.4".into(),
                    },
                }]
                .into(),
                retry_after: None,
                api_calls: 2,
            }),
            SystemTime::now(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, metrics.clone(), async {
            let _ = stopped.await;
        }));

        let reply = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.contains("Content-Type: text/plain; version=0.0.4"),
            "{head}"
        );
        let scrape = match Scrape::parse(body) {
            Ok(s) => s,
            Err(e) => panic!("{e:?}\n{body}"),
        };
        let find = |name: &str| {
            scrape
                .metrics
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("no {name} in\n{body}"))
        };
        let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
            let m = find(name);
            m.samples
                .iter()
                .find(|s| {
                    labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|l| l.key == *k && l.value == *v))
                })
                .map(|s| s.value.value.as_f64())
                .unwrap_or_else(|| panic!("no {name}{labels:?} in\n{body}"))
        };
        assert_eq!(find("ddflare_rounds_total").kind, Type::Counter);
        assert_eq!(value("ddflare_rounds_total", &[("result", "ok")]), 1.0);
        assert_eq!(value("ddflare_rounds_total", &[("result", "failed")]), 0.0);
        assert_eq!(
            value(
                "ddflare_detections_total",
                &[("provider", "url:v6.example"), ("outcome", "timeout")]
            ),
            1.0
        );
        assert_eq!(
            value(
                "ddflare_api_requests_total",
                &[("endpoint", "dns_records_batch"), ("code", "error")]
            ),
            1.0
        );
        assert_eq!(
            value(
                "ddflare_api_requests_total",
                &[("endpoint", "zones_list"), ("code", "200")]
            ),
            1.0
        );
        assert_eq!(
            value(
                "ddflare_record_updates_total",
                &[("type", "A"), ("outcome", "updated")]
            ),
            1.0
        );
        assert_eq!(find("ddflare_published_address_info").kind, Type::Gauge);
        assert_eq!(
            value(
                "ddflare_published_address_info",
                &[("name", "home.example.com"), ("address", "203.0.113.7")]
            ),
            1.0
        );
        assert_eq!(
            value("ddflare_token_expiry_timestamp_seconds", &[]),
            1_800_000_000.0
        );
        assert!(value("ddflare_last_success_timestamp_seconds", &[]) > 1.7e9);
        assert_eq!(
            value("ddflare_notifications_total", &[("kind", "ntfy")]),
            1.0
        );
        assert_eq!(value("ddflare_healthy", &[]), 1.0);
        assert_eq!(find("ddflare_round_duration_seconds").kind, Type::Histogram);
        assert!(value("process_resident_memory_bytes", &[]) > 0.0);
        assert!(value("process_open_fds", &[]) >= 3.0);
        assert!(value("process_max_fds", &[]) >= value("process_open_fds", &[]));
        assert_eq!(find("process_cpu_seconds_total").kind, Type::Counter);
        assert_eq!(value("process_start_time_seconds", &[]), 1_700_000_000.0);

        let health = get(addr, "GET /healthz HTTP/1.1\r\n\r\n").await;
        assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
        assert!(health.contains("ok: last successful round"), "{health}");
        let head = get(addr, "HEAD /metrics HTTP/1.1\r\n\r\n").await;
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        let bad = get(addr, "NONSENSE\r\n\r\n").await;
        assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
        // An oversized head is refused (or the connection reset while the client still
        // writes); either way the server goes on answering.
        let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(10_000));
        let mut s = TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(huge.as_bytes()).await;
        let mut out = String::new();
        if s.read_to_string(&mut out).await.is_ok() && !out.is_empty() {
            assert!(out.starts_with("HTTP/1.1 431"), "{out}");
        }
        assert!(
            get(addr, "GET /healthz HTTP/1.1\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 200")
        );

        let _ = stop.send(());
        server.await.unwrap();
    }
}
