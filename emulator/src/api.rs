//! The `/client/v4` endpoints and `/cdn-cgi/trace`, as pure functions over [`State`].

use std::net::SocketAddr;
use std::time::Instant;

use hyper::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use crate::API_BASE;
use crate::auth::{Principal, authenticate, invalid_api_token, rate_key, verify_token};
use crate::dns::{
    self, Draft, batch_missing_record, batch_too_large, filter_records, finalize, invalid_body,
    paging, parse_input, sort_records, target_for,
};
use crate::model::{InactiveVerify, Mutation, Record, TokenScope, TokenStatus};
use crate::state::State;
use crate::tls::TlsInfo;
use crate::util::{is_identifier, now_rfc3339, parse_query, query_get, unix_ts_millis};
use crate::wire::{ApiError, MessageItem, Reply, ResultInfo, WireRecord, WireZone, wire_records};

/// One request, as the handlers see it.
pub(crate) struct Ctx<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub peer: SocketAddr,
    /// The TLS session, when the emulator serves HTTPS.
    pub tls: Option<&'a TlsInfo>,
}

/// A reply plus the record changes it made.
pub(crate) struct Outcome {
    pub reply: Reply,
    pub mutations: Vec<Mutation>,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Self {
            reply,
            mutations: Vec::new(),
        }
    }
}

type Handled = Result<Outcome, ApiError>;

/// Routes a non-admin request.
pub(crate) fn dispatch(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    if ctx.path == "/cdn-cgi/trace" {
        return trace(st, ctx).into();
    }
    let Some(rest) = ctx
        .path
        .strip_prefix(API_BASE)
        .filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return Reply::error(&ApiError::new(404, 7000, "No route for that URI")).into();
    };

    let verdict = st.rate.hit(
        &rate_key(st, ctx.headers, ctx.peer.ip()),
        st.config.rate_quota,
        st.config.rate_window,
        Instant::now(),
    );
    let rate_headers = [
        (
            "ratelimit",
            format!(
                "\"default\";r={};t={}",
                verdict.remaining, verdict.reset_secs
            ),
        ),
        (
            "ratelimit-policy",
            format!(
                "\"default\";q={};w={}",
                st.config.rate_quota,
                st.config.rate_window.as_secs()
            ),
        ),
    ];
    let mut outcome = if verdict.allowed {
        route(st, ctx, rest).unwrap_or_else(|e| Reply::error(&e).into())
    } else {
        let mut err = ApiError::new(
            429,
            971,
            "Please wait and consider throttling your request speed",
        );
        err.retry_after = Some(verdict.reset_secs);
        Reply::error(&err).into()
    };
    outcome.reply.headers.extend(rate_headers);
    outcome
}

fn route(st: &mut State, ctx: &Ctx<'_>, rest: &str) -> Handled {
    let mut segs: Vec<&str> = rest.split('/').skip(1).collect();
    if segs.last() == Some(&"") {
        segs.pop();
    }
    match (ctx.method, segs.as_slice()) {
        ("GET", ["user", "tokens", "verify"]) => verify_user(st, ctx),
        ("GET", ["accounts", account, "tokens", "verify"]) => verify_account(st, ctx, account),
        ("GET", ["zones"]) => list_zones(st, ctx),
        ("GET", ["zones", zone]) => get_zone(st, ctx, zone),
        ("GET", ["zones", zone, "dns_records"]) => list_records(st, ctx, zone),
        ("POST", ["zones", zone, "dns_records"]) => create_record(st, ctx, zone),
        ("POST", ["zones", zone, "dns_records", "batch"]) => batch(st, ctx, zone),
        (m @ ("GET" | "PATCH" | "PUT" | "DELETE"), ["zones", zone, "dns_records", id]) => {
            record_op(st, ctx, m, zone, id)
        }
        (_, ["accounts", account, "rules", "lists", rest @ ..]) => {
            crate::lists::route(st, ctx, account, rest).map(Outcome::from)
        }
        (m @ ("GET" | "PUT"), ["accounts", account, "gateway", "locations", id]) => {
            crate::gateway::location(st, ctx.headers, ctx.peer.ip(), m, account, id, ctx.body)
                .map(Outcome::from)
        }
        _ => Err(ApiError::new(400, 7000, "No route for that URI")),
    }
}

