//! The updater's behaviour, end to end against the fake API: rounds, the cache, zone lookup,
//! batching, comment mode and `delete_on_stop`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::{Cleanup, Options, Updater, pick_zone, suffixes};
use crate::cloudflare::fake::FakeApi;
use crate::cloudflare::{ErrorKind, Record, Zone};
use crate::config::{RecordConfig, Ttl};
use crate::detect::{Detected, Family};
use crate::plan::Ownership;
use crate::round::{Line, Outcome};
use crate::state::{self, State};

/// A record of both families (the builder's is A only).
fn rec(name: &str) -> RecordConfig {
    RecordConfig {
        ipv6: true,
        ..crate::testing::record(name)
    }
}

fn updater(api: FakeApi, records: Vec<RecordConfig>, dir: &std::path::Path) -> Updater<FakeApi> {
    let opts = Options {
        state_dir: dir.to_owned(),
        max_age: Duration::from_secs(6 * 3600),
        dry_run: false,
    };
    let (state, _) = State::load(dir);
    Updater::new(api, records, opts, state)
}

fn addrs(v4: Option<&str>, v6: Option<&str>) -> BTreeMap<Family, Detected> {
    let mut m = BTreeMap::new();
    if let Some(a) = v4 {
        m.insert(Family::V4, Detected::host(a.parse().unwrap()));
    }
    if let Some(a) = v6 {
        m.insert(Family::V6, Detected::host(a.parse().unwrap()));
    }
    m
}

fn writes(api: &FakeApi) -> Vec<String> {
    api.calls()
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect()
}

#[tokio::test]
async fn first_round_creates_then_the_cache_makes_no_call() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(api, vec![rec("home.example.com")], dir.path());
    let now = SystemTime::now();
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
        .await;
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.changed(), 2);
    // Zone walk: home.example.com (none), example.com (found); one list; two creates → batch.
    assert_eq!(
        u.api().calls(),
        vec![
            "GET zones home.example.com",
            "GET zones example.com",
            "GET records home.example.com",
            "POST batch 2"
        ]
    );
    u.api().clear_calls();
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
        .await;
    assert!(r.lines.iter().all(|l| l.outcome == Outcome::Cached));
    assert!(u.api().calls().is_empty(), "{:?}", u.api().calls());

    // A restart reads the same cache from disk: still no call.
    let api = FakeApi::with_zones(&["example.com"]);
    let mut again = updater(api, vec![rec("home.example.com")], dir.path());
    again
        .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
        .await;
    assert!(again.api().calls().is_empty());
}

#[tokio::test]
async fn several_names_to_look_up_cost_one_listing_of_the_zones() {
    let dir = tempfile::tempdir().unwrap();
    // A sub-zone beside its parent: the longest suffix wins.
    let api = FakeApi::with_zones(&["example.com", "lab.example.com", "example.net"]);
    let records = vec![
        rec("home.example.com"),
        rec("nas.lab.example.com"),
        rec("example.net"),
        RecordConfig {
            zone: Some("example.com".into()),
            ..rec("vpn.example.com")
        },
    ];
    let mut u = updater(api, records, dir.path());
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(r.ok(), "{r:?}");
    let calls = u.api().calls();
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("GET zones")).count(),
        1
    );
    assert_eq!(calls[0], "GET zones");
    // One write per zone: a batch for two changes, a plain create for one.
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("POST batch")).count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("POST A")).count(),
        2,
        "{calls:?}"
    );
    assert_eq!(r.changed(), 4);
}

#[tokio::test]
async fn a_name_outside_the_listing_is_still_looked_up_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let records = vec![rec("home.example.com"), rec("home.example.org")];
    let mut u = updater(api, records, dir.path());
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    let calls = u.api().calls();
    assert_eq!(calls[0], "GET zones");
    assert!(
        calls.contains(&"GET zones example.org".to_owned()),
        "{calls:?}"
    );
    let failed: Vec<_> = r
        .lines
        .iter()
        .filter(|l| l.name == "home.example.org")
        .collect();
    assert!(
        matches!(failed[0].outcome, Outcome::Failed { .. }),
        "{failed:?}"
    );
    assert!(
        r.lines
            .iter()
            .any(|l| l.name == "home.example.com" && l.outcome == Outcome::Created)
    );
}

