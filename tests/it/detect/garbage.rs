//! `url:` providers answering garbage never crash ddflare and never publish anything: an HTML
//! error page, two addresses, an empty body, 10 MB, a private address.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Harness, text};

/// Answers `/html`, `/two`, `/empty`, `/huge`, `/private` with the body the name says.
async fn garbage_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0u8; 4096];
                let Ok(n) = s.read(&mut head).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&head[..n]).into_owned();
                let body: Vec<u8> = match head.split(' ').nth(1).unwrap_or("") {
                    "/html" => b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>".to_vec(),
                    "/two" => b"203.0.113.7\n198.51.100.4\n".to_vec(),
                    "/empty" => Vec::new(),
                    "/huge" => vec![b'1'; 10 * 1024 * 1024],
                    _ => b"192.168.1.20\n".to_vec(),
                };
                let head =
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
                if s.write_all(head.as_bytes()).await.is_ok() {
                    let _ = s.write_all(&body).await;
                }
            });
        }
    });
    addr
}

#[test]
fn garbage_never_crashes_and_never_publishes() {
    let h = Harness::new(&["example.com"]);
    let server = h.spawn(garbage_server());
    for (path, needle) in [
        ("html", "which is not an IP address"),
        ("two", "answered 2 addresses"),
        ("empty", "empty body"),
        ("huge", "more than 1024 bytes"),
        ("private", "which is in 192.168.0.0/16"),
    ] {
        std::fs::write(
            h.config_path(),
            format!(
                "[cloudflare]\napi_url = \"{}\"\n\n[detect]\nipv4 = \"url:http://{server}/{path}\"\nipv6 = \"none\"\n\n[state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
                h.emu.base_url(),
                h.state_dir().display()
            ),
        )
        .unwrap();
        let out = h.ddflare(&["once"]).output().unwrap();
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(1), "{path}: {shown}");
        assert!(shown.contains(needle), "{path}: {shown}");
        assert!(h.records("example.com").is_empty(), "{path}: {shown}");
        assert!(
            h.dns_requests().is_empty(),
            "{path}: no DNS API call: {shown}"
        );
    }
}