// ---------------------------------------------------------------------------
// Token verify.

#[derive(Serialize)]
struct VerifyResult<'a> {
    id: String,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_on: Option<&'a str>,
}

fn verify_reply(token: &str, scope: &TokenScope) -> Handled {
    let result = VerifyResult {
        id: crate::util::hex_id(&format!("token:{token}")),
        status: scope.status.as_str(),
        not_before: scope.not_before.as_deref(),
        expires_on: scope.expires_on.as_deref(),
    };
    if scope.status == TokenStatus::Active {
        let messages = [MessageItem {
            code: 10000,
            message: "This API Token is valid and active".to_owned(),
            kind: None,
        }];
        return Ok(Reply::success_with(result, &messages, None).into());
    }
    match scope.inactive_verify {
        InactiveVerify::ReportStatus => Ok(Reply::success(result).into()),
        InactiveVerify::Invalid => Err(invalid_api_token()),
    }
}

fn verify_user(st: &State, ctx: &Ctx<'_>) -> Handled {
    let (token, scope) = verify_token(st, ctx.headers, ctx.peer.ip())?;
    if scope.account_owned {
        return Err(invalid_api_token());
    }
    verify_reply(&token, &scope)
}

fn verify_account(st: &State, ctx: &Ctx<'_>, account: &str) -> Handled {
    let (token, scope) = verify_token(st, ctx.headers, ctx.peer.ip())?;
    if !is_identifier(account) {
        return Err(ApiError::no_route(ctx.path));
    }
    if !scope.account_owned || account != st.config.account_id {
        return Err(invalid_api_token());
    }
    verify_reply(&token, &scope)
}

// ---------------------------------------------------------------------------
// Zones.

fn name_op_matches(filter: &str, name: &str) -> bool {
    let ops = [
        "not_equal",
        "starts_with_case_sensitive",
        "ends_with_case_sensitive",
        "contains_case_sensitive",
        "starts_with",
        "ends_with",
        "contains",
        "equal",
    ];
    let (op, value) = match filter.split_once(':') {
        Some((op, v)) if ops.contains(&op) => (op, v),
        _ => ("equal", filter),
    };
    let (n, v) = if op.ends_with("_case_sensitive") {
        (name.to_owned(), value.to_owned())
    } else {
        (
            name.to_lowercase(),
            value.trim_end_matches('.').to_lowercase(),
        )
    };
    match op {
        "not_equal" => n != v,
        "starts_with" | "starts_with_case_sensitive" => n.starts_with(&v),
        "ends_with" | "ends_with_case_sensitive" => n.ends_with(&v),
        "contains" | "contains_case_sensitive" => n.contains(&v),
        _ => n == v,
    }
}

type ZoneCheck = Box<dyn Fn(&crate::state::Zone) -> bool>;

fn list_zones(st: &State, ctx: &Ctx<'_>) -> Handled {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let query = parse_query(ctx.query);
    let match_any = query_get(&query, "match").is_some_and(|m| m.eq_ignore_ascii_case("any"));
    let mut checks: Vec<ZoneCheck> = Vec::new();
    if let Some(name) = query_get(&query, "name") {
        let name = name.to_owned();
        checks.push(Box::new(move |z| name_op_matches(&name, &z.name)));
    }
    if let Some(status) = query_get(&query, "status") {
        let status = status.to_ascii_lowercase();
        checks.push(Box::new(move |z| z.status.as_str() == status));
    }
    let account_id = st.config.account_id.clone();
    let account_name = st.config.account_name.clone();
    if let Some(id) = query_get(&query, "account.id") {
        let ok = id == account_id;
        checks.push(Box::new(move |_| ok));
    }
    if let Some(name) = query_get(&query, "account.name") {
        let ok = name_op_matches(name, &account_name);
        checks.push(Box::new(move |_| ok));
    }
    let mut zones: Vec<_> = st
        .zones
        .iter()
        .filter(|z| principal.can_see(z))
        .filter(|z| {
            checks.is_empty()
                || if match_any {
                    checks.iter().any(|c| c(z))
                } else {
                    checks.iter().all(|c| c(z))
                }
        })
        .collect();
    match query_get(&query, "order") {
        Some("name") => zones.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("status") => zones.sort_by(|a, b| a.status.as_str().cmp(b.status.as_str())),
        _ => {}
    }
    if query_get(&query, "direction").is_some_and(|d| d.eq_ignore_ascii_case("desc")) {
        zones.reverse();
    }
    let (page, per_page) = paging(&query, 20, 5, 50);
    let total = zones.len() as u64;
    let items: Vec<WireZone<'_>> = zones
        .into_iter()
        .skip(usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|z| WireZone::new(z, &st.config, principal.can_edit()))
        .collect();
    let info = ResultInfo {
        page,
        per_page,
        count: items.len() as u64,
        total_count: total,
        total_pages: total.div_ceil(per_page),
    };
    Ok(Reply::success_with(items, &[], Some(info)).into())
}

