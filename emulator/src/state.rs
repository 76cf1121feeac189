//! The emulator's in-memory state: configuration, zones with their records, tokens.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::model::{Plan, Record, RequestLog, TokenScope, ZoneOptions, ZoneStatus};
use crate::ratelimit::RateLimiter;
use crate::util::{hex_id, is_identifier, now_rfc3339};

/// Behaviour switches. Set through [`crate::Emulator`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub rate_quota: u32,
    pub rate_window: Duration,
    /// Overrides the plan's batch limit for every zone.
    pub batch_limit: Option<usize>,
    /// Wrap 9xxx validation errors in 1004 "DNS Validation Error" (pre-2024-10 style).
    pub wrapped_errors: bool,
    pub trace_warp: String,
    pub trace_ip: Option<IpAddr>,
    /// Unregistered tokens must also look like real ones (40 chars, or `cfut_`/`cfat_`/`cfk_`).
    pub strict_token_format: bool,
    pub account_id: String,
    pub account_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            rate_quota: 1200,
            rate_window: Duration::from_secs(300),
            batch_limit: None,
            wrapped_errors: false,
            trace_warp: "off".to_owned(),
            trace_ip: None,
            strict_token_format: false,
            account_id: hex_id("account:ddflare-emulator"),
            account_name: "Emulated Account".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Zone {
    pub id: String,
    pub name: String,
    pub status: ZoneStatus,
    pub plan: Plan,
    pub paused: bool,
    pub created_on: String,
    /// In creation order.
    pub records: Vec<Record>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub config: Config,
    pub zones: Vec<Zone>,
    pub tokens: HashMap<String, TokenScope>,
    /// (email, key) pairs accepted as legacy global API keys.
    pub global_keys: Vec<(String, String)>,
    pub faults: Faults,
    /// The request log, with a sequence number per entry (arrival order).
    pub requests: Vec<(u64, RequestLog)>,
    pub request_seq: u64,
    pub rate: RateLimiter,
    /// The account's IP lists and their bulk operations.
    pub lists: crate::lists::Lists,
    /// Zero Trust Gateway locations by id, as GET returns them.
    pub gateway_locations: HashMap<String, serde_json::Value>,
    record_seq: u64,
    ray_seq: u64,
}

/// What a state file holds: the zones with their records, and the id sequence (so a
/// restarted emulator never hands out an id twice). Tokens, faults and switches come from the
/// command line again.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    record_seq: u64,
    zones: Vec<Zone>,
}

impl State {
    /// Writes the zones and records to `path` atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let snap = Snapshot {
            record_seq: self.record_seq,
            zones: self.zones.clone(),
        };
        let data = serde_json::to_vec_pretty(&snap).map_err(io::Error::other)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Reads a file written by [`State::save`]: its zones replace those with the same id, the
    /// others are added. A missing file is an empty start.
    pub fn restore(&mut self, path: &Path) -> io::Result<()> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let snap: Snapshot = serde_json::from_slice(&data)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.record_seq = self.record_seq.max(snap.record_seq);
        for zone in snap.zones {
            match self.zones.iter_mut().find(|z| z.id == zone.id) {
                Some(z) => *z = zone,
                None => self.zones.push(zone),
            }
        }
        Ok(())
    }

    /// Adds a zone (or returns the id of the existing one with that name).
    pub fn add_zone(&mut self, name: &str, options: ZoneOptions) -> String {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(zone) = self.zones.iter().find(|z| z.name == name) {
            return zone.id.clone();
        }
        let id = hex_id(&format!("zone:{name}"));
        self.zones.push(Zone {
            id: id.clone(),
            name,
            status: options.status,
            plan: options.plan,
            paused: options.paused,
            created_on: now_rfc3339(),
            records: Vec::new(),
        });
        id
    }

    /// Finds a zone by id or (case-insensitive) name.
    pub fn zone_index(&self, zone: &str) -> Option<usize> {
        let zone = zone.trim_end_matches('.');
        if is_identifier(zone) {
            self.zones.iter().position(|z| z.id == zone)
        } else {
            self.zones
                .iter()
                .position(|z| z.name.eq_ignore_ascii_case(zone))
        }
    }

    pub fn new_record_id(&mut self, zone_id: &str) -> String {
        self.record_seq += 1;
        hex_id(&format!("record:{}:{zone_id}", self.record_seq))
    }

    /// A `cf-ray` value: 16 hex digits and a pseudo colo.
    pub fn next_ray(&mut self) -> String {
        self.ray_seq += 1;
        let id = hex_id(&format!("ray:{}", self.ray_seq));
        format!("{}-EMU", &id[..16])
    }
}
