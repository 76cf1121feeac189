//! Ids of the API's shape both ways: an id that is not one (32 lowercase hex characters) is
//! refused before it is put in a URL, and an answer carrying one is refused whole (such an id
//! could never be updated or deleted safely, and it means the answer is not Cloudflare's).

use super::error::{ApiError, ErrorKind};
use super::types::{Record, Zone, is_id, shown_id};

/// `records`, refused whole when one has an id that is not of the API's shape: such an id
/// could never be updated or deleted safely, and it means the answer is not Cloudflare's.
pub(super) fn checked_records(records: Vec<Record>, action: &str) -> Result<Vec<Record>, ApiError> {
    match records.iter().find(|r| !is_id(&r.id)) {
        Some(bad) => Err(
            ApiError::new(ErrorKind::Decode, action).with_detail(format!(
                "record id `{}` is not a Cloudflare id (32 lowercase hex characters)",
                shown_id(&bad.id)
            )),
        ),
        None => Ok(records),
    }
}

/// A record id about to go into a URL: of the API's shape, or refused.
pub(super) fn checked_id<'a>(id: &'a str, action: &str) -> Result<&'a str, ApiError> {
    if is_id(id) {
        Ok(id)
    } else {
        Err(
            ApiError::new(ErrorKind::Decode, action).with_detail(format!(
                "record id `{}` is not a Cloudflare id (32 lowercase hex characters)",
                shown_id(id)
            )),
        )
    }
}

/// Zones with ids of the API's shape only (see [`checked_records`]).
pub(super) fn checked_zones(zones: Vec<Zone>, action: &str) -> Result<Vec<Zone>, ApiError> {
    match zones.iter().find(|z| !is_id(&z.id)) {
        Some(bad) => Err(
            ApiError::new(ErrorKind::Decode, action).with_detail(format!(
                "zone id `{}` of {} is not a Cloudflare id (32 lowercase hex characters)",
                shown_id(&bad.id),
                bad.name.escape_debug()
            )),
        ),
        None => Ok(zones),
    }
}

/// One record as a create or an update returned it, its id checked.
pub(super) fn checked_record(record: Record, action: &str) -> Result<Record, ApiError> {
    checked_records(vec![record], action)?
        .pop()
        .ok_or_else(|| ApiError::new(ErrorKind::Decode, action))
}
