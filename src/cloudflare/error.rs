//! What went wrong talking to Cloudflare, classified by HTTP status and error *code* (never by
//! message text, which drifts), with a hint that tells the user what to do.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::types::{ErrorItem, shown_id};
use crate::text;

/// What to do when a CNAME holds a managed name: Cloudflare's refusal (81053/81054) and the
/// planner's own finding before any call say it the same way.
pub const CNAME_HINT: &str = "a name cannot hold both a CNAME and A/AAAA records: delete the CNAME in the dashboard, or remove this name from ddflare's config";

/// The permission a token needs to keep an IP list (`[[list]]`), as the dashboard names it.
pub const LIST_PERMISSION: &str = "Account → Account Filter Lists → Edit";

/// The class of a failed call; decides retrying and the hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// 1000: the token is unknown, expired or revoked.
    InvalidToken,
    /// 6003/6111/6102/6103/1001: the credentials are malformed or missing.
    MalformedCredentials,
    /// 9109/10000 with 401/403: refused for this resource (wrong token, or missing permission).
    Forbidden,
    /// 429, 971, 10100.
    RateLimited { retry_after: Option<Duration> },
    /// 81058/81057: the same record exists already.
    IdenticalRecord,
    /// 81054/81053: a CNAME holds the name.
    CnameConflict,
    /// 81044 or 404.
    NotFound,
    /// 7003/7000/1002: an id that Cloudflare cannot route.
    BadIdentifier,
    /// 1038: Freenom TLDs are refused by the API.
    TldNotSupported,
    /// Any other 4xx (validation and the like).
    Rejected,
    /// 5xx.
    Server,
    /// No HTTP answer: connection refused or reset, DNS failure, TLS failure.
    Network,
    /// No answer in time.
    Timeout,
    /// An answer that is not the JSON envelope Cloudflare sends.
    Decode,
}

