//! The router answers (src/detect/router/wire.rs): NAT-PMP and PCP datagrams, SSDP answers,
//! IGD descriptions and SOAP answers, all from a device on the LAN that anyone may have put
//! there. Every parser must refuse what it cannot read, never panic or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ddflare::detect::router::parse_any(data);
});
