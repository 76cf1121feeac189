//! The commands (`check`, `once`, `run`, `detect`, `status`, `health`, `history`), each over the same
//! [`edges`] (TLS, the Cloudflare client, the detector, the notifier, the updater) and the one
//! place that maps how a command ended to an exit code ([`exit`]). `cli.rs` parses the command
//! line and calls into here; nothing here imports `cli`.

pub mod check;
pub mod detect;
pub mod edges;
pub mod exit;
pub mod health;
pub mod history;
pub mod observed;
pub mod once;
pub mod out;
pub mod run;
pub mod signals;
pub mod status;
