//! Wire types: the v4 envelope, error items, and the JSON shapes of records and zones.

use serde::Serialize;

use crate::model::{Record, RecordSettings};
use crate::state::{Config, Zone};

/// `{"code":…,"message":…}` with optional `error_chain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorItem {
    pub code: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_chain: Vec<ErrorItem>,
}

impl ErrorItem {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            error_chain: Vec::new(),
        }
    }
}

/// A failed API call: HTTP status plus `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub errors: Vec<ErrorItem>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![ErrorItem::new(code, message)],
            retry_after: None,
        }
    }

    pub fn chained(status: u16, code: u32, message: &str, chain: Vec<ErrorItem>) -> Self {
        let mut item = ErrorItem::new(code, message);
        item.error_chain = chain;
        Self {
            status,
            errors: vec![item],
            retry_after: None,
        }
    }

    /// 400 6003 "Invalid request headers" chained to the given causes.
    pub fn bad_headers(chain: Vec<ErrorItem>) -> Self {
        Self::chained(400, 6003, "Invalid request headers", chain)
    }

    /// 7003 for an identifier that cannot be routed.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            400,
            7003,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        )
    }

    pub fn authentication_error() -> Self {
        Self::new(403, 10000, "Authentication error")
    }

    pub fn record_not_found() -> Self {
        Self::new(404, 81044, "Record does not exist.")
    }

    /// The primary error code (for tests and the log).
    #[cfg(test)]
    pub fn code(&self) -> u32 {
        self.errors.first().map_or(0, |e| e.code)
    }
}

/// `{"code":…,"message":…,"type":null}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MessageItem {
    pub code: u32,
    pub message: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `result_info` in the real key order.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ResultInfo {
    pub page: u64,
    pub per_page: u64,
    pub count: u64,
    pub total_count: u64,
    pub total_pages: u64,
}

/// The v4 envelope. `result` comes first, as the DNS service emits it.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    result: T,
    success: bool,
    errors: &'a [ErrorItem],
    messages: &'a [MessageItem],
    #[serde(skip_serializing_if = "Option::is_none")]
    result_info: Option<ResultInfo>,
}

/// A response ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

const FALLBACK: &[u8] = br#"{"result":null,"success":false,"errors":[{"code":10001,"message":"Internal error"}],"messages":[]}"#;

impl Reply {
    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| FALLBACK.to_vec());
        Self::raw(status, "application/json", body)
    }

    pub fn success<T: Serialize>(result: T) -> Self {
        Self::success_with(result, &[], None)
    }

    pub fn success_with<T: Serialize>(
        result: T,
        messages: &[MessageItem],
        result_info: Option<ResultInfo>,
    ) -> Self {
        Self::json(
            200,
            &Envelope {
                result,
                success: true,
                errors: &[],
                messages,
                result_info,
            },
        )
    }

    /// A failure envelope: `result:null`, `success:false`, `messages:[]`.
    pub fn failure(status: u16, errors: &[ErrorItem]) -> Self {
        Self::json(
            status,
            &Envelope {
                result: (),
                success: false,
                errors,
                messages: &[],
                result_info: None,
            },
        )
    }

    pub fn error(err: &ApiError) -> Self {
        let mut reply = Self::failure(err.status, &err.errors);
        if let Some(secs) = err.retry_after {
            reply.headers.push(("retry-after", secs.to_string()));
        }
        reply
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

#[derive(Serialize)]
struct Empty {}

/// A DNS record in the current (2025+) shape and key order.
#[derive(Serialize)]
pub(crate) struct WireRecord<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    rtype: &'a str,
    content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u16>,
    proxiable: bool,
    proxied: bool,
    ttl: u32,
    settings: &'a RecordSettings,
    meta: Empty,
    comment: Option<&'a str>,
    tags: &'a [String],
    created_on: &'a str,
    modified_on: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment_modified_on: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags_modified_on: Option<&'a str>,
}

