//! The netlink parser (src/detect/netlink.rs): every datagram the kernel could send, read as
//! dump replies (links, addresses) and as address events. It must never panic or loop: a
//! router's daemon reads these from the kernel all day.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ddflare::detect::netlink::parse_any(data);
});
