//! What the daemon counts, and its rendering in the Prometheus text format (version 0.0.4).
//!
//! [`Metrics`] is the shared, locked tally the edges feed (rounds from the loop, detections
//! from the detector wrapper, API requests from the Cloudflare client, notifications from the
//! notifier). Everything else is PURE and tested without a socket: `render.rs` turns a
//! [`Snapshot`] into the exposition text, [`health`] decides `/healthz`, [`endpoint_class`]
//! names an API call. `process.rs` reads the `process_*` metrics from `/proc/self`;
//! `page.rs` is the status page (HTML, PURE); `server.rs` is the small HTTP listener
//! (`[metrics] listen`).

pub mod page;
pub mod process;
pub mod render;
pub mod server;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::history::{self, Change};
use crate::maps;
use crate::round::{Lines, Outcome, RoundEnd};
use crate::state::State;
use crate::text;

/// `[metrics]`: where the Prometheus endpoint and `/healthz` listen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsConfig {
    /// `listen`: where `/metrics` and `/healthz` are served. Off when `None` (the default).
    pub listen: Option<std::net::SocketAddr>,
}

/// Everything counted so far; cloned out of the lock for rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub started: SystemTime,
    /// Rounds by result: `ok`, `failed`, `nothing_detected`, `deadline_exceeded`.
    pub rounds: BTreeMap<&'static str, u64>,
    /// (family, provider, outcome) → count.
    pub detections: BTreeMap<(String, String, &'static str), u64>,
    /// (endpoint class, HTTP status code or `error`) → count.
    pub api_requests: BTreeMap<(&'static str, String), u64>,
    /// (record type, outcome) → count, for records that changed or failed.
    pub record_updates: BTreeMap<(&'static str, &'static str), u64>,
    /// (name, type) → the address last published (or confirmed).
    pub published: BTreeMap<(String, String), IpAddr>,
    pub last_round: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub failed_in_a_row: u64,
    pub token_expiry: Option<SystemTime>,
    /// (kind, result) → count, for notifications and monitor pings.
    pub notifications: BTreeMap<(String, &'static str), u64>,
    /// `/healthz` fails when the last success is older than this.
    pub health_max_age: Duration,
    /// How long rounds took (`ddflare_round_duration_seconds`).
    pub round_seconds: Histogram,
    /// When the round in flight started (its detection), for its duration.
    pub round_started: Option<tokio::time::Instant>,
    /// (name, type) → when Cloudflare last confirmed the address (or ddflare set it).
    pub confirmed: BTreeMap<(String, String), SystemTime>,
    /// The last [`RECENT`] address changes, oldest first (the status page).
    pub recent: Vec<Change>,
    /// When the next regular round is due; `None` when unknown or retrying after a failure.
    pub next_round: Option<SystemTime>,
    /// The configured records, (name, type) → their `comment` (the status page).
    pub records: BTreeMap<(String, String), Option<String>>,
    /// The lines of the last round tallied: a round that hands the very same lines on (the
    /// updater's quiet path: every record cached, as before) changes none of the per-record
    /// figures, so they are not walked again.
    pub tallied: Lines,
}

/// How many recent changes the tally keeps for the status page.
pub const RECENT: usize = 10;

/// The upper bounds of `ddflare_round_duration_seconds`'s buckets, in seconds: a cached round
/// takes milliseconds, one that updates a record about a second, a slow provider its timeout.
pub const ROUND_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// A histogram's observations: per bucket of [`ROUND_BUCKETS`] (not cumulative), the sum and
/// the count (which also holds those above the last bound).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub counts: [u64; ROUND_BUCKETS.len()],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = ROUND_BUCKETS.iter().position(|le| secs <= *le) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
    }
}

/// The outcomes of `ddflare_record_updates_total`, each exported at zero from the start.
const UPDATE_OUTCOMES: [&str; 4] = ["created", "updated", "duplicates_deleted", "failed"];

/// The shared tally.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Snapshot>,
}