/// A failed Cloudflare call.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// What ddflare was doing, e.g. "list records of example.com".
    pub action: String,
    pub status: Option<u16>,
    /// The `cf-ray` header, the id Cloudflare support asks for.
    pub ray: Option<String>,
    /// `errors` as sent, chains included.
    pub errors: Vec<ErrorItem>,
    /// Transport or decode detail when there was no usable body.
    pub detail: Option<String>,
    /// The zone concerned, to name it in the hint.
    pub zone: Option<String>,
    /// The account of an IP list call: a refusal then means the list permission is missing.
    pub account: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, action: impl Into<String>) -> Self {
        ApiError {
            kind,
            action: action.into(),
            status: None,
            ray: None,
            errors: Vec::new(),
            detail: None,
            zone: None,
            account: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Marks a call on an IP list of `account` (see [`LIST_PERMISSION`]).
    pub fn with_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_owned());
        self
    }

    pub fn with_zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    /// Classifies an HTTP answer from its status and decoded `errors`.
    pub fn from_response(
        action: impl Into<String>,
        status: u16,
        errors: Vec<ErrorItem>,
        retry_after: Option<Duration>,
        ray: Option<String>,
    ) -> Self {
        let codes: Vec<i64> = errors.iter().flat_map(ErrorItem::codes).collect();
        let has = |set: &[i64]| codes.iter().any(|c| set.contains(c));
        let kind = if status == 429 || has(&[971, 10100]) {
            ErrorKind::RateLimited { retry_after }
        } else if has(&[81058, 81057]) {
            ErrorKind::IdenticalRecord
        } else if has(&[81054, 81053]) {
            ErrorKind::CnameConflict
        } else if has(&[6003, 6111, 6102, 6103, 1001]) {
            ErrorKind::MalformedCredentials
        } else if has(&[1000]) {
            ErrorKind::InvalidToken
        } else if has(&[1038]) {
            ErrorKind::TldNotSupported
        } else if status == 401 || status == 403 || has(&[9109, 10000]) {
            ErrorKind::Forbidden
        } else if has(&[81044]) || status == 404 {
            ErrorKind::NotFound
        } else if has(&[7003, 7000, 1002]) {
            ErrorKind::BadIdentifier
        } else if status >= 500 {
            ErrorKind::Server
        } else {
            ErrorKind::Rejected
        };
        ApiError {
            kind,
            action: action.into(),
            status: Some(status),
            ray,
            errors,
            detail: None,
            zone: None,
            account: None,
        }
    }

    /// Worth another try later in this round: rate limits, server errors, timeouts, network.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited { .. }
                | ErrorKind::Server
                | ErrorKind::Timeout
                | ErrorKind::Network
        )
    }

    /// Every error code, chains flattened.
    pub fn codes(&self) -> Vec<i64> {
        self.errors.iter().flat_map(ErrorItem::codes).collect()
    }

    /// The address Cloudflare saw, when it refused the token for its Client IP Address
    /// Filtering: 9109 "Cannot use the access token from location: 203.0.113.7". The code
    /// classifies; the message only adds the address, and only when it parses as one.
    pub fn refused_location(&self) -> Option<IpAddr> {
        fn walk(items: &[ErrorItem]) -> Option<IpAddr> {
            items.iter().find_map(|e| {
                let here = (e.code == 9109)
                    .then(|| e.message.split_once("location:"))
                    .flatten()
                    .and_then(|(_, rest)| rest.trim().trim_end_matches('.').parse::<IpAddr>().ok());
                here.or_else(|| walk(&e.error_chain))
            })
        }
        walk(&self.errors)
    }

    fn summary(&self) -> &'static str {
        match self.kind {
            ErrorKind::InvalidToken => "the API token is invalid, expired or revoked",
            ErrorKind::MalformedCredentials => "Cloudflare says the credentials are malformed",
            ErrorKind::Forbidden => "the API token was refused",
            ErrorKind::RateLimited { .. } => "rate limited by Cloudflare",
            ErrorKind::IdenticalRecord => "an identical record already exists",
            ErrorKind::CnameConflict => "a CNAME record holds this name",
            ErrorKind::NotFound => "not found",
            ErrorKind::BadIdentifier => "Cloudflare cannot route this identifier",
            ErrorKind::TldNotSupported => "the API refuses zones on this TLD",
            ErrorKind::Rejected => "the request was rejected",
            ErrorKind::Server => "Cloudflare had a server error",
            ErrorKind::Network => "could not reach the Cloudflare API",
            ErrorKind::Timeout => "the Cloudflare API did not answer in time",
            ErrorKind::Decode => "the answer is not what the Cloudflare API sends",
        }
    }

    /// The next step for the user, if there is one to give.
    pub fn hint(&self) -> Option<String> {
        let zone = self.zone.as_deref().unwrap_or("the zone");
        let codes = self.codes();
        Some(match self.kind {
            ErrorKind::InvalidToken => "create a new token at My Profile → API Tokens (template \"Edit zone DNS\", permission Zone → DNS → Edit) and put it in `cloudflare.api_token_file` or CLOUDFLARE_API_TOKEN".to_owned(),
            ErrorKind::MalformedCredentials if codes.iter().any(|c| *c == 6102 || *c == 6103) => "Cloudflare refused the X-Auth-Email/X-Auth-Key headers: `api_email` must be the account's login email and `api_key` the Global API Key exactly as shown (37 to 45 hex characters), without quotes or spaces".to_owned(),
            ErrorKind::MalformedCredentials => "the token must be pasted exactly as Cloudflare showed it: no quotes, spaces or `Bearer ` prefix".to_owned(),
            ErrorKind::Forbidden if codes.contains(&9103) => "Cloudflare does not know this email and Global API Key: check `api_email` (the login email) and `api_key` (My Profile → API Tokens → Global API Key → View; changing it there makes the old one stop working)".to_owned(),
            ErrorKind::Forbidden if codes.contains(&9109) => match self.refused_location() {
                Some(ip) => format!("Cloudflare refused the token from {ip}: the token's Client IP Address Filtering does not include this address, which is normal for a dynamic address. Edit the token at My Profile → API Tokens and remove the IP filter or widen it to your ISP's range."),
                None => format!("Cloudflare refused the token (code 9109), for one of two reasons: it is not valid for {zone} (edit it at My Profile → API Tokens: Zone → DNS → Edit, with {zone} under Zone Resources), or its Client IP Address Filtering does not include this host's address (normal for a dynamic address: remove the IP filter or widen it to your ISP's range)"),
            },
            ErrorKind::Forbidden if self.account.is_some() => format!("the token lacks the permission {LIST_PERMISSION} on account {}: edit the token at My Profile → API Tokens and add it (with this account under Account Resources); if the token has a Client IP Address Filtering list, this host's address must be in it", self.account.as_deref().map(shown_id).unwrap_or_default()),
            ErrorKind::Forbidden => format!("the token lacks Zone → DNS → Edit on {zone}, or is not valid: edit the token at My Profile → API Tokens and add {zone} under Zone Resources; if the token has a Client IP Address Filtering list, this host's address must be in it"),
            ErrorKind::RateLimited { .. } => "ddflare waits as long as Cloudflare asks, then tries again; if this persists, another client shares the token's budget of 1,200 requests per 5 minutes".to_owned(),
            ErrorKind::CnameConflict => CNAME_HINT.to_owned(),
            ErrorKind::BadIdentifier => "check `zone_id`: it must be the 32-character zone ID from the zone's Overview page, not its name".to_owned(),
            ErrorKind::TldNotSupported => "Cloudflare's API does not manage .cf, .ga, .gq, .ml or .tk zones".to_owned(),
            ErrorKind::Network if self.detail.as_deref().is_some_and(|d| d.contains("did not resolve")) => "the host name of `cloudflare.api_url` does not resolve: check the DNS servers in /etc/resolv.conf (or /etc/hosts), and that this host is online; ddflare retries on its own".to_owned(),
            ErrorKind::Network | ErrorKind::Timeout => "check this host's connectivity and DNS, and `cloudflare.api_url`".to_owned(),
            ErrorKind::Server => "Cloudflare's side: ddflare retries on its own".to_owned(),
            _ => return None,
        })
    }
}

