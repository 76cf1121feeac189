//! A Cloudflare API v4 emulator for ddflare's tests and demo.
//!
//! It follows `/work/shared/cloudflare-api/CONTRACT.md`: current record shapes, the real
//! error codes and HTTP statuses, `cf-ray` and rate-limit headers, token scopes, the
//! batch endpoint, and `/cdn-cgi/trace`. Faults (429, 5xx, delays, dropped connections,
//! truncated or malformed bodies, `success:false` with 200, a list answer naming each record
//! twice, a listing of several names answered for the first name only) can be injected.
//!
//! Choices where the contract has no capture (keep in sync with the tests):
//! - Unverified codes: 9000 "DNS name is invalid.", 9020 "Invalid DNS record type.",
//!   9006 (AAAA content), 9007 (CNAME content), 9009 (other content), 9101 (MX priority),
//!   9207 "Request body is invalid.", 9314 (newline in comment), 9025 (type change, refused
//!   since its 2026-06-30 end of life), 81300 (batch over the limit). 9313 (comment too
//!   long) is from live reports (STRRL/cloudflare-tunnel-ingress-controller#139, #168).
//! - No credentials at all → 400 9106; unknown global key → 403 9103 (third-party reports).
//! - A token used from outside its Client IP Address Filtering → 403 9109 "Cannot use the
//!   access token from location: <peer address>" on every endpoint, verify included (users'
//!   reports quote the message and code; which endpoints apply it is not captured).
//! - Unknown path under `/client/v4` → 400 7000 "No route for that URI".
//! - `match=any` ORs every record filter, `type` included; filter names are not qualified.
//! - Proxied records get TTL 1; AAAA content is canonicalised; `per_page` is clamped.
//! - Batch: failures are HTTP 400 (81044 included); ids of absent records → 81044.
//! - The rate limit is a fixed window per credential, or per user for tokens given an owner
//!   (Cloudflare counts per user, across all tokens); 429s last until the window resets.
//! - IP lists (`lists.rs`): uncaptured codes 10001 (bad item `ip`), 10003 (bad list name),
//!   10004 (kind), 10005 (description), 10006 (unknown list or operation, 404), 10007 (name
//!   taken), 10026 (bad JSON); an operation moves one status per poll (pending, running, then
//!   completed or failed), and any other list request first finishes those still running.
//! - Trace: `h=` is the Host header without its port; plain HTTP gives `tls=off`,
//!   `sni=off`, `kex=none`, `visit_scheme=http`; HTTPS ([`Emulator::tls_pem`]) the
//!   negotiated version and group, and `sni=plaintext` when the client sent one.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use ddflare_emulator::{Emulator, TokenScope};
//! let mut emu = Emulator::new();
//! emu.zone("example.com");
//! emu.token("test-token", TokenScope::zones_edit(&["example.com"]));
//! let running = emu.start(([127, 0, 0, 1], 0).into()).await?;
//! println!("{}", running.base_url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod api;
mod auth;
mod dns;
mod faults;
mod gateway;
mod lists;
mod model;
mod ratelimit;
pub mod recorder;
mod server;
mod state;
mod tls;
mod util;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use admin::RecordSpec;
pub use faults::{Fault, FaultKind};
pub use lists::Item as ListItem;
pub use model::{
    InactiveVerify, Mutation, Plan, Record, RecordSettings, RequestLog, TokenScope, TokenStatus,
    ZoneOptions, ZoneStatus,
};
pub use recorder::{Recorded, Recorder};

use server::{MutationHook, Shared};
use state::State;

/// Path prefix of the API (`https://api.cloudflare.com/client/v4`).
pub const API_BASE: &str = "/client/v4";

/// Builder: zones, tokens, seed records and behaviour switches, then [`Emulator::start`].
pub struct Emulator {
    state: State,
    on_mutation: Option<MutationHook>,
    state_file: Option<std::path::PathBuf>,
    tls: Option<TlsAcceptor>,
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new()
    }
}

impl Emulator {
    pub fn new() -> Self {
        Self {
            state: State::default(),
            on_mutation: None,
            state_file: None,
            tls: None,
        }
    }

