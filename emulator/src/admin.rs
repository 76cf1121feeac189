//! Seeding and inspection, shared by the library API and the `/__emulator/` HTTP API.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::dns::{Draft, Input, finalize, target_for};
use crate::faults::Fault;
use crate::model::{Mutation, Record, ZoneOptions};
use crate::state::State;
use crate::util::{now_rfc3339, parse_query, query_get};
use crate::wire::Reply;

/// A record to seed (library [`crate::Emulator::try_record`], admin `POST /__emulator/records`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSpec {
    /// Zone name or id (admin API only; the library takes it separately).
    #[serde(default)]
    pub zone: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub content: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub proxied: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub priority: Option<u16>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl RecordSpec {
    pub fn new(name: &str, rtype: &str, content: &str) -> Self {
        Self {
            name: name.to_owned(),
            rtype: rtype.to_owned(),
            content: content.to_owned(),
            ..Self::default()
        }
    }
}

fn first_message(err: &crate::wire::ApiError) -> String {
    err.errors
        .first()
        .map(|e| format!("{} ({})", e.message, e.code))
        .unwrap_or_default()
}

/// Adds a record, validated like `POST /dns_records`. An unknown zone *name* is created.
pub(crate) fn seed_record(st: &mut State, zone: &str, spec: &RecordSpec) -> Result<Record, String> {
    let zi = match st.zone_index(zone) {
        Some(zi) => zi,
        None if !crate::util::is_identifier(zone) => {
            st.add_zone(zone, ZoneOptions::default());
            st.zone_index(zone)
                .ok_or_else(|| format!("cannot add zone {zone}"))?
        }
        None => return Err(format!("unknown zone {zone}")),
    };
    let input = Input {
        name: Some(spec.name.clone()),
        rtype: Some(spec.rtype.clone()),
        content: Some(spec.content.clone()),
        ttl: spec.ttl.map(f64::from),
        proxied: spec.proxied,
        comment: Some(spec.comment.clone()),
        tags: Some(spec.tags.clone()),
        priority: Some(spec.priority.map(f64::from)),
        settings: None,
    };
    let zone_id = st.zones[zi].id.clone();
    let id = st.new_record_id(&zone_id);
    let z = &st.zones[zi];
    let record = finalize(
        Draft::fresh(&input),
        &target_for(z, &z.records, None),
        &id,
        &now_rfc3339(),
    )
    .map_err(|e| first_message(&e))?;
    st.zones[zi].records.push(record.clone());
    Ok(record)
}

/// Changes a record's content, as a dashboard edit would.
pub(crate) fn edit_content(
    st: &mut State,
    zone: Option<&str>,
    id: &str,
    content: &str,
) -> Result<Mutation, String> {
    let input = Input {
        content: Some(content.to_owned()),
        ..Input::default()
    };
    edit(st, zone, id, &input)
}

/// A dashboard edit of a record (its id kept), validated as the API validates a PATCH.
pub(crate) fn edit(
    st: &mut State,
    zone: Option<&str>,
    id: &str,
    input: &Input,
) -> Result<Mutation, String> {
    let (zi, ri) = st
        .zones
        .iter()
        .enumerate()
        .filter(|(_, z)| zone.is_none_or(|name| z.id == name || z.name.eq_ignore_ascii_case(name)))
        .find_map(|(zi, z)| z.records.iter().position(|r| r.id == id).map(|ri| (zi, ri)))
        .ok_or_else(|| format!("unknown record {id}"))?;
    let z = &st.zones[zi];
    let before = z.records[ri].clone();
    let others: Vec<Record> = z.records.iter().filter(|r| r.id != id).cloned().collect();
    let after = finalize(
        Draft::patched(&before, input),
        &target_for(z, &others, Some(&before)),
        id,
        &now_rfc3339(),
    )
    .map_err(|e| first_message(&e))?;
    st.zones[zi].records[ri] = after.clone();
    Ok(Mutation::Updated { before, after })
}

/// A dashboard deletion of a record.
pub(crate) fn delete(st: &mut State, zone: &str, id: &str) -> Result<Mutation, String> {
    let zi = st
        .zone_index(zone)
        .ok_or_else(|| format!("unknown zone {zone}"))?;
    let ri = st.zones[zi]
        .records
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| format!("unknown record {id}"))?;
    Ok(Mutation::Deleted(st.zones[zi].records.remove(ri)))
}

/// Records of a zone (name or id), or of every zone when `None`.
pub(crate) fn records(st: &State, zone: Option<&str>) -> Option<Vec<Record>> {
    match zone {
        None => Some(st.zones.iter().flat_map(|z| z.records.clone()).collect()),
        Some(zone) => st.zone_index(zone).map(|zi| st.zones[zi].records.clone()),
    }
}

fn admin_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({ "error": message }))
}

/// Serves `/__emulator/…`.
pub(crate) fn handle(
    st: &mut State,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> (Reply, Vec<Mutation>) {
    let rest = path.trim_start_matches("/__emulator").trim_end_matches('/');
    let query = parse_query(query);
    let mut mutations = Vec::new();
    let reply = match (method, rest) {
        ("GET", "/records") => match records(st, query_get(&query, "zone")) {
            Some(list) => Reply::json(200, &list),
            None => admin_error(404, "unknown zone"),
        },
        ("POST", "/records") => match serde_json::from_slice::<RecordSpec>(body) {
            Err(e) => admin_error(400, &e.to_string()),
            Ok(spec) => match seed_record(st, &spec.zone.clone(), &spec) {
                Ok(record) => {
                    mutations.push(Mutation::Created(record.clone()));
                    Reply::json(200, &record)
                }
                Err(e) => admin_error(400, &e),
            },
        },
        ("PUT", r) if r.starts_with("/records/") => {
            let id = &r["/records/".len()..];
            #[derive(Deserialize)]
            struct Edit {
                content: String,
            }
            match serde_json::from_slice::<Edit>(body) {
                Err(e) => admin_error(400, &e.to_string()),
                Ok(edit) => match edit_content(st, query_get(&query, "zone"), id, &edit.content) {
                    Ok(m) => {
                        let reply = match &m {
                            Mutation::Updated { after, .. } => Reply::json(200, after),
                            _ => Reply::json(200, &json!({})),
                        };
                        mutations.push(m);
                        reply
                    }
                    Err(e) => admin_error(if e.starts_with("unknown") { 404 } else { 400 }, &e),
                },
            }
        }
        ("GET", "/requests") => {
            Reply::json(200, &st.requests.iter().map(|(_, r)| r).collect::<Vec<_>>())
        }
        ("DELETE", "/requests") => {
            st.requests.clear();
            Reply::json(200, &json!({ "ok": true }))
        }
        ("POST", "/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(fault) => {
                st.faults.add(fault);
                Reply::json(200, &json!({ "ok": true }))
            }
            Err(e) => admin_error(400, &e.to_string()),
        },
        ("DELETE", "/faults") => {
            st.faults.clear();
            Reply::json(200, &json!({ "ok": true }))
        }
        ("GET", "/zones") => Reply::json(
            200,
            &st.zones
                .iter()
                .map(|z| json!({ "id": z.id, "name": z.name, "plan": z.plan, "status": z.status }))
                .collect::<Vec<_>>(),
        ),
        _ => admin_error(404, "no such admin endpoint"),
    };
    (reply, mutations)
}