impl Metrics {
    pub fn new(started: SystemTime, health_max_age: Duration) -> Self {
        let mut rounds = BTreeMap::new();
        for r in ROUND_RESULTS {
            rounds.insert(r, 0);
        }
        let mut record_updates = BTreeMap::new();
        for t in ["A", "AAAA"] {
            for o in UPDATE_OUTCOMES {
                record_updates.insert((t, o), 0);
            }
        }
        Metrics {
            inner: Mutex::new(Snapshot {
                started,
                rounds,
                detections: BTreeMap::new(),
                api_requests: BTreeMap::new(),
                record_updates,
                published: BTreeMap::new(),
                last_round: None,
                last_success: None,
                failed_in_a_row: 0,
                token_expiry: None,
                notifications: BTreeMap::new(),
                health_max_age,
                round_seconds: Histogram::default(),
                round_started: None,
                confirmed: BTreeMap::new(),
                recent: Vec::new(),
                next_round: None,
                records: BTreeMap::new(),
                tallied: Lines::default(),
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Snapshot) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn snapshot(&self) -> Snapshot {
        self.with(|s| s.clone())
    }

    pub fn set_health_max_age(&self, max_age: Duration) {
        self.with(|s| s.health_max_age = max_age);
    }

    /// The addresses the cache says are published, before the first round.
    pub fn seed(&self, state: &State) {
        self.with(|s| {
            for (key, entry) in &state.records {
                if let Some((name, rtype)) = key.rsplit_once('/') {
                    let key = (name.to_owned(), rtype.to_owned());
                    let synced = UNIX_EPOCH + Duration::from_secs(entry.synced_at);
                    s.confirmed.insert(key.clone(), synced);
                    s.published.insert(key, entry.content);
                }
            }
        });
    }

    /// Forgets published addresses of records no longer configured (after a reload).
    pub fn retain_records(&self, keep: &[(String, String)]) {
        self.with(|s| {
            maps::retain(&mut s.published, |k, _| keep.contains(k));
            maps::retain(&mut s.confirmed, |k, _| keep.contains(k));
        });
    }

    /// The configured records ((name, type) → comment): the status page lists each, and
    /// the addresses of others are forgotten.
    pub fn set_records(&self, records: BTreeMap<(String, String), Option<String>>) {
        let keep: Vec<(String, String)> = records.keys().cloned().collect();
        self.retain_records(&keep);
        self.with(|s| s.records = records);
    }

    /// The changes the history file holds, at start.
    pub fn seed_history(&self, changes: Vec<Change>) {
        self.with(|s| s.recent = history::append(Vec::new(), &changes, RECENT));
    }

    pub fn set_next_round(&self, next: Option<SystemTime>) {
        self.with(|s| s.next_round = next);
    }

    /// A round starts (its detection): its duration is counted from here.
    pub fn round_started(&self) {
        self.with(|s| s.round_started = Some(tokio::time::Instant::now()));
    }

    pub fn round(&self, end: &RoundEnd, now: SystemTime) {
        self.with(|s| record_round(s, end, now));
    }

    /// One provider's attempt; `provider` is its name, counted under [`provider_label`].
    pub fn detection(&self, family: &str, provider: &str, outcome: &'static str) {
        let provider = provider_label(provider);
        self.with(|s| {
            *s.detections
                .entry((family.to_owned(), provider, outcome))
                .or_default() += 1;
        });
    }

    /// One HTTP request to the Cloudflare API; `status` is `None` when no answer came.
    pub fn api_request(&self, method: &str, path: &str, status: Option<u16>) {
        let class = endpoint_class(method, path);
        let code = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.with(|s| *s.api_requests.entry((class, code)).or_default() += 1);
    }

    pub fn set_token_expiry(&self, expiry: Option<SystemTime>) {
        self.with(|s| s.token_expiry = expiry);
    }

    /// A notification or monitor ping: `result` is `sent`, `failed` or `rate_limited`.
    pub fn notification(&self, kind: &str, result: &'static str) {
        self.with(|s| {
            *s.notifications
                .entry((kind.to_owned(), result))
                .or_default() += 1;
        });
    }
}

impl crate::cloudflare::RequestObserver for Metrics {
    fn api_request(&self, method: &str, path: &str, status: Option<u16>) {
        Metrics::api_request(self, method, path, status);
    }
}

const ROUND_RESULTS: [&str; 4] = ["ok", "failed", "nothing_detected", "deadline_exceeded"];

fn record_round(s: &mut Snapshot, end: &RoundEnd, now: SystemTime) {
    let result = match end {
        RoundEnd::Done(r) if r.ok() => "ok",
        RoundEnd::Done(_) => "failed",
        RoundEnd::NothingDetected => "nothing_detected",
        RoundEnd::DeadlineExceeded => "deadline_exceeded",
    };
    *s.rounds.entry(result).or_default() += 1;
    if let Some(started) = s.round_started.take() {
        s.round_seconds.observe(started.elapsed());
    }
    s.last_round = Some(now);
    if end.ok() {
        s.last_success = Some(now);
        s.failed_in_a_row = 0;
    } else {
        s.failed_in_a_row += 1;
    }
    if let RoundEnd::Done(report) = end
        && !report.lines.same_as(&s.tallied)
    {
        s.tallied = report.lines.clone();
        for line in &report.lines {
            let outcome = match &line.outcome {
                Outcome::Created => Some("created"),
                Outcome::Updated { .. } => Some("updated"),
                Outcome::DuplicatesDeleted(_) => Some("duplicates_deleted"),
                Outcome::Failed { .. } => Some("failed"),
                Outcome::Cached
                | Outcome::Unchanged
                | Outcome::Planned(_)
                | Outcome::Skipped { .. } => None,
            };
            if let Some(o) = outcome {
                *s.record_updates.entry((line.rtype, o)).or_default() += 1;
            }
            if matches!(
                line.outcome,
                Outcome::Cached | Outcome::Unchanged | Outcome::Created | Outcome::Updated { .. }
            ) {
                let key = (line.name.clone(), line.rtype.to_owned());
                if !matches!(line.outcome, Outcome::Cached) {
                    s.confirmed.insert(key.clone(), now);
                }
                s.published.insert(key, line.content);
            }
        }
    }
    let new = history::changes(end, now);
    s.recent = history::append(std::mem::take(&mut s.recent), &new, RECENT);
}

/// The class of a Cloudflare API call, from its method and URL path: a small, fixed label set
/// (ids never become label values).
pub fn endpoint_class(method: &str, path: &str) -> &'static str {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if path.ends_with("/user/tokens/verify") {
        return "tokens_verify";
    }
    let Some(z) = segs.iter().rposition(|s| *s == "zones") else {
        return "other";
    };
    match (&segs[z + 1..], method) {
        ([], "GET") => "zones_list",
        ([_], "GET") => "zone_get",
        ([_, "dns_records"], "GET") => "dns_records_list",
        ([_, "dns_records"], "POST") => "dns_records_create",
        ([_, "dns_records", "batch"], "POST") => "dns_records_batch",
        ([_, "dns_records", _], "PATCH") => "dns_records_patch",
        ([_, "dns_records", _], "PUT") => "dns_records_put",
        ([_, "dns_records", _], "DELETE") => "dns_records_delete",
        ([_, "dns_records", _], "GET") => "dns_records_get",
        _ => "other",
    }
}

/// The answer of `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub ok: bool,
    pub reason: String,
}

