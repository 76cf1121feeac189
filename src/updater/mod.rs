//! One round: the detected addresses → compare with the cache → for what changed (or what is
//! older than `state.max_age`), find the zone, read the records, plan, apply, and cache the
//! result. A name that fails does not stop the others; a family that was not detected is left
//! as it is on Cloudflare.
//!
//! In comment mode (`ownership = "comment"`), records without ddflare's marker are reported
//! (a warning when what was found changes, not every round) and never touched; a name holding
//! only such records is skipped, not given a second record. Records ddflare creates are
//! remembered by id in the cache, so [`Updater::delete_created`] (`delete_on_stop`) removes
//! those and nothing else.
//!
//! One module per job, data flowing one way: `reconcile` (the [`Updater`], the order of a
//! round) calls `freshness` (what the cache can answer), `by_id` (with a warm cache, a changed
//! address written straight to the cached record id: one request per zone), `zones` (which
//! zone holds a name),
//! the pure [`crate::plan`], then `apply` (the one I/O edge that writes to Cloudflare: plan →
//! calls and batches → results) or `dry_run` (the same changes as lines), and `bookkeeping`
//! (results → cache entries, created ids, report lines). `ownership_report` says what comment
//! mode leaves alone; `cleanup` is `delete_on_stop`; `lists` keeps the `[[list]]` IP lists
//! (read, the pure [`crate::plan_list`], writes through `apply`). `desired` and `lines` are the
//! leaves they share. `quiet` lets a round that would only repeat the last one (same addresses,
//! every record cached) hand on that round's lines. `gateway` keeps `[[gateway_location]]`
//! networks on the IPv4 address.

mod apply;
mod bookkeeping;
mod by_id;
mod cleanup;
mod desired;
mod dry_run;
mod freshness;
mod gateway;
mod lines;
mod lists;
mod ownership_report;
mod quiet;
mod reconcile;
mod zones;

#[cfg(test)]
mod tests;

pub use cleanup::Cleanup;
pub use reconcile::{Options, Updater};
pub use zones::{ZoneError, find_zone, pick_zone, suffixes};
