//! The dyndns2 push endpoint (`[push]`): a router (Fritz!Box, UniFi, OPNsense, pfSense,
//! OpenWrt's ddns-scripts, ddclient, inadyn) tells ddflare its address instead of ddflare
//! polling an echo service.
//!
//! `protocol.rs` is the PURE half: the request (query, basic auth, forwarded address), the
//! password check (constant time, or PBKDF2), and the answer lines. `limit.rs` is the PURE
//! per-source limit on failed logins. `server.rs` is the listener; it hands each valid push to
//! the daemon's loop as a [`Pushed`] and answers with what the loop's reconciliation did, so
//! a push never runs beside a scheduled round.

mod limit;
pub mod protocol;
mod server;
mod settings;

pub use server::{Gate, serve};
pub use settings::{Password, PushClient, PushConfig, Pushed};
