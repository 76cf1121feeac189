//! Injected faults: the next N matching requests misbehave in a chosen way.

use serde::{Deserialize, Serialize};

use crate::API_BASE;

/// What happens to a request hit by a [`Fault`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 429 with the current body (code 971), `Ratelimit` r=0, and
    /// `Retry-After: <secs>` when given.
    RateLimited {
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// This HTTP status. Without `body`, 5xx get an HTML edge error page
    /// (as Cloudflare's edge sends) and others a JSON failure envelope.
    Status {
        status: u16,
        #[serde(default)]
        body: Option<String>,
    },
    /// Wait this long, then handle the request normally.
    Delay { ms: u64 },
    /// Close the connection without sending any response. With `after_apply`,
    /// the request is processed first (the change happens; the answer is lost).
    Drop {
        #[serde(default)]
        after_apply: bool,
    },
    /// Send the status line and headers (with the full `Content-Length`), then
    /// half the body, then reset the connection. With `after_apply`, the body is
    /// the real response and the change happens.
    TruncatedBody {
        #[serde(default)]
        after_apply: bool,
    },
    /// HTTP 200, `Content-Type: application/json`, a body that is not valid JSON.
    MalformedBody,
    /// HTTP 200 with `success:false` and this error (nothing is applied).
    Unsuccessful { code: u32, message: String },
    /// Handled normally, then every item of a list answer's `result` is sent twice, one
    /// after the other (the same id listed twice, as a server that pages or merges badly).
    DuplicateRecords,
    /// Handled as if only the first `name` filter had been sent: a server that ignores a
    /// repeated `name` (`?name=a&name=b&match=any`), which Cloudflare's 2025-02-21
    /// deprecation notice leaves open. Requests with one `name` or none are unaffected.
    FirstNameOnly,
    /// An IP list's item change (POST or DELETE of items) is accepted, but its bulk operation
    /// ends `failed` with this `error`, changing nothing.
    BulkFailed { error: String },
}

impl FaultKind {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            FaultKind::RateLimited { .. } => "rate_limited",
            FaultKind::Status { .. } => "status",
            FaultKind::Delay { .. } => "delay",
            FaultKind::Drop { .. } => "drop",
            FaultKind::TruncatedBody { .. } => "truncated_body",
            FaultKind::MalformedBody => "malformed_body",
            FaultKind::Unsuccessful { .. } => "unsuccessful",
            FaultKind::DuplicateRecords => "duplicate_records",
            FaultKind::FirstNameOnly => "first_name_only",
            FaultKind::BulkFailed { .. } => "bulk_failed",
        }
    }
}

/// A fault rule. Matching is on method (case-insensitive; `None` = any) and on a
/// path prefix, tried against the full path and against the path without
/// `/client/v4` (so `"/zones"` and `"/client/v4/zones"` both work).
/// Admin requests (`/__emulator/…`) are never faulted.
///
/// JSON form (admin API): `{"method":"PATCH","path_prefix":"/zones","times":2,
/// "kind":"status","status":503}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Substring the path must contain, e.g. `"/dns_records"`.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// How many matching requests are hit (default 1).
    #[serde(default = "one")]
    pub times: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault of this kind hitting the next request, whatever it is.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            method: None,
            path_prefix: None,
            path_contains: None,
            times: 1,
            kind,
        }
    }
    pub fn rate_limited(retry_after: Option<u64>) -> Self {
        Self::new(FaultKind::RateLimited { retry_after })
    }
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status { status, body: None })
    }
    pub fn delay(ms: u64) -> Self {
        Self::new(FaultKind::Delay { ms })
    }
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::Drop { after_apply: false })
    }
    pub fn truncated_body() -> Self {
        Self::new(FaultKind::TruncatedBody { after_apply: false })
    }
    pub fn malformed_body() -> Self {
        Self::new(FaultKind::MalformedBody)
    }
    pub fn unsuccessful(code: u32, message: &str) -> Self {
        Self::new(FaultKind::Unsuccessful {
            code,
            message: message.to_owned(),
        })
    }
    pub fn duplicate_records() -> Self {
        Self::new(FaultKind::DuplicateRecords)
    }
    pub fn first_name_only() -> Self {
        Self::new(FaultKind::FirstNameOnly)
    }
    /// Only requests with this method.
    pub fn bulk_failed(error: &str) -> Self {
        Self::new(FaultKind::BulkFailed {
            error: error.to_owned(),
        })
    }
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }
    /// Only requests whose path starts with this.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }
    /// Only requests whose path contains this.
    pub fn path_contains(mut self, part: &str) -> Self {
        self.path_contains = Some(part.to_owned());
        self
    }
    /// Hit this many matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
    /// For `Drop`/`TruncatedBody`: process the request before failing.
    pub fn after_apply(mut self) -> Self {
        match &mut self.kind {
            FaultKind::Drop { after_apply } | FaultKind::TruncatedBody { after_apply } => {
                *after_apply = true;
            }
            _ => {}
        }
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        if let Some(prefix) = &self.path_prefix {
            let short = path.strip_prefix(API_BASE).unwrap_or(path);
            if !path.starts_with(prefix.as_str()) && !short.starts_with(prefix.as_str()) {
                return false;
            }
        }
        if let Some(part) = &self.path_contains
            && !path.contains(part.as_str())
        {
            return false;
        }
        true
    }
}

/// Pending faults, first added first matched.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push(fault);
        }
    }

    /// Consumes one use of the first fault matching this request.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let idx = self.pending.iter().position(|f| f.matches(method, path))?;
        let fault = &mut self.pending[idx];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.pending.remove(idx);
        }
        Some(kind)
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_counting() {
        let mut faults = Faults::default();
        faults.add(
            Fault::status(503)
                .method("patch")
                .path_prefix("/zones")
                .times(2),
        );
        assert!(faults.take("GET", "/client/v4/zones/x").is_none());
        assert!(faults.take("PATCH", "/cdn-cgi/trace").is_none());
        assert!(faults.take("PATCH", "/client/v4/zones/x").is_some());
        assert!(faults.take("PATCH", "/client/v4/zones/y").is_some());
        assert!(faults.take("PATCH", "/client/v4/zones/z").is_none());
    }

    #[test]
    fn json_form() {
        let f: Fault = serde_json::from_str(
            r#"{"method":"GET","path_prefix":"/zones","kind":"rate_limited","retry_after":3}"#,
        )
        .unwrap();
        assert_eq!(f.times, 1);
        assert_eq!(
            f.kind,
            FaultKind::RateLimited {
                retry_after: Some(3)
            }
        );
        let f: Fault = serde_json::from_str(r#"{"kind":"drop","after_apply":true}"#).unwrap();
        assert_eq!(f.kind, FaultKind::Drop { after_apply: true });
        let f: Fault = serde_json::from_str(r#"{"kind":"first_name_only","times":9}"#).unwrap();
        assert_eq!((f.kind, f.times), (FaultKind::FirstNameOnly, 9));
        let f: Fault = serde_json::from_str(r#"{"kind":"duplicate_records"}"#).unwrap();
        assert_eq!(f.kind, FaultKind::DuplicateRecords);
        let f: Fault = serde_json::from_str(
            r#"{"kind":"bulk_failed","error":"full","path_contains":"/items"}"#,
        )
        .unwrap();
        assert_eq!(
            f.kind,
            FaultKind::BulkFailed {
                error: "full".into()
            }
        );
    }
}