#[test]
fn pick_zone_takes_the_configured_zone_or_the_longest_suffix() {
    let zone = |id: &str, name: &str| Zone {
        id: id.into(),
        name: name.into(),
        status: None,
    };
    let zones = vec![
        zone("1", "example.com"),
        zone("2", "lab.example.com"),
        zone("3", "twice.example"),
        zone("4", "twice.example"),
    ];
    let pick = |rec: RecordConfig| pick_zone(&zones, &rec).map(|z| z.id.clone());
    assert_eq!(pick(rec("a.lab.example.com")).as_deref(), Some("2"));
    assert_eq!(pick(rec("lab.example.com")).as_deref(), Some("2"));
    assert_eq!(pick(rec("example.com")).as_deref(), Some("1"));
    assert_eq!(pick(rec("*.example.com")).as_deref(), Some("1"));
    let in_parent = RecordConfig {
        zone: Some("example.com".into()),
        ..rec("a.lab.example.com")
    };
    assert_eq!(pick(in_parent).as_deref(), Some("1"));
    assert_eq!(pick(rec("a.example.org")), None);
    // Two zones of one name (two accounts): left to the lookup, which reports it.
    assert_eq!(pick(rec("a.twice.example")), None);
}

#[tokio::test]
async fn prefix_mode_joins_the_detected_prefix_and_the_host_part() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let host = |h: &str| Some(h.parse::<crate::detect::Ipv6Host>().unwrap());
    let records = vec![
        RecordConfig {
            ipv4: false,
            ipv6_host: host("::1234"),
            ..rec("nas.example.com")
        },
        RecordConfig {
            ipv4: false,
            ipv6_host: host("mac(00:11:22:33:44:55)"),
            ..rec("cam.example.com")
        },
        // The host itself: the detected address as it is; A records ignore ipv6_host.
        RecordConfig {
            ipv6_host: host("::99"),
            ..rec("router.example.com")
        },
        rec("plain.example.com"),
    ];
    let mut u = updater(api, records, dir.path());
    let detected = |v6: &str, len: u8| {
        let mut m = addrs(Some("203.0.113.7"), None);
        m.insert(
            Family::V6,
            Detected {
                addr: v6.parse().unwrap(),
                prefix_len: len,
            },
        );
        m
    };
    let r = u
        .reconcile(&detected("2001:db8:1:2::1", 64), SystemTime::now())
        .await;
    assert!(r.ok(), "{r:?}");
    let aaaa = |u: &Updater<FakeApi>| -> Vec<(String, String)> {
        let mut v: Vec<_> = u
            .api()
            .records()
            .into_iter()
            .filter(|r| r.rtype == "AAAA")
            .map(|r| (r.name, r.content))
            .collect();
        v.sort();
        v
    };
    let pair = |n: &str, c: &str| (n.to_owned(), c.to_owned());
    assert_eq!(
        aaaa(&u),
        vec![
            pair("cam.example.com", "2001:db8:1:2:211:22ff:fe33:4455"),
            pair("plain.example.com", "2001:db8:1:2::1"),
            pair("router.example.com", "2001:db8:1:2::99"),
            pair("nas.example.com", "2001:db8:1:2::1234"),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // The ISP delegates a new /56; the interface says so.
    u.reconcile(&detected("2001:db8:ff:ee::1", 56), SystemTime::now())
        .await;
    let got = aaaa(&u);
    assert!(
        got.contains(&pair("nas.example.com", "2001:db8:ff::1234")),
        "{got:?}"
    );
    assert!(
        got.contains(&pair("plain.example.com", "2001:db8:ff:ee::1")),
        "{got:?}"
    );
}

#[tokio::test]
async fn an_address_change_with_a_warm_cache_is_one_patch() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let id = api.add("example.com", "home.example.com", "A", "198.51.100.4");
    api.add("example.com", "home.example.com", "TXT", "keep me");
    let mut u = updater(
        api,
        vec![RecordConfig {
            ipv6: false,
            ..rec("home.example.com")
        }],
        dir.path(),
    );
    let now = SystemTime::now();
    u.reconcile(&addrs(Some("198.51.100.4"), None), now).await;
    u.api().clear_calls();
    let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    assert_eq!(
        r.lines[0].to_string(),
        "home.example.com A 198.51.100.4 → 203.0.113.7 updated"
    );
    // Issue 17: the cache vouches for the record's id, so no listing first.
    assert_eq!(u.api().calls(), vec![format!("PATCH {id}")]);
    let txt = u
        .api()
        .records()
        .into_iter()
        .find(|r| r.rtype == "TXT")
        .unwrap();
    assert_eq!(txt.content, "keep me");
}

