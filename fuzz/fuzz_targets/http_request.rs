//! The metrics listener's request parser (src/metrics/server.rs): any bytes a client can send
//! as a request head, then the answer and its encoding. Anyone who reaches the listener
//! chooses these bytes.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;

use ddflare::metrics::Metrics;
use ddflare::metrics::server::{answer, encode, parse_head};

fuzz_target!(|data: &[u8]| {
    if let Ok((method, path)) = parse_head(data) {
        let metrics = Metrics::new(SystemTime::UNIX_EPOCH, Duration::from_secs(60));
        let response = answer(&method, &path, &metrics.snapshot(), SystemTime::now());
        let _ = encode(&response, method == "HEAD");
    }
});
