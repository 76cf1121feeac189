//! An in-memory [`DnsApi`] for unit tests of the updater and the loop: zones, records, a call
//! log and injectable failures. The emulator crate is the faithful HTTP counterpart.

use std::sync::Mutex;

use super::api::DnsApi;
use super::error::{ApiError, ErrorKind};
use super::types::{
    BatchRequest, BatchResult, Deleted, NewRecord, Record, RecordPatch, TokenInfo, Zone,
};
use crate::testing::cf_record as record;

#[derive(Default)]
pub struct FakeApi {
    inner: std::sync::Arc<Mutex<Inner>>,
    /// While set, each call fails with this probability (seeded, so a failing run repeats).
    chaos: Option<Chaos>,
}

pub struct Chaos {
    pub on: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub probability: f64,
    rng: Mutex<fastrand::Rng>,
}

impl Chaos {
    pub fn new(seed: u64, probability: f64) -> Self {
        Chaos {
            on: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
            probability,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }
}

#[derive(Default)]
struct Inner {
    zones: Vec<Zone>,
    records: Vec<(String, Record)>,
    calls: Vec<String>,
    /// When each call was made (tokio time, so paused-clock tests see simulated time).
    call_times: Vec<tokio::time::Instant>,
    fail_next: Vec<ErrorKind>,
    next_id: u32,
    /// What verify says in `expires_on`.
    token_expires_on: Option<String>,
    /// How many times a round said it was over ([`DnsApi::end_round`]).
    rounds_ended: usize,
}

impl FakeApi {
    pub fn with_zones(names: &[&str]) -> Self {
        let api = FakeApi::default();
        {
            let mut s = api.lock();
            for (i, n) in names.iter().enumerate() {
                s.zones.push(Zone {
                    id: format!("{:032x}", i + 1),
                    name: (*n).into(),
                    status: Some("active".into()),
                });
            }
        }
        api
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn add(&self, zone: &str, name: &str, rtype: &str, content: &str) -> String {
        let mut s = self.lock();
        let zid = s
            .zones
            .iter()
            .find(|z| z.name == zone)
            .map(|z| z.id.clone())
            .unwrap_or_default();
        s.next_id += 1;
        let id = format!("{:032x}", 0x1000 + s.next_id);
        s.records.push((zid, record(&id, name, rtype, content)));
        id
    }

    /// [`FakeApi::add`] with a comment.
    pub fn add_commented(
        &self,
        zone: &str,
        name: &str,
        rtype: &str,
        content: &str,
        comment: &str,
    ) -> String {
        let id = self.add(zone, name, rtype, content);
        self.set_comment(&id, Some(comment));
        id
    }

    /// A dashboard edit of one record's comment.
    pub fn set_comment(&self, id: &str, comment: Option<&str>) {
        for (_, r) in self.lock().records.iter_mut() {
            if r.id == id {
                r.comment = comment.map(str::to_owned);
            }
        }
    }

    /// A dashboard edit of one record's content.
    pub fn edit_id(&self, id: &str, content: &str) {
        for (_, r) in self.lock().records.iter_mut() {
            if r.id == id {
                r.content = content.into();
            }
        }
    }

    /// A dashboard deletion.
    pub fn remove(&self, id: &str) {
        self.lock().records.retain(|(_, r)| r.id != id);
    }

    /// A dashboard rename: the record keeps its id.
    pub fn rename(&self, id: &str, name: &str) {
        for (_, r) in self.lock().records.iter_mut().filter(|(_, r)| r.id == id) {
            r.name = name.to_owned();
        }
    }

    pub fn records(&self) -> Vec<Record> {
        self.lock().records.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Another handle on the same zones and records (no chaos): for a test to edit records
    /// while the updater owns the API.
    pub fn handle(&self) -> FakeApi {
        FakeApi {
            inner: self.inner.clone(),
            chaos: None,
        }
    }

    pub fn with_chaos(mut self, chaos: Chaos) -> Self {
        self.chaos = Some(chaos);
        self
    }

    /// A dashboard edit: every record of `name` and `rtype` gets `content`.
    pub fn edit(&self, name: &str, rtype: &str, content: &str) {
        for (_, r) in self.lock().records.iter_mut() {
            if r.name == name && r.rtype == rtype {
                r.content = content.into();
            }
        }
    }

    /// `expires_on` of the token, as verify reports it (RFC 3339).
    pub fn set_token_expiry(&self, expires_on: Option<&str>) {
        self.lock().token_expires_on = expires_on.map(str::to_owned);
    }

    pub fn call_times(&self) -> Vec<tokio::time::Instant> {
        self.lock().call_times.clone()
    }

    /// Calls made so far, as "METHOD what".
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// How many rounds ended (each closes the real client's connections).
    pub fn rounds_ended(&self) -> usize {
        self.lock().rounds_ended
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// The next call fails with this kind.
    pub fn fail_next(&self, kind: ErrorKind) {
        self.lock().fail_next.push(kind);
    }

    fn enter(&self, call: String) -> Result<std::sync::MutexGuard<'_, Inner>, ApiError> {
        let mut s = self.lock();
        s.calls.push(call.clone());
        s.call_times.push(tokio::time::Instant::now());
        if let Some(chaos) = &self.chaos
            && chaos.on.load(std::sync::atomic::Ordering::SeqCst)
        {
            let mut rng = chaos
                .rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if rng.f64() < chaos.probability {
                let kind = match rng.u8(0..4) {
                    0 => ErrorKind::RateLimited {
                        retry_after: Some(std::time::Duration::from_secs(rng.u64(1..120))),
                    },
                    1 => ErrorKind::Server,
                    2 => ErrorKind::Timeout,
                    _ => ErrorKind::Network,
                };
                s.fail_next.push(kind);
            }
        }
        if !s.fail_next.is_empty() {
            let kind = s.fail_next.remove(0);
            let mut e = ApiError::new(kind, call);
            e.ray = Some("0000000000000000-TST".into());
            return Err(e);
        }
        Ok(s)
    }
}

fn create(s: &mut Inner, zone: &Zone, n: &NewRecord) -> Record {
    s.next_id += 1;
    let mut r = record(
        &format!("{:032x}", 0x1000 + s.next_id),
        &n.name,
        &n.rtype,
        &n.content,
    );
    r.ttl = n.ttl;
    r.proxied = n.proxied.unwrap_or(false);
    r.comment = n.comment.clone();
    s.records.push((zone.id.clone(), r.clone()));
    r
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(ErrorKind::NotFound, what)
}

impl DnsApi for FakeApi {
    fn end_round(&self) {
        self.lock().rounds_ended += 1;
    }

    async fn verify_token(&self) -> Result<TokenInfo, ApiError> {
        let guard = self.enter("GET verify".into())?;
        Ok(TokenInfo {
            id: "t".into(),
            status: "active".into(),
            not_before: None,
            expires_on: guard.token_expires_on.clone(),
        })
    }

    async fn zones_named(&self, name: &str) -> Result<Vec<Zone>, ApiError> {
        let s = self.enter(format!("GET zones {name}"))?;
        Ok(s.zones.iter().filter(|z| z.name == name).cloned().collect())
    }

    async fn all_zones(&self, max_pages: u32) -> Result<Option<Vec<Zone>>, ApiError> {
        let s = self.enter("GET zones".to_owned())?;
        Ok((s.zones.len() <= 50 * max_pages as usize).then(|| s.zones.clone()))
    }

    async fn list_records(&self, zone: &Zone, names: &[String]) -> Result<Vec<Record>, ApiError> {
        let s = self.enter(format!("GET records {}", names.join(",")))?;
        Ok(s.records
            .iter()
            .filter(|(z, r)| *z == zone.id && names.contains(&r.name))
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn create_record(&self, zone: &Zone, n: &NewRecord) -> Result<Record, ApiError> {
        let mut s = self.enter(format!("POST {} {}", n.rtype, n.name))?;
        Ok(create(&mut s, zone, n))
    }

    async fn patch_record(
        &self,
        zone: &Zone,
        id: &str,
        p: &RecordPatch,
    ) -> Result<Record, ApiError> {
        let mut s = self.enter(format!("PATCH {id}"))?;
        let r = s
            .records
            .iter_mut()
            .find(|(z, r)| *z == zone.id && r.id == id)
            .ok_or_else(|| not_found("patch"))?;
        p.apply_to(&mut r.1);
        Ok(r.1.clone())
    }

    async fn delete_record(&self, zone: &Zone, id: &str) -> Result<(), ApiError> {
        let mut s = self.enter(format!("DELETE {id}"))?;
        let before = s.records.len();
        s.records.retain(|(z, r)| !(*z == zone.id && r.id == id));
        if s.records.len() == before {
            return Err(not_found("delete"));
        }
        Ok(())
    }

    async fn batch(&self, zone: &Zone, b: &BatchRequest) -> Result<BatchResult, ApiError> {
        let mut s = self.enter(format!("POST batch {}", b.len()))?;
        let snapshot = s.records.clone();
        let mut out = BatchResult::default();
        for d in &b.deletes {
            let before = s.records.len();
            s.records.retain(|(z, r)| !(*z == zone.id && r.id == d.id));
            if s.records.len() == before {
                s.records = snapshot;
                return Err(not_found("batch delete"));
            }
            out.deletes.push(Deleted { id: d.id.clone() });
        }
        for p in &b.patches {
            let Some(r) = s
                .records
                .iter_mut()
                .find(|(z, r)| *z == zone.id && r.id == p.id)
            else {
                s.records = snapshot;
                return Err(not_found("batch patch"));
            };
            p.patch.apply_to(&mut r.1);
            out.patches.push(r.1.clone());
        }
        for n in &b.posts {
            out.posts.push(create(&mut s, zone, n));
        }
        Ok(out)
    }
}
