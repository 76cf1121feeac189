//! Zero Trust Gateway DNS locations (`/accounts/{account_id}/gateway/locations/{id}`), as far
//! as an updater of a location's source networks needs: GET, and PUT, which replaces the whole
//! object (a field left out of the body is reset, as the API's update documents: its body is
//! the full location). Contract: cloudflare/cloudflare-typescript
//! `src/resources/zero-trust/gateway/locations.ts` (`Location`, `LocationUpdateParams`):
//! `name` is required; `networks` are `{ "network": "IPv4 or CIDR" }`, CIDRs at most /24.

use serde_json::{Map, Value};

use crate::auth::authenticate;
use crate::state::State;
use crate::util::now_rfc3339;
use crate::wire::{ApiError, Reply};

/// Set by Gateway, never by a PUT: kept as they are whatever the body says.
const READ_ONLY: [&str; 7] = [
    "id",
    "created_at",
    "updated_at",
    "doh_subdomain",
    "ip",
    "ipv4_destination",
    "ipv4_destination_backup",
];

fn not_found() -> ApiError {
    ApiError::new(404, 2047, "location not found")
}

/// `GET` or `PUT` of one location.
pub(crate) fn location(
    st: &mut State,
    headers: &hyper::HeaderMap,
    peer: std::net::IpAddr,
    method: &str,
    account: &str,
    id: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let principal = authenticate(st, headers, peer)?;
    if account != st.config.account_id {
        return Err(ApiError::new(403, 10000, "Authentication error"));
    }
    let Some(stored) = st.gateway_locations.get_mut(id) else {
        return Err(not_found());
    };
    if method == "GET" {
        return Ok(Reply::success(stored.clone()));
    }
    if !principal.can_edit() {
        return Err(ApiError::new(403, 10000, "Authentication error"));
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::new(
            400,
            2001,
            "request body is not a JSON object",
        ));
    };
    if !body.get("name").is_some_and(Value::is_string) {
        return Err(ApiError::new(400, 2002, "name is required"));
    }
    if let Some(networks) = body.get("networks").filter(|n| !n.is_null()) {
        let ok = networks.as_array().is_some_and(|list| {
            list.iter().all(|n| {
                n.get("network")
                    .and_then(Value::as_str)
                    .is_some_and(valid_network)
            })
        });
        if !ok {
            return Err(ApiError::new(
                400,
                2003,
                "networks must be IPv4 addresses or CIDRs of at most /24",
            ));
        }
    }
    // The whole object is replaced: what the body leaves out is gone, but for Gateway's own.
    let mut next: Map<String, Value> = body
        .into_iter()
        .filter(|(k, _)| !READ_ONLY.contains(&k.as_str()))
        .collect();
    if let Value::Object(old) = stored {
        for k in READ_ONLY {
            if let Some(v) = old.get(k) {
                next.insert(k.to_owned(), v.clone());
            }
        }
    }
    next.insert("updated_at".to_owned(), Value::String(now_rfc3339()));
    *stored = Value::Object(next);
    Ok(Reply::success(stored.clone()))
}

/// An IPv4 address, or a CIDR of /24 to /32.
fn valid_network(n: &str) -> bool {
    let (addr, len) = n.split_once('/').unwrap_or((n, "32"));
    addr.parse::<std::net::Ipv4Addr>().is_ok()
        && len.parse::<u8>().is_ok_and(|l| (24..=32).contains(&l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_ipv4_up_to_a_24() {
        assert!(valid_network("203.0.113.7"));
        assert!(valid_network("203.0.113.7/32"));
        assert!(valid_network("203.0.113.0/24"));
        assert!(!valid_network("203.0.0.0/16"));
        assert!(!valid_network("2001:db8::1/128"));
        assert!(!valid_network("x"));
    }
}
