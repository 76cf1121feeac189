//! `[[gateway_location]]`: keeps a Zero Trust Gateway DNS location's IPv4 source network equal
//! to the home address (`a.b.c.d/32`).
//!
//! The API updates a location with PUT, which replaces the whole object, so this is a
//! read-modify-write: GET the location, replace in its `networks` the entry ddflare wrote
//! before (remembered in the cache; no other entry is touched) by the new /32, and PUT the
//! object back with every field as read but Gateway's own (`id`, the timestamps, the generated
//! addresses and DoH subdomain), unknown fields included. A dashboard edit landing between the
//! GET and the PUT (one round trip) is overwritten: the API offers no version check to refuse
//! a stale write (docs/configuration.md, "Gateway locations"). As for records: no call while
//! the cache vouches for the address (within `state.max_age`), and a round whose IPv4
//! detection failed leaves the location alone.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::Value;

use super::lines::{decision, note_rate_limit, ray};
use crate::cloudflare::{ApiError, Clients, DnsApi};
use crate::config::GatewayLocation;
use crate::round::{Line, Outcome, RoundReport};
use crate::state::{Entry, State};

/// Set by Gateway; never written back.
const GATEWAYS_OWN: [&str; 7] = [
    "id",
    "created_at",
    "updated_at",
    "doh_subdomain",
    "ip",
    "ipv4_destination",
    "ipv4_destination_backup",
];

/// The type shown in report lines.
const TYPE: &str = "network";

/// `a.b.c.d` and `a.b.c.d/32` are one network.
fn same(a: &str, b: &str) -> bool {
    a.trim_end_matches("/32") == b.trim_end_matches("/32")
}

