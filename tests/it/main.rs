//! ddflare's integration tests: one binary, one module per area. `support` starts the
//! Cloudflare emulator and runs the real `ddflare` binary against it.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// These tests time real processes (the ddflare binary, the emulator, DNS servers) on real
// time, where std's Instant is the right clock; clippy.toml bans it in ddflare itself, whose
// own tests run under tokio's paused time.
#![allow(clippy::disallowed_types)]

mod cli;
mod contract;
mod credentials;
mod detect;
mod docs;
mod e2e;
mod faults;
mod filters;
mod fleet;
mod gateway;
mod lists;
mod machine;
mod observability;
mod ops;
mod ownership;
mod proxy;
mod push;
mod recovery;
mod regression;
mod secrets;
mod ship;
mod support;
mod tls;
