//! The HTTP/1.1 server (hyper 1): connection loop, request log, fault injection.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, Ctx};
use crate::auth::presented_token;
use crate::faults::FaultKind;
use crate::model::{Mutation, RequestLog};
use crate::state::State;
use crate::tls::TlsInfo;
use crate::wire::{ApiError, ErrorItem, Reply};

pub(crate) type MutationHook = Arc<dyn Fn(&Mutation) + Send + Sync>;

/// State shared by all connections.
pub(crate) struct Shared {
    state: Mutex<State>,
    on_mutation: Option<MutationHook>,
    /// Where the records are saved after every change (see [`crate::Emulator::state_file`]).
    state_file: Option<std::path::PathBuf>,
}

impl Shared {
    pub fn new(
        state: State,
        on_mutation: Option<MutationHook>,
        state_file: Option<std::path::PathBuf>,
    ) -> Self {
        Self {
            state: Mutex::new(state),
            on_mutation,
            state_file,
        }
    }

    /// Locks the state (a panic elsewhere does not make it unusable).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves the state file (when there is one) and reports mutations; call without holding
    /// the lock. The file is written before the response goes out, so a client that saw a
    /// success finds its change after a restart.
    pub fn notify(&self, mutations: &[Mutation]) {
        if let Some(path) = &self.state_file
            && !mutations.is_empty()
            && let Err(e) = self.lock().save(path)
        {
            eprintln!("cf-emulator: cannot save {}: {e}", path.display());
        }
        if let Some(hook) = &self.on_mutation {
            for m in mutations {
                hook(m);
            }
        }
    }
}

