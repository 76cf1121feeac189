//! The seams of the API: [`DnsApi`], the calls the updater makes (the reqwest client, the
//! emulator in tests, a fake where no HTTP is wanted), and [`RequestObserver`], told of every
//! HTTP request the client sends (the metrics count them) without the client knowing who
//! listens.

use std::future::Future;

use super::error::ApiError;
use super::error::ErrorKind;
use super::types::{
    BatchRequest, BatchResult, IpList, ListItem, NewRecord, Record, RecordPatch, TokenInfo, Zone,
};

/// Told of every request the client sends: its method, its path and the HTTP status (`None`
/// when no answer came). Deliberately not `Debug`: a supertrait's methods go into every
/// vtable, and the metrics' `Debug` alone is ~3 KB of the release binary.
pub trait RequestObserver: Send + Sync {
    fn api_request(&self, method: &str, path: &str, status: Option<u16>);
}

impl std::fmt::Debug for dyn RequestObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestObserver")
    }
}

/// Records per batch call on the Free plan (paid plans allow 3,500).
pub const BATCH_LIMIT: usize = 200;

/// The calls ddflare makes. Every method returns the decoded `result` or a classified error.
pub trait DnsApi: Send + Sync {
    /// `GET /user/tokens/verify`.
    fn verify_token(&self) -> impl Future<Output = Result<TokenInfo, ApiError>> + Send;

    /// `GET /zones?name=NAME`: the zones with exactly this name that the token can see.
    fn zones_named(&self, name: &str) -> impl Future<Output = Result<Vec<Zone>, ApiError>> + Send;

    /// `GET /zones`, every zone the token can see, when they fit in `max_pages` pages of 50;
    /// `None` when there are more (the caller then looks zones up by name).
    fn all_zones(
        &self,
        max_pages: u32,
    ) -> impl Future<Output = Result<Option<Vec<Zone>>, ApiError>> + Send;

    /// Every record (all types) at one of `names`, all pages followed.
    fn list_records(
        &self,
        zone: &Zone,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<Record>, ApiError>> + Send;

    fn create_record(
        &self,
        zone: &Zone,
        record: &NewRecord,
    ) -> impl Future<Output = Result<Record, ApiError>> + Send;

    fn patch_record(
        &self,
        zone: &Zone,
        id: &str,
        patch: &RecordPatch,
    ) -> impl Future<Output = Result<Record, ApiError>> + Send;

    fn delete_record(
        &self,
        zone: &Zone,
        id: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// `POST /zones/{id}/dns_records/batch`: all or nothing.
    fn batch(
        &self,
        zone: &Zone,
        batch: &BatchRequest,
    ) -> impl Future<Output = Result<BatchResult, ApiError>> + Send;

    /// `GET /accounts/{account}/rules/lists`: the account's lists (not paged).
    fn ip_lists(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<IpList>, ApiError>> + Send {
        async move { Err(unsupported("list IP lists", account)) }
    }

    /// `POST /accounts/{account}/rules/lists`: a new list of kind `ip`.
    fn create_ip_list(
        &self,
        account: &str,
        name: &str,
        description: &str,
    ) -> impl Future<Output = Result<IpList, ApiError>> + Send {
        let _ = (name, description);
        async move { Err(unsupported("create an IP list", account)) }
    }

    /// `PUT /accounts/{account}/rules/lists/{list}`: the description written back (`check`'s
    /// harmless write, which proves the list permission).
    fn put_list_description(
        &self,
        account: &str,
        list: &str,
        description: &str,
    ) -> impl Future<Output = Result<IpList, ApiError>> + Send {
        let _ = (list, description);
        async move { Err(unsupported("update an IP list", account)) }
    }

    /// `GET …/rules/lists/{list}/items`: every item, all cursor pages followed.
    fn list_items(
        &self,
        account: &str,
        list: &str,
    ) -> impl Future<Output = Result<Vec<ListItem>, ApiError>> + Send {
        let _ = list;
        async move { Err(unsupported("list the items of an IP list", account)) }
    }

    /// `POST …/rules/lists/{list}/items` (`(ip, comment)` each) and then its bulk operation
    /// polled until it ends, within the round's deadline.
    fn add_list_items(
        &self,
        account: &str,
        list: &str,
        items: &[(String, String)],
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (list, items);
        async move { Err(unsupported("add items to an IP list", account)) }
    }

    /// `DELETE …/rules/lists/{list}/items` (by item id) and then its bulk operation polled
    /// until it ends, within the round's deadline.
    fn delete_list_items(
        &self,
        account: &str,
        list: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (list, ids);
        async move { Err(unsupported("delete items of an IP list", account)) }
    }

    /// `GET /accounts/{account}/gateway/locations/{id}`: the whole location, untyped, so that
    /// writing it back keeps every field. Not implemented by default (the fakes).
    fn gateway_location(
        &self,
        account: &str,
        id: &str,
    ) -> impl Future<Output = Result<serde_json::Value, ApiError>> + Send {
        let _ = (account, id);
        std::future::ready(Err(ApiError::new(
            super::ErrorKind::Rejected,
            "read a Gateway location",
        )))
    }

    /// `PUT /accounts/{account}/gateway/locations/{id}`: replaces the whole location.
    fn put_gateway_location(
        &self,
        account: &str,
        id: &str,
        location: &serde_json::Value,
    ) -> impl Future<Output = Result<serde_json::Value, ApiError>> + Send {
        let _ = (account, id, location);
        std::future::ready(Err(ApiError::new(
            super::ErrorKind::Rejected,
            "update a Gateway location",
        )))
    }

    /// The round is over: connections kept for its requests are closed (the real client's;
    /// nothing for the fakes).
    fn end_round(&self) {}
}

/// What an implementation without IP lists answers (the test fake).
fn unsupported(action: &str, account: &str) -> ApiError {
    ApiError::new(ErrorKind::Rejected, action)
        .with_account(account)
        .with_detail("IP lists are not supported here")
}

/// The API client of each credential: `[cloudflare]`'s (the default) and each
/// `[[credentials]]`'s by name. The reqwest clients share one connection pool, one TLS setup
/// and one request budget (Cloudflare's limit is per user, across all of its tokens); only the
/// authentication headers differ.
#[derive(Debug, Clone)]
pub struct Clients<A> {
    pub default: A,
    pub named: Vec<(String, A)>,
}

impl<A> From<A> for Clients<A> {
    fn from(default: A) -> Self {
        Clients {
            default,
            named: Vec::new(),
        }
    }
}

impl<A> Clients<A> {
    /// The client of credentials `name`; `None` (or a name the config would have refused)
    /// is `[cloudflare]`'s.
    pub fn get(&self, name: Option<&str>) -> &A {
        name.and_then(|n| self.named.iter().find(|(k, _)| k == n))
            .map_or(&self.default, |(_, a)| a)
    }
}
