//! `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` through the real binary and a real (tiny) forward
//! proxy written here: CONNECT for https URLs, absolute-form requests for http URLs. The API
//! and notifications go through it; address detection never does; `NO_PROXY` excludes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ddflare_emulator::Recorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{Harness, assert_exit};
use crate::tls::{pki, tls_front_on};

/// What the proxy saw: the request line of each connection, and whether it carried
/// `Proxy-Authorization`.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// A forward proxy on loopback: `CONNECT host:port` opens a tunnel; `GET http://host:port/…`
/// is passed on as it came (hyper servers take the absolute form).
async fn proxy() -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let line = text.lines().next().unwrap_or("").to_owned();
                let auth = text
                    .to_ascii_lowercase()
                    .contains("\nproxy-authorization: basic ");
                s.lock().unwrap().push((line.clone(), auth));
                let mut parts = line.split(' ');
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if method == "CONNECT" {
                    let Ok(mut up) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                } else {
                    let host = target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap_or("");
                    let Ok(mut up) = TcpStream::connect(host).await else {
                        return;
                    };
                    let _ = up.write_all(&head).await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                }
            });
        }
    });
    (addr, seen)
}

/// An echo service answering every request with 203.0.113.7, counting them.
async fn echo() -> (SocketAddr, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            *c.lock().unwrap() += 1;
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n203.0.113.7")
                    .await;
            });
        }
    });
    (addr, count)
}

struct Setup {
    h: Harness,
    front: SocketAddr,
    echo: SocketAddr,
    echoes: Arc<Mutex<usize>>,
    hook: Recorder,
    proxy: SocketAddr,
    seen: Seen,
}

/// The API behind TLS (a test CA), detection by an http echo service, a webhook recorder and
/// the proxy, with a config naming them.
fn setup() -> Setup {
    let h = Harness::new(&["example.com"]);
    let pki = pki(&["127.0.0.1"]);
    let front = h.spawn(tls_front_on(
        "127.0.0.1:0".parse().unwrap(),
        pki.acceptor(),
        h.emu.addr(),
    ));
    let (echo, echoes) = h.spawn(echo());
    let hook = h.spawn(Recorder::start()).unwrap();
    let (proxy, seen) = h.spawn(proxy());
    let ca_file = h.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"https://{front}/client/v4\"\nrequest_timeout = \"3s\"\nmax_retries = 0\nca_file = \"{}\"\n\n[detect]\nallow_private = true\nipv4 = [\"url:http://{echo}/ip\"]\nipv6 = [\"none\"]\n\n[state]\ndir = \"{}\"\n\n[[notify]]\nurl = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
            ca_file.display(),
            h.state_dir().display(),
            hook.url("/hook"),
        ),
    )
    .unwrap();
    Setup {
        h,
        front,
        echo,
        echoes,
        hook,
        proxy,
        seen,
    }
}

#[test]
fn api_and_notifications_go_through_the_proxy_detection_does_not() {
    let s = setup();
    let out = assert_exit(
        &s.h.ddflare(&["once"])
            .env(
                "HTTPS_PROXY",
                format!("http://proxyuser:pr0xy-s3cret@{}", s.proxy),
            )
            .env("http_proxy", format!("{}", s.proxy))
            .output()
            .unwrap(),
        0,
    );
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
    // The user sees which proxy, never its password.
    assert!(
        out.contains(&format!(
            "go through HTTPS_PROXY=http://[redacted]@{}",
            s.proxy
        )),
        "{out}"
    );
    assert!(
        !out.contains("pr0xy-s3cret") && !out.contains("proxyuser"),
        "{out}"
    );

    assert_eq!(s.hook.wait_for(1, Duration::from_secs(5)).len(), 1);
    let seen = s.seen.lock().unwrap().clone();
    // The API: a CONNECT tunnel with the proxy's credentials.
    assert!(
        seen.iter()
            .any(|(l, auth)| l == &format!("CONNECT {} HTTP/1.1", s.front) && *auth),
        "{seen:?}"
    );
    // The webhook (http): the absolute form, through HTTP_PROXY given as HOST:PORT.
    assert!(
        seen.iter()
            .any(|(l, _)| l == &format!("POST http://{}/hook HTTP/1.1", s.hook.addr())),
        "{seen:?}"
    );
    // Detection: straight to the echo service.
    assert!(
        !seen.iter().any(|(l, _)| l.contains(&s.echo.to_string())),
        "{seen:?}"
    );
    assert!(*s.echoes.lock().unwrap() >= 1);
}

#[test]
fn no_proxy_excludes_hosts() {
    let s = setup();
    let out = assert_exit(
        &s.h.ddflare(&["once"])
            .env("ALL_PROXY", format!("http://{}", s.proxy))
            .env("no_proxy", "localhost,127.0.0.1")
            .output()
            .unwrap(),
        0,
    );
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
    assert_eq!(s.hook.wait_for(1, Duration::from_secs(5)).len(), 1);
    assert!(s.seen.lock().unwrap().is_empty());
}

#[test]
fn an_unusable_proxy_is_a_config_error_without_its_secret() {
    let s = setup();
    let out = assert_exit(
        &s.h.ddflare(&["once"])
            .env("ALL_PROXY", "socks5://u:s0cks-s3cret@127.0.0.1:1080")
            .output()
            .unwrap(),
        78,
    );
    assert!(
        out.contains("`ALL_PROXY`") && out.contains("socks5"),
        "{out}"
    );
    assert!(out.contains("hint:"), "{out}");
    assert!(!out.contains("s0cks-s3cret"), "{out}");
    assert!(s.h.records("example.com").is_empty());
}

#[test]
fn an_unreachable_proxy_fails_the_round_without_showing_its_password() {
    let s = setup();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out =
        s.h.ddflare(&["once"])
            .env("HTTPS_PROXY", format!("http://u:pr0xy-s3cret@{closed}"))
            .output()
            .unwrap();
    let text = crate::support::text(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("pr0xy-s3cret"), "{text}");
    assert!(s.h.records("example.com").is_empty());
}