/// Resolves `{zone_id}`: malformed → 7003, invisible or unknown → 403 10000.
fn zone_index(
    st: &State,
    ctx: &Ctx<'_>,
    principal: &Principal,
    zone: &str,
) -> Result<usize, ApiError> {
    if !is_identifier(zone) {
        return Err(ApiError::no_route(ctx.path));
    }
    st.zones
        .iter()
        .position(|z| z.id == zone && principal.can_see(z))
        .ok_or_else(ApiError::authentication_error)
}

fn get_zone(st: &State, ctx: &Ctx<'_>, zone: &str) -> Handled {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let zi = zone_index(st, ctx, &principal, zone)?;
    let wire = WireZone::new(&st.zones[zi], &st.config, principal.can_edit());
    Ok(Reply::success(wire).into())
}

// ---------------------------------------------------------------------------
// DNS records.

fn list_records(st: &State, ctx: &Ctx<'_>, zone: &str) -> Handled {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let zi = zone_index(st, ctx, &principal, zone)?;
    let query = parse_query(ctx.query);
    let mut matched = filter_records(&st.zones[zi].records, &query);
    sort_records(&mut matched, &query);
    let (page, per_page) = paging(&query, 100, 1, 5_000_000);
    let total = matched.len() as u64;
    let items: Vec<WireRecord<'_>> = matched
        .into_iter()
        .skip(usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(WireRecord::from)
        .collect();
    let info = ResultInfo {
        page,
        per_page,
        count: items.len() as u64,
        total_count: total,
        total_pages: total.div_ceil(per_page).max(1),
    };
    Ok(Reply::success_with(items, &[], Some(info)).into())
}

/// Authenticates, resolves the zone and requires DNS Write.
fn writable_zone(st: &State, ctx: &Ctx<'_>, zone: &str) -> Result<usize, ApiError> {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let zi = zone_index(st, ctx, &principal, zone)?;
    if principal.can_edit() {
        Ok(zi)
    } else {
        Err(ApiError::authentication_error())
    }
}

fn json_body(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    serde_json::from_slice(ctx.body).map_err(|_| invalid_body())
}

fn validation(st: &State) -> impl Fn(ApiError) -> ApiError + use<> {
    let wrapped = st.config.wrapped_errors;
    move |e| if wrapped { dns::wrap_validation(e) } else { e }
}

fn create_record(st: &mut State, ctx: &Ctx<'_>, zone: &str) -> Handled {
    let zi = writable_zone(st, ctx, zone)?;
    let wrap = validation(st);
    let input = parse_input(&json_body(ctx)?).map_err(&wrap)?;
    let id = st.new_record_id(zone);
    let now = now_rfc3339();
    let z = &st.zones[zi];
    let record = finalize(
        Draft::fresh(&input),
        &target_for(z, &z.records, None),
        &id,
        &now,
    )
    .map_err(&wrap)?;
    st.zones[zi].records.push(record.clone());
    Ok(Outcome {
        reply: Reply::success(WireRecord::from(&record)),
        mutations: vec![Mutation::Created(record)],
    })
}

fn record_op(st: &mut State, ctx: &Ctx<'_>, method: &str, zone: &str, id: &str) -> Handled {
    let principal = authenticate(st, ctx.headers, ctx.peer.ip())?;
    let zi = zone_index(st, ctx, &principal, zone)?;
    if !is_identifier(id) {
        return Err(ApiError::no_route(ctx.path));
    }
    if method != "GET" && !principal.can_edit() {
        return Err(ApiError::authentication_error());
    }
    let ri = st.zones[zi]
        .records
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(ApiError::record_not_found)?;
    match method {
        "GET" => Ok(Reply::success(WireRecord::from(&st.zones[zi].records[ri])).into()),
        "DELETE" => {
            let removed = st.zones[zi].records.remove(ri);
            Ok(Outcome {
                reply: Reply::success(serde_json::json!({ "id": removed.id })),
                mutations: vec![Mutation::Deleted(removed)],
            })
        }
        _ => {
            let wrap = validation(st);
            let input = parse_input(&json_body(ctx)?).map_err(&wrap)?;
            let z = &st.zones[zi];
            let before = z.records[ri].clone();
            let draft = if method == "PATCH" {
                Draft::patched(&before, &input)
            } else {
                Draft::fresh(&input)
            };
            let others: Vec<Record> = z.records.iter().filter(|r| r.id != id).cloned().collect();
            let after = finalize(
                draft,
                &target_for(z, &others, Some(&before)),
                id,
                &now_rfc3339(),
            )
            .map_err(&wrap)?;
            st.zones[zi].records[ri] = after.clone();
            Ok(Outcome {
                reply: Reply::success(WireRecord::from(&after)),
                mutations: vec![Mutation::Updated { before, after }],
            })
        }
    }
}

#[derive(Serialize, Default)]
struct BatchResult<'a> {
    deletes: Vec<WireRecord<'a>>,
    patches: Vec<WireRecord<'a>>,
    puts: Vec<WireRecord<'a>>,
    posts: Vec<WireRecord<'a>>,
}