/// PURE: `location`'s networks with ddflare's entry (`old`, what it wrote before) replaced by
/// `want`, or `want` added; every other entry kept as it is. `None` when they hold `want`
/// already and no `old` entry besides.
pub(super) fn networks(location: &Value, old: Option<&str>, want: &str) -> Option<Vec<Value>> {
    let current: Vec<Value> = location
        .get("networks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let net = |v: &Value| {
        v.get("network")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let stale = |v: &Value| old.is_some_and(|o| !same(o, want) && same(&net(v), o));
    let has_want = current.iter().any(|v| same(&net(v), want));
    if has_want && !current.iter().any(stale) {
        return None;
    }
    let mut out: Vec<Value> = current.into_iter().filter(|v| !stale(v)).collect();
    if !has_want {
        out.push(serde_json::json!({ "network": want }));
    }
    Some(out)
}

/// PURE: the PUT body: `location` as read with `networks` replaced and Gateway's own fields
/// left out; `None` when what was read is not an object.
pub(super) fn body(location: &Value, networks: Vec<Value>) -> Option<Value> {
    let mut o = location.as_object()?.clone();
    for k in GATEWAYS_OWN {
        o.remove(k);
    }
    o.insert("networks".to_owned(), Value::Array(networks));
    Some(Value::Object(o))
}

/// What the cache remembers of a location: the address written, when it was confirmed.
fn entry(id: &str, v4: Ipv4Addr, now: u64) -> Entry {
    Entry {
        id: id.to_owned(),
        content: IpAddr::V4(v4),
        settings: String::new(),
        synced_at: now,
    }
}

/// One round's work on the locations, with the IPv4 address detected (`None`: leave them).
#[allow(clippy::too_many_arguments)]
pub(super) async fn sync<A: DnsApi>(
    apis: &Clients<A>,
    locations: &[GatewayLocation],
    v4: Option<Ipv4Addr>,
    state: &mut State,
    now: u64,
    max_age: Duration,
    dry_run: bool,
    report: &mut RoundReport,
) {
    let Some(v4) = v4 else {
        return;
    };
    let want = format!("{v4}/32");
    for loc in locations {
        let id = &loc.location_id;
        let name = format!("gateway location {id}");
        let line = |outcome: Outcome, ray: Option<&str>, report: &mut RoundReport| {
            let l = Line {
                name: name.clone(),
                rtype: TYPE,
                content: IpAddr::V4(v4),
                outcome,
            };
            match &l.outcome {
                Outcome::Failed { hint, .. } => {
                    decision!(warn, &l, None, ray);
                    if let Some(h) = hint {
                        tracing::warn!("hint: {h}");
                    }
                }
                Outcome::Cached => decision!(debug, &l, None, None),
                Outcome::Unchanged | Outcome::Planned(_) => decision!(info, &l, None, None),
                _ => decision!(change info, &l, None, None),
            }
            report.lines.push(l);
        };
        let failed = |e: &ApiError, report: &mut RoundReport| {
            note_rate_limit(report, e);
            let r = ray(e);
            let outcome = Outcome::Failed {
                error: e.to_string(),
                hint: e.hint(),
            };
            line(outcome, r.as_deref(), report);
        };
        let old = state.gateway.get(id).map(|e| {
            let fresh =
                !e.from_the_future(now) && now.saturating_sub(e.synced_at) < max_age.as_secs();
            (format!("{}/32", e.content), fresh)
        });
        if let Some((net, true)) = &old
            && same(net, &want)
        {
            line(Outcome::Cached, None, report);
            continue;
        }
        let api = apis.get(loc.credentials.as_deref());
        report.api_calls += 1;
        let location = match api.gateway_location(&loc.account_id, id).await {
            Ok(l) => l,
            Err(e) => {
                failed(&e, report);
                continue;
            }
        };
        let old_net = old.as_ref().map(|(n, _)| n.as_str());
        let Some(list) = networks(&location, old_net, &want) else {
            line(Outcome::Unchanged, None, report);
            if !dry_run {
                state.gateway.insert(id.clone(), entry(id, v4, now));
            }
            continue;
        };
        let outcome = match old_net.filter(|o| !same(o, &want)) {
            Some(o) => Outcome::Updated {
                from: o.trim_end_matches("/32").to_owned(),
            },
            None => Outcome::Created,
        };
        if dry_run {
            line(Outcome::Planned("written".into()), None, report);
            continue;
        }
        let Some(put) = body(&location, list) else {
            line(
                Outcome::Failed {
                    error: "Cloudflare answered with a location that is not an object".into(),
                    hint: None,
                },
                None,
                report,
            );
            continue;
        };
        report.api_calls += 1;
        match api.put_gateway_location(&loc.account_id, id, &put).await {
            Ok(done) if networks(&done, None, &want).is_none() => {
                state.gateway.insert(id.clone(), entry(id, v4, now));
                line(outcome, None, report);
            }
            Ok(_) => line(
                Outcome::Failed {
                    error: format!(
                        "Cloudflare accepted the update but the location does not hold {want}"
                    ),
                    hint: None,
                },
                None,
                report,
            ),
            Err(e) => {
                failed(&e, report);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_ddflares_entry_is_replaced_and_every_other_field_kept() {
        let loc = json!({
            "id": "x", "name": "Home", "updated_at": "t", "doh_subdomain": "d",
            "ecs_support": true, "endpoints": {"ipv4": {"enabled": true}}, "future": [1],
            "networks": [{"network": "198.51.100.0/24"}, {"network": "203.0.113.7/32"}],
        });
        // The address changed: ddflare's old /32 goes, the office range stays.
        let list = networks(&loc, Some("203.0.113.7/32"), "192.0.2.9/32").unwrap();
        assert_eq!(
            list,
            [
                json!({"network": "198.51.100.0/24"}),
                json!({"network": "192.0.2.9/32"})
            ]
        );
        let put = body(&loc, list).unwrap();
        assert_eq!(put["ecs_support"], true);
        assert_eq!(put["endpoints"], json!({"ipv4": {"enabled": true}}));
        assert_eq!(put["future"], json!([1]));
        assert_eq!(put["name"], "Home");
        for own in ["id", "updated_at", "doh_subdomain"] {
            assert!(put.get(own).is_none(), "{own}");
        }
        // Already right: nothing to write; an entry written by hand as a bare address counts.
        assert_eq!(
            networks(&loc, Some("203.0.113.7/32"), "203.0.113.7/32"),
            None
        );
        assert_eq!(
            networks(
                &json!({"networks": [{"network": "203.0.113.7"}]}),
                None,
                "203.0.113.7/32"
            ),
            None
        );
        // Unknown before (a first run): added, nothing removed.
        assert_eq!(networks(&loc, None, "192.0.2.9/32").unwrap().len(), 3);
        // No networks at all (null or absent): ours alone.
        assert_eq!(
            networks(&json!({"networks": null}), None, "192.0.2.9/32").unwrap(),
            [json!({"network": "192.0.2.9/32"})]
        );
        assert_eq!(body(&json!([1]), vec![]), None);
    }
}