/// The response body: complete, or cut short by a connection reset.
pub(crate) enum RespBody {
    Full(Option<Bytes>),
    Truncated {
        data: Option<Bytes>,
        pause: Option<Pin<Box<Sleep>>>,
    },
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RespBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            RespBody::Truncated { data, pause } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                // Let hyper flush the partial body before failing the connection.
                let sleep = pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "injected fault: body truncated",
                    )))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, RespBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            RespBody::Full(None) => SizeHint::with_exact(0),
            RespBody::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("injected fault: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until `stop` fires; then aborts open connections. With `tls`, each
/// connection is a TLS handshake first (a failed one is dropped, as a client's problem).
pub(crate) async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                // Cloudflare's edge answers at once; without this a kept-alive client waits for
                // Nagle and delayed ACKs (~40–200 ms) whenever a response takes two writes (TLS).
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let tls = tls.clone();
                conns.spawn(async move {
                    match tls {
                        None => serve(stream, shared, peer, None).await,
                        Some(acceptor) => {
                            let Ok(Ok(stream)) =
                                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                            else {
                                return;
                            };
                            let info = TlsInfo::of(stream.get_ref().1);
                            serve(stream, shared, peer, Some(Arc::new(info))).await;
                        }
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

/// Serves HTTP/1.1 on one connection, plain or TLS.
async fn serve<S>(stream: S, shared: Arc<Shared>, peer: SocketAddr, tls: Option<Arc<TlsInfo>>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(Arc::clone(&shared), peer, tls.clone(), req));
    // Errors here are client disconnects or injected faults.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn html_error_page(status: u16) -> String {
    let reason = match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        520 => "Web server is returning an unknown error",
        521 => "Web server is down",
        522 => "Connection timed out",
        523 => "Origin is unreachable",
        524 => "A timeout occurred",
        _ => "Error",
    };
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// Runs a request through the API under the lock, then reports its mutations.
fn process(shared: &Shared, ctx: &Ctx<'_>) -> Reply {
    let outcome = {
        let mut st = shared.lock();
        api::dispatch(&mut st, ctx)
    };
    shared.notify(&outcome.mutations);
    outcome.reply
}

fn build(
    reply: Reply,
    ray: String,
    body: RespBody,
    content_length: Option<usize>,
) -> Response<RespBody> {
    let mut builder = Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type)
        .header("cf-ray", ray)
        .header("server", "cloudflare");
    if let Some(len) = content_length {
        builder = builder.header("content-length", len);
    }
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(body).unwrap_or_else(|_| {
        let mut fallback =
            Response::new(RespBody::Full(Some(Bytes::from_static(b"internal error"))));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    tls: Option<Arc<TlsInfo>>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body: Bytes = match http_body_util::Limited::new(body, 4 << 20).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();

    if path == "/__emulator" || path.starts_with("/__emulator/") {
        let (reply, mutations, ray) = {
            let mut st = shared.lock();
            let (reply, mutations) = crate::admin::handle(&mut st, &method, &path, &query, &body);
            (reply, mutations, st.next_ray())
        };
        shared.notify(&mutations);
        let data = Bytes::from(reply.body.clone());
        return Ok(build(reply, ray, RespBody::Full(Some(data)), None));
    }

    let (fault, seq, ray) = {
        let mut st = shared.lock();
        let fault = st.faults.take(&method, &path);
        st.request_seq += 1;
        let seq = st.request_seq;
        st.requests.push((
            seq,
            RequestLog {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                status: 0,
                body: String::from_utf8_lossy(&body).into_owned(),
                token: presented_token(&parts.headers),
                fault: fault.as_ref().map(|f| f.label().to_owned()),
            },
        ));
        (fault, seq, st.next_ray())
    };
    let ctx = Ctx {
        method: &method,
        path: &path,
        query: &query,
        headers: &parts.headers,
        body: &body,
        peer,
        tls: tls.as_deref(),
    };
    let set_status = |status: u16| {
        let mut st = shared.lock();
        if let Some(entry) = st.requests.iter_mut().rev().find(|(s, _)| *s == seq) {
            entry.1.status = status;
        }
    };

    let reply = match fault {
        None => process(&shared, &ctx),
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            process(&shared, &ctx)
        }
        Some(FaultKind::Drop { after_apply }) => {
            if after_apply {
                let _ = process(&shared, &ctx);
            }
            return Err(DropConnection);
        }
        Some(FaultKind::TruncatedBody { after_apply }) => {
            let reply = if after_apply {
                process(&shared, &ctx)
            } else {
                Reply::success(
                    serde_json::json!({ "id": "372e67954025e0ba6aaa6d586b9e0b59", "name": "truncated.example.com" }),
                )
            };
            set_status(reply.status);
            let full_len = reply.body.len();
            let half = Bytes::from(reply.body[..full_len / 2].to_vec());
            let body = RespBody::Truncated {
                data: Some(half),
                pause: None,
            };
            return Ok(build(reply, ray, body, Some(full_len)));
        }
        Some(FaultKind::RateLimited { retry_after }) => {
            let mut err = ApiError::new(
                429,
                971,
                "Please wait and consider throttling your request speed",
            );
            err.retry_after = retry_after;
            let window = shared.lock().config.rate_window.as_secs();
            Reply::error(&err).header(
                "ratelimit",
                format!("\"default\";r=0;t={}", retry_after.unwrap_or(window)),
            )
        }
        Some(FaultKind::Status { status, body }) => match body {
            Some(text) => Reply::raw(
                status,
                if text.trim_start().starts_with('{') {
                    "application/json"
                } else {
                    "text/plain"
                },
                text,
            ),
            None if status >= 500 => Reply::raw(status, "text/html", html_error_page(status)),
            None => Reply::failure(
                status,
                &[ErrorItem::new(
                    10000,
                    format!("Injected fault (HTTP {status})"),
                )],
            ),
        },
        Some(FaultKind::MalformedBody) => Reply::raw(
            200,
            "application/json",
            r#"{"result":[{"id":"372e67954025e0ba6aaa6d586b9e0b59","name":"example.com","type":"A","content":"198.51.100.4","#,
        ),
        Some(FaultKind::Unsuccessful { code, message }) => {
            Reply::failure(200, &[ErrorItem::new(code, message)])
        }
        Some(FaultKind::DuplicateRecords) => doubled(process(&shared, &ctx)),
        Some(FaultKind::BulkFailed { error }) => {
            shared.lock().lists.fail_next = Some(error);
            process(&shared, &ctx)
        }
        Some(FaultKind::FirstNameOnly) => {
            let query = first_name_only(&query);
            process(
                &shared,
                &Ctx {
                    query: &query,
                    ..ctx
                },
            )
        }
    };
    set_status(reply.status);
    let data = Bytes::from(reply.body.clone());
    Ok(build(reply, ray, RespBody::Full(Some(data)), None))
}

/// [`FaultKind::DuplicateRecords`]: every item of a list's `result` twice in a row. Other
/// answers (not JSON, or no array) pass unchanged.
fn doubled(mut reply: Reply) -> Reply {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&reply.body) else {
        return reply;
    };
    if let Some(items) = value.get_mut("result").and_then(|r| r.as_array_mut()) {
        let twice: Vec<serde_json::Value> = items
            .drain(..)
            .flat_map(|item| [item.clone(), item])
            .collect();
        *items = twice;
        if let Ok(body) = serde_json::to_vec(&value) {
            reply.body = body;
        }
    }
    reply
}

/// [`FaultKind::FirstNameOnly`]: the query without its second and later `name` pairs.
fn first_name_only(query: &str) -> String {
    let mut seen = false;
    query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            if key != "name" {
                return true;
            }
            !std::mem::replace(&mut seen, true)
        })
        .collect::<Vec<_>>()
        .join("&")
}
