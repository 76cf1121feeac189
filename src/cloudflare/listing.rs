//! Reading a zone's records by name (`GET /zones/{id}/dns_records`): one name with
//! `name.exact`, or up to [`NAMES_PER_LIST`] names at once (`name=a&name=b&match=any`); every
//! page followed, within bounds; each record once (by id), with an id of the API's shape.
//!
//! A listing of several names saves requests (a cold start of 1,000 names costs 50 listings,
//! not 1,000), but the API does not promise it: Cloudflare's deprecation notice of 2025-02-21
//! ("DNS Records API: Changes to Filter Parameters") recommends one request per name. A server
//! that honours only some of the names would make a name look empty, and the planner would
//! create a second record beside the one it holds. So a name that a listing of several names
//! returned nothing for is confirmed empty by a request that repeats no name: its own
//! `name.exact` listing, or, when several are unconfirmed, one page of the whole zone (when the
//! zone fits in one). Where the server behaves, this costs a request only for names that truly
//! have no record. A server caught leaving names out is asked name by name from then on.

use std::sync::atomic::Ordering;

use reqwest::Method;
use tracing::warn;

use super::client::Client;
use super::error::{ApiError, ErrorKind};
use super::ids::checked_records;
use super::types::{Record, Zone, same_name, unique_ids};

/// Names asked in one list call (`name=a&name=b&match=any`).
pub(super) const NAMES_PER_LIST: usize = 20;
/// Records asked per list page.
const PER_PAGE: u32 = 5000;
/// The most pages one listing follows: 500,000 records at the names of one listing is far
/// beyond any zone's quota, so more is a broken or hostile server (which the round's deadline
/// bounds too).
const MAX_PAGES: u32 = 100;

impl Client {
    /// Every record at one of `names` in `zone` (see the module doc).
    pub(super) async fn records_named(
        &self,
        zone: &Zone,
        names: &[String],
    ) -> Result<Vec<Record>, ApiError> {
        let mut names: Vec<String> = names.to_vec();
        names.sort_unstable(); // equal strings are indistinguishable: the cheaper sort
        names.dedup();
        if self.one_name_at_a_time.load(Ordering::Relaxed) {
            return self.each_name(zone, &names).await;
        }
        let mut out = Vec::new();
        let mut unconfirmed: Vec<&String> = Vec::new();
        for chunk in names.chunks(NAMES_PER_LIST) {
            if let [one] = chunk {
                out.extend(self.pages(zone, &[("name.exact", one)]).await?);
                continue;
            }
            let mut query: Vec<(&str, &str)> = chunk.iter().map(|n| ("name", n.as_str())).collect();
            query.push(("match", "any"));
            let got = self.pages(zone, &query).await?;
            unconfirmed.extend(
                chunk
                    .iter()
                    .filter(|n| !got.iter().any(|r| same_name(&r.name, n))),
            );
            out.extend(got);
        }
        if unconfirmed.is_empty() {
            return Ok(unique_ids(&out));
        }
        let left_out = self.confirm_empty(zone, &unconfirmed).await?;
        if left_out.is_empty() {
            return Ok(unique_ids(&out));
        }
        // In order, without repeats: each put in its place (no sort compiled for this type).
        let mut missed: Vec<&str> = Vec::new();
        for r in &left_out {
            if let Err(at) = missed.binary_search(&r.name.as_str()) {
                missed.insert(at, r.name.as_str());
            }
        }
        warn!(
            zone = %zone.name,
            "Cloudflare's answer to a listing of several names left out the records of {}: asking name by name from now on",
            missed
                .iter()
                .take(5)
                .map(|n| n.escape_debug().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.one_name_at_a_time.store(true, Ordering::Relaxed);
        // What it returned for the other names is not to be trusted either.
        self.each_name(zone, &names).await
    }

    /// The records at `names`, which a listing of several names returned nothing for, asked
    /// without repeating a name: empty when they truly have none.
    async fn confirm_empty(&self, zone: &Zone, names: &[&String]) -> Result<Vec<Record>, ApiError> {
        let wanted = |r: &Record| names.iter().any(|n| same_name(&r.name, n));
        if names.len() > 1 {
            let (all, more) = self.page(zone, &[], 1).await?;
            if !more {
                return Ok(all.into_iter().filter(wanted).collect());
            }
        }
        let mut found = Vec::new();
        for name in names {
            found.extend(self.pages(zone, &[("name.exact", name)]).await?);
        }
        Ok(found.into_iter().filter(wanted).collect())
    }

    /// One `name.exact` listing per name.
    async fn each_name(&self, zone: &Zone, names: &[String]) -> Result<Vec<Record>, ApiError> {
        let mut out = Vec::new();
        for name in names {
            out.extend(self.pages(zone, &[("name.exact", name)]).await?);
        }
        Ok(unique_ids(&out))
    }

    /// Every page of one filtered listing, at most [`MAX_PAGES`].
    async fn pages(&self, zone: &Zone, filters: &[(&str, &str)]) -> Result<Vec<Record>, ApiError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let (records, more) = self.page(zone, filters, page).await?;
            out.extend(records);
            if !more {
                return Ok(out);
            }
        }
        Err(ApiError::new(ErrorKind::Decode, list_action(zone))
            .with_zone(zone.label())
            .with_detail(format!("more than {MAX_PAGES} pages")))
    }

    /// Page `page` of one listing, and whether the answer says more pages follow.
    async fn page(
        &self,
        zone: &Zone,
        filters: &[(&str, &str)],
        page: u32,
    ) -> Result<(Vec<Record>, bool), ApiError> {
        let action = list_action(zone);
        let (page_s, per_page) = (page.to_string(), PER_PAGE.to_string());
        let mut query = filters.to_vec();
        query.push(("per_page", &per_page));
        query.push(("page", &page_s));
        let url = self.zone_url(zone, &["dns_records"], &query, &action)?;
        let (records, info): (Vec<Record>, _) = self
            .zone_call(zone, Method::GET, url, None, &action)
            .await?;
        let records = checked_records(records, &action)?;
        let got = records.len() as u32;
        let more = match info.and_then(|i| i.total_pages) {
            Some(total) => page < total,
            None => got >= PER_PAGE,
        };
        if more && got == 0 {
            // An empty page cannot be followed by a full one: an endless listing.
            return Err(ApiError::new(ErrorKind::Decode, action)
                .with_zone(zone.label())
                .with_detail(format!(
                    "page {page} is empty, yet more pages are announced"
                )));
        }
        Ok((records, more))
    }
}

fn list_action(zone: &Zone) -> String {
    format!("list records of {}", zone.label())
}
