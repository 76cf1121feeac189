//! ddflare's integration tests: one binary, one module per area. `support` starts the
//! Cloudflare emulator and runs the real `ddflare` binary against it.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod contract;
mod detect;
mod e2e;
mod faults;
mod ops;
mod ownership;
mod recovery;
mod regression;
mod secrets;
mod ship;
mod support;
mod tls;
