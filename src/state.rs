//! The cache of what ddflare published, per (name, record type) — never per name alone, or A
//! and AAAA would overwrite each other — plus each name's zone. It lets a restart with an
//! unchanged address make no API call at all. Read and written through [`crate::files`]
//! (capped, never through a link, atomically); a missing or unreadable file only costs one
//! re-read of the records.
//!
//! It also remembers the ids of the records ddflare created ([`State::created`]): the only
//! records `delete_on_stop` may delete. Files written before that field existed load with
//! none (ddflare never deletes a record it cannot prove it created).
//!
//! And what each account IP list (`[[list]]`) held when Cloudflare last confirmed it
//! ([`State::lists`]); files written before lists existed load with none (each list is read
//! once), so the version stays 1.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cloudflare::Zone;
use crate::files::{self, FileError, Kind};

pub const FILE_NAME: &str = "state.json";
/// How far ahead of the clock a `synced_at` may be and still count: clocks of successive runs
/// (or a small NTP step) disagree by seconds, not by minutes. Further ahead (a clock that was
/// ahead, a planted file), the entry is stale.
pub const FUTURE_SLACK_SECS: u64 = 300;
const VERSION: u32 = 1;

/// `[state]`: where the cache lives and how long it is trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct StateConfig {
    /// `dir`: default `$STATE_DIRECTORY` (systemd), else `/var/lib/ddflare`.
    pub dir: PathBuf,
    /// `max_age`: re-read the records from Cloudflare when the cache is older. Default 6h.
    pub max_age: Duration,
}

/// What was last published for one (name, type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The record id on Cloudflare.
    pub id: String,
    pub content: IpAddr,
    /// The settings ddflare enforced (ttl, proxied, comment), so a config change is noticed.
    pub settings: String,
    /// Unix seconds of the last time Cloudflare confirmed this record.
    pub synced_at: u64,
}

impl Entry {
    /// Whether Cloudflare's confirmation lies further in the future than clocks disagree by
    /// (`now` in Unix seconds): such an entry vouches for nothing.
    pub fn from_the_future(&self, now: u64) -> bool {
        self.synced_at > now.saturating_add(FUTURE_SLACK_SECS)
    }
}

/// What one IP list held of ddflare's when Cloudflare last confirmed it, by
/// [`list_key`] in [`State::lists`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The list's id on Cloudflare.
    pub id: String,
    /// The IPv4 and IPv6 items of ddflare's (`None`: none of the family).
    pub v4: Option<IpAddr>,
    pub v6: Option<IpAddr>,
    /// The settings enforced (comment, families), so a config change is noticed.
    pub settings: String,
    /// Unix seconds of the last confirmation.
    pub synced_at: u64,
}

/// The map key of one IP list: `account/name`.
pub fn list_key(account: &str, name: &str) -> String {
    format!("{account}/{name}")
}

/// A record ddflare created (POST), by id in [`State::created`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub zone: Zone,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Record name → its zone.
    #[serde(default)]
    pub zones: BTreeMap<String, Zone>,
    /// `"name/TYPE"` → entry.
    #[serde(default)]
    pub records: BTreeMap<String, Entry>,
    /// Record id → the record ddflare created, while it exists (a record found on Cloudflare
    /// is never added here).
    #[serde(default)]
    pub created: BTreeMap<String, Created>,
    /// `account/name` → what the IP list holds of ddflare's.
    #[serde(default)]
    pub lists: BTreeMap<String, ListEntry>,
    /// Zero Trust Gateway location id → the address ddflare last wrote there as a /32
    /// (`content`) and when Gateway confirmed it (`synced_at`; `id` is the location's,
    /// `settings` empty): that entry is ddflare's to replace, no other. [`Entry`] again rather
    /// than a type of its own: no second serde instantiation in the binary.
    #[serde(default)]
    pub gateway: BTreeMap<String, Entry>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: VERSION,
            zones: BTreeMap::new(),
            records: BTreeMap::new(),
            created: BTreeMap::new(),
            lists: BTreeMap::new(),
            gateway: BTreeMap::new(),
        }
    }
}

/// The map key of one (name, type).
pub fn key(name: &str, rtype: &str) -> String {
    format!("{name}/{rtype}")
}

/// Where the state of `dir` lives (in its private subdirectory when the dir is shared: see
/// [`files::state_dir`]).
pub fn path(dir: &Path) -> PathBuf {
    files::state_file(dir, FILE_NAME)
}

