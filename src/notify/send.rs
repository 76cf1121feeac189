//! The I/O edge of notifications: one HTTP request through the shared rustls client, with a
//! timeout, no redirects, and errors that never show the URL (it holds the secrets).

use std::time::Duration;

use super::message::Request;
use crate::http::{HttpSetupError, Tls};

/// How long one notification or ping may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends [`Request`]s.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
}

/// A reqwest error and its causes, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = if e.is_timeout() {
        "no answer in time".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Sender {
    pub fn new(tls: &Tls) -> Result<Sender, HttpSetupError> {
        Ok(Sender {
            client: tls.proxied_client(TIMEOUT)?,
        })
    }

    /// Sends once; `Err` for no answer or a status other than 2xx.
    pub async fn send(&self, r: &Request) -> Result<u16, String> {
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|_| format!("bad method {}", r.method))?;
        let url = reqwest::Url::parse(&r.url).map_err(|_| "the URL does not parse".to_owned())?;
        let mut builder = self.client.request(method, url);
        for (k, v) in &r.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if r.method != "GET" {
            builder = builder.body(r.body.clone());
        }
        let resp = builder.send().await.map_err(describe)?;
        let status = resp.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    /// Sends, and once more after `pause` when the first try got no answer, a 429 or a 5xx.
    pub async fn send_retrying(&self, r: &Request, pause: Duration) -> Result<u16, String> {
        match self.send(r).await {
            Err(e) if !e.starts_with("HTTP 4") || e == "HTTP 429" => {
                tokio::time::sleep(pause).await;
                self.send(r).await.map_err(|again| {
                    if again == e {
                        format!("{e} (twice)")
                    } else {
                        format!("{e}, then {again}")
                    }
                })
            }
            other => other,
        }
    }
}
