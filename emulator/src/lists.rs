//! Account IP lists (`/accounts/{id}/rules/lists`, CONTRACT.md §6): lists, their items (cursor
//! pages), and the asynchronous item changes: a POST or DELETE of items answers with an
//! `operation_id` and changes nothing yet; `bulk_operations/{id}` then says `pending`, then
//! `running`, then `completed` (the change made) or `failed` (nothing changed, with `error`),
//! one step per poll. Any other list request first finishes the operations still running, as
//! time would have. A [`crate::FaultKind::BulkFailed`] makes the next operation fail.
//!
//! A token needs `lists_edit` (Account → Account Filter Lists → Edit); without it, or for
//! another account, every list call gets 403 10000 "Authentication error" (the code and status
//! Cloudflare gives a valid token without the permission).

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::api::Ctx;
use crate::auth::{Principal, authenticate};
use crate::state::State;
use crate::util::{hex_id, now_rfc3339, parse_query, query_get};
use crate::wire::{ApiError, Reply};

#[derive(Debug, Clone)]
pub(crate) struct IpList {
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub created_on: String,
    pub modified_on: String,
    pub items: Vec<Item>,
}

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub ip: String,
    pub comment: Option<String>,
    pub created_on: String,
    pub modified_on: String,
}

#[derive(Debug, Clone)]
enum Change {
    Add(Vec<(String, Option<String>)>),
    Delete(Vec<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    id: String,
    list: String,
    change: Change,
    polls: u32,
    /// Set by an injected fault: the operation ends `failed` with this error.
    fail: Option<String>,
    /// `completed` or `failed`, with the time it ended.
    end: Option<(&'static str, String)>,
}

/// The lists part of the emulator's state.
#[derive(Debug, Default)]
pub(crate) struct Lists {
    pub lists: Vec<IpList>,
    ops: Vec<Operation>,
    /// The error the next bulk operation fails with (an injected fault).
    pub fail_next: Option<String>,
    seq: u64,
}

impl Lists {
    fn next_id(&mut self, what: &str) -> String {
        self.seq += 1;
        hex_id(&format!("{what}:{}", self.seq))
    }

    /// Creates a list (name checked by the caller), returns its id.
    pub fn create(&mut self, name: &str, description: &str) -> String {
        let id = self.next_id("list");
        let now = now_rfc3339();
        self.lists.push(IpList {
            id: id.clone(),
            name: name.to_owned(),
            description: description.to_owned(),
            kind: "ip".to_owned(),
            created_on: now.clone(),
            modified_on: now,
            items: Vec::new(),
        });
        id
    }

    /// Adds (or re-comments) items now, as a completed operation would.
    pub fn add_now(&mut self, list: &str, items: &[(String, Option<String>)]) {
        let mut ids = Vec::new();
        for _ in items {
            ids.push(self.next_id("item"));
        }
        let Some(l) = self.lists.iter_mut().find(|l| l.id == list) else {
            return;
        };
        let now = now_rfc3339();
        for ((ip, comment), id) in items.iter().zip(ids) {
            match l.items.iter_mut().find(|i| i.ip == *ip) {
                Some(i) => {
                    i.comment.clone_from(comment);
                    i.modified_on.clone_from(&now);
                }
                None => l.items.push(Item {
                    id,
                    ip: ip.clone(),
                    comment: comment.clone(),
                    created_on: now.clone(),
                    modified_on: now.clone(),
                }),
            }
        }
        l.modified_on = now;
    }

    fn finish(&mut self, i: usize) {
        if self.ops[i].end.is_some() {
            return;
        }
        let op = self.ops[i].clone();
        let status = if op.fail.is_some() {
            "failed"
        } else {
            match &op.change {
                Change::Add(items) => self.add_now(&op.list, items),
                Change::Delete(ids) => {
                    if let Some(l) = self.lists.iter_mut().find(|l| l.id == op.list) {
                        l.items.retain(|it| !ids.contains(&it.id));
                        l.modified_on = now_rfc3339();
                    }
                }
            }
            "completed"
        };
        self.ops[i].end = Some((status, now_rfc3339()));
    }

    pub fn finish_all_now(&mut self) {
        self.finish_all();
    }

    fn finish_all(&mut self) {
        for i in 0..self.ops.len() {
            self.finish(i);
        }
    }
}

/// Whether `ip` is an item the API takes: an IPv4 address or CIDR /8–/32, an IPv6 address or
/// CIDR /12–/128 (CONTRACT.md §6, the 2026 docs).
pub(crate) fn valid_ip(ip: &str) -> bool {
    let (addr, len) = match ip.split_once('/') {
        None => (ip, None),
        Some((a, l)) => match l.parse::<u8>() {
            Ok(l) => (a, Some(l)),
            Err(_) => return false,
        },
    };
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => len.is_none_or(|l| (8..=32).contains(&l)),
        Ok(IpAddr::V6(_)) => len.is_none_or(|l| (12..=128).contains(&l)),
        Err(_) => false,
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 50
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn forbidden() -> ApiError {
    ApiError::new(403, 10000, "Authentication error")
}

fn list_json(l: &IpList) -> Value {
    json!({
        "id": l.id, "name": l.name, "description": l.description, "kind": l.kind,
        "num_items": l.items.len(), "num_referencing_filters": 0,
        "created_on": l.created_on, "modified_on": l.modified_on,
    })
}

fn item_json(i: &Item) -> Value {
    let mut v =
        json!({"id": i.id, "ip": i.ip, "created_on": i.created_on, "modified_on": i.modified_on});
    if let Some(c) = &i.comment {
        v["comment"] = json!(c);
    }
    v
}

fn body(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    serde_json::from_slice(ctx.body).map_err(|_| {
        ApiError::new(
            400,
            10026,
            "filters.api.invalid_json: request body is invalid",
        )
    })
}

fn find(st: &State, list: &str) -> Result<usize, ApiError> {
    st.lists
        .lists
        .iter()
        .position(|l| l.id == list)
        .ok_or_else(|| ApiError::new(404, 10006, "list not found"))
}

/// Routes `accounts/{account}/rules/lists/…` (`rest` is what follows `lists`).
pub(crate) fn route(
    st: &mut State,
    ctx: &Ctx<'_>,
    account: &str,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let allowed = match &principal {
        Principal::GlobalKey => true,
        Principal::Token(scope) => scope.lists_edit,
    };
    if !allowed || account != st.config.account_id {
        return Err(forbidden());
    }
    if let ("GET", ["bulk_operations", op]) = (ctx.method, rest) {
        return poll(st, op);
    }
    st.lists.finish_all();
    match (ctx.method, rest) {
        ("GET", []) => Ok(Reply::success(
            st.lists.lists.iter().map(list_json).collect::<Vec<_>>(),
        )),
        ("POST", []) => {
            let b = body(ctx)?;
            let name = b["name"].as_str().unwrap_or("");
            let kind = b["kind"].as_str().unwrap_or("");
            let description = b["description"].as_str().unwrap_or("");
            if !valid_name(name) {
                return Err(ApiError::new(
                    400,
                    10003,
                    "name: must only contain lowercase letters, digits and underscores, at most 50",
                ));
            }
            if !["ip", "redirect", "hostname", "asn"].contains(&kind) {
                return Err(ApiError::new(400, 10004, "kind: invalid list kind"));
            }
            if description.chars().count() > 500 {
                return Err(ApiError::new(400, 10005, "description: too long"));
            }
            if st.lists.lists.iter().any(|l| l.name == name) {
                return Err(ApiError::new(
                    400,
                    10007,
                    "a list with this name already exists",
                ));
            }
            let id = st.lists.create(name, description);
            let i = find(st, &id)?;
            st.lists.lists[i].kind = kind.to_owned();
            Ok(Reply::success(list_json(&st.lists.lists[i])))
        }
        ("GET", [list]) => Ok(Reply::success(list_json(&st.lists.lists[find(st, list)?]))),
        ("PUT", [list]) => {
            let i = find(st, list)?;
            let b = body(ctx)?;
            if let Some(d) = b["description"].as_str() {
                if d.chars().count() > 500 {
                    return Err(ApiError::new(400, 10005, "description: too long"));
                }
                st.lists.lists[i].description = d.to_owned();
                st.lists.lists[i].modified_on = now_rfc3339();
            }
            Ok(Reply::success(list_json(&st.lists.lists[i])))
        }
        ("GET", [list, "items"]) => items_page(st, ctx, list),
        ("POST", [list, "items"]) => {
            let i = find(st, list)?;
            let b = body(ctx)?;
            let mut add = Vec::new();
            for item in b.as_array().into_iter().flatten() {
                let ip = item["ip"].as_str().unwrap_or("").to_ascii_lowercase();
                if !valid_ip(&ip) {
                    return Err(ApiError::new(
                        400,
                        10001,
                        format!("ip: invalid IP address: {ip}"),
                    ));
                }
                add.push((ip, item["comment"].as_str().map(str::to_owned)));
            }
            let list_id = st.lists.lists[i].id.clone();
            Ok(start(st, list_id, Change::Add(add)))
        }
        ("DELETE", [list, "items"]) => {
            let i = find(st, list)?;
            let b = body(ctx)?;
            let ids = b["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|it| it["id"].as_str().map(str::to_owned))
                .collect();
            let list_id = st.lists.lists[i].id.clone();
            Ok(start(st, list_id, Change::Delete(ids)))
        }
        _ => Err(ApiError::no_route(ctx.path)),
    }
}

fn start(st: &mut State, list: String, change: Change) -> Reply {
    let id = st.lists.next_id("operation");
    let fail = st.lists.fail_next.take();
    st.lists.ops.push(Operation {
        id: id.clone(),
        list,
        change,
        polls: 0,
        fail,
        end: None,
    });
    Reply::success(json!({ "operation_id": id }))
}

fn poll(st: &mut State, op: &str) -> Result<Reply, ApiError> {
    let Some(i) = st.lists.ops.iter().position(|o| o.id == op) else {
        return Err(ApiError::new(404, 10006, "operation not found"));
    };
    st.lists.ops[i].polls += 1;
    let polls = st.lists.ops[i].polls;
    if polls >= 3 {
        st.lists.finish(i);
    }
    let o = &st.lists.ops[i];
    let v = match &o.end {
        None if polls == 1 => json!({"id": o.id, "status": "pending"}),
        None => json!({"id": o.id, "status": "running"}),
        Some((status, at)) => {
            let mut v = json!({"id": o.id, "status": status, "completed": at});
            if let Some(e) = &o.fail {
                v["error"] = json!(e);
            }
            v
        }
    };
    Ok(Reply::success(v))
}

fn items_page(st: &State, ctx: &Ctx<'_>, list: &str) -> Result<Reply, ApiError> {
    let l = &st.lists.lists[find(st, list)?];
    let q = parse_query(ctx.query);
    let per_page = query_get(&q, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 500);
    let start = query_get(&q, "cursor")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(l.items.len());
    let end = (start + per_page).min(l.items.len());
    let page: Vec<Value> = l.items[start..end].iter().map(item_json).collect();
    let mut cursors = json!({});
    if start > 0 {
        cursors["before"] = json!(start.to_string());
    }
    if end < l.items.len() {
        cursors["after"] = json!(end.to_string());
    }
    Ok(Reply::json(
        200,
        &json!({"result": page, "result_info": {"cursors": cursors}, "success": true, "errors": [], "messages": []}),
    ))
}
