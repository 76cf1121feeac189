//! PURE: what the config asks for: which families a record wants, and the [`Desired`] state
//! of one (name, type) given the address detected for its family.

use std::net::IpAddr;

use crate::config::RecordConfig;
use crate::detect::{Detected, Family};
use crate::plan::Desired;

pub(super) fn wants(rec: &RecordConfig, family: Family) -> bool {
    match family {
        Family::V4 => rec.ipv4,
        Family::V6 => rec.ipv6,
    }
}

/// The family whose records have this type.
fn family_of(rtype: &str) -> Option<Family> {
    Family::ALL.into_iter().find(|f| f.record_type() == rtype)
}

/// Whether `rec` asks for the record of this name and type (an id in the cache's created list
/// names one).
pub(super) fn asks_for(rec: &RecordConfig, name: &str, rtype: &str) -> bool {
    rec.name == name && family_of(rtype).is_some_and(|f| wants(rec, f))
}

/// What `rec`'s record of `family` should hold, `found` being this round's address.
pub(super) fn desired(rec: &RecordConfig, family: Family, found: &Detected) -> Desired {
    Desired {
        name: rec.name.clone(),
        rtype: family.record_type(),
        content: desired_addr(rec, found),
        ttl: rec.ttl.map(|t| t.api_value()),
        proxied: rec.proxied,
        comment: rec.comment.clone(),
        ownership: rec.ownership,
    }
}

/// The address a record should hold: the detected one, or in IPv6 prefix mode (`ipv6_host`)
/// the detected prefix followed by the record's host part.
fn desired_addr(rec: &RecordConfig, found: &Detected) -> IpAddr {
    match (found.addr, rec.ipv6_host) {
        (IpAddr::V6(prefix), Some(host)) => IpAddr::V6(host.apply(prefix, found.prefix_len)),
        (addr, _) => addr,
    }
}