fn batch_list<'a>(body: &'a Value, key: &str) -> Result<&'a [Value], ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(items),
        Some(_) => Err(invalid_body()),
    }
}

fn batch_item_id(item: &Value, work: &[Record]) -> Result<usize, ApiError> {
    let id = item.get("id").and_then(Value::as_str).unwrap_or("");
    work.iter()
        .position(|r| r.id == id)
        .ok_or_else(batch_missing_record)
}

/// `POST /zones/{id}/dns_records/batch`: deletes → patches → puts → posts, all or nothing.
fn batch(st: &mut State, ctx: &Ctx<'_>, zone: &str) -> Handled {
    let zi = writable_zone(st, ctx, zone)?;
    let wrap = validation(st);
    let body = json_body(ctx)?;
    if !body.is_object() {
        return Err(invalid_body());
    }
    let deletes = batch_list(&body, "deletes")?;
    let patches = batch_list(&body, "patches")?;
    let puts = batch_list(&body, "puts")?;
    let posts = batch_list(&body, "posts")?;
    let count = deletes.len() + patches.len() + puts.len() + posts.len();
    let limit = st
        .config
        .batch_limit
        .unwrap_or_else(|| st.zones[zi].plan.batch_limit());
    if count > limit {
        return Err(batch_too_large(count, limit));
    }
    let new_ids: Vec<String> = posts.iter().map(|_| st.new_record_id(zone)).collect();
    let now = now_rfc3339();
    let z = &st.zones[zi];
    let mut work = z.records.clone();
    let mut mutations = Vec::new();
    let (mut deleted, mut patched, mut put, mut posted) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let as_batch_error = |mut e: ApiError| {
        e.status = 400;
        wrap(e)
    };

    for item in deletes {
        let ri = batch_item_id(item, &work).map_err(&as_batch_error)?;
        let removed = work.remove(ri);
        mutations.push(Mutation::Deleted(removed.clone()));
        deleted.push(removed);
    }
    for (items, is_patch) in [(patches, true), (puts, false)] {
        for item in items {
            let ri = batch_item_id(item, &work).map_err(&as_batch_error)?;
            let input = parse_input(item).map_err(&as_batch_error)?;
            let before = work[ri].clone();
            let draft = if is_patch {
                Draft::patched(&before, &input)
            } else {
                Draft::fresh(&input)
            };
            let others: Vec<Record> = work.iter().filter(|r| r.id != before.id).cloned().collect();
            let after = finalize(
                draft,
                &target_for(z, &others, Some(&before)),
                &before.id,
                &now,
            )
            .map_err(&as_batch_error)?;
            work[ri] = after.clone();
            mutations.push(Mutation::Updated {
                before,
                after: after.clone(),
            });
            if is_patch {
                patched.push(after);
            } else {
                put.push(after);
            }
        }
    }
    for (item, id) in posts.iter().zip(&new_ids) {
        let input = parse_input(item).map_err(&as_batch_error)?;
        let record = finalize(Draft::fresh(&input), &target_for(z, &work, None), id, &now)
            .map_err(&as_batch_error)?;
        work.push(record.clone());
        mutations.push(Mutation::Created(record.clone()));
        posted.push(record);
    }

    st.zones[zi].records = work;
    let result = BatchResult {
        deletes: wire_records(&deleted),
        patches: wire_records(&patched),
        puts: wire_records(&put),
        posts: wire_records(&posted),
    };
    Ok(Outcome {
        reply: Reply::success(result),
        mutations,
    })
}