#[tokio::test]
async fn several_changed_addresses_in_a_zone_are_one_batch_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(
        api,
        vec![rec("home.example.com"), rec("vpn.example.com")],
        dir.path(),
    );
    let now = SystemTime::now();
    u.reconcile(&addrs(Some("198.51.100.4"), Some("2001:db8::1")), now)
        .await;
    u.api().clear_calls();
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::2")), now)
        .await;
    assert_eq!(u.api().calls(), vec!["POST batch 4"]);
    assert_eq!(r.lines.len(), 4);
    assert!(
        r.lines
            .iter()
            .all(|l| matches!(l.outcome, Outcome::Updated { .. })),
        "{:?}",
        r.lines
    );
    let mut got: Vec<String> = u.api().records().into_iter().map(|r| r.content).collect();
    got.sort();
    assert_eq!(
        got,
        ["2001:db8::2", "2001:db8::2", "203.0.113.7", "203.0.113.7"]
    );
}

#[tokio::test]
async fn a_cached_record_deleted_in_the_dashboard_is_created_again_in_the_same_round() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let id = api.add("example.com", "home.example.com", "A", "198.51.100.4");
    let mut u = updater(
        api,
        vec![RecordConfig {
            ipv6: false,
            ..rec("home.example.com")
        }],
        dir.path(),
    );
    let now = SystemTime::now();
    u.reconcile(&addrs(Some("198.51.100.4"), None), now).await;
    u.api().remove(&id);
    u.api().clear_calls();
    let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    assert_eq!(r.lines[0].outcome, Outcome::Created, "{:?}", r.lines);
    let calls = u.api().calls();
    assert_eq!(calls[0], format!("PATCH {id}"));
    assert_eq!(calls[1], "GET records home.example.com");
    assert!(calls[2].starts_with("POST A"), "{calls:?}");
    assert_eq!(
        u.api()
            .records()
            .iter()
            .map(|r| r.content.as_str())
            .collect::<Vec<_>>(),
        ["203.0.113.7"]
    );
}

#[tokio::test]
async fn a_cached_record_renamed_in_the_dashboard_gets_its_content_back() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let id = api.add("example.com", "home.example.com", "A", "198.51.100.4");
    let mut u = updater(
        api,
        vec![RecordConfig {
            ipv6: false,
            ..rec("home.example.com")
        }],
        dir.path(),
    );
    let now = SystemTime::now();
    u.reconcile(&addrs(Some("198.51.100.4"), None), now).await;
    u.api().rename(&id, "other.example.com");
    u.api().clear_calls();
    let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    assert_eq!(r.lines[0].outcome, Outcome::Created, "{:?}", r.lines);
    let mut got: Vec<(String, String)> = u
        .api()
        .records()
        .into_iter()
        .map(|r| (r.name, r.content))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("home.example.com".into(), "203.0.113.7".into()),
            ("other.example.com".into(), "198.51.100.4".into()),
        ]
    );
}

#[tokio::test]
async fn stale_cache_is_checked_against_cloudflare_and_drift_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    api.add("example.com", "home.example.com", "A", "203.0.113.7");
    let mut r = rec("home.example.com");
    r.ipv6 = false;
    r.ttl = Some(Ttl::Seconds(300));
    let mut u = updater(api, vec![r], dir.path());
    let t0 = SystemTime::now();
    let first = u.reconcile(&addrs(Some("203.0.113.7"), None), t0).await;
    assert_eq!(
        first.lines[0].outcome,
        Outcome::Updated {
            from: "settings".into()
        }
    );
    u.api().clear_calls();
    // Within max_age: trusted. After: re-read (and nothing to change).
    u.reconcile(
        &addrs(Some("203.0.113.7"), None),
        t0 + Duration::from_secs(3600),
    )
    .await;
    assert!(u.api().calls().is_empty());
    let later = u
        .reconcile(
            &addrs(Some("203.0.113.7"), None),
            t0 + Duration::from_secs(7 * 3600),
        )
        .await;
    assert_eq!(later.lines[0].outcome, Outcome::Unchanged);
    assert_eq!(u.api().calls(), vec!["GET records home.example.com"]);
}

#[tokio::test]
async fn duplicates_are_removed_in_one_batch_and_foreign_records_survive() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    api.add("example.com", "home.example.com", "A", "198.51.100.4");
    api.add("example.com", "home.example.com", "A", "198.51.100.5");
    api.add("example.com", "home.example.com", "MX", "mail.example.com");
    api.add("example.com", "other.example.com", "A", "198.51.100.4");
    let mut u = updater(
        api,
        vec![RecordConfig {
            ipv6: false,
            ..rec("home.example.com")
        }],
        dir.path(),
    );
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(r.ok());
    assert_eq!(writes(u.api()), vec!["POST batch 2"]);
    let left: Vec<(String, String, String)> = u
        .api()
        .records()
        .into_iter()
        .map(|r| (r.name, r.rtype, r.content))
        .collect();
    assert_eq!(left.len(), 3);
    assert!(left.contains(&("home.example.com".into(), "A".into(), "203.0.113.7".into())));
    assert!(left.contains(&(
        "home.example.com".into(),
        "MX".into(),
        "mail.example.com".into()
    )));
    assert!(left.contains(&(
        "other.example.com".into(),
        "A".into(),
        "198.51.100.4".into()
    )));
}

