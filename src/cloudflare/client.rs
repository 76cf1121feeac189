//! The reqwest implementation of [`DnsApi`]: bearer token (or the legacy X-Auth-Email/X-Auth-Key
//! pair), bounded bodies, retries with backoff for 5xx and timeouts, `Retry-After` for 429, and
//! the `cf-ray` id on every failure. Ids are checked both ways: an id that is not of the API's
//! shape is refused before it is put in a URL, and an answer carrying one is refused.
//! Listing records by name is [`super::listing`]'s.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{debug, info, warn};

use super::api::{Clients, DnsApi, RequestObserver};
use super::auth::Auth;
use super::budget::Budget;
use super::deadline;
use super::error::{ApiError, ErrorKind};
use super::ids::{checked_id, checked_record, checked_records, checked_zones};
use super::settings::{CloudflareConfig, Credentials, NamedCredentials};
use super::types::Deleted;
use super::types::{
    BatchRequest, BatchResult, Envelope, IpList, ListItem, NewRecord, Record, RecordPatch,
    ResultInfo, TokenInfo, Zone, is_id, same_name, shown_id,
};
use crate::clock::{Random, ThreadRandom};
use crate::http::{HttpSetupError, RoundClient, Tls};

/// The most a response body may hold; a page of 5,000 records is about 2 MB.
const MAX_BODY: usize = 8 << 20;
/// The longest `Retry-After` a call waits out before retrying; a longer one (or one past the
/// round's deadline) ends the call at once, and the loop honours it between rounds.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// Talks to `api_url` with the configured credentials.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its connections last a round ([`DnsApi::end_round`]).
    http: RoundClient,
    base: Url,
    /// The authentication headers, and the token file they are read again from.
    auth: Arc<Auth>,
    /// A Global API Key: `/user/tokens/verify` does not apply.
    global_key: bool,
    max_retries: u32,
    /// Shared by clones and by the clients of every credential: Cloudflare counts its limit
    /// per user, across all of the user's tokens.
    budget: Arc<Mutex<Budget>>,
    /// The `[[credentials]]` name, said in every error; `None` for `[cloudflare]`'s.
    name: Option<Arc<str>>,
    /// Counts every request by endpoint class and status, when set.
    metrics: Option<Arc<dyn RequestObserver>>,
    /// The random numbers of the retry jitter (injected like the clock).
    random: Arc<dyn Random + Send>,
    /// Set once the server left names out of a listing of several: list name by name.
    pub(super) one_name_at_a_time: Arc<AtomicBool>,
}

