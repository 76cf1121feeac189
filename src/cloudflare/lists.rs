//! An account's IP lists (`/accounts/{id}/rules/lists`, CONTRACT.md §6): find, create, write
//! the description back, read every item (cursor pages), and change items, which the API does
//! asynchronously: a POST or DELETE of items answers with an `operation_id`, polled at
//! `…/rules/lists/bulk_operations/{id}` until `completed` or `failed` (with its `error`), the
//! waits bounded by the round's deadline. Answers are walked as `serde_json::Value` through the
//! same untyped call as every other request (retries, `Retry-After`, the budget, `cf-ray`).

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::client::Client;
use super::deadline;
use super::error::{ApiError, ErrorKind};
use super::types::{IpList, ListItem, is_id, shown_id};
use crate::text;

/// Items asked per page (the API allows 1 to 500).
const PER_PAGE: &str = "500";
/// The most pages read: 100 × 500 items is far past any plan's item limit.
const MAX_PAGES: u32 = 100;
/// The most polls of one bulk operation; outside a round (no deadline), about two minutes.
const MAX_POLLS: u32 = 64;
/// The wait before the first poll; doubled after each, up to [`POLL_MAX_WAIT`].
const POLL_FIRST_WAIT: Duration = Duration::from_millis(100);
const POLL_MAX_WAIT: Duration = Duration::from_secs(2);

/// The error of a malformed id or answer.
fn bad(action: &str, account: &str, detail: String) -> ApiError {
    ApiError::new(ErrorKind::Decode, action)
        .with_account(account)
        .with_detail(detail)
}