fn ago(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).unwrap_or_default().as_secs();
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

/// Healthy while the last successful round is at most `health_max_age` old; before the first
/// success, for `health_max_age` after the start.
pub fn health(s: &Snapshot, now: SystemTime) -> Health {
    let max = s.health_max_age;
    let fresh = |t: SystemTime| now.duration_since(t).unwrap_or_default() <= max;
    match s.last_success {
        Some(t) if fresh(t) => Health {
            ok: true,
            reason: format!("ok: last successful round {} ago", ago(now, t)),
        },
        Some(t) => Health {
            ok: false,
            reason: format!(
                "no successful round for {} (longer than {}); {} failed round(s) in a row",
                ago(now, t),
                humantime::format_duration(max),
                s.failed_in_a_row
            ),
        },
        None if fresh(s.started) => Health {
            ok: true,
            reason: format!(
                "starting: no successful round yet (started {} ago)",
                ago(now, s.started)
            ),
        },
        None => Health {
            ok: false,
            reason: format!(
                "no successful round since the start {} ago; {} failed round(s)",
                ago(now, s.started),
                s.failed_in_a_row
            ),
        },
    }
}

/// The longest `provider` label, in characters.
const PROVIDER_LABEL_MAX: usize = 100;

/// The `provider` label of a provider's name (`url:https://…`, or `a + b` for an agreement):
/// the kind and, for a URL, its host and port (`url:router.lan:8080`). Never the URL's
/// userinfo, path or query, which may hold credentials: `/metrics` has no authentication.
pub fn provider_label(name: &str) -> String {
    let one = |name: &str| match name.split_once(':') {
        Some((kind @ ("url" | "url4" | "url6"), url)) => {
            let host = text::url_host(url).unwrap_or("?");
            text::bounded(&format!("{kind}:{host}"), PROVIDER_LABEL_MAX)
        }
        _ => text::bounded(name, PROVIDER_LABEL_MAX),
    };
    // A piece that does not start a provider is the rest of the one before (a URL whose
    // query held " + "): it is dropped with that URL's query, never shown.
    let starts = |p: &str| PROVIDER_KINDS.iter().any(|k| p.starts_with(k));
    let mut pieces: Vec<String> = Vec::new();
    for piece in name.split(" + ") {
        if pieces.is_empty() || starts(piece) {
            pieces.push(one(piece));
        }
    }
    pieces.join(" + ")
}

