//! The IP providers' answer parsers: `/cdn-cgi/trace` bodies and plain-text echo bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ddflare::detect::url::parse_ip_body(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ddflare::detect::trace::parse_trace(text, "api.cloudflare.com");
    }
});
