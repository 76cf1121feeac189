//! The HTTP requests the web providers make (a GET; a POST for DoH): a client bound to the family's unspecified
//! address (`0.0.0.0` or `::`), so the request can only travel over that family; no redirects;
//! 2xx only; and a body read chunk by chunk up to a cap, so a broken or hostile server cannot
//! make ddflare buffer megabytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use reqwest::Url;

use super::provider::{DetectError, snippet};
use super::spec::Family;
use crate::http::{HttpSetupError, Tls};

/// A family-bound HTTP client. One per provider instance, so its connections are reused
/// across rounds.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    family: Family,
    timeout: Duration,
}

/// Why a fetch gave no body. The provider adds its name to make a [`DetectError`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FetchError {
    Timeout,
    Failed(String),
}

impl FetchError {
    pub(crate) fn into_detect(self, provider: String, timeout: Duration) -> DetectError {
        match self {
            FetchError::Timeout => DetectError::Timeout { provider, timeout },
            FetchError::Failed(message) => DetectError::Failed { provider, message },
        }
    }
}

/// The address that forces a socket into `family` without choosing an interface.
fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// Parses a provider's URL once, at construction, so a typo fails at startup.
pub(crate) fn parse_url(spec: &str, url: &str) -> Result<Url, HttpSetupError> {
    let shown = crate::text::url(url);
    let parsed = Url::parse(url)
        .map_err(|e| HttpSetupError::Client(format!("`{spec}`: `{shown}` is not a URL: {e}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host().is_some() => Ok(parsed),
        _ => Err(HttpSetupError::Client(format!(
            "`{spec}`: `{shown}` is not an http(s) URL with a host"
        ))),
    }
}

impl Fetcher {
    pub(crate) fn new(
        tls: &Tls,
        family: Family,
        timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        Ok(Fetcher {
            client: tls.client(Some(unspecified(family)), timeout)?,
            family,
            timeout,
        })
    }

    pub(crate) fn family(&self) -> Family {
        self.family
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// GETs `url` and returns its body, at most `cap` bytes.
    pub(crate) async fn get(&self, url: &Url, cap: usize) -> Result<Vec<u8>, FetchError> {
        self.send(self.client.get(url.clone()), url, cap).await
    }

    /// POSTs `body` with `Content-Type` and `Accept` set to `media_type` (DNS over HTTPS);
    /// returns the answer's body, at most `cap` bytes.
    #[cfg(feature = "dns-detect")]
    pub(crate) async fn post(
        &self,
        url: &Url,
        media_type: &'static str,
        body: Vec<u8>,
        cap: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let request = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .header(reqwest::header::ACCEPT, media_type)
            .body(body);
        self.send(request, url, cap).await
    }

    /// POSTs a SOAP action (UPnP): `Content-Type: text/xml` and `SOAPAction`; returns the
    /// answer's body, at most `cap` bytes, whatever its status (a SOAP fault comes as a 500
    /// whose body says why).
    #[cfg(feature = "router-query")]
    pub(crate) async fn soap(
        &self,
        url: &Url,
        action: String,
        body: String,
        cap: usize,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        let request = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
            .header("SOAPAction", action)
            .body(body);
        let mut resp = self.response(request, url).await?;
        let body = read_capped(&mut resp, cap, self.family).await?;
        Ok((resp.status().as_u16(), body))
    }

    /// Sends `request`; any status but a redirect.
    async fn response(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::Response, FetchError> {
        let family = self.family;
        let resp = request
            .send()
            .await
            .map_err(|e| from_reqwest(e, family, Some(url)))?;

        // The bound socket already guarantees this; checking the peer keeps the guarantee
        // from resting on the connector's internals.
        if let Some(peer) = resp.remote_addr()
            && !family.matches(&peer.ip())
        {
            return Err(FetchError::Failed(format!(
                "connected to {peer}, which is not over {family}"
            )));
        }

        let status = resp.status();
        if status.is_redirection() {
            let target = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            return Err(FetchError::Failed(format!(
                "answered HTTP {status} to `{}`, but redirects are not followed: \
                 write the final URL in the config",
                snippet(&target)
            )));
        }
        Ok(resp)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        cap: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let family = self.family;
        let mut resp = self.response(request, url).await?;
        let status = resp.status();
        if !status.is_success() {
            // A short look at the body often says why (rate limit, maintenance page).
            let hint = match read_capped(&mut resp, cap, family).await {
                Ok(body) if !body.is_empty() => {
                    format!(": `{}`", snippet(&String::from_utf8_lossy(&body)))
                }
                _ => String::new(),
            };
            return Err(FetchError::Failed(format!("answered HTTP {status}{hint}")));
        }
        read_capped(&mut resp, cap, family).await
    }
}

async fn read_capped(
    resp: &mut reqwest::Response,
    cap: usize,
    family: Family,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || {
        FetchError::Failed(format!(
            "answered more than {cap} bytes, where a short text answer was expected"
        ))
    };
    if resp
        .content_length()
        .is_some_and(|len| len > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| from_reqwest(e, family, None))?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn from_reqwest(e: reqwest::Error, family: Family, url: Option<&Url>) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    // A literal of the other family can never be reached over a family-bound socket: say so
    // rather than "Network unreachable".
    let literal = url.and_then(Url::host_str).and_then(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
    });
    if let Some(addr) = literal
        && !family.matches(&addr)
    {
        return FetchError::Failed(format!(
            "cannot connect over {family}: the URL's host {addr} is not an {family} address"
        ));
    }
    let connect = e.is_connect();
    // The provider's name already holds the URL.
    let chain = error_chain(&e.without_url());
    if connect {
        FetchError::Failed(format!("cannot connect over {family}: {chain}"))
    } else {
        FetchError::Failed(chain)
    }
}

/// `outer: inner: root`, skipping a link that repeats the previous one.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
