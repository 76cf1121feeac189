//! Test harness: the emulator on a background runtime, a scratch directory with a config,
//! and a builder for running the real binary with a clean environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ddflare_emulator::{Emulator, Running, TokenScope};

/// A token the emulator accepts; never a real one.
pub const TOKEN: &str = "test-token-0123456789-abcdefABCDEF_xyz";

/// `../shared/cloudflare-api`, beside the repository (CI puts it there), or
/// `$DDFLARE_CONTRACT_DIR`.
pub fn contract_dir() -> PathBuf {
    std::env::var_os("DDFLARE_CONTRACT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cloudflare-api"))
}

/// A running emulator plus a scratch directory for config and state.
pub struct Harness {
    pub emu: Running,
    /// Zone name → id.
    pub zone_ids: std::collections::HashMap<String, String>,
    pub dir: tempfile::TempDir,
    /// Keeps the emulator's runtime alive as long as the harness.
    _rt: tokio::runtime::Runtime,
}

impl Harness {
    /// An emulator with `zones`, where [`TOKEN`] may edit all of them.
    pub fn new(zones: &[&str]) -> Self {
        Self::with(zones, |emu| emu.token(TOKEN, TokenScope::edit_all()))
    }

    pub fn with(zones: &[&str], setup: impl FnOnce(&mut Emulator)) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut emu = Emulator::new();
        let zone_ids = zones
            .iter()
            .map(|z| ((*z).to_owned(), emu.zone(z)))
            .collect();
        setup(&mut emu);
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let emu = rt.block_on(emu.start(addr)).unwrap();
        Harness {
            emu,
            zone_ids,
            dir: tempfile::tempdir().unwrap(),
            _rt: rt,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("ddflare.toml")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes a config: the emulator's URL, static providers, the state dir, then `extra`
    /// (records and anything else).
    pub fn write_config(&self, v4: Option<&str>, v6: Option<&str>, extra: &str) {
        let provider = |a: Option<&str>| match a {
            Some(a) => format!("[\"static:{a}\"]"),
            None => "[\"none\"]".to_owned(),
        };
        // The tests publish documentation addresses (203.0.113.0/24, 2001:db8::/32), which are
        // not global: allow_private lets them through the bogon filter.
        let text = format!(
            "[cloudflare]\napi_url = \"{}\"\nrequest_timeout = \"2s\"\n\n[detect]\nallow_private = true\nipv4 = {}\nipv6 = {}\n\n[state]\ndir = \"{}\"\n\n{extra}\n",
            self.emu.base_url(),
            provider(v4),
            provider(v6),
            self.state_dir().display(),
        );
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// `ddflare --config <ours> ARGS` with [`TOKEN`] in the environment.
    pub fn ddflare(&self, args: &[&str]) -> Command {
        let mut cmd = ddflare_cmd();
        cmd.env("CLOUDFLARE_API_TOKEN", TOKEN)
            .arg("--config")
            .arg(self.config_path())
            .args(args);
        cmd
    }

    /// Runs a future on the harness runtime (a test server) and returns its output.
    pub fn spawn<F>(&self, f: F) -> F::Output
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self._rt.block_on(f)
    }

    /// Requests the emulator saw on the API (admin calls excluded), as "METHOD path".
    pub fn requests(&self) -> Vec<String> {
        self.emu
            .requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path.trim_start_matches("/client/v4")))
            .collect()
    }

    /// (name, type, content) of every record in `zone`, sorted.
    pub fn records(&self, zone: &str) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = self
            .emu
            .records(zone)
            .into_iter()
            .map(|r| (r.name, r.rtype, r.content))
            .collect();
        v.sort();
        v
    }
}

/// The binary with an environment cleared of anything that would change its behaviour.
pub fn ddflare_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ddflare"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("DDFLARE_")
            || k.starts_with("CLOUDFLARE_")
            || k == "STATE_DIRECTORY"
            || k == "CREDENTIALS_DIRECTORY"
            || k == "JOURNAL_STREAM"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// stdout + stderr as one text, for assertions and failure messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
pub fn assert_exit(out: &Output, code: i32) -> String {
    let t = text(out);
    assert_eq!(out.status.code(), Some(code), "output:\n{t}");
    t
}
