//! Shared helpers for the integration tests: starting an emulator, an HTTP client,
//! fixtures, JSON shape comparison, and a small OpenAPI 3.0 schema checker.

#![allow(dead_code)]

pub mod oas;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use ddflare_emulator::{Emulator, Running, TokenScope};
use serde_json::Value;

pub const EDIT: &str = "edit-token";
pub const READ: &str = "read-token";
pub const SCOPED: &str = "scoped-token";
pub const WRONG: &str = "wrong-but-well-formed-token";

pub fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Two zones and the usual tokens.
pub fn standard() -> Emulator {
    let mut emu = Emulator::new();
    emu.zone("example.com");
    emu.zone("example.net");
    emu.token(EDIT, TokenScope::edit_all());
    emu.token(READ, TokenScope::read_only());
    emu.token(SCOPED, TokenScope::zones_edit(&["example.com"]));
    emu
}

pub async fn start(emu: Emulator) -> Running {
    emu.start(localhost()).await.unwrap()
}

/// A plain-HTTP client. In the workspace, reqwest is built with ddflare's `rustls-no-provider`
/// feature (features unify), which needs a crypto provider even for plain HTTP: install ring.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
    /// The first error's code.
    pub fn code(&self) -> i64 {
        self.json()["errors"][0]["code"].as_i64().unwrap()
    }
}

/// Sends a request to `base + path` with an optional bearer token and JSON body.
pub async fn call(
    running: &Running,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let url = format!("{}{path}", running.base_url());
    let mut req = client().request(method.parse().unwrap(), &url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    read(req.send().await.unwrap()).await
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Resp {
        status,
        headers,
        text,
    }
}

pub async fn get(running: &Running, path: &str, token: &str) -> Resp {
    call(running, "GET", path, Some(token), None).await
}

pub async fn post(running: &Running, path: &str, token: &str, body: Value) -> Resp {
    call(running, "POST", path, Some(token), Some(body)).await
}

pub fn records_path(running: &Running, zone: &str) -> String {
    format!("/zones/{}/dns_records", running.zone_id(zone).unwrap())
}

/// The JSON type of a value, as a short name.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Key → JSON type for an object.
pub fn key_kinds(v: &Value) -> BTreeMap<String, &'static str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .iter()
        .map(|(k, v)| (k.clone(), kind(v)))
        .collect()
}

/// Asserts same key set and same JSON types, recursing into objects and the first
/// element of arrays (the structural "shape" of a body).
pub fn assert_same_shape(ours: &Value, theirs: &Value, at: &str) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<_> = a.keys().collect();
            let kb: Vec<_> = b.keys().collect();
            assert_eq!(ka, kb, "key set differs at {at}");
            for (k, v) in a {
                assert_same_shape(v, &b[k], &format!("{at}/{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_same_shape(x, y, &format!("{at}/0"));
            }
        }
        _ => assert_eq!(
            kind(ours),
            kind(theirs),
            "type differs at {at}: {ours} vs {theirs}"
        ),
    }
}

/// Keys of the first JSON object starting at `from` in raw text, in textual order
/// (serde_json's `Value` sorts keys, so order is checked on the raw body).
pub fn raw_key_order(text: &str, from: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0i32;
    let mut i = from;
    let mut in_str = false;
    let mut str_start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_str = false;
                // A key is a depth-1 string followed by ':'.
                let mut j = i + 1;
                while bytes[j] == b' ' {
                    j += 1;
                }
                if depth == 1 && bytes[j] == b':' {
                    keys.push(text[str_start..i].to_owned());
                }
            }
        } else {
            match c {
                b'"' => {
                    in_str = true;
                    str_start = i + 1;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    keys
}