#[tokio::test]
async fn a_failing_zone_does_not_stop_another() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(
        api,
        vec![
            RecordConfig {
                ipv6: false,
                ..rec("home.example.net")
            },
            RecordConfig {
                ipv6: false,
                ..rec("home.example.com")
            },
        ],
        dir.path(),
    );
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert_eq!(r.failed(), 1);
    let failed = r
        .lines
        .iter()
        .find(|l| l.name == "home.example.net")
        .unwrap();
    match &failed.outcome {
        Outcome::Failed { error, hint } => {
            assert!(
                error.contains("no zone found for home.example.net"),
                "{error}"
            );
            assert!(hint.as_deref().unwrap_or("").contains("Zone → DNS → Edit"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.changed(), 1);
}

#[tokio::test]
async fn cname_conflict_and_undetected_family_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    api.add(
        "example.com",
        "home.example.com",
        "CNAME",
        "elsewhere.example.net",
    );
    api.add("example.com", "v6.example.com", "AAAA", "2001:db8::1");
    let mut u = updater(
        api,
        vec![rec("home.example.com"), rec("v6.example.com")],
        dir.path(),
    );
    // IPv6 detection failed this round: the AAAA record must stay as it is.
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    let home = r
        .lines
        .iter()
        .find(|l| l.name == "home.example.com")
        .unwrap();
    assert!(matches!(&home.outcome, Outcome::Failed { error, .. } if error.contains("CNAME")));
    assert!(
        u.api()
            .records()
            .iter()
            .any(|r| r.rtype == "AAAA" && r.content == "2001:db8::1")
    );
    assert!(
        !u.api()
            .records()
            .iter()
            .any(|r| r.name == "home.example.com" && r.rtype == "A")
    );
}

#[tokio::test]
async fn dry_run_plans_but_changes_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(api, vec![rec("home.example.com")], dir.path());
    u.opts.dry_run = true;
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(matches!(&r.lines[0].outcome, Outcome::Planned(w) if w == "created"));
    assert!(writes(u.api()).is_empty());
    assert!(u.api().records().is_empty());
    assert!(!state::path(dir.path()).exists());
}

#[tokio::test]
async fn failures_are_retried_next_round_and_rate_limits_noted() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(
        api,
        vec![RecordConfig {
            ipv6: false,
            ..rec("home.example.com")
        }],
        dir.path(),
    );
    u.api().fail_next(ErrorKind::RateLimited {
        retry_after: Some(Duration::from_secs(42)),
    });
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(!r.ok());
    assert_eq!(r.retry_after, Some(Duration::from_secs(42)));
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(r.ok(), "{r:?}");
    assert_eq!(u.api().records().len(), 1);
}

/// Log lines written while the guard lives (this thread only).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn warnings(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains("WARN"))
            .map(str::to_owned)
            .collect()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let c = Captured::default();
    let w = c.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (c, tracing::subscriber::set_default(sub))
}

use crate::testing::record as v4_only;

fn by_comment(name: &str) -> RecordConfig {
    RecordConfig {
        ownership: Ownership::Comment,
        ..v4_only(name)
    }
}

fn record_by_id(api: &FakeApi, id: &str) -> Option<Record> {
    api.records().into_iter().find(|r| r.id == id)
}