impl<'a> From<&'a Record> for WireRecord<'a> {
    fn from(r: &'a Record) -> Self {
        Self {
            id: &r.id,
            name: &r.name,
            rtype: &r.rtype,
            content: &r.content,
            priority: r.priority,
            proxiable: r.proxiable,
            proxied: r.proxied,
            ttl: r.ttl,
            settings: &r.settings,
            meta: Empty {},
            comment: r.comment.as_deref(),
            tags: &r.tags,
            created_on: &r.created_on,
            modified_on: &r.modified_on,
            comment_modified_on: r.comment_modified_on.as_deref(),
            tags_modified_on: r.tags_modified_on.as_deref(),
        }
    }
}

pub(crate) fn wire_records(records: &[Record]) -> Vec<WireRecord<'_>> {
    records.iter().map(WireRecord::from).collect()
}

#[derive(Serialize)]
struct ZoneMeta {
    step: u32,
    wildcard_proxiable: bool,
    custom_certificate_quota: u32,
    page_rule_quota: u32,
    phishing_detected: bool,
    multiple_railguns_allowed: bool,
}

#[derive(Serialize)]
struct ZoneOwner<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct ZoneAccount<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct ZonePlan<'a> {
    id: String,
    name: &'a str,
    price: u32,
    currency: &'a str,
    frequency: &'a str,
    is_subscribed: bool,
    can_subscribe: bool,
    legacy_id: &'a str,
    legacy_discount: bool,
    externally_managed: bool,
}

/// A zone in the shape of `fixtures/zone_details_response.json` (plus the
/// OAS-required `name_servers`).
#[derive(Serialize)]
pub(crate) struct WireZone<'a> {
    id: &'a str,
    name: &'a str,
    status: &'a str,
    paused: bool,
    #[serde(rename = "type")]
    kind: &'a str,
    development_mode: i64,
    name_servers: [&'a str; 2],
    original_name_servers: Vec<String>,
    original_registrar: Option<&'a str>,
    original_dnshost: Option<&'a str>,
    modified_on: &'a str,
    created_on: &'a str,
    activated_on: &'a str,
    meta: ZoneMeta,
    owner: ZoneOwner<'a>,
    account: ZoneAccount<'a>,
    permissions: Vec<&'static str>,
    plan: ZonePlan<'a>,
}

impl<'a> WireZone<'a> {
    pub fn new(zone: &'a Zone, config: &'a Config, can_edit: bool) -> Self {
        let plan = zone.plan;
        let permissions = if can_edit {
            vec!["#dns_records:edit", "#dns_records:read", "#zone:read"]
        } else {
            vec!["#dns_records:read", "#zone:read"]
        };
        Self {
            id: &zone.id,
            name: &zone.name,
            status: zone.status.as_str(),
            paused: zone.paused,
            kind: "full",
            development_mode: 0,
            name_servers: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            original_name_servers: vec![
                "ns1.registrar-servers.example".to_owned(),
                "ns2.registrar-servers.example".to_owned(),
            ],
            original_registrar: None,
            original_dnshost: None,
            modified_on: &zone.created_on,
            created_on: &zone.created_on,
            activated_on: &zone.created_on,
            meta: ZoneMeta {
                step: 4,
                wildcard_proxiable: plan != crate::model::Plan::Free,
                custom_certificate_quota: u32::from(plan != crate::model::Plan::Free),
                page_rule_quota: if plan == crate::model::Plan::Free {
                    3
                } else {
                    20
                },
                phishing_detected: false,
                multiple_railguns_allowed: false,
            },
            owner: ZoneOwner {
                id: &config.account_id,
                kind: "user",
                name: &config.account_name,
            },
            account: ZoneAccount {
                id: &config.account_id,
                name: &config.account_name,
            },
            permissions,
            plan: ZonePlan {
                id: match plan {
                    crate::model::Plan::Free => "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee".to_owned(),
                    other => crate::util::hex_id(other.legacy_id()),
                },
                name: plan.display_name(),
                price: 0,
                currency: "USD",
                frequency: if plan == crate::model::Plan::Free {
                    ""
                } else {
                    "monthly"
                },
                is_subscribed: plan != crate::model::Plan::Free,
                can_subscribe: plan != crate::model::Plan::Free,
                legacy_id: plan.legacy_id(),
                legacy_discount: false,
                externally_managed: false,
            },
        }
    }
}
