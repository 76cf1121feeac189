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
//!
//! Ownership ([`Ownership`]): with `all` (the default) every A/AAAA record of a managed name is
//! ddflare's. With `comment` only records whose comment carries the [`MARKER`] are: the rules
//! above apply to those alone, the others are reported ([`Plan::unowned`]) and never in a
//! change. If a managed (name, type) holds only unmarked records, nothing is created next to
//! them: a second record would make DNS answer with both addresses (report and skip). Records
//! ddflare creates in comment mode get the configured comment, which must carry the marker,
//! or [`DEFAULT_MARKED_COMMENT`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::cloudflare::{NewRecord, Record, RecordPatch, same_name, unique_ids};

/// The word that marks a record as ddflare's in comment mode: anywhere in the comment, any
/// case, as a whole word (`managed by ddflare`, `[ddflare] nas`, `DDFLARE-owned`; not
/// `myddflare`). A user may add their own words around it.
pub const MARKER: &str = "ddflare";

/// The comment of a record created in comment mode when no `comment` is configured.
pub const DEFAULT_MARKED_COMMENT: &str = "managed by ddflare";

/// Whether `comment` carries [`MARKER`] as a whole word (letters and digits around it would
/// make it part of another word).
pub fn carries_marker(comment: &str) -> bool {
    let lower = comment.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(at) = lower[from..].find(MARKER) {
        let start = from + at;
        let end = start + MARKER.len();
        let before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = start + 1;
    }
    false
}

/// Which records of a managed (name, type) ddflare may edit or delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Ownership {
    /// Every record of the name and type (the default).
    #[default]
    All,
    /// Only records whose comment carries [`MARKER`].
    Comment,
}

impl Ownership {
    /// Whether a record with this comment is ddflare's to edit or delete.
    pub fn owns(self, comment: Option<&str>) -> bool {
        match self {
            Ownership::All => true,
            Ownership::Comment => comment.is_some_and(carries_marker),
        }
    }
}

impl fmt::Display for Ownership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ownership::All => "all",
            Ownership::Comment => "comment",
        })
    }
}

impl FromStr for Ownership {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Ownership::All),
            "comment" => Ok(Ownership::Comment),
            _ => Err(format!(
                "\"all\" or \"comment\", found \"{}\"",
                s.escape_debug()
            )),
        }
    }
}

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
    /// In comment mode, carries [`MARKER`] when set (the config checks it).
    pub comment: Option<String>,
    pub ownership: Ownership,
}

impl Desired {
    /// The comment a new record gets: the configured one, else in comment mode the marker.
    fn new_comment(&self) -> Option<String> {
        match (&self.comment, self.ownership) {
            (Some(c), _) => Some(c.clone()),
            (None, Ownership::Comment) => Some(DEFAULT_MARKED_COMMENT.to_owned()),
            (None, Ownership::All) => None,
        }
    }
}