// ---------------------------------------------------------------------------
// /cdn-cgi/trace

/// The host part of a `Host` header (port removed, IPv6 brackets kept).
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

fn trace(st: &State, ctx: &Ctx<'_>) -> Reply {
    if ctx.method != "GET" && ctx.method != "HEAD" {
        return Reply::raw(405, "text/plain", "Method not allowed\n");
    }
    let header = |name: &str| {
        ctx.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let ip = st
        .config
        .trace_ip
        .unwrap_or_else(|| ctx.peer.ip().to_canonical());
    let (scheme, tls_version, sni, kex) = match ctx.tls {
        None => ("http", "off", "off", "none".to_owned()),
        Some(t) => (
            "https",
            t.version,
            if t.sni { "plaintext" } else { "off" },
            t.kex.clone(),
        ),
    };
    let lines = [
        ("fl", "1f1".to_owned()),
        ("h", host_without_port(header("host")).to_owned()),
        ("ip", ip.to_string()),
        ("ts", unix_ts_millis()),
        ("visit_scheme", scheme.to_owned()),
        ("uag", header("user-agent").to_owned()),
        ("colo", "EMU".to_owned()),
        ("sliver", "none".to_owned()),
        ("http", "http/1.1".to_owned()),
        ("loc", "XX".to_owned()),
        ("tls", tls_version.to_owned()),
        ("sni", sni.to_owned()),
        ("warp", st.config.trace_warp.clone()),
        ("gateway", "off".to_owned()),
        ("rbi", "off".to_owned()),
        ("kex", kex),
    ];
    let body: String = lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    Reply::raw(200, "text/plain", body)
        .header("cache-control", "no-cache")
        .header("access-control-allow-origin", "*")
        .header("expires", "Thu, 01 Jan 1970 00:00:01 GMT")
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_stripping() {
        assert_eq!(host_without_port("127.0.0.1:8787"), "127.0.0.1");
        assert_eq!(host_without_port("cloudflare.com"), "cloudflare.com");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(
            host_without_port("[2606:4700:4700::1111]"),
            "[2606:4700:4700::1111]"
        );
    }

    #[test]
    fn zone_name_operators() {
        assert!(name_op_matches("Example.COM", "example.com"));
        assert!(!name_op_matches("sub.example.com", "example.com"));
        assert!(name_op_matches("ends_with:.com", "example.com"));
        assert!(name_op_matches("contains:ampl", "example.com"));
        assert!(name_op_matches("not_equal:example.org", "example.com"));
        assert!(!name_op_matches(
            "starts_with_case_sensitive:Ex",
            "example.com"
        ));
    }
}
