//! THE I/O edge that writes to Cloudflare. The pure plan ([`crate::plan::plan`]) decides the
//! changes; this module turns them into calls (one plain call for a single change, else batch
//! calls of at most [`BATCH_LIMIT`], each all or nothing) and hands back one result per change.
//! What the results mean for the cache and the report is the bookkeeping's job, not this one's.
//!
//! Invariant: nothing else in the updater calls `create_record`, `patch_record`,
//! `delete_record`, `batch`, `create_ip_list`, `add_list_items` or `delete_list_items` on the
//! [`DnsApi`]: a round's writes (records and IP lists) and `delete_on_stop`'s deletes all come
//! through here. Everything else in the updater only reads (zones, records).

use crate::cloudflare::{
    ApiError, BATCH_LIMIT, BatchPatch, BatchRequest, DnsApi, IdOnly, IpList, Record, Zone,
};
use crate::plan::Change;
use crate::plan_list::{ListPlan, written};

/// What came of one change: the record Cloudflare returned for a create or an update (`None`
/// for a delete, or an update a batch did not echo), or the error.
pub(super) type Applied = (Change, Result<Option<Record>, ApiError>);

/// Makes one zone's changes; `calls` counts the API calls made.
pub(super) async fn apply<A: DnsApi>(
    api: &A,
    zone: &Zone,
    changes: Vec<Change>,
    calls: &mut usize,
) -> Vec<Applied> {
    let mut results: Vec<Applied> = Vec::new();
    if let [single] = changes.as_slice() {
        *calls += 1;
        let r = match single {
            Change::Create(new) => api.create_record(zone, new).await.map(Some),
            Change::Update { id, patch, .. } => api.patch_record(zone, id, patch).await.map(Some),
            Change::Delete { id, .. } => delete(api, zone, id).await.map(|_| None),
        };
        results.push((single.clone(), r));
        return results;
    }
    for chunk in changes.chunks(BATCH_LIMIT) {
        let mut batch = BatchRequest::default();
        for c in chunk {
            match c {
                Change::Create(new) => batch.posts.push(new.clone()),
                Change::Update { id, patch, .. } => batch.patches.push(BatchPatch {
                    id: id.clone(),
                    patch: patch.clone(),
                }),
                Change::Delete { id, .. } => batch.deletes.push(IdOnly { id: id.clone() }),
            }
        }
        *calls += 1;
        match api.batch(zone, &batch).await {
            Ok(done) => {
                let mut posts = done.posts.into_iter();
                for c in chunk {
                    let rec = match c {
                        Change::Create(_) => posts.next(),
                        Change::Update { id, .. } => {
                            done.patches.iter().find(|r| &r.id == id).cloned()
                        }
                        Change::Delete { .. } => None,
                    };
                    results.push((c.clone(), Ok(rec)));
                }
            }
            Err(e) => {
                for c in chunk {
                    results.push((c.clone(), Err(e.clone())));
                }
            }
        }
    }
    results
}

/// Deletes one record (a lone duplicate in a round, or a record `delete_on_stop` confirmed).
pub(super) async fn delete<A: DnsApi>(api: &A, zone: &Zone, id: &str) -> Result<(), ApiError> {
    api.delete_record(zone, id).await
}

/// Creates the IP list `name` (kind `ip`) in `account`.
pub(super) async fn create_list<A: DnsApi>(
    api: &A,
    account: &str,
    name: &str,
    description: &str,
) -> Result<IpList, ApiError> {
    api.create_ip_list(account, name, description).await
}

/// Makes one IP list's plan: the new items first (each with ddflare's `comment`), then the
/// deletes, so the list is never without an address it should hold. Each change waits for its
/// bulk operation to end; `calls` counts the item calls made.
pub(super) async fn apply_list<A: DnsApi>(
    api: &A,
    account: &str,
    list: &str,
    plan: &ListPlan,
    comment: &str,
    calls: &mut usize,
) -> Result<(), ApiError> {
    if !plan.add.is_empty() {
        let items: Vec<(String, String)> = plan
            .add
            .iter()
            .map(|a| (written(*a), comment.to_owned()))
            .collect();
        *calls += 1;
        api.add_list_items(account, list, &items).await?;
    }
    if !plan.delete.is_empty() {
        *calls += 1;
        api.delete_list_items(account, list, &plan.delete).await?;
    }
    Ok(())
}
