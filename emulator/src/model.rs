//! Public data types: zones' plans, tokens, records, the request log and mutation events.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A zone's plan. It sets the plan-dependent limits Cloudflare documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Comments ≤ 100 characters, no tags, TTL ≥ 60, 200 records per batch.
    #[default]
    Free,
    /// Comments ≤ 500, 20 tags per record, TTL ≥ 60, 3,500 records per batch.
    Pro,
    /// As Pro.
    Business,
    /// As Pro, and TTL may go down to 30.
    Enterprise,
}

impl Plan {
    pub(crate) fn comment_limit(self) -> usize {
        match self {
            Plan::Free => 100,
            _ => 500,
        }
    }
    pub(crate) fn tag_quota(self) -> usize {
        match self {
            Plan::Free => 0,
            _ => 20,
        }
    }
    pub(crate) fn min_ttl(self) -> u32 {
        match self {
            Plan::Enterprise => 30,
            _ => 60,
        }
    }
    pub(crate) fn batch_limit(self) -> usize {
        match self {
            Plan::Free => 200,
            _ => 3500,
        }
    }
    pub(crate) fn legacy_id(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Business => "business",
            Plan::Enterprise => "enterprise",
        }
    }
    pub(crate) fn display_name(self) -> &'static str {
        match self {
            Plan::Free => "Free Website",
            Plan::Pro => "Pro Website",
            Plan::Business => "Business Website",
            Plan::Enterprise => "Enterprise Website",
        }
    }
}

/// Zone status as reported by `GET /zones`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneStatus {
    Initializing,
    Pending,
    #[default]
    Active,
    Moved,
}

impl ZoneStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ZoneStatus::Initializing => "initializing",
            ZoneStatus::Pending => "pending",
            ZoneStatus::Active => "active",
            ZoneStatus::Moved => "moved",
        }
    }
}

/// Options for [`crate::Emulator::zone_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneOptions {
    pub plan: Plan,
    pub status: ZoneStatus,
    pub paused: bool,
}

/// Status of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    #[default]
    Active,
    Disabled,
    Expired,
}

impl TokenStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Disabled => "disabled",
            TokenStatus::Expired => "expired",
        }
    }
}

/// How `GET …/tokens/verify` reports a disabled or expired token (no capture exists;
/// CONTRACT §8.1 asks for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InactiveVerify {
    /// HTTP 200, `result.status` = `"disabled"`/`"expired"`, `messages: []`.
    #[default]
    ReportStatus,
    /// HTTP 401, code 1000 "Invalid API Token".
    Invalid,
}

/// What a token may do. `Default` is [`TokenScope::edit_all`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenScope {
    /// Zone names (or ids) the token covers; `None` = all zones.
    pub zones: Option<Vec<String>>,
    /// DNS Write (`true`) or DNS Read only (`false`).
    pub edit: bool,
    pub status: TokenStatus,
    /// An account-owned token: fails `/user/tokens/verify` (401/1000) but succeeds at
    /// `/accounts/{account_id}/tokens/verify`.
    pub account_owned: bool,
    /// Emitted by verify as given (RFC 3339 without fraction, e.g. `2020-01-01T00:00:00Z`).
    pub not_before: Option<String>,
    pub expires_on: Option<String>,
    pub inactive_verify: InactiveVerify,
    /// Client IP Address Filtering: the CIDRs the token may be used from (`None`: anywhere).
    /// From elsewhere every call gets 403 9109 "Cannot use the access token from location:
    /// <peer address>".
    #[serde(default)]
    pub client_ips: Option<Vec<String>>,
    /// Account → Account Filter Lists → Edit on the emulator's account (IP lists).
    #[serde(default)]
    pub lists_edit: bool,
    /// The user who owns the token: Cloudflare's rate limit counts per user, across all of a
    /// user's tokens; tokens with the same owner share one budget (`None`: the token alone).
    #[serde(default)]
    pub owner: Option<String>,
}

impl Default for TokenScope {
    fn default() -> Self {
        Self::edit_all()
    }
}

impl TokenScope {
    /// DNS Edit on every zone.
    pub fn edit_all() -> Self {
        Self {
            zones: None,
            edit: true,
            status: TokenStatus::Active,
            account_owned: false,
            not_before: None,
            expires_on: None,
            inactive_verify: InactiveVerify::ReportStatus,
            client_ips: None,
            lists_edit: false,
            owner: None,
        }
    }

