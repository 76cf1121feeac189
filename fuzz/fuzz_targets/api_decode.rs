//! The Cloudflare response decoder on arbitrary bodies and statuses, for every result type
//! the client reads.
#![no_main]

use ddflare::cloudflare::client::decode;
use ddflare::cloudflare::{BatchResult, Record, TokenInfo, Zone};
use libfuzzer_sys::fuzz_target;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [200u16, 400, 401, 403, 404, 429, 500, 502][usize::from(first % 8)];
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = HeaderMap::new();
    let _ = decode::<Vec<Record>>("fuzz", status, &headers, None, body);
    let _ = decode::<Vec<Zone>>("fuzz", status, &headers, None, body);
    let _ = decode::<TokenInfo>("fuzz", status, &headers, None, body);
    let _ = decode::<BatchResult>("fuzz", status, &headers, None, body);
});
