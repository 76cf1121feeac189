//! The process environment as a seam: [`Source`] is read by the config (overrides), systemd
//! (`NOTIFY_SOCKET`, `WATCHDOG_USEC`) and the commands; production passes [`ProcessEnv`],
//! tests a map (no `env::set_var` in tests). A leaf: it imports nothing of the crate.

use std::collections::HashMap;

/// Where environment overrides come from: the process environment in production, a map in
/// tests (no `env::set_var` in tests).
pub trait Source {
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}