impl State {
    /// Reads the cache. Never fails: a missing file is a first start; an unreadable, corrupt
    /// or foreign-version file is reported in the second value and replaced on the next save.
    pub fn load(dir: &Path) -> (State, Option<String>) {
        let text = match files::read_state(dir, FILE_NAME, Kind::State) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => return (State::default(), None),
            Err(e) => {
                return (
                    State::default(),
                    Some(format!(
                        "{e}; the records will be re-read from Cloudflare, and the file replaced"
                    )),
                );
            }
        };
        let file = path(dir);
        match serde_json::from_slice::<State>(&text) {
            Ok(state) if state.version == VERSION => (state, None),
            Ok(state) => (
                State::default(),
                Some(format!(
                    "the state file {} has version {}, this ddflare writes {VERSION}; starting afresh",
                    file.display(),
                    state.version
                )),
            ),
            Err(e) => (
                State::default(),
                Some(format!(
                    "the state file {} is damaged ({e}); the records will be re-read from Cloudflare",
                    file.display()
                )),
            ),
        }
    }

    /// Writes the cache atomically and durably: a crash leaves either the old file or the new
    /// one (write, fsync, rename, fsync the directory).
    pub fn save(&self, dir: &Path) -> Result<(), FileError> {
        let data = serde_json::to_vec_pretty(self).map_err(|e| FileError::Io {
            kind: Kind::State,
            path: path(dir),
            doing: "encode",
            source: e.into(),
        })?;
        files::write_state(dir, FILE_NAME, Kind::State, &data, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn sample() -> State {
        let mut s = State::default();
        s.zones.insert(
            "home.example.com".into(),
            Zone {
                id: "023e105f4ecef8ad9ca31a8372d0c353".into(),
                name: "example.com".into(),
                status: None,
            },
        );
        s.records.insert(
            key("home.example.com", "A"),
            Entry {
                id: "372e67954025e0ba6aaa6d586b9e0b59".into(),
                content: "203.0.113.7".parse().unwrap(),
                settings: String::new(),
                synced_at: 1_700_000_000,
            },
        );
        s.records.insert(
            key("home.example.com", "AAAA"),
            Entry {
                id: "472e67954025e0ba6aaa6d586b9e0b59".into(),
                content: "2001:db8::7".parse().unwrap(),
                settings: String::new(),
                synced_at: 1_700_000_000,
            },
        );
        s.created.insert(
            "372e67954025e0ba6aaa6d586b9e0b59".into(),
            Created {
                zone: s.zones["home.example.com"].clone(),
                name: "home.example.com".into(),
                rtype: "A".into(),
            },
        );
        s
    }

    #[test]
    fn a_file_from_before_created_ids_loads_with_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut json: serde_json::Value = serde_json::to_value(sample()).unwrap();
        json.as_object_mut().unwrap().remove("created");
        fs::write(path(dir.path()), json.to_string()).unwrap();
        let (back, warning) = State::load(dir.path());
        assert_eq!(warning, None);
        assert!(back.created.is_empty());
        assert_eq!(back.records.len(), 2);
    }

    #[test]
    fn a_file_from_before_lists_loads_with_none_and_lists_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        // A state file as the release before IP lists wrote it.
        let old = r#"{"version":1,"zones":{},"records":{"home.example.com/A":{"id":"372e67954025e0ba6aaa6d586b9e0b59","content":"203.0.113.7","settings":"","synced_at":1700000000}},"created":{}}"#;
        fs::write(path(dir.path()), old).unwrap();
        let (mut back, warning) = State::load(dir.path());
        assert_eq!(warning, None);
        assert!(back.lists.is_empty());
        assert_eq!(back.records.len(), 1);
        back.lists.insert(
            list_key("023e105f4ecef8ad9ca31a8372d0c353", "home_ips"),
            ListEntry {
                id: "2c0fc9fa937b11eaa1b71c4d701ab86e".into(),
                v4: Some("203.0.113.7".parse().unwrap()),
                v6: None,
                settings: "x".into(),
                synced_at: 1_700_000_000,
            },
        );
        back.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()), (back, None));
    }

    #[test]
    fn round_trips_and_keeps_a_and_aaaa_apart() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample();
        s.save(dir.path()).unwrap();
        let (back, warning) = State::load(dir.path());
        assert_eq!(warning, None);
        assert_eq!(back, s);
        assert_eq!(back.records.len(), 2);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn missing_file_is_a_silent_first_start() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(State::load(dir.path()), (State::default(), None));
    }

    #[test]
    fn damaged_files_start_afresh_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let full = serde_json::to_string(&sample()).unwrap();
        for bad in [
            String::new(),
            full[..full.len() / 2].to_string(),
            "not json".into(),
            full.replace("\"version\":1", "\"version\":99"),
        ] {
            fs::write(path(dir.path()), &bad).unwrap();
            let (state, warning) = State::load(dir.path());
            assert_eq!(state, State::default(), "for {bad:?}");
            assert!(warning.is_some(), "for {bad:?}");
        }
    }

    #[test]
    fn save_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        sample().save(&nested).unwrap();
        assert!(path(&nested).exists());
    }
}
