//! Cloudflare API v4: the [`DnsApi`] trait the updater talks to, its wire types, error
//! classification, and the reqwest [`client::Client`] that implements it.
//!
//! Tests use the same client against the emulator crate; a fake implementation of the trait
//! can stand in where no HTTP is wanted.

pub mod api;
mod auth;
pub mod budget;
pub mod client;
pub mod deadline;
pub mod error;
#[cfg(test)]
pub mod fake;
mod ids;
mod listing;
mod lists;
pub mod settings;
pub mod types;

pub use api::{BATCH_LIMIT, Clients, DnsApi, RequestObserver};
pub use client::Client;
pub use error::{ApiError, CNAME_HINT, ErrorKind, LIST_PERMISSION};
pub use settings::{CloudflareConfig, Credentials, NamedCredentials, TOKEN_STEPS};
pub use types::{
    BatchPatch, BatchRequest, BatchResult, IdOnly, IpList, ListItem, NewRecord, Record,
    RecordPatch, TokenInfo, Zone, is_id, same_name, shown_id, unique_ids,
};
