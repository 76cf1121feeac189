//! Test harness: the emulator on a background runtime, a scratch directory with a config,
//! and a builder for running the real binary with a clean environment.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ddflare_emulator::{Emulator, Running, TokenScope};

/// A token the emulator accepts; never a real one.
pub const TOKEN: &str = "test-token-0123456789-abcdefABCDEF_xyz";

/// A legacy Global API Key (37 hex characters, the real shape) and its account email, for
/// [`Harness::ddflare_with_key`]; register them with `emu.global_key(KEY_EMAIL, GLOBAL_KEY)`.
pub const GLOBAL_KEY: &str = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";
pub const KEY_EMAIL: &str = "owner@example.com";

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

    /// `ddflare --config <ours> ARGS` with [`KEY_EMAIL`] and [`GLOBAL_KEY`] in the environment
    /// (and no token).
    pub fn ddflare_with_key(&self, args: &[&str]) -> Command {
        let mut cmd = ddflare_cmd();
        cmd.env("CLOUDFLARE_API_EMAIL", KEY_EMAIL)
            .env("CLOUDFLARE_API_KEY", GLOBAL_KEY)
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

    /// [`Harness::requests`] without the token verify (`once` and `run` check the token's
    /// expiry once a day, apart from the rounds).
    pub fn dns_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r != "GET /user/tokens/verify")
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

/// The binary with an environment cleared of anything that would change its behaviour. It
/// keeps root when the tests run as root (CI): their scratch directories are root's alone.
/// `secrets::root_drops_*` covers the drop itself.
pub fn ddflare_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ddflare"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("DDFLARE_")
            || k.starts_with("CLOUDFLARE_")
            || k == "STATE_DIRECTORY"
            || k == "CREDENTIALS_DIRECTORY"
            || k == "JOURNAL_STREAM"
            || k.eq_ignore_ascii_case("HTTPS_PROXY")
            || k.eq_ignore_ascii_case("HTTP_PROXY")
            || k.eq_ignore_ascii_case("ALL_PROXY")
            || k.eq_ignore_ascii_case("NO_PROXY")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("DDFLARE_DROP_PRIVILEGES", "false");
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

/// A running `ddflare run` whose stderr is collected as it comes.
pub struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    pub fn start(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Daemon {
            child,
            log,
            reader: Some(reader),
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the log holds `needle` `times` times (20 s at most).
    #[track_caller]
    pub fn wait_for_n(&self, needle: &str, times: usize) -> String {
        self.wait_for_within(needle, times, Duration::from_secs(20))
    }

    /// Waits until the log holds `needle` `times` times, `limit` at most.
    #[track_caller]
    pub fn wait_for_within(&self, needle: &str, times: usize, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if log.matches(needle).count() >= times {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} (×{times}) in:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_n(needle, 1)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// SIGTERM, then the exit code and the whole log.
    pub fn stop(mut self) -> (Option<i32>, String) {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        // The reader ends at EOF, once the process is gone.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (status.code(), self.log())
    }
}

/// The `cf-emulator` binary of this workspace. Another package's binaries get no
/// `CARGO_BIN_EXE_` here, so it is built (or found up to date) once per test run, beside the
/// `ddflare` binary.
pub fn cf_emulator() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let profile_dir = Path::new(env!("CARGO_BIN_EXE_ddflare")).parent().unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--quiet", "--locked", "-p", "ddflare-emulator"])
            .args(["--bin", "cf-emulator", "--profile", profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building cf-emulator:\n{}",
            text(&out)
        );
        profile_dir.join("cf-emulator")
    })
    .clone()
}