    /// Adds an active Free-plan zone and returns its id (32 hex, derived from the name).
    pub fn zone(&mut self, name: &str) -> String {
        self.state.add_zone(name, ZoneOptions::default())
    }

    /// Adds a zone with a plan/status.
    pub fn zone_with(&mut self, name: &str, options: ZoneOptions) -> String {
        self.state.add_zone(name, options)
    }

    /// Registers an API token. Zone names in `scope.zones` may be added before or after.
    pub fn token(&mut self, token: &str, scope: TokenScope) {
        self.state.tokens.insert(token.to_owned(), scope);
    }

    /// Sets when a registered token expires (RFC 3339, e.g. `2026-05-01T00:00:00Z`), as
    /// verify reports it; an unknown token is registered with DNS Edit on all zones.
    pub fn token_expires(&mut self, token: &str, expires_on: &str) -> &mut Self {
        let scope = self.state.tokens.entry(token.to_owned()).or_default();
        scope.expires_on = Some(expires_on.to_owned());
        self
    }

    /// Seeds a Zero Trust Gateway location of the account (`location` is the whole object as
    /// GET returns it; `id` is added); returns its id.
    pub fn gateway_location(&mut self, location: serde_json::Value) -> String {
        let id = crate::util::hex_id(&format!("location:{}", self.state.gateway_locations.len()));
        let mut location = location;
        if let Some(o) = location.as_object_mut() {
            o.insert("id".into(), serde_json::Value::String(id.clone()));
        }
        self.state.gateway_locations.insert(id.clone(), location);
        id
    }

    /// Says which user owns a token: the tokens of one owner share one rate-limit budget, as
    /// Cloudflare counts per user. An unknown token is registered with DNS Edit on all zones.
    pub fn token_owner(&mut self, token: &str, owner: &str) -> &mut Self {
        let scope = self.state.tokens.entry(token.to_owned()).or_default();
        scope.owner = Some(owner.to_owned());
        self
    }

    /// Limits a registered token to these CIDRs (Client IP Address Filtering); an unknown
    /// token is registered with DNS Edit on all zones.
    pub fn token_client_ips(&mut self, token: &str, cidrs: &[&str]) -> &mut Self {
        let scope = self.state.tokens.entry(token.to_owned()).or_default();
        scope.client_ips = Some(cidrs.iter().map(|c| (*c).to_owned()).collect());
        self
    }

    /// Accepts a legacy `X-Auth-Email` + `X-Auth-Key` pair (all rights on all zones).
    /// The key must look real (37–45 hex, or `cfk_…`) to pass the format check.
    pub fn global_key(&mut self, email: &str, key: &str) {
        self.state
            .global_keys
            .push((email.to_owned(), key.to_owned()));
    }

    /// Seeds a record (ttl 1, not proxied) and returns its id. `zone` is a name or id;
    /// an unknown zone name is added.
    ///
    /// # Panics
    /// If the record is invalid for the API (bad content, conflict…): a test bug.
    pub fn record(&mut self, zone: &str, name: &str, rtype: &str, content: &str) -> String {
        match self.try_record(zone, RecordSpec::new(name, rtype, content)) {
            Ok(id) => id,
            Err(e) => panic!("cannot seed {rtype} {name} {content} in {zone}: {e}"),
        }
    }

    /// Seeds a record with every field; errors carry the API's message and code.
    pub fn try_record(&mut self, zone: &str, spec: RecordSpec) -> Result<String, String> {
        admin::seed_record(&mut self.state, zone, &spec).map(|r| r.id)
    }

    /// Per-user budget (a token alone unless [`Self::token_owner`] groups it): `quota` requests per `window` (default 1200 per 300 s).
    pub fn rate_limit(&mut self, quota: u32, window: Duration) -> &mut Self {
        self.state.config.rate_quota = quota;
        self.state.config.rate_window = window.max(Duration::from_secs(1));
        self
    }

    /// Records per batch call for every zone (default: by plan, 200 on Free).
    pub fn batch_limit(&mut self, limit: usize) -> &mut Self {
        self.state.config.batch_limit = Some(limit);
        self
    }