#[tokio::test]
async fn comment_mode_skips_a_name_held_by_unmarked_records_and_warns_once_per_change() {
    let (log, _guard) = capture();
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let theirs = api.add("example.com", "home.example.com", "A", "198.51.100.4");
    let before = record_by_id(&api, &theirs);
    let mut u = updater(api, vec![by_comment("home.example.com")], dir.path());
    let now = SystemTime::now();
    for _ in 0..3 {
        let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
        assert!(r.ok(), "a skip is not a failure: {r:?}");
        assert!(
            matches!(&r.lines[..], [Line { outcome: Outcome::Skipped { reason, hint: Some(_) }, .. }]
                if reason.contains("198.51.100.4") && reason.contains("`ddflare`")),
            "{r:?}"
        );
    }
    assert!(writes(u.api()).is_empty(), "{:?}", u.api().calls());
    assert_eq!(record_by_id(u.api(), &theirs), before);
    assert_eq!(u.api().records().len(), 1, "no record added next to theirs");
    let skipped = |log: &Captured| {
        log.warnings()
            .iter()
            .filter(|l| l.contains("skipped"))
            .count()
    };
    assert_eq!(skipped(&log), 1, "{:?}", log.warnings());
    // Their record changes: said again, once.
    u.api().edit_id(&theirs, "198.51.100.5");
    u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    assert_eq!(skipped(&log), 2, "{:?}", log.warnings());
    // The owner hands it over in the dashboard: updated in place at the next round.
    u.api().set_comment(&theirs, Some("home, ddflare"));
    let r = u.reconcile(&addrs(Some("203.0.113.7"), None), now).await;
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Updated { from } if from == "198.51.100.5"),
        "{r:?}"
    );
    assert_eq!(u.api().records().len(), 1);
    assert!(u.state().created.is_empty(), "found, not created");
}

#[tokio::test]
async fn comment_mode_creates_with_the_marker_and_leaves_unmarked_neighbours_alone() {
    let (log, _guard) = capture();
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mine = api.add_commented(
        "example.com",
        "home.example.com",
        "A",
        "198.51.100.4",
        "managed by ddflare",
    );
    let theirs = api.add_commented(
        "example.com",
        "home.example.com",
        "A",
        "192.0.2.1",
        "Bob's box",
    );
    let txt = api.add("example.com", "home.example.com", "TXT", "\"v=spf1 -all\"");
    let foreign: Vec<Option<Record>> = [&theirs, &txt]
        .iter()
        .map(|id| record_by_id(&api, id))
        .collect();
    let records = vec![
        by_comment("home.example.com"),
        RecordConfig {
            ipv4: false,
            ipv6: true,
            ..by_comment("v6.example.com")
        },
    ];
    let mut u = updater(api, records, dir.path());
    let now = SystemTime::now();
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), Some("2001:db8::7")), now)
        .await;
    assert!(r.ok(), "{r:?}");
    assert_eq!(
        record_by_id(u.api(), &mine).map(|r| r.content),
        Some("203.0.113.7".to_owned())
    );
    let created = u
        .api()
        .records()
        .into_iter()
        .find(|r| r.name == "v6.example.com")
        .unwrap();
    assert_eq!(created.comment.as_deref(), Some("managed by ddflare"));
    let after: Vec<Option<Record>> = [&theirs, &txt]
        .iter()
        .map(|id| record_by_id(u.api(), id))
        .collect();
    assert_eq!(after, foreign);
    let told = |log: &Captured| {
        log.warnings()
            .iter()
            .filter(|l| l.contains("other record(s) without `ddflare`") && l.contains("192.0.2.1"))
            .count()
    };
    assert_eq!(told(&log), 1, "{:?}", log.warnings());
    // A later round that reads again says nothing new.
    u.reconcile(&addrs(Some("198.51.100.9"), Some("2001:db8::7")), now)
        .await;
    assert_eq!(told(&log), 1, "{:?}", log.warnings());
    assert_eq!(
        [&theirs, &txt]
            .iter()
            .map(|id| record_by_id(u.api(), id))
            .collect::<Vec<_>>(),
        foreign
    );
}