/// Records of a managed (name, type) that are not ddflare's (comment mode, no marker): never
/// in a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unowned {
    pub name: String,
    pub rtype: &'static str,
    /// (id, content) of each, in the order Cloudflare listed them.
    pub records: Vec<(String, String)>,
    /// No record of this (name, type) is ddflare's, so nothing was planned for it.
    pub skipped: bool,
}
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
    /// Comment mode: the unmarked records found at managed (name, type)s.
    pub unowned: Vec<Unowned>,
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
///
/// A record listed twice (the same id) counts once, the first listing winning: a listing
/// that repeats a record must not make ddflare delete the record it keeps. A (name, type)
/// desired twice is planned once. So no id is both kept and deleted, and no id is in two
/// changes.
pub fn plan(desired: &[Desired], existing: &[Record]) -> Plan {
    let existing = unique_ids(existing);
    let mut out = Plan::default();
    let mut planned: Vec<(&str, &str)> = Vec::new();
    for want in desired {
        if planned
            .iter()
            .any(|(n, t)| same_name(n, &want.name) && *t == want.rtype)
        {
            continue;
        }
        planned.push((&want.name, want.rtype));
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
        let (mut candidates, unowned): (Vec<&Record>, Vec<&Record>) = existing
            .iter()
            .filter(|r| r.rtype == want.rtype && same_name(&r.name, &want.name))
            .partition(|r| want.ownership.owns(r.comment.as_deref()));
        if !unowned.is_empty() {
            out.unowned.push(Unowned {
                name: want.name.clone(),
                rtype: want.rtype,
                records: unowned
                    .iter()
                    .map(|r| (r.id.clone(), r.content.clone()))
                    .collect(),
                skipped: candidates.is_empty(),
            });
            if candidates.is_empty() {
                // Report and skip: a record created next to someone else's would make DNS
                // answer with both addresses.
                continue;
            }
        }
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
                comment: want.new_comment(),
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

    use crate::testing::cf_record as rec;

    fn want(name: &str, rtype: &'static str, ip: &str) -> Desired {
        Desired {
            name: name.into(),
            rtype,
            content: ip.parse().unwrap(),
            ttl: None,
            proxied: None,
            comment: None,
            ownership: Ownership::All,
        }
    }

    fn owned(name: &str, rtype: &'static str, ip: &str) -> Desired {
        Desired {
            ownership: Ownership::Comment,
            ..want(name, rtype, ip)
        }
    }

    fn noted(mut r: Record, comment: &str) -> Record {
        r.comment = Some(comment.into());
        r
    }

    /// The ids every change of `p` touches (updates and deletes).
    fn touched(p: &Plan) -> Vec<&str> {
        p.changes
            .iter()
            .filter_map(|c| match c {
                Change::Update { id, .. } | Change::Delete { id, .. } => Some(id.as_str()),
                Change::Create(_) => None,
            })
            .collect()
    }

    #[test]
    fn the_marker_is_a_whole_word_in_any_case() {
        for yes in [
            "ddflare",
            "managed by ddflare",
            "DDFLARE",
            "[ddflare] nas",
            "ddflare-owned",
            "owned by ddflare.",
            "Bob's NAS (ddflare)",
            "my ddflare ddflarex",
        ] {
            assert!(carries_marker(yes), "{yes}");
        }
        for no in [
            "",
            "managed",
            "myddflare",
            "ddflares",
            "ddflare2",
            "dd flare",
            "xddflarex",
        ] {
            assert!(!carries_marker(no), "{no}");
        }
        assert!(Ownership::All.owns(None));
        assert!(!Ownership::Comment.owns(None));
        assert!(Ownership::Comment.owns(Some("managed by ddflare")));
        assert_eq!("Comment".parse::<Ownership>(), Ok(Ownership::Comment));
        assert_eq!(" all ".parse::<Ownership>(), Ok(Ownership::All));
        assert!("mine".parse::<Ownership>().is_err());
    }

    #[test]
    fn comment_mode_table() {
        struct Case {
            what: &'static str,
            want: Desired,
            existing: Vec<Record>,
            /// Ids updated or deleted, in order.
            touched: Vec<&'static str>,
            /// The comment of a created record, when one is created.
            created: Option<&'static str>,
            /// (ids, skipped) of the unmarked records reported.
            unowned: Option<(Vec<&'static str>, bool)>,
        }
        let a = |id: &str, ip: &str| rec(id, "home.example.com", "A", ip);
        let cases = vec![
            Case {
                what: "nothing there: created with the marker",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![],
                touched: vec![],
                created: Some(DEFAULT_MARKED_COMMENT),
                unowned: None,
            },
            Case {
                what: "nothing there, a comment configured: created with it",
                want: Desired {
                    comment: Some("nas, ddflare".into()),
                    ..owned("home.example.com", "A", "203.0.113.7")
                },
                existing: vec![],
                touched: vec![],
                created: Some("nas, ddflare"),
                unowned: None,
            },
            Case {
                what: "only an unmarked record: reported and skipped, no duplicate",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![a("u1", "198.51.100.4")],
                touched: vec![],
                created: None,
                unowned: Some((vec!["u1"], true)),
            },
            Case {
                what: "only a record with someone else's comment: skipped",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![noted(a("u1", "198.51.100.4"), "Bob's server")],
                touched: vec![],
                created: None,
                unowned: Some((vec!["u1"], true)),
            },
            Case {
                what: "a marked record: updated in place",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![noted(a("m1", "198.51.100.4"), "managed by ddflare")],
                touched: vec!["m1"],
                created: None,
                unowned: None,
            },
            Case {
                what: "marked and unmarked: the marked one updated, the other reported",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![
                    a("u1", "198.51.100.4"),
                    noted(a("m1", "198.51.100.4"), "home (DDFLARE)"),
                ],
                touched: vec!["m1"],
                created: None,
                unowned: Some((vec!["u1"], false)),
            },
            Case {
                what: "an unmarked record already right is still not ddflare's",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![
                    a("u1", "203.0.113.7"),
                    noted(a("m1", "198.51.100.4"), "ddflare"),
                ],
                touched: vec!["m1"],
                created: None,
                unowned: Some((vec!["u1"], false)),
            },
            Case {
                what: "marked duplicates: one kept, the other deleted; unmarked kept",
                want: owned("home.example.com", "A", "203.0.113.7"),
                existing: vec![
                    noted(a("m1", "198.51.100.4"), "ddflare"),
                    a("u1", "198.51.100.9"),
                    noted(a("m2", "203.0.113.7"), "ddflare"),
                ],
                touched: vec!["m1"],
                created: None,
                unowned: Some((vec!["u1"], false)),
            },
            Case {
                what: "all mode: the unmarked record is ddflare's",
                want: want("home.example.com", "A", "203.0.113.7"),
                existing: vec![a("u1", "198.51.100.4")],
                touched: vec!["u1"],
                created: None,
                unowned: None,
            },
        ];
        for c in cases {
            let p = plan(std::slice::from_ref(&c.want), &c.existing);
            assert_eq!(touched(&p), c.touched, "{}", c.what);
            let created: Vec<Option<&str>> = p
                .changes
                .iter()
                .filter_map(|ch| match ch {
                    Change::Create(n) => Some(n.comment.as_deref()),
                    _ => None,
                })
                .collect();
            assert_eq!(
                created,
                c.created.map(Some).into_iter().collect::<Vec<_>>(),
                "{}",
                c.what
            );
            let unowned = p.unowned.first().map(|u| {
                (
                    u.records.iter().map(|(id, _)| id.as_str()).collect(),
                    u.skipped,
                )
            });
            assert_eq!(unowned, c.unowned, "{}", c.what);
            assert!(p.unowned.len() <= 1, "{}", c.what);
        }
    }

    #[test]
    fn a_kept_marked_record_keeps_its_comment_when_none_is_configured() {
        let p = plan(
            &[owned("home.example.com", "A", "203.0.113.7")],
            &[noted(
                rec("m1", "home.example.com", "A", "198.51.100.4"),
                "Bob's NAS, ddflare",
            )],
        );
        assert!(
            matches!(&p.changes[..], [Change::Update { patch, .. }] if patch.comment.is_none()),
            "{p:?}"
        );
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
            prop_oneof![
                Just(None),
                Just(Some("x".to_string())),
                Just(Some("managed by ddflare".to_string())),
                Just(Some("Bob's, not myddflare".to_string())),
            ],
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
                        prop_oneof![
                            Just(None),
                            Just(Some("managed".to_string())),
                            Just(Some("nas (ddflare)".to_string())),
                        ],
                        any::<bool>(),
                    ),
                    n,
                ),
            )
                .prop_map(|(keys, attrs)| {
                    keys.into_iter()
                        .zip(attrs)
                        .map(|((n, v6), (c, ttl, proxied, comment, by_comment))| {
                            let ownership = if by_comment {
                                Ownership::Comment
                            } else {
                                Ownership::All
                            };
                            Desired {
                                name: NAMES[n].into(),
                                rtype: if v6 { "AAAA" } else { "A" },
                                content: if v6 { V6[c % 2] } else { V4[c] }.parse().unwrap(),
                                ttl,
                                proxied,
                                // The config refuses a comment without the marker in comment
                                // mode.
                                comment: comment
                                    .filter(|c| ownership == Ownership::All || carries_marker(c)),
                                ownership,
                            }
                        })
                        .collect()
                })
        })
    }

    proptest! {
        /// Applying the plan yields exactly one owned record per managed (name, type) that
        /// ddflare may manage, matching the desired state; foreign records (other types, other
        /// names, unmarked records in comment mode) are in no change and come out identical;
        /// a (name, type) holding only unmarked records gets nothing new; planning again finds
        /// nothing to do.
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
            let owner = |r: &Record| {
                desired
                    .iter()
                    .find(|d| d.name == r.name && d.rtype == r.rtype)
                    .filter(|d| d.ownership.owns(r.comment.as_deref()))
            };
            // No change names a foreign record.
            let foreign: Vec<&Record> = existing.iter().filter(|r| owner(r).is_none()).collect();
            for id in touched(&p) {
                prop_assert!(foreign.iter().all(|r| r.id != id), "{} is foreign: {:?}", id, p);
            }
            let after = apply(&existing, &p);
            for d in &desired {
                let key = |r: &&Record| r.name == d.name && r.rtype == d.rtype;
                let mine: Vec<&Record> = after
                    .iter()
                    .filter(key)
                    .filter(|r| d.ownership.owns(r.comment.as_deref()))
                    .collect();
                let only_foreign_before = existing.iter().filter(key).count() > 0
                    && existing.iter().filter(key).all(|r| !d.ownership.owns(r.comment.as_deref()));
                if only_foreign_before {
                    prop_assert!(mine.is_empty(), "created next to an unmarked record: {:?}", p);
                    prop_assert!(p.unowned.iter().any(|u| u.name == d.name && u.rtype == d.rtype && u.skipped));
                    continue;
                }
                prop_assert_eq!(mine.len(), 1);
                let r = mine[0];
                prop_assert_eq!(r.content.parse::<IpAddr>().unwrap(), d.content);
                if let Some(p) = d.proxied { prop_assert_eq!(r.proxied, p); }
                if let (Some(t), false) = (d.ttl, r.proxied) { prop_assert_eq!(r.ttl, t); }
                if let Some(c) = &d.comment { prop_assert_eq!(r.comment.as_ref(), Some(c)); }
            }
            // Foreign records come out exactly as they went in, in the same order.
            let untouched: Vec<&Record> = after
                .iter()
                .filter(|r| foreign.iter().any(|f| f.id == r.id))
                .collect();
            prop_assert_eq!(foreign, untouched);
            let again = plan(&desired, &after);
            prop_assert!(again.changes.is_empty(), "{:?}", again);
        }

        /// Issue 13, item 1: whatever the listing repeats (the same id twice, even with
        /// different contents), no id is both kept (unchanged or updated) and deleted, no id
        /// is in two changes, so no batch touches an id twice, and every id changed was
        /// listed.
        #[test]
        fn no_id_is_both_kept_and_deleted_nor_touched_twice(
            listed in proptest::collection::vec((arb_record(), 0usize..4), 0..12),
            desired in arb_desired(),
        ) {
            let existing: Vec<Record> = listed
                .into_iter()
                .map(|(mut r, id)| {
                    r.id = format!("id{id}");
                    r
                })
                .collect();
            let p = plan(&desired, &existing);
            let mut kept: Vec<&str> = p.unchanged.iter().map(|(_, _, id)| id.as_str()).collect();
            let mut deleted: Vec<&str> = Vec::new();
            for c in &p.changes {
                match c {
                    Change::Update { id, .. } => kept.push(id),
                    Change::Delete { id, .. } => deleted.push(id),
                    Change::Create(_) => {}
                }
            }
            for id in &deleted {
                prop_assert!(!kept.contains(id), "{} kept and deleted: {:?}", id, p);
            }
            let mut all = kept.clone();
            all.extend(&deleted);
            let mut unique = all.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), all.len(), "an id twice: {:?}", p);
            for id in touched(&p) {
                prop_assert!(existing.iter().any(|r| r.id == id), "{} never listed", id);
            }
        }
    }

    #[test]
    fn a_record_listed_twice_is_kept_not_deleted() {
        let r = rec("a1", "home.example.com", "A", "203.0.113.7");
        let p = plan(
            &[want("home.example.com", "A", "203.0.113.7")],
            &[r.clone(), r],
        );
        assert!(p.changes.is_empty(), "{p:?}");
        assert_eq!(
            p.unchanged,
            vec![("home.example.com".into(), "A", "a1".into())]
        );
    }
}
