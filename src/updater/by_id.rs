//! Writing by the cached record ids. With a warm cache (the record confirmed less than
//! `state.max_age` ago, with the same settings), a changed address costs one request per zone
//! — a PATCH, or one batch for several — instead of a listing followed by the writes.
//!
//! The answer decides what the write proved. A record that is gone, or whose type changed so
//! that the address is refused (404/81044, 7003, another 4xx), falls back to the usual
//! read → plan → apply in the same round. A record renamed (or retyped to one that takes the
//! address, such as TXT) in the dashboard keeps its id, so the write reached a record ddflare
//! does not manage: its content is put back and the name falls back too. Any other failure
//! (rate limit, auth, 5xx, network) fails the (name, type) as a listing's would, and drops its
//! cache entry so the next round reads the zone. Drift a write cannot see (a record's other
//! fields, a duplicate added) is still caught by the `state.max_age` re-read.
//!
//! PURE: the calls go through [`super::apply`], the one writer.

use crate::cloudflare::{ErrorKind, Record, RecordPatch};
use crate::plan::{Change, Desired};
use crate::state::{self, State};

use super::apply::Applied;
use super::lines::find;

/// The updates that move each of `warm` from its cached address to the new one, by id. A
/// (name, type) without a cache entry has no update (the caller chose `warm` from the cache).
pub(super) fn changes(state: &State, warm: &[Desired]) -> Vec<Change> {
    warm.iter()
        .filter_map(|d| {
            let e = state.records.get(&state::key(&d.name, d.rtype))?;
            Some(Change::Update {
                id: e.id.clone(),
                name: d.name.clone(),
                rtype: d.rtype.to_owned(),
                from: e.content.to_string(),
                patch: RecordPatch {
                    content: Some(d.content.to_string()),
                    ..RecordPatch::default()
                },
            })
        })
        .collect()
}

/// What the writes by id came to.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    /// Done or failed for good: for the bookkeeping, as any applied change.
    pub done: Vec<Applied>,
    /// To read and plan as usual, this round.
    pub cold: Vec<Desired>,
    /// Writes that reached a record ddflare does not manage (renamed or retyped since the
    /// cache was filled), each with the update that puts its content back.
    pub restore: Vec<(Record, Change)>,
}

/// Sorts the results of [`changes`] (applied for `warm`).
pub(super) fn sort(results: Vec<Applied>, warm: &[Desired]) -> Sorted {
    let mut out = Sorted::default();
    for (change, result) in results {
        let (name, rtype) = change.key();
        let Some(d) = find(warm, name, rtype) else {
            continue;
        };
        match (&result, &change) {
            (Err(e), _)
                if matches!(
                    e.kind,
                    ErrorKind::NotFound | ErrorKind::BadIdentifier | ErrorKind::Rejected
                ) =>
            {
                out.cold.push(d.clone());
            }
            (Ok(Some(rec)), Change::Update { id, from, .. })
                if !rec.name.eq_ignore_ascii_case(&d.name) || rec.rtype != d.rtype =>
            {
                let back = Change::Update {
                    id: id.clone(),
                    name: rec.name.clone(),
                    rtype: rec.rtype.clone(),
                    from: rec.content.clone(),
                    patch: RecordPatch {
                        content: Some(from.clone()),
                        ..RecordPatch::default()
                    },
                };
                out.restore.push((rec.clone(), back));
                out.cold.push(d.clone());
            }
            _ => out.done.push((change, result)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::ApiError;
    use crate::plan::Ownership;
    use crate::state::Entry;
    use crate::testing::cf_record;

    const ID: &str = "372e67954025e0ba6aaa6d586b9e0b59";

    fn home() -> Desired {
        Desired {
            name: "home.example.com".into(),
            rtype: "A",
            content: "203.0.113.7".parse().unwrap(),
            ttl: Some(300),
            proxied: Some(false),
            comment: None,
            ownership: Ownership::All,
        }
    }

    fn update() -> Change {
        let mut state = State::default();
        state.records.insert(
            state::key("home.example.com", "A"),
            Entry {
                id: ID.into(),
                content: "198.51.100.4".parse().unwrap(),
                settings: String::new(),
                synced_at: 0,
            },
        );
        let mut c = changes(&state, &[home()]);
        assert_eq!(c.len(), 1);
        c.remove(0)
    }

    #[test]
    fn the_update_patches_only_the_address_of_the_cached_id() {
        let Change::Update {
            id, from, patch, ..
        } = update()
        else {
            panic!("not an update");
        };
        assert_eq!(id, ID);
        assert_eq!(from, "198.51.100.4");
        assert_eq!(
            patch,
            RecordPatch {
                content: Some("203.0.113.7".into()),
                ..RecordPatch::default()
            }
        );
        assert!(changes(&State::default(), &[home()]).is_empty());
    }

    #[test]
    fn a_confirmed_write_is_done() {
        let rec = cf_record(ID, "home.example.com", "A", "203.0.113.7");
        let s = sort(vec![(update(), Ok(Some(rec)))], &[home()]);
        assert_eq!(s.done.len(), 1);
        assert!(s.cold.is_empty() && s.restore.is_empty());
    }

    #[test]
    fn a_record_gone_or_refusing_the_address_falls_back_to_a_listing() {
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::BadIdentifier,
            ErrorKind::Rejected,
        ] {
            let s = sort(
                vec![(update(), Err(ApiError::new(kind.clone(), "patch")))],
                &[home()],
            );
            assert_eq!(s.cold, vec![home()], "{kind:?}");
            assert!(s.done.is_empty() && s.restore.is_empty());
        }
    }

    #[test]
    fn other_failures_fail_the_record_without_another_call() {
        for kind in [
            ErrorKind::RateLimited { retry_after: None },
            ErrorKind::Forbidden,
            ErrorKind::Server,
            ErrorKind::Network,
            ErrorKind::Timeout,
        ] {
            let s = sort(
                vec![(update(), Err(ApiError::new(kind.clone(), "patch")))],
                &[home()],
            );
            assert_eq!(s.done.len(), 1, "{kind:?}");
            assert!(s.cold.is_empty() && s.restore.is_empty());
        }
    }

    #[test]
    fn a_renamed_or_retyped_record_gets_its_content_back() {
        for (name, rtype) in [("other.example.com", "A"), ("home.example.com", "TXT")] {
            let rec = cf_record(ID, name, rtype, "203.0.113.7");
            let s = sort(vec![(update(), Ok(Some(rec)))], &[home()]);
            assert_eq!(s.cold, vec![home()]);
            assert!(s.done.is_empty());
            let [(seen, back)] = s.restore.as_slice() else {
                panic!("{:?}", s.restore);
            };
            assert_eq!(seen.name, name);
            let Change::Update {
                id,
                name: n,
                rtype: t,
                patch,
                ..
            } = back
            else {
                panic!("not an update");
            };
            assert_eq!((id.as_str(), n.as_str(), t.as_str()), (ID, name, rtype));
            assert_eq!(patch.content.as_deref(), Some("198.51.100.4"));
        }
    }

    #[test]
    fn the_name_is_compared_without_case() {
        let rec = cf_record(ID, "Home.Example.com", "A", "203.0.113.7");
        let s = sort(vec![(update(), Ok(Some(rec)))], &[home()]);
        assert_eq!(s.done.len(), 1);
    }
}
