//! The `[push] listen` HTTP/1.1 server: `GET /nic/update` and `GET /update`, one request per
//! connection. The same shape as the metrics listener (its [`Slots`]: a full house evicts the
//! oldest connection), with a bounded head, a deadline for it, failed logins limited per
//! source (`limit.rs`), and no TLS: a reverse proxy in front does that (docs/push.md).
//!
//! A valid push goes to the loop as a [`Pushed`] and waits for its reconciliation, so the
//! answer is `good` only once Cloudflare confirmed the write.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};
use tracing::{debug, info, warn};

use super::limit::Limiter;
use super::protocol::{self, Answer, Head, Refused, Update};
use super::settings::{PushConfig, Pushed};
use crate::detect::{Detected, Family, Filters, admit};
use crate::metrics::server::Slots;

const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head, and to take the answer.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: usize = 16;

/// The checks a pushed address passes, as a detected one would: bogons (unless
/// `detect.allow_private`) and the accept/reject prefixes.
#[derive(Debug, Clone)]
pub struct Gate {
    pub allow_private: bool,
    pub filters: Filters,
}

struct Shared {
    config: PushConfig,
    gate: Gate,
    inbox: mpsc::Sender<Pushed>,
    /// How long a push may wait for the loop (a round in flight, then its own).
    wait: Duration,
    limiter: Mutex<Limiter>,
}

/// An answer: HTTP status and body.
type Reply = (u16, String);

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

fn encode((status, body): &Reply) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Bad Request",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    if *status == 401 {
        head.push_str("WWW-Authenticate: Basic realm=\"ddflare\"\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

fn plain(answer: &Answer) -> Reply {
    (200, format!("{answer}\n"))
}

async fn handle(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let reply = match timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => (408, "request timeout\n".to_owned()),
        Ok(Err(status)) => (status, "bad request\n".to_owned()),
        Ok(Ok(head)) => match protocol::parse_head(&head) {
            Err(status) => (status, "bad request\n".to_owned()),
            Ok(head) => request(&head, peer.ip(), shared).await,
        },
    };
    let _ = timeout(READ_TIMEOUT, async {
        let _ = stream.write_all(&encode(&reply)).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn request(head: &Head, peer: IpAddr, shared: &Shared) -> Reply {
    if !matches!(head.path.as_str(), "/nic/update" | "/update") {
        return (404, "not found: use /nic/update\n".to_owned());
    }
    if head.method != "GET" {
        return (405, "method not allowed: use GET\n".to_owned());
    }
    let source = protocol::source(
        peer,
        &shared.config.trusted_proxies,
        head.forwarded_for.as_deref(),
    );
    if shared
        .limiter
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .blocked(source, Instant::now())
    {
        debug!(%source, "push: too many failed logins; refused");
        return plain(&Answer::Abuse);
    }
    let Some((user, password)) = head.authorization.as_deref().and_then(protocol::basic_auth)
    else {
        return (401, format!("{}\n", Answer::Badauth));
    };
    let client = protocol::client(&shared.config.clients, &user).cloned();
    let ok = match &client {
        Some(c) => {
            let secret = c.password.clone();
            tokio::task::spawn_blocking(move || protocol::verify(&secret, &password))
                .await
                .unwrap_or(false)
        }
        None => false,
    };
    let Some(client) = client.filter(|_| ok) else {
        shared
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed(source, Instant::now());
        warn!(%source, user = %crate::text::bounded(&user, 64), "push: failed login");
        return plain(&Answer::Badauth);
    };
    shared
        .limiter
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .succeeded(source);
    let update = match protocol::parse_query(&head.query) {
        Ok(u) => u,
        Err(Refused::Answer(a)) => return plain(&a),
        Err(Refused::BadIp(why)) => {
            warn!(user = %client.user, "push: {why}");
            return plain(&Answer::ServerError);
        }
    };
    push(&client.hostnames, &client.user, update, source, shared).await
}

/// Checks the names and the addresses, hands the push to the loop and renders its answer:
/// one line per name, in the order given.
async fn push(
    allowed: &[String],
    user: &str,
    update: Update,
    source: IpAddr,
    shared: &Shared,
) -> Reply {
    let myip = if update.myip.is_empty() {
        vec![source]
    } else {
        update.myip.clone()
    };
    for ip in &myip {
        if let Err(e) = admit(
            "push".into(),
            *ip,
            shared.gate.allow_private,
            &shared.gate.filters,
        ) {
            warn!(user, "push: not published: {e}");
            return plain(&Answer::ServerError);
        }
    }
    let shown = myip
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let verdicts: Vec<Result<&String, Answer>> = update
        .hostnames
        .iter()
        .map(|h| {
            if !protocol::is_fqdn(h) {
                Err(Answer::Notfqdn)
            } else if !allowed.contains(h) {
                Err(Answer::Nohost)
            } else {
                Ok(h)
            }
        })
        .collect();
    let mut names: Vec<String> = verdicts
        .iter()
        .filter_map(|v| v.as_ref().ok().map(|h| (*h).clone()))
        .collect();
    names.dedup();
    let report = if names.is_empty() {
        None
    } else {
        // extend, not collect: BTreeMap's FromIterator sorts (a stable sort per type).
        let mut addrs = BTreeMap::new();
        addrs.extend(myip.iter().map(|ip| (Family::of(*ip), Detected::host(*ip))));
        let (reply, answer) = oneshot::channel();
        let sent = shared
            .inbox
            .send(Pushed {
                names: names.clone(),
                addrs,
                reply,
            })
            .await;
        match sent {
            Ok(()) => timeout(shared.wait, answer)
                .await
                .ok()
                .and_then(Result::ok)
                .flatten(),
            Err(_) => None,
        }
    };
    let lines: Vec<String> = verdicts
        .into_iter()
        .map(|v| match v {
            Ok(h) => protocol::answer_for(h, report.as_ref(), &shown),
            Err(a) => a,
        })
        .map(|a| a.to_string())
        .collect();
    info!(user, hosts = %update.hostnames.join(","), addr = %shown, answer = %lines.join(", "), "push");
    (200, format!("{}\n", lines.join("\n")))
}

/// Serves until `shutdown` completes. `wait`: how long a push may wait for the loop.
pub async fn serve<S: Future<Output = ()>>(
    listener: TcpListener,
    config: PushConfig,
    gate: Gate,
    inbox: mpsc::Sender<Pushed>,
    wait: Duration,
    shutdown: S,
) {
    let shared = Arc::new(Shared {
        config,
        gate,
        inbox,
        wait,
        limiter: Mutex::new(Limiter::default()),
    });
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
                debug!("push: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let released = slots.clone();
        let mut table = slots.lock().unwrap_or_else(PoisonError::into_inner);
        let id = table.next_id();
        let task = tokio::spawn(Box::pin(async move {
            handle(stream, peer, &shared).await;
            released
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .release(id);
        }) as BoxedTask);
        let (_, evicted) = table.admit(task.abort_handle());
        drop(table);
        if let Some(oldest) = evicted {
            debug!(%peer, "push: {MAX_CONNECTIONS} connections open; closing the oldest");
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
