//! Zone lookup: which Cloudflare zone holds a record. The configured `zone_id` when there is
//! one, else the zone the cache remembers, else the token's zones listed once per round (when
//! several names need a look) or a walk up the name's labels (`GET /zones?name=`). Reads only:
//! nothing here writes to Cloudflare. A zone that is not `active` (its nameservers are not
//! Cloudflare's yet, or any more) is said so, and not cached, so it is looked at again.

use std::collections::BTreeMap;

use tracing::{debug, warn};

use super::lines::note_rate_limit;
use crate::cloudflare::{ApiError, DnsApi, Zone};
use crate::config::RecordConfig;
use crate::round::RoundReport;

/// How many pages of 50 zones ddflare lists to find its names' zones at once; a token that
/// sees more zones gets a lookup per name.
const ZONE_LIST_PAGES: u32 = 4;

const NOT_FOUND_HINT: &str = "the token cannot see the zone, or the domain is not on this Cloudflare account: give the token Zone → DNS → Edit on the zone (My Profile → API Tokens → Zone Resources), or set `zone_id` on the record";

/// Why a name's zone could not be found.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ZoneError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("no zone found for {record} (asked for {})", .tried.join(", "))]
    NotFound { record: String, tried: Vec<String> },
    #[error("{count} zones are named {name}")]
    Ambiguous { name: String, count: usize },
}

impl ZoneError {
    /// The next step for the user, if there is one to give.
    pub fn hint(&self) -> Option<String> {
        match self {
            ZoneError::Api(e) => e.hint(),
            ZoneError::NotFound { .. } => Some(NOT_FOUND_HINT.to_owned()),
            ZoneError::Ambiguous { .. } => {
                Some("set `zone_id` on the record to pick one".to_owned())
            }
        }
    }
}

/// The token's zones, if they fit in a few pages; `None` (and a lookup per name) otherwise
/// or when the listing fails.
pub(super) async fn list_zones<A: DnsApi>(api: &A, report: &mut RoundReport) -> Option<Vec<Zone>> {
    report.api_calls += 1;
    match api.all_zones(ZONE_LIST_PAGES).await {
        Ok(zones) => zones,
        Err(e) => {
            debug!(error = %e, "listing the zones failed; looking them up by name");
            note_rate_limit(report, &e);
            None
        }
    }
}

/// The zone of `rec` this round: from the cache (`known`, by record name), the round's
/// listing, or a lookup; what was looked up is remembered in `known`. `calls` counts the API
/// calls made.
pub(super) async fn zone_of<A: DnsApi>(
    api: &A,
    known: &mut BTreeMap<String, Zone>,
    rec: &RecordConfig,
    listed: Option<&[Zone]>,
    calls: &mut usize,
) -> Result<Zone, ZoneError> {
    if rec.zone_id.is_none()
        && let Some(zone) = known.get(&rec.name)
    {
        return Ok(zone.clone());
    }
    let picked = match (&rec.zone_id, listed) {
        (None, Some(zones)) => pick_zone(zones, rec).cloned(),
        _ => None,
    };
    let zone = match picked {
        Some(zone) => {
            debug!(record = %rec.name, zone = %zone.name, id = %zone.id, "zone found");
            zone
        }
        // Not in the listing (or ambiguous): the lookup by name says why.
        None => find_zone(api, rec, calls).await?,
    };
    if rec.zone_id.is_none() && is_active(&zone) {
        known.insert(rec.name.clone(), zone.clone());
    }
    Ok(zone)
}

/// Whether Cloudflare serves the zone's records, as far as it said (no status: assumed).
fn is_active(zone: &Zone) -> bool {
    zone.status.as_deref().is_none_or(|s| s == "active")
}

/// Says, once per zone and round, that a zone is not `active`: changes are made, but
/// Cloudflare does not answer for them until it is.
pub(super) fn warn_inactive(zone: &Zone) {
    let Some(status) = zone.status.as_deref().filter(|_| !is_active(zone)) else {
        return;
    };
    let why = match status {
        "pending" => {
            "the domain's nameservers are not Cloudflare's yet: the records are saved but not served until the registrar points the domain at the nameservers Cloudflare assigned (dashboard → Overview)"
        }
        "initializing" => "Cloudflare is still setting it up: the records are not served yet",
        "moved" => {
            "the domain's nameservers no longer point at Cloudflare: the records are not served; point them back at Cloudflare's, or remove the zone's names from ddflare's config"
        }
        _ => "its records may not be served: check the zone's Overview page in the dashboard",
    };
    let status: String = status.chars().take(32).collect();
    warn!(
        "zone {} is `{}` on Cloudflare, not active: {why}",
        zone.label().escape_debug(),
        status.escape_debug()
    );
}

/// The zone of a record: `zone_id` when configured, else `GET /zones?name=` on each suffix of
/// the name, longest first (or only on `zone` when configured); exactly one match wins.
/// `calls` counts the API calls made.
pub async fn find_zone<A: DnsApi>(
    api: &A,
    rec: &RecordConfig,
    calls: &mut usize,
) -> Result<Zone, ZoneError> {
    if let Some(id) = &rec.zone_id {
        return Ok(Zone {
            id: id.clone(),
            name: rec.zone.clone().unwrap_or_default(),
            status: None,
        });
    }
    let candidates = candidates(rec);
    for candidate in &candidates {
        *calls += 1;
        let mut zones = api.zones_named(candidate).await?;
        match zones.len() {
            0 => continue,
            1 => {
                if let Some(zone) = zones.pop() {
                    debug!(record = %rec.name, zone = %zone.name, id = %zone.id, "zone found");
                    return Ok(zone);
                }
            }
            count => {
                return Err(ZoneError::Ambiguous {
                    name: candidate.clone(),
                    count,
                });
            }
        }
    }
    Err(ZoneError::NotFound {
        record: rec.name.clone(),
        tried: candidates,
    })
}

/// PURE: the zone of `rec` among the token's zones: its configured `zone`, else the longest
/// suffix of its name that is a zone. `None` when none is, or when a name is held by several
/// zones (accounts): [`find_zone`] then reports it.
pub fn pick_zone<'a>(zones: &'a [Zone], rec: &RecordConfig) -> Option<&'a Zone> {
    for candidate in &candidates(rec) {
        let mut named = zones.iter().filter(|z| z.name == *candidate);
        match (named.next(), named.next()) {
            (Some(zone), None) => return Some(zone),
            (None, _) => continue,
            (Some(_), Some(_)) => return None,
        }
    }
    None
}

/// The zone names that may hold `rec`, longest first: its configured `zone`, else the
/// suffixes of its name.
fn candidates(rec: &RecordConfig) -> Vec<String> {
    match &rec.zone {
        Some(z) => vec![z.clone()],
        None => suffixes(&rec.name),
    }
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`: longest first,
/// never a bare TLD.
pub fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .filter(|s| !s.starts_with("*."))
        .collect()
}