#[tokio::test]
async fn delete_on_stop_deletes_only_what_ddflare_created() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    // Found on Cloudflare, then updated by ddflare: never deleted.
    let found = api.add("example.com", "nas.example.com", "A", "198.51.100.4");
    let other = api.add("example.com", "other.example.com", "A", "198.51.100.4");
    let txt = api.add("example.com", "home.example.com", "TXT", "keep me");
    let records = vec![
        RecordConfig {
            delete_on_stop: true,
            ..rec("home.example.com")
        },
        RecordConfig {
            delete_on_stop: true,
            ..v4_only("nas.example.com")
        },
        // Created, but without delete_on_stop.
        v4_only("keep.example.com"),
    ];
    let mut u = updater(api, records.clone(), dir.path());
    let r = u
        .reconcile(
            &addrs(Some("203.0.113.7"), Some("2001:db8::7")),
            SystemTime::now(),
        )
        .await;
    assert!(r.ok(), "{r:?}");
    assert_eq!(u.state().created.len(), 3, "home A, home AAAA, keep A");
    // A restart reads the created ids back from the cache.
    let api = u.api().handle();
    let (state, _) = State::load(dir.path());
    let opts = u.opts.clone();
    let mut u = Updater::new(api, records, opts, state);
    assert_eq!(u.state().created.len(), 3);
    u.api().clear_calls();
    let cleanup = u.delete_created().await;
    assert_eq!(
        cleanup,
        Cleanup {
            deleted: 2,
            kept: 0,
            failed: 0
        }
    );
    let left: Vec<(String, String)> = u
        .api()
        .records()
        .into_iter()
        .map(|r| (r.name, r.rtype))
        .collect();
    let pair = |n: &str, t: &str| (n.to_owned(), t.to_owned());
    assert_eq!(
        left,
        vec![
            pair("nas.example.com", "A"),
            pair("other.example.com", "A"),
            pair("home.example.com", "TXT"),
            pair("keep.example.com", "A"),
        ]
    );
    assert!(record_by_id(u.api(), &found).is_some());
    assert!(record_by_id(u.api(), &other).is_some());
    assert!(record_by_id(u.api(), &txt).is_some());
    // One read, then one DELETE per record.
    let calls = u.api().calls();
    assert_eq!(calls[0], "GET records home.example.com");
    assert_eq!(calls.iter().filter(|c| c.starts_with("DELETE")).count(), 2);
    // The cache forgot them: the next start creates them again.
    let (state, _) = State::load(dir.path());
    assert!(!state.records.contains_key("home.example.com/A"));
    assert!(!state.records.contains_key("home.example.com/AAAA"));
    assert!(state.records.contains_key("nas.example.com/A"));
    assert_eq!(state.created.len(), 1, "keep.example.com's id stays");
    // Nothing left to delete.
    u.api().clear_calls();
    assert_eq!(u.delete_created().await, Cleanup::default());
    assert!(u.api().calls().is_empty());
}

#[tokio::test]
async fn delete_on_stop_in_comment_mode_needs_the_marker_and_a_dry_run_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let records = vec![
        RecordConfig {
            delete_on_stop: true,
            ..by_comment("a.example.com")
        },
        RecordConfig {
            delete_on_stop: true,
            ..by_comment("b.example.com")
        },
    ];
    let mut u = updater(api, records.clone(), dir.path());
    u.reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert_eq!(u.state().created.len(), 2);
    let ids: Vec<String> = u.api().records().into_iter().map(|r| r.id).collect();
    // Someone claims a.example.com's record in the dashboard.
    u.api().set_comment(&ids[0], Some("mine now"));

    let mut dry = Updater::new(
        u.api().handle(),
        records,
        Options {
            dry_run: true,
            ..u.opts.clone()
        },
        u.state().clone(),
    );
    dry.api().clear_calls();
    assert_eq!(dry.delete_created().await, Cleanup::default());
    assert!(dry.api().calls().is_empty(), "{:?}", dry.api().calls());

    let cleanup = u.delete_created().await;
    assert_eq!(
        cleanup,
        Cleanup {
            deleted: 1,
            kept: 1,
            failed: 0
        }
    );
    let left = u.api().records();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, ids[0]);
    assert!(u.state().created.is_empty());
}

#[tokio::test]
async fn created_ids_are_forgotten_when_the_record_goes_or_leaves_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let records = vec![v4_only("a.example.com"), v4_only("b.example.com")];
    let mut u = updater(api, records, dir.path());
    u.reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert_eq!(u.state().created.len(), 2);
    // Deleted in the dashboard: the next read forgets it, and the new one is remembered.
    let a = u
        .api()
        .records()
        .into_iter()
        .find(|r| r.name == "a.example.com")
        .unwrap();
    u.api().remove(&a.id);
    u.reconcile(&addrs(Some("198.51.100.4"), None), SystemTime::now())
        .await;
    assert_eq!(u.state().created.len(), 2);
    assert!(!u.state().created.contains_key(&a.id));
    // b leaves the config: its id is forgotten (never deleted by delete_on_stop).
    let opts = u.opts.clone();
    let u = Updater::new(
        u.api().handle(),
        vec![v4_only("a.example.com")],
        opts,
        u.state().clone(),
    );
    assert_eq!(u.state().created.len(), 1);
    assert!(
        u.state()
            .created
            .values()
            .all(|c| c.name == "a.example.com")
    );
}

#[test]
fn suffixes_walk_up_longest_first_without_the_tld() {
    assert_eq!(
        suffixes("a.b.example.co.uk"),
        vec![
            "a.b.example.co.uk",
            "b.example.co.uk",
            "example.co.uk",
            "co.uk"
        ]
    );
    assert_eq!(suffixes("example.com"), vec!["example.com"]);
    assert_eq!(suffixes("*.example.com"), vec!["example.com"]);
}

