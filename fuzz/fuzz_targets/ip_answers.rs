//! The IP providers' answer parsers: `/cdn-cgi/trace` bodies, plain-text echo bodies, DNS
//! whoami answers (UDP, TCP and DoH share one parser), netlink datagrams and address files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ddflare::detect::url::parse_ip_body(data);
    let _ = ddflare::detect::dns::parse_whoami(data, 0);
    let _ = ddflare::detect::netlink::events(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ddflare::detect::trace::parse_trace(text, "api.cloudflare.com");
        let _ = ddflare::detect::file::first_address(text, ddflare::detect::Family::V6);
    }
});
