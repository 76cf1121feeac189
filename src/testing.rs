//! Test builders: one place that knows how to make a plain [`RecordConfig`], [`ScheduleConfig`]
//! or Cloudflare [`Record`], so a test states only what it changes
//! (`RecordConfig { ipv6: true, ..record("home.example.com") }`) and a new field is added here
//! once, not in every test. Compiled for tests only.

use std::time::Duration;

use crate::cloudflare::Record;
use crate::config::RecordConfig;
use crate::plan::Ownership;
use crate::schedule::ScheduleConfig;

/// An A-only record with every option left to Cloudflare, owning the whole name.
pub fn record(name: &str) -> RecordConfig {
    RecordConfig {
        name: name.into(),
        zone: None,
        zone_id: None,
        ipv4: true,
        ipv6: false,
        ttl: None,
        proxied: None,
        comment: None,
        ipv6_host: None,
        ownership: Ownership::All,
        delete_on_stop: false,
        credentials: None,
    }
}

/// The defaults of `[schedule]`: every 5 minutes, a 2-minute round deadline, a 10-second grace,
/// no cron, no jitter, a round at once on start.
pub fn schedule() -> ScheduleConfig {
    ScheduleConfig {
        interval: Duration::from_secs(300),
        cycle_deadline: Duration::from_secs(120),
        shutdown_grace: Duration::from_secs(10),
        cron: None,
        jitter: Duration::ZERO,
        update_on_start: true,
        timezone: None,
    }
}

/// A record as Cloudflare lists it: proxiable, not proxied, automatic TTL, no comment.
pub fn cf_record(id: &str, name: &str, rtype: &str, content: &str) -> Record {
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
