//! The config parser on arbitrary text, with and without environment overrides: it must
//! return a config or an error, never panic.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut env: HashMap<String, String> = HashMap::new();
    let _ = ddflare::config::parse(text, "fuzz.toml", &env);
    env.insert("CLOUDFLARE_API_TOKEN".into(), "fuzzFAKEtoken_0123456789abcdefghij".into());
    env.insert("DDFLARE_RECORDS".into(), "home.example.com".into());
    let _ = ddflare::config::parse(text, "fuzz.toml", &env);
});