/// How each provider's name starts (crate::detect::spec).
const PROVIDER_KINDS: [&str; 7] = [
    "static:",
    "url",
    "cloudflare.",
    "interface:",
    "local",
    "file:",
    "none",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::{Line, RoundReport};

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn line(name: &str, rtype: &'static str, addr: &str, outcome: Outcome) -> Line {
        Line {
            name: name.into(),
            rtype,
            content: addr.parse().unwrap(),
            outcome,
        }
    }

    #[test]
    fn endpoint_classes() {
        let z = "/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353";
        let cases = [
            ("GET", "/client/v4/user/tokens/verify", "tokens_verify"),
            ("GET", "/client/v4/zones", "zones_list"),
            ("GET", z, "zone_get"),
            ("GET", &format!("{z}/dns_records"), "dns_records_list"),
            ("POST", &format!("{z}/dns_records"), "dns_records_create"),
            (
                "POST",
                &format!("{z}/dns_records/batch"),
                "dns_records_batch",
            ),
            (
                "PATCH",
                &format!("{z}/dns_records/abc"),
                "dns_records_patch",
            ),
            (
                "DELETE",
                &format!("{z}/dns_records/abc"),
                "dns_records_delete",
            ),
            ("GET", "/cdn-cgi/trace", "other"),
        ];
        for (m, p, want) in cases {
            assert_eq!(endpoint_class(m, p), want, "{m} {p}");
        }
    }

    #[test]
    fn rounds_updates_and_addresses_are_tallied() {
        let m = Metrics::new(t(1000), Duration::from_secs(900));
        let report = RoundReport {
            lines: vec![
                line(
                    "home.example.com",
                    "A",
                    "203.0.113.7",
                    Outcome::Updated {
                        from: "198.51.100.4".into(),
                    },
                ),
                line("home.example.com", "AAAA", "2001:db8::7", Outcome::Created),
                line(
                    "vpn.example.com",
                    "A",
                    "203.0.113.7",
                    Outcome::Failed {
                        error: "HTTP 500".into(),
                        hint: None,
                    },
                ),
            ]
            .into(),
            retry_after: None,
            api_calls: 3,
        };
        m.round(&RoundEnd::Done(report), t(1100));
        m.round(&RoundEnd::NothingDetected, t(1200));
        let s = m.snapshot();
        assert_eq!(s.rounds["failed"], 1);
        assert_eq!(s.rounds["nothing_detected"], 1);
        assert_eq!(s.rounds["ok"], 0);
        assert_eq!(s.failed_in_a_row, 2);
        assert_eq!(s.last_success, None);
        assert_eq!(s.record_updates[&("A", "updated")], 1);
        assert_eq!(s.record_updates[&("AAAA", "created")], 1);
        assert_eq!(s.record_updates[&("A", "failed")], 1);
        assert_eq!(s.published.len(), 2, "a failed line publishes nothing");
        m.round(&RoundEnd::Done(RoundReport::default()), t(1300));
        let s = m.snapshot();
        assert_eq!((s.failed_in_a_row, s.last_success), (0, Some(t(1300))));
        m.retain_records(&[("home.example.com".into(), "A".into())]);
        assert_eq!(m.snapshot().published.len(), 1);
    }

    #[test]
    fn round_durations_fill_the_histogram() {
        let m = Metrics::new(t(1000), Duration::from_secs(900));
        m.round(&RoundEnd::NothingDetected, t(1001));
        assert_eq!(m.snapshot().round_seconds.count, 0, "no start, no duration");
        m.round_started();
        m.round(&RoundEnd::Done(RoundReport::default()), t(1002));
        let h = m.snapshot().round_seconds;
        assert_eq!((h.count, h.counts[0]), (1, 1), "{h:?}");
        let mut h = Histogram::default();
        h.observe(Duration::from_millis(700));
        h.observe(Duration::from_secs(600));
        assert_eq!(
            (h.counts[4], h.counts.iter().sum::<u64>(), h.count),
            (1, 1, 2)
        );
        assert!((h.sum - 600.7).abs() < 1e-9);
    }

    #[test]
    fn health_follows_the_last_success() {
        let m = Metrics::new(t(1000), Duration::from_secs(900));
        let h = health(&m.snapshot(), t(1500));
        assert!(h.ok && h.reason.starts_with("starting"), "{h:?}");
        let h = health(&m.snapshot(), t(2000));
        assert!(
            !h.ok && h.reason.contains("since the start 16m 40s ago"),
            "{h:?}"
        );
        m.round(&RoundEnd::Done(RoundReport::default()), t(2000));
        let h = health(&m.snapshot(), t(2100));
        assert!(h.ok && h.reason.contains("1m 40s ago"), "{h:?}");
        m.round(&RoundEnd::DeadlineExceeded, t(2400));
        let h = health(&m.snapshot(), t(3000));
        assert!(!h.ok, "{h:?}");
        assert!(
            h.reason.contains("no successful round for 16m 40s"),
            "{h:?}"
        );
        assert!(h.reason.contains("1 failed round(s) in a row"), "{h:?}");
    }

    #[test]
    fn provider_labels_are_kind_and_host() {
        assert_eq!(
            provider_label("url:http://[redacted]@192.0.2.1:8080/ip?sid=[redacted]"),
            "url:192.0.2.1:8080"
        );
        // Raw, too: the label never depends on the name being redacted first.
        assert_eq!(
            provider_label(
                "url4:https://admin:PW@router.lan/status/Zq9fakeTOKEN0123456789abcdefghij"
            ),
            "url4:router.lan"
        );
        assert_eq!(provider_label("cloudflare.trace"), "cloudflare.trace");
        assert_eq!(provider_label("interface:eth0"), "interface:eth0");
        assert_eq!(
            provider_label("url:https://a.example/x?k=v + cloudflare.dns"),
            "url:a.example + cloudflare.dns"
        );
        assert_eq!(provider_label("file:/run/a\nb"), "file:/run/a\\nb");
        // A " + " inside a URL's query is not the agreement's separator.
        assert_eq!(
            provider_label("url:https://h.example/ip?t=abc + SECRET + cloudflare.trace"),
            "url:h.example + cloudflare.trace"
        );
        assert_eq!(
            provider_label("url4:https://user:p%40ss@[2001:db8::1]:8443/x"),
            "url4:[2001:db8::1]:8443"
        );
        let m = Metrics::new(t(1000), Duration::from_secs(900));
        m.detection("IPv4", "url:https://u:PW@h.example/ip?t=x", "failed");
        let text = render::render(&m.snapshot(), t(1000), &process::Sample::default());
        assert!(text.contains(r#"provider="url:h.example""#), "{text}");
        assert!(!text.contains("PW"), "{text}");
    }
}