    /// Emit validation errors the pre-2024-10-01 way (1004 "DNS Validation Error"
    /// with the root cause in `error_chain`).
    pub fn wrapped_validation_errors(&mut self, on: bool) -> &mut Self {
        self.state.config.wrapped_errors = on;
        self
    }

    /// Unregistered bearer tokens must also have a real token's shape (40 characters,
    /// or `cfut_`/`cfat_`/`cfk_` + 40), else 400/6003. Off by default.
    pub fn strict_token_format(&mut self, on: bool) -> &mut Self {
        self.state.config.strict_token_format = on;
        self
    }

    /// `warp=` value of `/cdn-cgi/trace` (default `off`).
    pub fn trace_warp(&mut self, value: &str) -> &mut Self {
        value.clone_into(&mut self.state.config.trace_warp);
        self
    }

    /// Fixed `ip=` for `/cdn-cgi/trace` instead of the TCP peer address.
    pub fn trace_ip(&mut self, ip: IpAddr) -> &mut Self {
        self.state.config.trace_ip = Some(ip);
        self
    }

    /// The account id (for `/accounts/{id}/tokens/verify`).
    pub fn account_id(&self) -> String {
        self.state.config.account_id.clone()
    }

    /// Called after every record change (API, admin or [`Running::set_record_content`]).
    pub fn on_mutation(&mut self, hook: impl Fn(&Mutation) + Send + Sync + 'static) -> &mut Self {
        self.on_mutation = Some(Arc::new(hook));
        self
    }

    /// Keeps the zones and records in `path` across restarts: loads it now (a missing file is
    /// an empty start; its zones replace those of the same name added before), and saves it
    /// after every change, before the response is sent. For tests that kill the emulator and
    /// start it again.
    pub fn state_file(&mut self, path: &std::path::Path) -> std::io::Result<&mut Self> {
        self.state.restore(path)?;
        self.state_file = Some(path.to_owned());
        Ok(self)
    }

    /// Serves HTTPS (TLS 1.2 and 1.3) with this certificate chain (PEM, leaf first) and key
    /// (PEM), instead of plain HTTP; the admin API moves to HTTPS too. `/cdn-cgi/trace` then
    /// reports `visit_scheme=https` and the negotiated `tls`, `sni` and `kex`.
    pub fn tls_pem(&mut self, cert_chain: &[u8], key: &[u8]) -> Result<&mut Self, String> {
        self.tls = Some(tls::acceptor(cert_chain, key)?);
        Ok(self)
    }

