//! PURE reconciliation: the records ddflare wants + the records Cloudflare has → the changes.
//!
//! Rules, per managed (name, type):
//! - one record is kept: the one already right, else the one with the right content, else the
//!   first; it is updated in place (PATCH, same id) only in the fields that differ;
//! - the other records of that name and type are duplicates and are deleted;
//! - with none, one is created;
//! - `ttl`, `proxied` and `comment` are enforced only when the config sets them; unset, the
//!   value on Cloudflare is kept (and a new record gets Cloudflare's default);
//! - records of other types or names are never touched; a CNAME at a managed name is an error
//!   for that name, not a reason to touch anything.

use std::net::IpAddr;

use crate::cloudflare::{NewRecord, Record, RecordPatch};

/// What one managed (name, type) should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Lowercase ASCII FQDN.
    pub name: String,
    /// `A` or `AAAA`.
    pub rtype: &'static str,
    pub content: IpAddr,
    /// API value (1 = automatic); `None` keeps what Cloudflare has.
    pub ttl: Option<u32>,
    pub proxied: Option<bool>,
    pub comment: Option<String>,
}

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create(NewRecord),
    /// `from` is the content before the change, for the log line.
    Update {
        id: String,
        name: String,
        rtype: String,
        from: String,
        patch: RecordPatch,
    },
    /// A duplicate of a managed name and type.
    Delete {
        id: String,
        name: String,
        rtype: String,
        content: String,
    },
}

impl Change {
    /// (name, type) of the managed record this change serves.
    pub fn key(&self) -> (&str, &str) {
        match self {
            Change::Create(r) => (&r.name, &r.rtype),
            Change::Update { name, rtype, .. } | Change::Delete { name, rtype, .. } => {
                (name, rtype)
            }
        }
    }
}

/// A managed name that cannot be reconciled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("{name}: a CNAME record holds this name, so it cannot have {rtype} records")]
    Cname { name: String, rtype: &'static str },
}