    /// This scope plus Account → Account Filter Lists → Edit.
    pub fn with_lists(mut self) -> Self {
        self.lists_edit = true;
        self
    }
    /// DNS Read on every zone.
    pub fn read_only() -> Self {
        Self {
            edit: false,
            ..Self::edit_all()
        }
    }
    /// DNS Edit on the named zones only.
    pub fn zones_edit(zones: &[&str]) -> Self {
        Self {
            zones: Some(zones.iter().map(|z| (*z).to_owned()).collect()),
            ..Self::edit_all()
        }
    }
    /// DNS Read on the named zones only.
    pub fn zones_read(zones: &[&str]) -> Self {
        Self {
            edit: false,
            ..Self::zones_edit(zones)
        }
    }
    /// Same scope, with another status.
    pub fn with_status(mut self, status: TokenStatus) -> Self {
        self.status = status;
        self
    }
    /// Same scope, reported by verify the given way when not active.
    pub fn with_inactive_verify(mut self, how: InactiveVerify) -> Self {
        self.inactive_verify = how;
        self
    }
    /// Same scope, account-owned.
    pub fn account_owned(mut self) -> Self {
        self.account_owned = true;
        self
    }
    /// Same scope, usable only from these CIDRs (Client IP Address Filtering).
    pub fn from_ips(mut self, cidrs: &[&str]) -> Self {
        self.client_ips = Some(cidrs.iter().map(|c| (*c).to_owned()).collect());
        self
    }
    /// Same scope, expiring at `expires_on` (RFC 3339 without fraction), shown by verify.
    pub fn expiring(mut self, expires_on: &str) -> Self {
        self.expires_on = Some(expires_on.to_owned());
        self
    }
    /// Same scope, with a validity window shown by verify.
    pub fn with_window(mut self, not_before: &str, expires_on: &str) -> Self {
        self.not_before = Some(not_before.to_owned());
        self.expires_on = Some(expires_on.to_owned());
        self
    }
}

/// Type-specific record settings (`settings` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSettings {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ipv4_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ipv6_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flatten_cname: Option<bool>,
}

/// A DNS record as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub zone_id: String,
    pub zone_name: String,
    /// Lowercase FQDN (Punycode).
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub content: String,
    pub priority: Option<u16>,
    pub ttl: u32,
    pub proxied: bool,
    pub proxiable: bool,
    pub comment: Option<String>,
    pub tags: Vec<String>,
    pub settings: RecordSettings,
    pub created_on: String,
    pub modified_on: String,
    pub comment_modified_on: Option<String>,
    pub tags_modified_on: Option<String>,
}

/// One request seen by the API side of the emulator (admin calls are not logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLog {
    pub method: String,
    /// Path without the query, e.g. `/client/v4/zones`.
    pub path: String,
    /// Raw query string, `""` when absent.
    pub query: String,
    /// HTTP status sent; `0` when the connection was dropped without a response.
    pub status: u16,
    /// Request body as text (lossy UTF-8).
    pub body: String,
    /// The bearer token presented, if any.
    pub token: Option<String>,
    /// The fault injected into this request, if any (e.g. `"drop"`).
    pub fault: Option<String>,
}

/// A change to the record store, reported to [`crate::Emulator::on_mutation`].
// Events are rare and read by humans; plain fields beat boxing here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    Created(Record),
    Updated { before: Record, after: Record },
    Deleted(Record),
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Created(r) => write!(
                f,
                "created {} {} {} (ttl {}, proxied {})",
                r.rtype, r.name, r.content, r.ttl, r.proxied
            ),
            Mutation::Deleted(r) => write!(f, "deleted {} {} {}", r.rtype, r.name, r.content),
            Mutation::Updated { before, after } => {
                write!(f, "updated {} ", after.rtype)?;
                if before.name == after.name {
                    write!(f, "{}", after.name)?;
                } else {
                    write!(f, "{} -> {}", before.name, after.name)?;
                }
                if before.content == after.content {
                    write!(f, " {}", after.content)?;
                } else {
                    write!(f, " {} -> {}", before.content, after.content)?;
                }
                let mut extra = Vec::new();
                if before.ttl != after.ttl {
                    extra.push(format!("ttl {} -> {}", before.ttl, after.ttl));
                }
                if before.proxied != after.proxied {
                    extra.push(format!("proxied {} -> {}", before.proxied, after.proxied));
                }
                if before.comment != after.comment {
                    extra.push(format!(
                        "comment {:?} -> {:?}",
                        before.comment.as_deref().unwrap_or(""),
                        after.comment.as_deref().unwrap_or("")
                    ));
                }
                if before.tags != after.tags {
                    extra.push(format!("tags {:?} -> {:?}", before.tags, after.tags));
                }
                if !extra.is_empty() {
                    write!(f, " ({})", extra.join(", "))?;
                }
                Ok(())
            }
        }
    }
}