#[tokio::test]
async fn a_list_adds_its_families_to_detection_and_a_failure_is_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    // The record is A only: the list's IPv6 must still be detected.
    let u = updater(
        FakeApi::with_zones(&["example.com"]),
        vec![crate::testing::record("home.example.com")],
        dir.path(),
    );
    assert_eq!(u.families(), vec![Family::V4]);
    let list = crate::plan_list::ListConfig {
        account_id: "023e105f4ecef8ad9ca31a8372d0c353".into(),
        name: "home_ips".into(),
        description: "home".into(),
        ipv4: false,
        ipv6: true,
        comment: "managed by ddflare".into(),
        credentials: None,
    };
    let mut u = u.with_lists(vec![list]);
    assert_eq!(u.families(), vec![Family::V4, Family::V6]);
    // The fake has no IP lists: the list's line fails, and nothing is cached for it.
    let report = u
        .reconcile(
            &addrs(Some("203.0.113.7"), Some("2001:db8::7")),
            SystemTime::now(),
        )
        .await;
    let line = report
        .lines
        .iter()
        .find(|l| l.name == "list:home_ips")
        .unwrap();
    assert_eq!(line.rtype, "AAAA");
    assert!(matches!(line.outcome, Outcome::Failed { .. }), "{line}");
    assert!(u.state().lists.is_empty());
    // Detection of IPv6 failed: nothing to compare, no line.
    let report = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(!report.lines.iter().any(|l| l.name == "list:home_ips"));
}

#[tokio::test]
async fn each_record_is_updated_with_the_credentials_it_names() {
    // Two tokens, each seeing only its own zone: a record goes to its credentials' client,
    // zones are found per credentials, and delete_on_stop deletes with the same client.
    let dir = tempfile::tempdir().unwrap();
    let home = FakeApi::with_zones(&["example.com"]);
    let work = FakeApi::with_zones(&["work.example"]);
    // Cloudflare's record ids are unique across zones; the fakes count from the same start.
    let spare = work.add("work.example", "spare.work.example", "TXT", "x");
    work.remove(&spare);
    work.add("work.example", "spare.work.example", "TXT", "x");
    let records = vec![
        RecordConfig {
            delete_on_stop: true,
            ..v4_only("a.example.com")
        },
        v4_only("b.example.com"),
        RecordConfig {
            credentials: Some("work".into()),
            delete_on_stop: true,
            ..v4_only("vpn.work.example")
        },
    ];
    let opts = Options {
        state_dir: dir.path().to_owned(),
        max_age: Duration::from_secs(6 * 3600),
        dry_run: false,
    };
    let apis = crate::cloudflare::Clients {
        default: home.handle(),
        named: vec![("work".to_owned(), work.handle())],
    };
    let mut u = Updater::<FakeApi>::new(apis, records, opts, State::default());
    let r = u
        .reconcile(&addrs(Some("203.0.113.7"), None), SystemTime::now())
        .await;
    assert!(r.ok(), "{r:?}");
    let names =
        |api: &FakeApi| -> Vec<String> { api.records().into_iter().map(|r| r.name).collect() };
    assert_eq!(names(&home), ["a.example.com", "b.example.com"]);
    assert_eq!(names(&work), ["spare.work.example", "vpn.work.example"]);
    assert!(
        work.calls().iter().all(|c| !c.contains("example.com")),
        "{:?}",
        work.calls()
    );
    work.clear_calls();
    let cleanup = u.delete_created().await;
    assert_eq!(cleanup.deleted, 2, "{cleanup:?}");
    assert_eq!(names(&work), ["spare.work.example"]);
    assert_eq!(names(&home), ["b.example.com"]);
    assert!(work.calls().iter().any(|c| c.starts_with("DELETE")));
}

#[tokio::test]
async fn an_unchanged_round_repeats_the_last_one_until_an_entry_reaches_max_age() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let names = ["a.example.com", "b.example.com", "c.example.com"];
    let mut u = updater(api, names.iter().map(|n| rec(n)).collect(), dir.path());
    let at = addrs(Some("203.0.113.7"), Some("2001:db8::7"));
    let t0 = SystemTime::now();
    assert_eq!(u.reconcile(&at, t0).await.changed(), 6);
    u.api().clear_calls();
    let cached = u.reconcile(&at, t0).await;
    assert_eq!(cached.lines.len(), 6);
    assert!(cached.lines.iter().all(|l| l.outcome == Outcome::Cached));
    // The same addresses again: the same lines, handed on, and still no call.
    let again = u.reconcile(&at, t0 + Duration::from_secs(60)).await;
    assert!(again.lines.same_as(&cached.lines), "{again:?}");
    assert_eq!(again, cached);
    assert!(u.api().calls().is_empty(), "{:?}", u.api().calls());
    // max_age (6 h) after the records were confirmed, Cloudflare is read again.
    let later = t0 + Duration::from_secs(6 * 3600);
    let r = u.reconcile(&at, later).await;
    assert!(!r.lines.same_as(&cached.lines));
    assert!(
        r.lines.iter().all(|l| l.outcome == Outcome::Unchanged),
        "{r:?}"
    );
    assert_eq!(
        u.api().calls(),
        vec!["GET records a.example.com,b.example.com,c.example.com"]
    );
}