fn checked<'a>(what: &str, id: &'a str, action: &str, account: &str) -> Result<&'a str, ApiError> {
    if is_id(id) {
        Ok(id)
    } else {
        Err(bad(
            action,
            account,
            format!(
                "{what} id `{}` is not a Cloudflare id (32 lowercase hex characters)",
                shown_id(id)
            ),
        ))
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A list object of an answer, its id checked.
fn ip_list(v: &Value, action: &str, account: &str) -> Result<IpList, ApiError> {
    let list = IpList {
        id: string(v, "id").unwrap_or_default(),
        name: string(v, "name").unwrap_or_default(),
        kind: string(v, "kind").unwrap_or_default(),
        description: string(v, "description").unwrap_or_default(),
    };
    checked("list", &list.id, action, account)?;
    Ok(list)
}

impl Client {
    /// `accounts/{account}/rules/lists/TAIL…`, every id in it checked first.
    fn lists_url(
        &self,
        account: &str,
        tail: &[&str],
        query: &[(&str, &str)],
        action: &str,
    ) -> Result<Url, ApiError> {
        checked("account", account, action, account)?;
        let mut segments = vec!["accounts", account, "rules", "lists"];
        segments.extend(tail);
        Ok(self.url_of(&segments, query))
    }

    async fn list_call(
        &self,
        account: &str,
        method: Method,
        url: Url,
        body: Option<Value>,
        action: &str,
    ) -> Result<(Value, Option<super::types::ResultInfo>), ApiError> {
        let body = body.map(|b| b.to_string().into_bytes());
        self.call_value(method, url, body, action)
            .await
            .map_err(|e| e.with_account(account))
    }

    pub(super) async fn get_ip_lists(&self, account: &str) -> Result<Vec<IpList>, ApiError> {
        let action = "list the IP lists";
        let url = self.lists_url(account, &[], &[], action)?;
        let (v, _) = self
            .list_call(account, Method::GET, url, None, action)
            .await?;
        v.as_array()
            .ok_or_else(|| bad(action, account, "the result is not an array".into()))?
            .iter()
            .map(|l| ip_list(l, action, account))
            .collect()
    }

    pub(super) async fn post_ip_list(
        &self,
        account: &str,
        name: &str,
        description: &str,
    ) -> Result<IpList, ApiError> {
        let action = format!("create IP list {name}");
        let url = self.lists_url(account, &[], &[], &action)?;
        let body = json!({"name": name, "kind": "ip", "description": description});
        let (v, _) = self
            .list_call(account, Method::POST, url, Some(body), &action)
            .await?;
        ip_list(&v, &action, account)
    }

    pub(super) async fn put_ip_list(
        &self,
        account: &str,
        list: &str,
        description: &str,
    ) -> Result<IpList, ApiError> {
        let action = format!("update IP list {}", shown_id(list));
        let list = checked("list", list, &action, account)?;
        let url = self.lists_url(account, &[list], &[], &action)?;
        let body = json!({ "description": description });
        let (v, _) = self
            .list_call(account, Method::PUT, url, Some(body), &action)
            .await?;
        ip_list(&v, &action, account)
    }

    pub(super) async fn get_list_items(
        &self,
        account: &str,
        list: &str,
    ) -> Result<Vec<ListItem>, ApiError> {
        let action = format!("list the items of IP list {}", shown_id(list));
        let list = checked("list", list, &action, account)?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("per_page", PER_PAGE)];
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let url = self.lists_url(account, &[list, "items"], &query, &action)?;
            let (v, info) = self
                .list_call(account, Method::GET, url, None, &action)
                .await?;
            let page = v
                .as_array()
                .ok_or_else(|| bad(&action, account, "the result is not an array".into()))?;
            for item in page {
                let Some(ip) = string(item, "ip") else {
                    continue; // not an IP item: never ddflare's
                };
                let id = string(item, "id").unwrap_or_default();
                checked("item", &id, &action, account)?;
                out.push(ListItem {
                    id,
                    ip,
                    comment: string(item, "comment"),
                });
            }
            let next = info.and_then(|i| i.cursors).and_then(|c| c.after);
            match next {
                Some(after) if !after.is_empty() && !page.is_empty() => cursor = Some(after),
                _ => return Ok(out),
            }
        }
        Err(bad(
            &action,
            account,
            format!("more than {MAX_PAGES} pages"),
        ))
    }

    /// POST or DELETE of items, then their bulk operation polled until it ends.
    pub(super) async fn change_items(
        &self,
        account: &str,
        list: &str,
        method: Method,
        body: Value,
        action: &str,
    ) -> Result<(), ApiError> {
        let list = checked("list", list, action, account)?;
        let url = self.lists_url(account, &[list, "items"], &[], action)?;
        let (v, _) = self
            .list_call(account, method, url, Some(body), action)
            .await?;
        let op = string(&v, "operation_id").unwrap_or_default();
        let op = checked("operation", &op, action, account)?;
        self.wait_operation(account, op, action).await
    }

    /// Polls `bulk_operations/{op}` until `completed` (Ok) or `failed` (the operation's error),
    /// waiting 0.1 s, 0.2 s, … up to 2 s between polls; gives up when the round's time would
    /// run out first, or after [`MAX_POLLS`].
    async fn wait_operation(&self, account: &str, op: &str, action: &str) -> Result<(), ApiError> {
        let url = self.lists_url(account, &["bulk_operations", op], &[], action)?;
        let mut wait = POLL_FIRST_WAIT;
        for _ in 0..MAX_POLLS {
            if deadline::left(tokio::time::Instant::now()).is_some_and(|left| wait >= left) {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(POLL_MAX_WAIT);
            let (v, _) = self
                .list_call(account, Method::GET, url.clone(), None, action)
                .await?;
            match v.get("status").and_then(Value::as_str).unwrap_or("") {
                "completed" => return Ok(()),
                "failed" => {
                    let error = string(&v, "error").unwrap_or_else(|| "no error given".into());
                    return Err(ApiError::new(ErrorKind::Rejected, action)
                        .with_account(account)
                        .with_detail(format!(
                            "Cloudflare's bulk operation {op} failed: {}",
                            text::bounded(&error, 300)
                        )));
                }
                _ => {}
            }
        }
        Err(ApiError::new(ErrorKind::Timeout, action)
            .with_account(account)
            .with_detail(format!(
                "Cloudflare's bulk operation {op} had not ended in time; the next round reads the list again"
            )))
    }
}