/// A `cf-emulator` process: zone example.com, [`TOKEN`], its records kept in a state file.
pub struct EmulatorProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl EmulatorProcess {
    /// Starts it on `listen` (port 0: any) and waits for its "listening on" line.
    pub fn start(listen: &str, state_file: &Path) -> EmulatorProcess {
        let mut child = Command::new(cf_emulator())
            .args([
                "--listen",
                listen,
                "--zone",
                "example.com",
                "--token",
                TOKEN,
            ])
            .arg("--state-file")
            .arg(state_file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .strip_prefix("listening on http://")
            .and_then(|r| r.strip_suffix("/client/v4"))
            .unwrap_or_else(|| panic!("first line: {first}"))
            .parse()
            .unwrap();
        // Drain the mutation lines so the pipe never fills.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        EmulatorProcess { child, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    /// One admin call (`/__emulator/…`): status and body.
    pub fn admin(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        let body = body.unwrap_or("");
        write!(
            s,
            "{method} /__emulator{path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = reply
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Every record of example.com, as the admin API shows them.
    pub fn records(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.admin("GET", "/records?zone=example.com", None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Seeds a record; returns it as stored.
    pub fn seed(&self, spec: serde_json::Value) -> serde_json::Value {
        let (status, body) = self.admin("POST", "/records", Some(&spec.to_string()));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// SIGKILL: no goodbye, connections cut.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Records that are not ddflare's, seeded in example.com beside a managed
/// `home.example.com`: TXT, MX and CNAME records at other names, an A record at another name,
/// a TXT at the managed name, and an unmarked A at `nas.example.com` (managed in comment
/// mode by the tests that say so). Returns their ids.
pub fn seed_foreign(emu: &ddflare_emulator::Running) -> Vec<String> {
    use ddflare_emulator::RecordSpec;
    let spec = |name: &str, rtype: &str, content: &str| RecordSpec::new(name, rtype, content);
    let mut mx = spec("example.com", "MX", "mail.example.com");
    mx.priority = Some(10);
    let mut nas = spec("nas.example.com", "A", "192.0.2.50");
    nas.comment = Some("Bob's box".into());
    let mut txt = spec("other.example.com", "TXT", "\"hand-made\"");
    txt.comment = Some("keep".into());
    txt.ttl = Some(300);
    [
        spec("home.example.com", "TXT", "\"v=spf1 -all\""),
        mx,
        spec("www.example.com", "CNAME", "home.example.com"),
        spec("other.example.com", "A", "198.51.100.4"),
        txt,
        nas,
    ]
    .into_iter()
    .map(|s| emu.add_record("example.com", s).unwrap())
    .collect()
}

/// The records with these ids, serialised whole (every field, timestamps included).
pub fn snapshot(emu: &ddflare_emulator::Running, ids: &[String]) -> Vec<String> {
    let all = emu.records("example.com");
    ids.iter()
        .map(|id| {
            all.iter().find(|r| &r.id == id).map_or_else(
                || format!("{id} is gone"),
                |r| serde_json::to_string(r).unwrap(),
            )
        })
        .collect()
}

/// Says loudly that `test` is skipped because `why` (a tool is missing, the tests do not run
/// as root): on stderr, in the test's captured output, and as a line of the file named by
/// `$DDFLARE_SKIP_LOG` when set (`test<TAB>why<TAB>packages`), which `scripts/test` sums up at
/// the end of the run with the one `apt-get install` that brings the tests back. `apt`: the
/// Debian packages that provide what is missing (none when a package cannot help).
pub fn skip(test: &str, why: &str, apt: &[&str]) {
    let install = if apt.is_empty() {
        String::new()
    } else {
        format!(" (apt-get install {})", apt.join(" "))
    };
    eprintln!("\n*** SKIPPED {test}: {why}{install} ***\n");
    if let Some(path) = std::env::var_os("DDFLARE_SKIP_LOG") {
        use std::io::Write;
        let line = format!("{test}\t{why}\t{}\n", apt.join(" "));
        // One write of a short line to a file opened for appending: whole lines, even from
        // tests running in parallel.
        let written = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "cannot note the skip in {}: {e}",
                Path::new(&path).display()
            );
        }
    }
}
