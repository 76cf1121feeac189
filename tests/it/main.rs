//! ddflare's integration tests: one binary, one module per area. `support` starts the
//! Cloudflare emulator and runs the real `ddflare` binary against it.

mod cli;
mod contract;
mod e2e;
mod support;
