//! Cloudflare API v4: the [`DnsApi`] trait the updater talks to, its wire types, error
//! classification, and the reqwest [`client::Client`] that implements it.
//!
//! Tests use the same client against the emulator crate; a fake implementation of the trait
//! can stand in where no HTTP is wanted.

pub mod budget;
pub mod client;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod types;

use std::future::Future;

pub use client::Client;
pub use error::{ApiError, ErrorKind};
pub use types::{
    BatchPatch, BatchRequest, BatchResult, IdOnly, NewRecord, Record, RecordPatch, TokenInfo, Zone,
};

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
}