/// The longest error message of an answer shown, in characters (Cloudflare's are under 200).
const MESSAGE_MAX: usize = 300;
/// The longest transport or decode detail shown.
const DETAIL_MAX: usize = 500;
/// A `cf-ray` is 20 characters.
const RAY_MAX: usize = 40;
/// The most chained errors shown per error.
const CHAIN_MAX: usize = 5;

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The action names zones as the API listed them.
        write!(
            f,
            "{}: {}",
            text::bounded(&self.action, MESSAGE_MAX),
            self.summary()
        )?;
        if let ErrorKind::RateLimited {
            retry_after: Some(d),
        } = self.kind
        {
            write!(f, " (retry after {}s)", d.as_secs())?;
        }
        let mut extra = Vec::new();
        if let Some(status) = self.status {
            extra.push(format!("HTTP {status}"));
        }
        // What the answer said is outside text: escaped so it cannot start a log line of its
        // own, and bounded.
        for e in &self.errors {
            let mut s = format!("{} {}", e.code, text::bounded(&e.message, MESSAGE_MAX));
            for c in e.error_chain.iter().take(CHAIN_MAX) {
                s.push_str(&format!(
                    " ← {} {}",
                    c.code,
                    text::bounded(&c.message, MESSAGE_MAX)
                ));
            }
            if e.error_chain.len() > CHAIN_MAX {
                s.push_str(" ← …");
            }
            extra.push(s);
        }
        if let Some(d) = &self.detail {
            extra.push(text::bounded(d, DETAIL_MAX));
        }
        if let Some(ray) = &self.ray {
            extra.push(format!("cf-ray {}", text::bounded(ray, RAY_MAX)));
        }
        if !extra.is_empty() {
            write!(f, " [{}]", extra.join("; "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: i64, chain: &[i64]) -> ErrorItem {
        ErrorItem {
            code,
            message: String::new(),
            error_chain: chain.iter().map(|c| item(*c, &[])).collect(),
            documentation_url: None,
        }
    }

    fn kind(status: u16, code: i64, chain: &[i64]) -> ErrorKind {
        ApiError::from_response("x", status, vec![item(code, chain)], None, None).kind
    }

    #[test]
    fn classifies_by_code_bare_or_chained() {
        assert_eq!(kind(401, 1000, &[]), ErrorKind::InvalidToken);
        assert_eq!(kind(400, 6003, &[6111]), ErrorKind::MalformedCredentials);
        assert_eq!(kind(400, 1001, &[]), ErrorKind::MalformedCredentials);
        assert_eq!(kind(403, 9109, &[]), ErrorKind::Forbidden);
        assert_eq!(kind(403, 10000, &[]), ErrorKind::Forbidden);
        assert_eq!(kind(400, 81058, &[]), ErrorKind::IdenticalRecord);
        assert_eq!(kind(400, 81057, &[]), ErrorKind::IdenticalRecord);
        assert_eq!(kind(400, 1004, &[81054]), ErrorKind::CnameConflict);
        assert_eq!(kind(400, 81054, &[]), ErrorKind::CnameConflict);
        assert_eq!(kind(404, 81044, &[]), ErrorKind::NotFound);
        assert_eq!(kind(400, 7003, &[7000]), ErrorKind::BadIdentifier);
        assert_eq!(kind(400, 1004, &[9021]), ErrorKind::Rejected);
        assert_eq!(kind(502, 0, &[]), ErrorKind::Server);
        assert!(matches!(kind(429, 971, &[]), ErrorKind::RateLimited { .. }));
        assert!(matches!(
            kind(400, 10100, &[]),
            ErrorKind::RateLimited { .. }
        ));
    }

    #[test]
    fn display_names_action_status_codes_and_ray() {
        let e = ApiError::from_response(
            "update A home.example.com",
            403,
            vec![item(10000, &[])],
            None,
            Some("8f1c2d3e4a5b6c7d-AMS".into()),
        )
        .with_zone("example.com");
        let text = e.to_string();
        assert!(text.starts_with("update A home.example.com: the API token was refused"));
        assert!(text.contains("HTTP 403"));
        assert!(text.contains("10000"));
        assert!(text.contains("cf-ray 8f1c2d3e4a5b6c7d-AMS"));
        let hint = e.hint().unwrap_or_default();
        assert!(hint.contains("Zone → DNS → Edit on example.com"));
    }

    fn with_message(status: u16, code: i64, message: &str) -> ApiError {
        let mut it = item(code, &[]);
        it.message = message.to_owned();
        ApiError::from_response("look up zone example.com", status, vec![it], None, None)
    }

    #[test]
    fn a_client_ip_refusal_names_the_address_cloudflare_saw() {
        for (message, ip) in [
            (
                "Cannot use the access token from location: 203.0.113.7",
                "203.0.113.7",
            ),
            (
                "Cannot use the access token from location: 2001:db8::7",
                "2001:db8::7",
            ),
        ] {
            let e = with_message(403, 9109, message);
            assert_eq!(
                e.kind,
                ErrorKind::Forbidden,
                "classified by code and status"
            );
            assert_eq!(e.refused_location(), ip.parse().ok());
            assert_eq!(
                e.hint().unwrap_or_default(),
                format!(
                    "Cloudflare refused the token from {ip}: the token's Client IP Address Filtering does not include this address, which is normal for a dynamic address. Edit the token at My Profile → API Tokens and remove the IP filter or widen it to your ISP's range."
                )
            );
        }
        // Chained, too.
        let mut outer = item(1004, &[]);
        outer.error_chain = vec![
            with_message(
                403,
                9109,
                "Cannot use the access token from location: 198.51.100.1",
            )
            .errors
            .remove(0),
        ];
        let e = ApiError::from_response("x", 403, vec![outer], None, None);
        assert_eq!(e.refused_location(), "198.51.100.1".parse().ok());
    }

    #[test]
    fn code_9109_without_a_location_explains_both_causes() {
        for message in [
            "Invalid access token",
            "Unauthorized to access requested resource",
            "Cannot use the access token from location: somewhere",
        ] {
            let e = with_message(403, 9109, message).with_zone("example.com");
            assert_eq!(e.refused_location(), None, "{message}");
            let hint = e.hint().unwrap_or_default();
            assert!(hint.contains("Zone → DNS → Edit"), "{hint}");
            assert!(hint.contains("Client IP Address Filtering"), "{hint}");
            assert!(hint.contains("example.com"), "{hint}");
        }
        // The location of another code is not read.
        assert_eq!(
            with_message(403, 10000, "from location: 203.0.113.7").refused_location(),
            None
        );
    }

    #[test]
    fn legacy_key_errors_get_key_hints() {
        let e = ApiError::from_response("x", 400, vec![item(6003, &[6102, 6103])], None, None);
        assert_eq!(e.kind, ErrorKind::MalformedCredentials);
        assert!(e.hint().unwrap_or_default().contains("api_email"));
        let e = ApiError::from_response("x", 403, vec![item(9103, &[])], None, None);
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(e.hint().unwrap_or_default().contains("Global API Key"));
    }

    #[test]
    fn display_escapes_and_bounds_what_the_answer_said() {
        let forged = "bad\n2026-01-01T00:00:00Z  INFO home.example.com A 6.6.6.6 updated\r\x1b[2K";
        let mut e = with_message(400, 1004, forged);
        e.ray = Some("abc\nINFO".into());
        e.detail = Some("x".repeat(10_000));
        let shown = e.to_string();
        assert!(!text::has_unsafe(&shown), "{shown:?}");
        assert!(shown.contains("1004 bad\\n2026"), "{shown}");
        assert!(shown.contains("cf-ray abc\\nINFO"), "{shown}");
        assert!(shown.chars().count() < 1000, "{}", shown.len());
        let long = with_message(400, 1004, &"y".repeat(10_000)).to_string();
        assert!(long.chars().count() < 400, "{}", long.len());
    }
}