impl Client {
    pub fn new(cfg: &CloudflareConfig, tls: &Tls) -> Result<Self, HttpSetupError> {
        let base = Url::parse(&cfg.api_url)
            .map_err(|e| HttpSetupError::Client(format!("`cloudflare.api_url`: {e}")))?;
        Ok(Client {
            http: tls.round_client(cfg.request_timeout)?,
            base,
            auth: Arc::new(Auth::new(
                &cfg.credentials,
                cfg.token_file.as_deref(),
                None,
            )?),
            global_key: matches!(cfg.credentials, Credentials::GlobalKey { .. }),
            max_retries: cfg.max_retries,
            budget: Arc::new(Mutex::new(Budget::cloudflare())),
            name: None,
            metrics: None,
            random: Arc::new(ThreadRandom),
            one_name_at_a_time: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The clients of `cfg`'s credentials: `[cloudflare]`'s and each `[[credentials]]`'s, on
    /// one reqwest client and one budget.
    pub fn all(cfg: &CloudflareConfig, tls: &Tls) -> Result<Clients<Client>, HttpSetupError> {
        let default = Client::new(cfg, tls)?;
        let mut named = Vec::with_capacity(cfg.named.len());
        for n in &cfg.named {
            named.push((n.name.clone(), default.for_credentials(n)?));
        }
        Ok(Clients { default, named })
    }

    /// This client with `named`'s token instead: the same connections, retries and budget.
    pub fn for_credentials(&self, named: &NamedCredentials) -> Result<Client, HttpSetupError> {
        Ok(Client {
            auth: Arc::new(Auth::new(
                &named.credentials,
                named.token_file.as_deref(),
                Some(&named.name),
            )?),
            global_key: matches!(named.credentials, Credentials::GlobalKey { .. }),
            name: Some(named.name.as_str().into()),
            ..self.clone()
        })
    }

    /// The `[[credentials]]` name, `None` for `[cloudflare]`'s.
    pub fn credentials_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// True when the credentials are a Global API Key (which `/user/tokens/verify` rejects).
    pub fn uses_global_key(&self) -> bool {
        self.global_key
    }

    /// The same client without retries: for checks that must not hold up a round.
    pub fn without_retries(&self) -> Self {
        Client {
            max_retries: 0,
            ..self.clone()
        }
    }

    /// Draws the retry jitter from `random` instead of the process's generator.
    pub fn with_random(mut self, random: Arc<dyn Random + Send>) -> Self {
        self.random = random;
        self
    }

    /// Counts every request in `metrics` (`ddflare_api_requests_total`).
    pub fn with_metrics(mut self, metrics: Arc<dyn RequestObserver>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// `zones/{zone.id}/TAIL…?QUERY`, once the zone id (and any id in `tail`, checked by the
    /// caller) is of the API's shape: `.`, `..` or an empty id would silently change the path.
    pub(super) fn zone_url(
        &self,
        zone: &Zone,
        tail: &[&str],
        query: &[(&str, &str)],
        action: &str,
    ) -> Result<Url, ApiError> {
        if !is_id(&zone.id) {
            return Err(ApiError::new(ErrorKind::BadIdentifier, action)
                .with_zone(zone.label())
                .with_detail(format!(
                    "zone id `{}` is not a Cloudflare id (32 lowercase hex characters)",
                    shown_id(&zone.id)
                )));
        }
        let mut segments = vec!["zones", zone.id.as_str()];
        segments.extend(tail);
        Ok(self.url(&segments, query))
    }

    pub(super) fn url_of(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        self.url(segments, query)
    }

    /// `accounts/{account}/gateway/locations/{id}`, once both ids are of the API's shape.
    fn location_url(&self, account: &str, id: &str, action: &str) -> Result<Url, ApiError> {
        let account = checked_id(account, action)?;
        let id = checked_id(id, action)?;
        Ok(self.url(&["accounts", account, "gateway", "locations", id], &[]))
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One API call with retries, its `result` read as a `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        action: &str,
    ) -> Result<(T, Option<ResultInfo>), ApiError> {
        // The request, the retries and the envelope are not generic: one copy of their (large)
        // async state machines serves every result type, where one per type cost ~25 KB of
        // binary (docs/shipping.md). A result of the wrong shape is a `Decode` error, which
        // was never retried, so reading it after the loop changes nothing.
        let answer = self.call_untyped(method, url, body, action).await?;
        typed(action, answer)
    }

    /// One API call with retries, its `result` as JSON (the IP lists walk it).
    pub(super) async fn call_value(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        action: &str,
    ) -> Result<(serde_json::Value, Option<ResultInfo>), ApiError> {
        let answer = self.call_untyped(method, url, body, action).await?;
        Ok((answer.result, answer.info))
    }

    /// One API call with retries. POSTs are retried only when the server surely did not act
    /// on them (429, or no connection at all), so a create is never sent twice.
    async fn call_untyped(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        action: &str,
    ) -> Result<Answer, ApiError> {
        // Every error and retry line of a named credential says which (never the token).
        let labelled;
        let action = match &self.name {
            Some(n) => {
                labelled = format!("{action} (credentials `{n}`)");
                labelled.as_str()
            }
            None => action,
        };
        let idempotent = method != Method::POST;
        let mut attempt = 0u32;
        let mut reread = false;
        loop {
            let now = tokio::time::Instant::now();
            if let Some(err) = deadline::blocked(now, action) {
                return Err(err);
            }
            let sent = match deadline::left(now) {
                Some(left) if left.is_zero() => Err(deadline::past(action)),
                Some(left) => tokio::time::timeout(
                    left,
                    self.send_once(&method, &url, body.as_deref(), action),
                )
                .await
                .unwrap_or_else(|_| Err(deadline::past(action))),
                None => self.send_once(&method, &url, body.as_deref(), action).await,
            };
            let err = match sent {
                Ok(ok) => return Ok(ok),
                Err(err) => err,
            };
            let now = tokio::time::Instant::now();
            if let ErrorKind::RateLimited {
                retry_after: Some(d),
            } = err.kind
                && (d > MAX_RETRY_WAIT || deadline::left(now).is_some_and(|left| d >= left))
            {
                // Waiting cannot end in this round: say when, and send nothing more until then.
                deadline::block(now, d);
                return Err(err);
            }
            if deadline::is_past(&err) {
                return Err(err);
            }
            // Refused credentials: a token file rotated since the last request (on a mount
            // whose stamps did not show it) holds the token to use. One more try, at once.
            if !reread
                && matches!(
                    err.kind,
                    ErrorKind::InvalidToken
                        | ErrorKind::MalformedCredentials
                        | ErrorKind::Forbidden
                )
            {
                reread = true;
                if self.auth.reload_after_refusal() {
                    info!(
                        action,
                        "Cloudflare refused the API token; its file holds another: trying again with it"
                    );
                    continue;
                }
            }
            let retry = attempt < self.max_retries
                && match err.kind {
                    ErrorKind::RateLimited { .. } => true,
                    ErrorKind::Server | ErrorKind::Timeout => idempotent,
                    ErrorKind::Network => {
                        idempotent
                            || err
                                .detail
                                .as_deref()
                                .is_some_and(|d| d.starts_with(CONNECT))
                    }
                    _ => false,
                };
            if !retry {
                return Err(err);
            }
            let wait = match err.kind {
                ErrorKind::RateLimited {
                    retry_after: Some(d),
                } => d,
                _ => backoff(attempt, self.random.unit()),
            };
            if deadline::left(now).is_some_and(|left| wait >= left) {
                return Err(err);
            }
            warn!(
                action,
                attempt = attempt + 1,
                wait_ms = wait.as_millis() as u64,
                cf_ray = err.ray.as_deref().unwrap_or("-"),
                "retrying: {err}"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        action: &str,
    ) -> Result<Answer, ApiError> {
        let wait = self
            .budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(tokio::time::Instant::now());
        if !wait.is_zero() {
            if deadline::left(tokio::time::Instant::now()).is_some_and(|left| wait >= left) {
                return Err(deadline::past(action));
            }
            debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing requests to stay within Cloudflare's rate limit"
            );
            tokio::time::sleep(wait).await;
        }
        let http = self
            .http
            .get()
            .map_err(|e| ApiError::new(ErrorKind::Network, action).with_detail(e.to_string()))?;
        let mut req = http.request(method.clone(), url.clone());
        for (name, value) in self.auth.headers() {
            req = req.header(name, value);
        }
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        debug!(%method, path = url.path(), "cloudflare request");
        let sent = req.send().await;
        if let Some(m) = &self.metrics {
            m.api_request(
                method.as_str(),
                url.path(),
                sent.as_ref().ok().map(|r| r.status().as_u16()),
            );
        }
        let resp = sent.map_err(|e| transport_error(action, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let ray = header_str(&headers, "cf-ray");
        let bytes = read_capped(resp, MAX_BODY)
            .await
            .map_err(|e| with_ray(e.into_api(action, status), ray.clone()))?;
        decode_envelope(action, status, &headers, ray, &bytes)
    }

    pub(super) async fn zone_call<T: DeserializeOwned>(
        &self,
        zone: &Zone,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        action: &str,
    ) -> Result<(T, Option<ResultInfo>), ApiError> {
        // Untyped first (see `call`): the zone is added to the error in one copy.
        let answer = self
            .call_untyped(method, url, body, action)
            .await
            .map_err(|e| e.with_zone(zone.label()))?;
        typed(action, answer).map_err(|e| e.with_zone(zone.label()))
    }
}

impl Clients<Client> {
    /// Every client counts its requests in `metrics`.
    pub fn with_metrics(self, metrics: Arc<dyn RequestObserver>) -> Self {
        Clients {
            default: self.default.with_metrics(Arc::clone(&metrics)),
            named: self
                .named
                .into_iter()
                .map(|(n, c)| (n, c.with_metrics(Arc::clone(&metrics))))
                .collect(),
        }
    }
}

const CONNECT: &str = "connection failed";

fn json<B: Serialize>(body: &B) -> Option<Vec<u8>> {
    // Serialising these plain structs cannot fail; an empty body would be refused loudly.
    serde_json::to_vec(body).ok()
}

/// Exponential backoff with jitter: about 1s, 2s, 4s… capped at 30s; `r` in `[0, 1)` picks
/// where in the upper half of the step the wait falls. PURE: the caller draws `r`.
pub fn backoff(attempt: u32, r: f64) -> Duration {
    let base = Duration::from_millis(1000u64.saturating_mul(1 << attempt.min(5)));
    let capped = base.min(Duration::from_secs(30));
    capped.mul_f64(0.5 + r.clamp(0.0, 1.0) * 0.5)
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect())
}

/// `Retry-After` in seconds, else the `t=` of the `Ratelimit` header.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(secs) = header_str(headers, "retry-after").and_then(|v| v.trim().parse().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let rl = header_str(headers, "ratelimit")?;
    rl.split(';')
        .find_map(|p| p.trim().strip_prefix("t="))
        .and_then(|t| t.trim().parse().ok())
        .map(Duration::from_secs)
}

fn with_ray(mut e: ApiError, ray: Option<String>) -> ApiError {
    e.ray = ray;
    e
}

fn transport_error(action: &str, e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::new(ErrorKind::Timeout, action)
    } else if e.is_connect() {
        // Keep the cause: "certificate: UnknownIssuer" or "Connection refused" is the fix.
        let chain = error_chain(e);
        let detail = match (e.url().and_then(|u| u.host_str()), unresolved(&chain)) {
            (Some(host), Some(cause)) => format!("{CONNECT}: `{host}` did not resolve: {cause}"),
            _ => format!("{CONNECT}: {chain}"),
        };
        ApiError::new(ErrorKind::Network, action).with_detail(detail)
    } else {
        ApiError::new(ErrorKind::Network, action).with_detail(error_chain(e))
    }
}

/// The resolver's own words when a connection failed at name resolution (hyper's connector
/// says "dns error"), e.g. "failed to lookup address information: Name or service not known".
fn unresolved(chain: &str) -> Option<&str> {
    let at = chain.find("dns error")?;
    let rest = &chain[at + "dns error".len()..];
    let cause = rest.trim_start_matches(':').trim();
    let cause = cause
        .strip_prefix("error resolving DNS:")
        .map_or(cause, str::trim);
    Some(if cause.is_empty() { "dns error" } else { cause })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

impl BodyError {
    fn into_api(self, action: &str, status: StatusCode) -> ApiError {
        let mut e = match self {
            BodyError::TooLarge => ApiError::new(ErrorKind::Decode, action)
                .with_detail(format!("body larger than {} MiB", MAX_BODY >> 20)),
            BodyError::Transport(e) if e.is_timeout() => ApiError::new(ErrorKind::Timeout, action),
            BodyError::Transport(e) => ApiError::new(ErrorKind::Network, action)
                .with_detail(format!("body cut off: {}", error_chain(&e))),
        };
        e.status = Some(status.as_u16());
        e
    }
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Turns one HTTP answer into the `result` or a classified error. Pure, so every fixture can
/// be run through it.
pub fn decode<T: DeserializeOwned>(
    action: &str,
    status: StatusCode,
    headers: &HeaderMap,
    ray: Option<String>,
    body: &[u8],
) -> Result<(T, Option<ResultInfo>), ApiError> {
    typed(action, decode_envelope(action, status, headers, ray, body)?)
}

/// A successful envelope: its `result` not yet read as the call's type, its `result_info`, and
/// the `cf-ray` id for an error in reading the result.
struct Answer {
    result: serde_json::Value,
    info: Option<ResultInfo>,
    ray: Option<String>,
}

/// The envelope of a response: an error for a failed call, else the untyped [`Answer`].
fn decode_envelope(
    action: &str,
    status: StatusCode,
    headers: &HeaderMap,
    ray: Option<String>,
    body: &[u8],
) -> Result<Answer, ApiError> {
    let envelope: Result<Envelope<serde_json::Value>, _> = serde_json::from_slice(body);
    let envelope = match envelope {
        Ok(env) => env,
        Err(e) => {
            // A 429 or 5xx from a proxy in front of the API often has an HTML body.
            let mut err = if status.is_success() {
                ApiError::new(ErrorKind::Decode, action)
            } else {
                ApiError::from_response(action, status.as_u16(), vec![], retry_after(headers), None)
            };
            err.status = Some(status.as_u16());
            err.ray = ray;
            if err.kind == ErrorKind::Decode || err.kind == ErrorKind::Rejected {
                err.detail = Some(format!(
                    "not a JSON envelope: {e}; body starts {}",
                    snippet(body)
                ));
            }
            return Err(err);
        }
    };
    if !status.is_success() || !envelope.success || !envelope.errors.is_empty() {
        let mut err = ApiError::from_response(
            action,
            status.as_u16(),
            envelope.errors,
            retry_after(headers),
            ray,
        );
        if status.is_success() && err.kind == ErrorKind::Rejected && err.errors.is_empty() {
            err.detail = Some("success is false but no error was given".into());
        }
        return Err(err);
    }
    let Some(result) = envelope.result else {
        return Err(with_ray(
            ApiError::new(ErrorKind::Decode, action).with_detail("success without a result"),
            ray,
        ));
    };
    Ok(Answer {
        result,
        info: envelope.result_info,
        ray,
    })
}

/// The answer's `result` read as a `T`; the only part of a call that is generic.
fn typed<T: DeserializeOwned>(
    action: &str,
    answer: Answer,
) -> Result<(T, Option<ResultInfo>), ApiError> {
    let value = serde_json::from_value(answer.result).map_err(|e| {
        with_ray(
            ApiError::new(ErrorKind::Decode, action)
                .with_detail(format!("unexpected result shape: {e}")),
            answer.ray,
        )
    })?;
    Ok((value, answer.info))
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(60)]);
    format!("{:?}", text)
}

impl DnsApi for Client {
    fn end_round(&self) {
        self.http.release();
    }

    async fn verify_token(&self) -> Result<TokenInfo, ApiError> {
        let url = self.url(&["user", "tokens", "verify"], &[]);
        Ok(self
            .call(Method::GET, url, None, "verify the API token")
            .await?
            .0)
    }

    async fn zones_named(&self, name: &str) -> Result<Vec<Zone>, ApiError> {
        let url = self.url(&["zones"], &[("name", name), ("per_page", "50")]);
        let action = format!("look up zone {name}");
        let (zones, _): (Vec<Zone>, _) = self.call(Method::GET, url, None, &action).await?;
        let (named, other): (Vec<Zone>, Vec<Zone>) = checked_zones(zones, &action)?
            .into_iter()
            .partition(|z| same_name(&z.name, name));
        if let Some(z) = other.first() {
            warn!(
                "asked for zone {name}, Cloudflare also answered with {} ({} zone(s) in all): ignored",
                z.name.chars().take(253).collect::<String>().escape_debug(),
                other.len()
            );
        }
        Ok(named)
    }

    async fn all_zones(&self, max_pages: u32) -> Result<Option<Vec<Zone>>, ApiError> {
        let mut out = Vec::new();
        for page in 1..=max_pages {
            let page_s = page.to_string();
            let url = self.url(&["zones"], &[("per_page", "50"), ("page", &page_s)]);
            let (zones, info): (Vec<Zone>, _) =
                self.call(Method::GET, url, None, "list zones").await?;
            let zones = checked_zones(zones, "list zones")?;
            let got = zones.len();
            out.extend(zones);
            let more = match info.and_then(|i| i.total_pages) {
                Some(total) => page < total,
                None => got >= 50,
            };
            if !more {
                return Ok(Some(out));
            }
        }
        Ok(None)
    }

    async fn list_records(&self, zone: &Zone, names: &[String]) -> Result<Vec<Record>, ApiError> {
        self.records_named(zone, names).await
    }

    async fn create_record(&self, zone: &Zone, record: &NewRecord) -> Result<Record, ApiError> {
        let action = format!("create {} {}", record.rtype, record.name);
        let url = self.zone_url(zone, &["dns_records"], &[], &action)?;
        let (created, _) = self
            .zone_call(zone, Method::POST, url, json(record), &action)
            .await?;
        checked_record(created, &action)
    }

    async fn patch_record(
        &self,
        zone: &Zone,
        id: &str,
        patch: &RecordPatch,
    ) -> Result<Record, ApiError> {
        let action = format!("update record {}", shown_id(id));
        let id = checked_id(id, &action)?;
        let url = self.zone_url(zone, &["dns_records", id], &[], &action)?;
        let (updated, _) = self
            .zone_call(zone, Method::PATCH, url, json(patch), &action)
            .await?;
        checked_record(updated, &action)
    }

    async fn delete_record(&self, zone: &Zone, id: &str) -> Result<(), ApiError> {
        let action = format!("delete record {}", shown_id(id));
        let id = checked_id(id, &action)?;
        let url = self.zone_url(zone, &["dns_records", id], &[], &action)?;
        let _: (Deleted, _) = self
            .zone_call(zone, Method::DELETE, url, None, &action)
            .await?;
        Ok(())
    }

    async fn batch(&self, zone: &Zone, batch: &BatchRequest) -> Result<BatchResult, ApiError> {
        let action = format!("apply {} changes to {}", batch.len(), zone.label());
        for id in batch
            .deletes
            .iter()
            .map(|d| &d.id)
            .chain(batch.patches.iter().map(|p| &p.id))
        {
            checked_id(id, &action)?;
        }
        let url = self.zone_url(zone, &["dns_records", "batch"], &[], &action)?;
        let (mut done, _): (BatchResult, _) = self
            .zone_call(zone, Method::POST, url, json(batch), &action)
            .await?;
        done.posts = checked_records(done.posts, &action)?;
        done.patches = checked_records(done.patches, &action)?;
        Ok(done)
    }

    async fn ip_lists(&self, account: &str) -> Result<Vec<IpList>, ApiError> {
        self.get_ip_lists(account).await
    }

    async fn create_ip_list(
        &self,
        account: &str,
        name: &str,
        description: &str,
    ) -> Result<IpList, ApiError> {
        self.post_ip_list(account, name, description).await
    }

    async fn put_list_description(
        &self,
        account: &str,
        list: &str,
        description: &str,
    ) -> Result<IpList, ApiError> {
        self.put_ip_list(account, list, description).await
    }

    async fn list_items(&self, account: &str, list: &str) -> Result<Vec<ListItem>, ApiError> {
        self.get_list_items(account, list).await
    }

    async fn add_list_items(
        &self,
        account: &str,
        list: &str,
        items: &[(String, String)],
    ) -> Result<(), ApiError> {
        let body: Vec<serde_json::Value> = items
            .iter()
            .map(|(ip, comment)| serde_json::json!({"ip": ip, "comment": comment}))
            .collect();
        let action = format!("add {} item(s) to IP list {}", items.len(), shown_id(list));
        self.change_items(account, list, Method::POST, body.into(), &action)
            .await
    }

    async fn delete_list_items(
        &self,
        account: &str,
        list: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        let items: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| serde_json::json!({ "id": id }))
            .collect();
        let action = format!("delete {} item(s) of IP list {}", ids.len(), shown_id(list));
        self.change_items(
            account,
            list,
            Method::DELETE,
            serde_json::json!({ "items": items }),
            &action,
        )
        .await
    }

    async fn gateway_location(
        &self,
        account: &str,
        id: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let action = format!("read Gateway location {}", shown_id(id));
        let url = self.location_url(account, id, &action)?;
        Ok(self
            .call_untyped(Method::GET, url, None, &action)
            .await?
            .result)
    }

    async fn put_gateway_location(
        &self,
        account: &str,
        id: &str,
        location: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let action = format!("update Gateway location {}", shown_id(id));
        let url = self.location_url(account, id, &action)?;
        Ok(self
            .call_untyped(Method::PUT, url, json(location), &action)
            .await?
            .result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn a_resolution_failure_is_told_in_the_resolvers_words() {
        let chain = "error sending request for url (https://api.test:8443/client/v4/zones): client error (Connect): dns error: error resolving DNS: failed to lookup address information: Temporary failure in name resolution";
        assert_eq!(
            unresolved(chain),
            Some("failed to lookup address information: Temporary failure in name resolution")
        );
        assert_eq!(
            unresolved("client error (Connect): dns error: Name or service not known"),
            Some("Name or service not known")
        );
        assert_eq!(
            unresolved("client error (Connect): dns error"),
            Some("dns error")
        );
        assert_eq!(
            unresolved("client error (Connect): tcp connect error: Connection refused"),
            None
        );
    }

    const KEY: &str = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";

    #[test]
    fn the_client_debug_shows_no_credential() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cfg = CloudflareConfig {
            credentials: Credentials::GlobalKey {
                email: "me@example.com".into(),
                key: Secret::new(KEY),
            },
            token_file: None,
            named: Vec::new(),
            api_url: "https://api.cloudflare.com/client/v4".into(),
            ca_file: None,
            request_timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        let Ok(tls) = Tls::new(None) else {
            panic!("no TLS setup")
        };
        let Ok(client) = Client::new(&cfg, &tls) else {
            panic!("no client")
        };
        assert!(client.uses_global_key());
        let shown = format!("{client:?}");
        assert!(!shown.contains(&KEY[..12]), "{shown}");
        assert!(!shown.contains("me@example.com"), "{shown}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_clients_of_all_credentials_share_one_budget_and_one_http_client() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cfg = CloudflareConfig {
            credentials: Credentials::Token(Secret::new("t0ken-0123456789-abcdefABCDEF_xyz")),
            token_file: None,
            named: vec![NamedCredentials {
                name: "work".into(),
                credentials: Credentials::Token(Secret::new("w0rk-0123456789-abcdefABCDEF_xyz")),
                token_file: None,
            }],
            api_url: "https://api.cloudflare.com/client/v4".into(),
            ca_file: None,
            request_timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        let Ok(tls) = Tls::new(None) else {
            panic!("no TLS setup")
        };
        let Ok(all) = Client::all(&cfg, &tls) else {
            panic!("no clients")
        };
        let work = all.get(Some("work"));
        assert_eq!(work.credentials_name(), Some("work"));
        assert_eq!(all.get(None).credentials_name(), None);
        assert!(Arc::ptr_eq(&all.default.budget, &work.budget));
        assert!(!Arc::ptr_eq(&all.default.auth, &work.auth));
        // The burst spent by one token leaves the other waiting: Cloudflare counts per user.
        let now = tokio::time::Instant::now();
        for _ in 0..100 {
            all.default.budget.lock().unwrap().take(now);
        }
        assert!(!work.budget.lock().unwrap().take(now).is_zero());
        let shown = format!("{work:?}");
        assert!(!shown.contains("w0rk-"), "{shown}");
    }
}
