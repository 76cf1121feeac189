//! Tiny HTTP/1.1 servers on loopback for the provider tests. Responses are written by hand,
//! one request per connection (a POST's body is read by Content-Length), so the tests run the real client, its family binding, the body
//! cap and the parsers against real sockets.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server saw of one request.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "dns-detect"), allow(dead_code))]
pub(crate) struct Request {
    /// The client's address as this server's socket sees it.
    pub peer: SocketAddr,
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

enum Body {
    Bytes(Vec<u8>),
    /// `len` bytes of `x`, written in chunks without holding them in memory.
    Huge {
        len: usize,
        content_length: bool,
    },
}

/// A canned response.
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
}

impl Reply {
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: Body::Bytes(body.into().into_bytes()),
            delay: Duration::ZERO,
        }
    }

    #[cfg_attr(not(feature = "dns-detect"), allow(dead_code))]
    pub(crate) fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: Body::Bytes(body),
            delay: Duration::ZERO,
        }
    }

    /// A body of `len` bytes; without `content_length` it ends when the connection closes.
    pub(crate) fn huge(len: usize, content_length: bool) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: Body::Huge {
                len,
                content_length,
            },
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering.
    pub(crate) fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A server that lives until dropped.
pub(crate) struct TestServer {
    pub addr: SocketAddr,
    /// Requests answered (read in full), for call-count assertions.
    pub hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

impl TestServer {
    pub(crate) async fn v4(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(IpAddr::V4(Ipv4Addr::LOCALHOST), Arc::new(handler)).await
    }

    pub(crate) async fn v6(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(IpAddr::V6(Ipv6Addr::LOCALHOST), Arc::new(handler)).await
    }

    async fn start(ip: IpAddr, handler: Arc<Handler>) -> Self {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    // A client that gives up mid-answer is part of the tests.
                    let _ = serve_one(stream, peer, &*handler, &counter).await;
                });
            }
        });
        TestServer { addr, hits, task }
    }

    /// `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    handler: &Handler,
    hits: &AtomicUsize,
) -> io::Result<()> {
    let head = read_head(&stream).await?;
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |i| i + 4);
    let mut request = parse_head(&head[..end], peer)?;
    // A POST's body: what came with the head, then the rest up to Content-Length.
    let want: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = head[end..].to_vec();
    let mut buf = [0u8; 4096];
    while body.len() < want {
        stream.readable().await?;
        match stream.try_read(&mut buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    request.body = body;
    hits.fetch_add(1, Ordering::SeqCst);
    let reply = handler(&request);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }

    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n");
    match &reply.body {
        Body::Bytes(b) => out.push_str(&format!("Content-Length: {}\r\n", b.len())),
        Body::Huge {
            len,
            content_length: true,
        } => out.push_str(&format!("Content-Length: {len}\r\n")),
        Body::Huge { .. } => {}
    }
    out.push_str("\r\n");
    write_all(&stream, out.as_bytes()).await?;

    match reply.body {
        Body::Bytes(b) => write_all(&stream, &b).await?,
        Body::Huge { len, .. } => {
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len());
                write_all(&stream, &chunk[..n]).await?;
                left -= n;
            }
        }
    }
    Ok(())
}

/// Reads up to the blank line that ends the request head (and maybe some of the body).
async fn read_head(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 64 * 1024 {
            return Err(io::Error::other("request head too large"));
        }
        stream.readable().await?;
        match stream.try_read(&mut buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(head)
}

fn parse_head(head: &[u8], peer: SocketAddr) -> io::Result<Request> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut words = request_line.split(' ');
    let method = words.next().unwrap_or_default().to_owned();
    let path = words
        .next()
        .ok_or_else(|| io::Error::other("bad request line"))?
        .to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Request {
        peer,
        method,
        path,
        headers,
        body: Vec::new(),
    })
}

async fn write_all(stream: &TcpStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        stream.writable().await?;
        match stream.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        203 => "Non-Authoritative Information",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