    /// Binds `addr` (port 0 picks a free port) and serves in the background.
    pub async fn start(self, addr: SocketAddr) -> std::io::Result<Running> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.state, self.on_mutation, self.state_file));
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::run(
            listener,
            Arc::clone(&shared),
            self.tls,
            stopped,
        ));
        Ok(Running {
            addr,
            scheme,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server (without waiting).
pub struct Running {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/client/v4` (`https://` when serving TLS).
    pub fn base_url(&self) -> String {
        format!("{}://{}{API_BASE}", self.scheme, self.addr)
    }

    /// `http://ADDR/cdn-cgi/trace` (`https://` when serving TLS).
    pub fn trace_url(&self) -> String {
        format!("{}://{}/cdn-cgi/trace", self.scheme, self.addr)
    }

    /// `http://ADDR/__emulator` (`https://` when serving TLS).
    pub fn admin_url(&self) -> String {
        format!("{}://{}/__emulator", self.scheme, self.addr)
    }

    /// The id of a zone, by name.
    pub fn zone_id(&self, name: &str) -> Option<String> {
        let st = self.shared.lock();
        st.zone_index(name).map(|i| st.zones[i].id.clone())
    }

    /// The account id (for `/accounts/{id}/tokens/verify`).
    pub fn account_id(&self) -> String {
        self.shared.lock().config.account_id.clone()
    }

    /// A Zero Trust Gateway location as GET returns it.
    pub fn gateway_location(&self, id: &str) -> Option<serde_json::Value> {
        self.shared.lock().gateway_locations.get(id).cloned()
    }

    /// Replaces a Gateway location while running, as a dashboard edit does.
    pub fn set_gateway_location(&self, id: &str, location: serde_json::Value) {
        self.shared
            .lock()
            .gateway_locations
            .insert(id.to_owned(), location);
    }

    /// Snapshot of a zone's records (zone name or id), in creation order; empty if unknown.
    pub fn records(&self, zone: &str) -> Vec<Record> {
        admin::records(&self.shared.lock(), Some(zone)).unwrap_or_default()
    }

    /// Every API request so far (admin calls excluded), in arrival order.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.shared
            .lock()
            .requests
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Forgets all rate-limit counters.
    pub fn reset_rate_limits(&self) {
        self.shared.lock().rate.reset();
    }

    /// Seeds a record while running; returns its id.
    pub fn add_record(&self, zone: &str, spec: RecordSpec) -> Result<String, String> {
        let record = admin::seed_record(&mut self.shared.lock(), zone, &spec)?;
        let id = record.id.clone();
        self.shared.notify(&[Mutation::Created(record)]);
        Ok(id)
    }

    /// Simulates a dashboard edit of a record's content.
    ///
    /// # Panics
    /// If the record does not exist in `zone` or the content is invalid for its type.
    pub fn set_record_content(&self, zone: &str, id: &str, content: &str) {
        let result = admin::edit_content(&mut self.shared.lock(), Some(zone), id, content);
        match result {
            Ok(m) => self.shared.notify(&[m]),
            Err(e) => panic!("set_record_content({zone}, {id}, {content}): {e}"),
        }
    }

    /// Creates (or replaces) a token while running, as a rotation in the dashboard does.
    pub fn add_token(&self, token: &str, scope: TokenScope) {
        self.shared.lock().tokens.insert(token.to_owned(), scope);
    }

    /// Deletes a token while running: later requests with it get 401/1000, as Cloudflare
    /// answers a deleted token.
    pub fn revoke_token(&self, token: &str) {
        self.shared.lock().tokens.remove(token);
    }

    /// Simulates a dashboard rename of a record (it keeps its id).
    ///
    /// # Panics
    /// If the record does not exist in `zone` or the name is invalid there.
    pub fn rename_record(&self, zone: &str, id: &str, name: &str) {
        let input = crate::dns::Input {
            name: Some(name.to_owned()),
            ..crate::dns::Input::default()
        };
        match admin::edit(&mut self.shared.lock(), Some(zone), id, &input) {
            Ok(m) => self.shared.notify(&[m]),
            Err(e) => panic!("rename_record({zone}, {id}, {name}): {e}"),
        }
    }

    /// Simulates a dashboard deletion of a record.
    ///
    /// # Panics
    /// If the record does not exist in `zone`.
    pub fn delete_record(&self, zone: &str, id: &str) {
        match admin::delete(&mut self.shared.lock(), zone, id) {
            Ok(m) => self.shared.notify(&[m]),
            Err(e) => panic!("delete_record({zone}, {id}): {e}"),
        }
    }

    /// The items of the IP list `name`, in order (empty when there is no such list); the
    /// operations still running are finished first.
    pub fn list_items(&self, name: &str) -> Vec<ListItem> {
        let mut st = self.shared.lock();
        st.lists.finish_all_now();
        st.lists
            .lists
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.items.clone())
            .unwrap_or_default()
    }

    /// Adds an item to the IP list `name` (created when missing), as a dashboard edit would.
    pub fn add_list_item(&self, name: &str, ip: &str, comment: Option<&str>) {
        let mut st = self.shared.lock();
        let id = match st.lists.lists.iter().find(|l| l.name == name) {
            Some(l) => l.id.clone(),
            None => st.lists.create(name, ""),
        };
        st.lists
            .add_now(&id, &[(ip.to_owned(), comment.map(str::to_owned))]);
    }

    /// Deletes an item of the IP list `name` at once, as a dashboard edit would.
    pub fn delete_list_item(&self, name: &str, id: &str) {
        let mut st = self.shared.lock();
        if let Some(l) = st.lists.lists.iter_mut().find(|l| l.name == name) {
            l.items.retain(|i| i.id != id);
        }
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
