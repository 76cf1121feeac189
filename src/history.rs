//! The history of address changes: when, which record (name, type), from what, to what. Kept
//! in the state dir as `history.json` (through [`crate::files`]: atomic, never through a link,
//! capped), bounded to the last [`MAX_ENTRIES`] changes and [`MAX_BYTES`]. `ddflare history`
//! prints it; the status page shows the last few.
//!
//! What a round changed ([`changes`]) and the bounding ([`append`], [`encode`]) are PURE; [`load`]
//! and [`record`] are the edge.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::clock::unix;
use crate::files::{self, FileError, Kind};
use crate::round::{Outcome, RoundEnd};

pub const FILE_NAME: &str = "history.json";
/// The most changes kept.
pub const MAX_ENTRIES: usize = 200;
/// The largest file written (and [`Kind::History`]'s read cap): the oldest changes go first.
pub const MAX_BYTES: usize = 64 << 10;
const VERSION: u32 = 1;

/// One address change of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Unix seconds.
    pub at: u64,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// The address before; `None` for a record ddflare created.
    pub from: Option<String>,
    pub to: String,
}

#[derive(Serialize, Deserialize)]
struct HistoryFile {
    version: u32,
    changes: Vec<Change>,
}

/// The changes a round made on Cloudflare (records created or updated), at `at`.
pub fn changes(end: &RoundEnd, at: SystemTime) -> Vec<Change> {
    let RoundEnd::Done(report) = end else {
        return Vec::new();
    };
    report
        .lines
        .iter()
        .filter_map(|l| {
            let from = match &l.outcome {
                Outcome::Created => None,
                Outcome::Updated { from } => Some(from.clone()),
                _ => return None,
            };
            Some(Change {
                at: unix(at),
                name: l.name.clone(),
                rtype: l.rtype.to_owned(),
                from,
                to: l.content.to_string(),
            })
        })
        .collect()
}

/// `old` with `new` after it, the oldest dropped beyond `max` entries.
pub fn append(mut old: Vec<Change>, new: &[Change], max: usize) -> Vec<Change> {
    old.extend_from_slice(new);
    let drop = old.len().saturating_sub(max);
    old.drain(..drop);
    old
}

/// The file's bytes: the oldest changes dropped until it fits in [`MAX_BYTES`].
pub fn encode(mut changes: Vec<Change>) -> Vec<u8> {
    loop {
        let file = HistoryFile {
            version: VERSION,
            changes,
        };
        let bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        changes = file.changes;
        if bytes.len() <= MAX_BYTES || changes.is_empty() {
            return bytes;
        }
        // Drop about the share that is over, at least one.
        let over = (bytes.len() - MAX_BYTES)
            .div_ceil(bytes.len() / changes.len())
            .max(1);
        changes.drain(..over.min(changes.len()));
    }
}

/// The history of `dir`, oldest first; none yet is empty. Errors say why it cannot be read.
pub fn load(dir: &Path) -> Result<Vec<Change>, String> {
    match files::read_state(dir, FILE_NAME, Kind::History) {
        Ok(bytes) => serde_json::from_slice::<HistoryFile>(&bytes)
            .map(|f| f.changes)
            .map_err(|e| {
                format!(
                    "the history file {} is damaged ({e}); remove it to start a new one",
                    files::state_file(dir, FILE_NAME).display()
                )
            }),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// Appends what a round changed to the history of `dir`. A damaged file is started afresh
/// (the history is a convenience, never a reason to stop updating).
pub fn record(dir: &Path, new: &[Change]) -> Result<(), FileError> {
    if new.is_empty() {
        return Ok(());
    }
    let old = load(dir).unwrap_or_default();
    let data = encode(append(old, new, MAX_ENTRIES));
    files::write_state(dir, FILE_NAME, Kind::History, &data, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round::{Line, RoundReport};
    use std::time::{Duration, UNIX_EPOCH};

    fn change(i: u64) -> Change {
        Change {
            at: i,
            name: format!("host{i}.example.com"),
            rtype: "A".into(),
            from: Some("198.51.100.4".into()),
            to: "203.0.113.7".into(),
        }
    }

    #[test]
    fn a_round_yields_its_creations_and_updates() {
        let line = |name: &str, outcome| Line {
            name: name.into(),
            rtype: "AAAA",
            content: "2001:db8::7".parse().unwrap(),
            outcome,
        };
        let end = RoundEnd::Done(RoundReport {
            lines: vec![
                line("a.example.com", Outcome::Created),
                line(
                    "b.example.com",
                    Outcome::Updated {
                        from: "2001:db8::1".into(),
                    },
                ),
                line("c.example.com", Outcome::Unchanged),
                line("d.example.com", Outcome::Cached),
            ]
            .into(),
            retry_after: None,
            api_calls: 2,
        });
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let got = changes(&end, at);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].from.as_deref(), got[0].at), (None, 1_700_000_000));
        assert_eq!(got[1].from.as_deref(), Some("2001:db8::1"));
        assert_eq!(got[1].to, "2001:db8::7");
        assert!(changes(&RoundEnd::NothingDetected, at).is_empty());
    }

    #[test]
    fn the_history_is_bounded_in_entries_and_bytes() {
        let all: Vec<Change> = (0..250).map(change).collect();
        let kept = append(all[..150].to_vec(), &all[150..], MAX_ENTRIES);
        assert_eq!(kept.len(), MAX_ENTRIES);
        assert_eq!((kept[0].at, kept[199].at), (50, 249));
        // Long names: the bytes bound bites first, the newest kept.
        let long: Vec<Change> = (0..200)
            .map(|i| Change {
                name: format!("{}.example.com", "x".repeat(600)),
                ..change(i)
            })
            .collect();
        let bytes = encode(long);
        assert!(bytes.len() <= MAX_BYTES, "{}", bytes.len());
        let f: HistoryFile = serde_json::from_slice(&bytes).unwrap();
        assert!(f.changes.len() > 50 && f.changes.len() < 200);
        assert_eq!(f.changes.last().unwrap().at, 199);
    }

    #[test]
    fn recorded_through_the_state_dir_and_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), Ok(vec![]));
        record(dir.path(), &[change(1)]).unwrap();
        record(dir.path(), &[]).unwrap();
        record(dir.path(), &[change(2), change(3)]).unwrap();
        let got = load(dir.path()).unwrap();
        assert_eq!(got.iter().map(|c| c.at).collect::<Vec<_>>(), [1, 2, 3]);
        // A damaged file is said so on load, and started afresh by the next change.
        std::fs::write(dir.path().join(FILE_NAME), "{").unwrap();
        assert!(load(dir.path()).unwrap_err().contains("damaged"));
        record(dir.path(), &[change(4)]).unwrap();
        assert_eq!(load(dir.path()).unwrap(), vec![change(4)]);
        // A link planted at the name is refused on read, replaced (not followed) on write.
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        std::fs::remove_file(dir.path().join(FILE_NAME)).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(FILE_NAME)).unwrap();
        assert!(load(dir.path()).is_err());
        record(dir.path(), &[change(5)]).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(load(dir.path()).unwrap(), vec![change(5)]);
    }
}