/// The outcome of planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Managed (name, type) already right: (name, type, record id).
    pub unchanged: Vec<(String, &'static str, String)>,
    pub conflicts: Vec<Conflict>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn content_matches(record: &Record, want: &IpAddr) -> bool {
    record.content.parse::<IpAddr>().ok().as_ref() == Some(want)
}

/// The fields of `record` that differ from `want` (content always; the rest only when set).
fn patch_for(record: &Record, want: &Desired) -> RecordPatch {
    let mut patch = RecordPatch::default();
    if !content_matches(record, &want.content) {
        patch.content = Some(want.content.to_string());
    }
    let proxied = want.proxied.unwrap_or(record.proxied);
    if let Some(p) = want.proxied
        && p != record.proxied
    {
        patch.proxied = Some(p);
    }
    // Proxied records always have an automatic TTL on Cloudflare: enforcing another one would
    // rewrite the record every round.
    if let Some(ttl) = want.ttl
        && ttl != record.ttl
        && !proxied
    {
        patch.ttl = Some(ttl);
    }
    if let Some(c) = &want.comment
        && record.comment.as_deref().unwrap_or("") != c
    {
        patch.comment = Some(c.clone());
    }
    patch
}

/// Plans the changes that make `existing` hold exactly `desired` for every managed (name,
/// type), leaving everything else alone.
pub fn plan(desired: &[Desired], existing: &[Record]) -> Plan {
    let mut out = Plan::default();
    for want in desired {
        if existing
            .iter()
            .any(|r| r.rtype == "CNAME" && same_name(&r.name, &want.name))
        {
            out.conflicts.push(Conflict::Cname {
                name: want.name.clone(),
                rtype: want.rtype,
            });
            continue;
        }
        let mut candidates: Vec<&Record> = existing
            .iter()
            .filter(|r| r.rtype == want.rtype && same_name(&r.name, &want.name))
            .collect();
        // Keep the record needing the fewest changes; ties go to the lowest id (stable).
        candidates.sort_by_key(|r| {
            let patch = patch_for(r, want);
            (
                patch.content.is_some(),
                [
                    patch.ttl.is_some(),
                    patch.proxied.is_some(),
                    patch.comment.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count(),
                r.id.clone(),
            )
        });
        let Some((keep, duplicates)) = candidates.split_first() else {
            out.changes.push(Change::Create(NewRecord {
                name: want.name.clone(),
                rtype: want.rtype.to_owned(),
                content: want.content.to_string(),
                ttl: want.ttl.unwrap_or(1),
                proxied: want.proxied,
                comment: want.comment.clone(),
            }));
            continue;
        };
        let patch = patch_for(keep, want);
        if patch.is_empty() {
            out.unchanged
                .push((want.name.clone(), want.rtype, keep.id.clone()));
        } else {
            out.changes.push(Change::Update {
                id: keep.id.clone(),
                name: want.name.clone(),
                rtype: want.rtype.to_owned(),
                from: keep.content.clone(),
                patch,
            });
        }
        for dup in duplicates {
            out.changes.push(Change::Delete {
                id: dup.id.clone(),
                name: dup.name.clone(),
                rtype: dup.rtype.clone(),
                content: dup.content.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(id: &str, name: &str, rtype: &str, content: &str) -> Record {
        Record {
            id: id.into(),
            name: name.into(),
            rtype: rtype.into(),
            content: content.into(),
            proxiable: Some(true),
            proxied: false,
            ttl: 1,
            comment: None,
        }
    }

    fn want(name: &str, rtype: &'static str, ip: &str) -> Desired {
        Desired {
            name: name.into(),
            rtype,
            content: ip.parse().unwrap(),
            ttl: None,
            proxied: None,
            comment: None,
        }
    }

    #[test]
    fn creates_when_missing_with_cloudflare_defaults() {
        let p = plan(&[want("home.example.com", "A", "203.0.113.7")], &[]);
        assert_eq!(
            p.changes,
            vec![Change::Create(NewRecord {
                name: "home.example.com".into(),
                rtype: "A".into(),
                content: "203.0.113.7".into(),
                ttl: 1,
                proxied: None,
                comment: None,
            })]
        );
    }

    #[test]
    fn leaves_a_correct_record_alone() {
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[rec("a1", "home.example.com", "A", "203.0.113.7")],
        );
        assert!(p.changes.is_empty());
        assert_eq!(
            p.unchanged,
            vec![("home.example.com".into(), "A", "a1".into())]
        );
    }

    #[test]
    fn updates_in_place_with_content_only() {
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[rec("a1", "home.example.com", "A", "198.51.100.4")],
        );
        assert_eq!(
            p.changes,
            vec![Change::Update {
                id: "a1".into(),
                name: "home.example.com".into(),
                rtype: "A".into(),
                from: "198.51.100.4".into(),
                patch: RecordPatch {
                    content: Some("203.0.113.7".into()),
                    ..RecordPatch::default()
                },
            }]
        );
    }

    #[test]
    fn removes_duplicates_and_keeps_the_right_one() {
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[
                rec("a1", "home.example.com", "A", "198.51.100.4"),
                rec("a2", "home.example.com", "A", "203.0.113.7"),
                rec("a3", "home.example.com", "A", "192.0.2.1"),
            ],
        );
        assert_eq!(p.unchanged.len(), 1);
        assert_eq!(p.unchanged[0].2, "a2");
        let deleted: Vec<&str> = p
            .changes
            .iter()
            .map(|c| match c {
                Change::Delete { id, .. } => id.as_str(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(deleted, vec!["a1", "a3"]);
    }

    #[test]
    fn never_touches_other_types_or_names() {
        let existing = vec![
            rec("t1", "home.example.com", "TXT", "\"v=spf1 -all\""),
            rec("m1", "home.example.com", "MX", "mail.example.com"),
            rec("o1", "other.example.com", "A", "198.51.100.4"),
            rec("x1", "home.example.com", "AAAA", "2001:db8::1"),
        ];
        let p = plan(&[want("home.example.com", "A", "203.0.113.7")], &existing);
        assert_eq!(p.changes.len(), 1);
        assert!(matches!(&p.changes[0], Change::Create(r) if r.rtype == "A"));
    }

    #[test]
    fn cname_at_the_name_is_a_conflict_not_a_change() {
        let p = plan(
            &[
                want("home.example.com", "A", "203.0.113.7"),
                want("nas.example.com", "A", "203.0.113.7"),
            ],
            &[rec(
                "c1",
                "home.example.com",
                "CNAME",
                "elsewhere.example.net",
            )],
        );
        assert_eq!(
            p.conflicts,
            vec![Conflict::Cname {
                name: "home.example.com".into(),
                rtype: "A"
            }]
        );
        assert_eq!(p.changes.len(), 1, "the other name still proceeds");
    }

    #[test]
    fn names_compare_case_and_trailing_dot_insensitively() {
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[rec("a1", "Home.Example.com.", "A", "203.0.113.7")],
        );
        assert!(p.changes.is_empty());
    }

    #[test]
    fn ipv6_content_compares_as_addresses_not_strings() {
        let p = plan(
            &[want("home.example.com", "AAAA", "2001:db8::7")],
            &[rec("x1", "home.example.com", "AAAA", "2001:0db8:0:0::7")],
        );
        assert!(p.changes.is_empty());
    }

    #[test]
    fn enforces_set_metadata_and_keeps_unset() {
        let mut existing = rec("a1", "home.example.com", "A", "203.0.113.7");
        existing.ttl = 300;
        existing.comment = Some("hand-written".into());
        // Unset: nothing to do even though ttl and comment differ from any default.
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[existing.clone()],
        );
        assert!(p.changes.is_empty());
        // Set: drift is corrected, only in the fields that differ.
        let mut w = want("home.example.com", "A", "203.0.113.7");
        w.ttl = Some(1);
        w.comment = Some("managed by ddflare".into());
        w.proxied = Some(false);
        let p = plan(&[w], &[existing]);
        assert_eq!(
            p.changes,
            vec![Change::Update {
                id: "a1".into(),
                name: "home.example.com".into(),
                rtype: "A".into(),
                from: "203.0.113.7".into(),
                patch: RecordPatch {
                    content: None,
                    ttl: Some(1),
                    proxied: None,
                    comment: Some("managed by ddflare".into()),
                },
            }]
        );
    }

    #[test]
    fn proxied_records_do_not_fight_over_ttl() {
        let mut existing = rec("a1", "home.example.com", "A", "203.0.113.7");
        existing.proxied = true;
        let mut w = want("home.example.com", "A", "203.0.113.7");
        w.proxied = Some(true);
        w.ttl = Some(300);
        assert!(plan(&[w], &[existing]).changes.is_empty());
    }

    #[test]
    fn prefers_the_record_that_needs_the_fewest_changes() {
        let mut commented = rec("b", "home.example.com", "A", "198.51.100.4");
        commented.comment = Some("managed by ddflare".into());
        let plain = rec("a", "home.example.com", "A", "198.51.100.4");
        let mut w = want("home.example.com", "A", "203.0.113.7");
        w.comment = Some("managed by ddflare".into());
        let p = plan(&[w], &[plain, commented]);
        assert!(matches!(&p.changes[0], Change::Update { id, .. } if id == "b"));
        assert!(matches!(&p.changes[1], Change::Delete { id, .. } if id == "a"));
    }

    /// Applies a plan the way Cloudflare would, for the property test.
    fn apply(existing: &[Record], plan: &Plan) -> Vec<Record> {
        let mut out: Vec<Record> = existing.to_vec();
        for (n, change) in plan.changes.iter().enumerate() {
            match change {
                Change::Create(r) => out.push(Record {
                    id: format!("new{n}"),
                    name: r.name.clone(),
                    rtype: r.rtype.clone(),
                    content: r.content.clone(),
                    proxiable: Some(true),
                    proxied: r.proxied.unwrap_or(false),
                    ttl: r.ttl,
                    comment: r.comment.clone(),
                }),
                Change::Update { id, patch, .. } => {
                    patch.apply_to(out.iter_mut().find(|r| &r.id == id).unwrap());
                }
                Change::Delete { id, .. } => out.retain(|r| &r.id != id),
            }
        }
        out
    }

    const NAMES: [&str; 3] = ["a.example.com", "b.example.com", "c.example.com"];
    const V4: [&str; 3] = ["198.51.100.4", "203.0.113.7", "192.0.2.1"];
    const V6: [&str; 2] = ["2001:db8::1", "2001:db8::2"];

    fn arb_record() -> impl Strategy<Value = Record> {
        (
            0usize..3,
            prop_oneof![Just("A"), Just("AAAA"), Just("TXT"), Just("MX")],
            0usize..3,
            any::<bool>(),
            prop_oneof![Just(1u32), Just(300u32)],
            prop_oneof![Just(None), Just(Some("x".to_string()))],
        )
            .prop_map(|(n, t, c, proxied, ttl, comment)| Record {
                id: String::new(),
                name: NAMES[n].into(),
                rtype: t.into(),
                content: match t {
                    "A" => V4[c].into(),
                    "AAAA" => V6[c % 2].into(),
                    _ => format!("foreign-{c}"),
                },
                proxiable: Some(true),
                proxied,
                ttl,
                comment,
            })
    }

    fn arb_desired() -> impl Strategy<Value = Vec<Desired>> {
        proptest::collection::btree_set((0usize..3, any::<bool>()), 0..6).prop_flat_map(|keys| {
            let keys: Vec<_> = keys.into_iter().collect();
            let n = keys.len();
            (
                Just(keys),
                proptest::collection::vec(
                    (
                        0usize..3,
                        prop_oneof![Just(None), Just(Some(1u32)), Just(Some(120u32))],
                        prop::option::of(any::<bool>()),
                        prop_oneof![Just(None), Just(Some("managed".to_string()))],
                    ),
                    n,
                ),
            )
                .prop_map(|(keys, attrs)| {
                    keys.into_iter()
                        .zip(attrs)
                        .map(|((n, v6), (c, ttl, proxied, comment))| Desired {
                            name: NAMES[n].into(),
                            rtype: if v6 { "AAAA" } else { "A" },
                            content: if v6 { V6[c % 2] } else { V4[c] }.parse().unwrap(),
                            ttl,
                            proxied,
                            comment,
                        })
                        .collect()
                })
        })
    }

    proptest! {
        /// Applying the plan yields exactly one record per managed (name, type), matching the
        /// desired state; everything unmanaged is untouched; planning again finds nothing to do.
        #[test]
        fn applying_the_plan_yields_exactly_the_desired_set(
            mut existing in proptest::collection::vec(arb_record(), 0..10),
            desired in arb_desired(),
        ) {
            for (i, r) in existing.iter_mut().enumerate() {
                r.id = format!("id{i:02}");
            }
            let p = plan(&desired, &existing);
            prop_assert!(p.conflicts.is_empty());
            let after = apply(&existing, &p);
            for d in &desired {
                let matching: Vec<&Record> = after
                    .iter()
                    .filter(|r| r.name == d.name && r.rtype == d.rtype)
                    .collect();
                prop_assert_eq!(matching.len(), 1);
                let r = matching[0];
                prop_assert_eq!(r.content.parse::<IpAddr>().unwrap(), d.content);
                if let Some(p) = d.proxied { prop_assert_eq!(r.proxied, p); }
                if let (Some(t), false) = (d.ttl, r.proxied) { prop_assert_eq!(r.ttl, t); }
                if let Some(c) = &d.comment { prop_assert_eq!(r.comment.as_ref(), Some(c)); }
            }
            let managed = |r: &Record| desired.iter().any(|d| d.name == r.name && d.rtype == r.rtype);
            let before: Vec<&Record> = existing.iter().filter(|r| !managed(r)).collect();
            let untouched: Vec<&Record> = after.iter().filter(|r| !managed(r)).collect();
            prop_assert_eq!(before, untouched);
            let again = plan(&desired, &after);
            prop_assert!(again.changes.is_empty());
        }
    }
}