#[tokio::test]
async fn after_quiet_rounds_a_new_address_or_a_clock_set_back_is_looked_at() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(api, vec![rec("home.example.com")], dir.path());
    let t0 = SystemTime::now();
    let v4 = addrs(Some("203.0.113.7"), None);
    u.reconcile(&v4, t0).await;
    let quiet = u.reconcile(&v4, t0).await;
    // The clock set back: the cache entries' ages are not known; the cache is asked again
    // (and still answers: entries a little in the future are trusted).
    let back = u.reconcile(&v4, t0 - Duration::from_secs(5)).await;
    assert!(!back.lines.same_as(&quiet.lines));
    assert_eq!(back.lines, quiet.lines);
    u.api().clear_calls();
    let moved = u
        .reconcile(
            &addrs(Some("203.0.113.8"), None),
            t0 + Duration::from_secs(1),
        )
        .await;
    assert_eq!(moved.changed(), 1, "{moved:?}");
    assert_eq!(writes(u.api()).len(), 1, "{:?}", u.api().calls());
    // IPv6 detected too now: its record is created, the A record stays cached.
    u.api().clear_calls();
    let both = u
        .reconcile(
            &addrs(Some("203.0.113.8"), Some("2001:db8::8")),
            t0 + Duration::from_secs(2),
        )
        .await;
    assert_eq!(both.changed(), 1, "{both:?}");
}

#[tokio::test]
async fn every_round_ends_by_closing_its_connections_whether_it_wrote_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(api, vec![rec("home.example.com")], dir.path());
    let now = SystemTime::now();
    let v4 = addrs(Some("203.0.113.7"), None);
    u.reconcile(&v4, now).await;
    assert_eq!(u.api().rounds_ended(), 1, "a round that wrote");
    u.reconcile(&v4, now).await;
    u.reconcile(&v4, now).await;
    assert_eq!(u.api().rounds_ended(), 3, "quiet rounds too");
    let router = ["home.example.com".to_owned()];
    u.reconcile_push(&router, &addrs(Some("198.51.100.9"), None), now)
        .await;
    assert_eq!(u.api().rounds_ended(), 4, "a push");
}

#[tokio::test]
async fn a_push_ends_the_quiet_rounds_so_the_pushed_name_is_reported_again() {
    let dir = tempfile::tempdir().unwrap();
    let records = || {
        vec![
            crate::testing::record("home.example.com"),
            crate::testing::record("router.example.com"),
        ]
    };
    let router = ["router.example.com".to_owned()];
    let pushed = addrs(Some("198.51.100.9"), None);
    let t0 = SystemTime::now();
    // A first run published the router's address; the cache on disk holds it.
    let mut first = updater(FakeApi::with_zones(&["example.com"]), records(), dir.path());
    first.set_push_owned(router.clone().into());
    assert_eq!(
        first.reconcile_push(&router, &pushed, t0).await.changed(),
        1
    );
    // After a restart, nothing is pushed yet: rounds report the detected name alone.
    let api = FakeApi::with_zones(&["example.com"]);
    let mut u = updater(api, records(), dir.path());
    u.set_push_owned(router.clone().into());
    let v4 = addrs(Some("203.0.113.7"), None);
    u.reconcile(&v4, t0).await;
    let quiet = u.reconcile(&v4, t0).await;
    assert_eq!(quiet.lines.len(), 1, "nothing pushed yet: {quiet:?}");
    // The router pushes the address the cache already holds: nothing to write...
    let again = u.reconcile_push(&router, &pushed, t0).await;
    assert_eq!(again.lines[0].outcome, Outcome::Cached, "{again:?}");
    // ...but the next round reports the pushed name too.
    let after = u.reconcile(&v4, t0).await;
    let names: Vec<&str> = after.lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["home.example.com", "router.example.com"]);
    assert!(
        after.lines.iter().all(|l| l.outcome == Outcome::Cached),
        "{after:?}"
    );
}
