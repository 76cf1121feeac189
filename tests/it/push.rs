//! The dyndns2 push endpoint through the real binary against the emulator: raw requests for
//! every answer, then the real clients from Debian, ddclient (protocol=dyndns2) and inadyn
//! (a custom dyndns2 provider), pushing over plain HTTP to 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::support::{Daemon, Harness};

const PASSWORD: &str = "s3cret-push-pass";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A push-only config (`ipv4 = ipv6 = "none"`) with one client for home.example.com.
fn setup(extra_detect: &str) -> (Harness, u16, Daemon) {
    let h = Harness::new(&["example.com"]);
    let port = free_port();
    let pw = h.state_dir().with_file_name("push-password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let records = format!(
        "[[record]]\nname = \"home.example.com\"\n[[record]]\nname = \"other.example.com\"\n\n[push]\nlisten = \"127.0.0.1:{port}\"\n[[push.client]]\nuser = \"router\"\npassword_file = \"{0}\"\nhostnames = [\"home.example.com\"]\n[[push.client]]\nuser = \"nas\"\npassword_file = \"{0}\"\nhostnames = [\"other.example.com\"]\n",
        pw.display()
    );
    h.write_config(None, None, &records);
    let config = std::fs::read_to_string(h.config_path())
        .unwrap()
        .replace("[detect]\n", &format!("[detect]\n{extra_detect}\n"));
    std::fs::write(h.config_path(), config).unwrap();
    let d = Daemon::start(h.ddflare(&["run"]));
    d.wait_for("push: serving dyndns2");
    (h, port, d)
}

fn get(port: u16, path: &str, auth: Option<(&str, &str)>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n");
    if let Some((u, p)) = auth {
        req.push_str(&format!(
            "Authorization: Basic {}\r\n",
            b64(&format!("{u}:{p}"))
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn b64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, b)| a | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn a_record(h: &Harness, name: &str) -> Vec<String> {
    h.records("example.com")
        .into_iter()
        .filter(|(n, t, _)| n == name && t == "A")
        .map(|(_, _, c)| c)
        .collect()
}

#[test]
fn pushes_are_answered_per_host_and_reach_cloudflare() {
    let (h, port, d) = setup("ipv4_reject = \"198.51.100.0/24\"");
    let auth = Some(("router", PASSWORD));
    let (status, body) = get(
        port,
        "/nic/update?hostname=home.example.com,other.example.com,nodots&myip=203.0.113.7",
        auth,
    );
    assert_eq!(status, 200);
    assert_eq!(body, "good 203.0.113.7\nnohost\nnotfqdn\n");
    assert_eq!(a_record(&h, "home.example.com"), vec!["203.0.113.7"]);
    assert!(
        a_record(&h, "other.example.com").is_empty(),
        "a client updates its own names only"
    );
    // Again: nothing to do, answered from the cache; the /update alias works too.
    let (_, body) = get(
        port,
        "/update?hostname=home.example.com&myip=203.0.113.7",
        auth,
    );
    assert_eq!(body, "nochg 203.0.113.7\n");
    // A filtered address is never published.
    let (_, body) = get(
        port,
        "/nic/update?hostname=home.example.com&myip=198.51.100.1",
        auth,
    );
    assert_eq!(body, "911\n");
    assert_eq!(a_record(&h, "home.example.com"), vec!["203.0.113.7"]);
    // No myip: the connection's source address (loopback here, refused as a bogon).
    let (_, body) = get(port, "/nic/update?hostname=home.example.com", auth);
    assert_eq!(body, "911\n");
    // Auth: missing → 401 with a challenge; wrong → badauth; five failures → abuse, even
    // with the right password.
    assert_eq!(
        get(port, "/nic/update?hostname=home.example.com", None).0,
        401
    );
    for _ in 0..5 {
        let (_, body) = get(
            port,
            "/nic/update?hostname=home.example.com",
            Some(("router", "nope")),
        );
        assert_eq!(body, "badauth\n");
    }
    let (_, body) = get(
        port,
        "/nic/update?hostname=home.example.com&myip=203.0.113.8",
        auth,
    );
    assert_eq!(body, "abuse\n");
    assert_eq!(get(port, "/elsewhere", auth).0, 404);
    let (_, log) = d.stop();
    assert!(!log.contains(PASSWORD), "{log}");
}

/// Whether `tool` (also the name of its Debian package) is installed; `test` is skipped,
/// loudly, when not.
fn have(test: &str, tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        crate::support::skip(test, &format!("`{tool}` is not installed"), &[tool]);
    }
    found
}

#[test]
fn ddclient_pushes_through_dyndns2() {
    if !have("push::ddclient_pushes_through_dyndns2", "ddclient") {
        return;
    }
    let (h, port, d) = setup("");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ddclient.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon=0\nssl=no\nuse=no\nuse=ip, ip=203.0.113.21\nprotocol=dyndns2\nserver=127.0.0.1:{port}\nlogin=router\npassword={PASSWORD}\nhome.example.com\n"
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&conf).unwrap().permissions(),
        0o600,
    );
    let out = Command::new("ddclient")
        .args(["-foreground", "-daemon=0", "-verbose", "-force", "-file"])
        .arg(&conf)
        .arg("-cache")
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        a_record(&h, "home.example.com"),
        vec!["203.0.113.21"],
        "{text}\n{}",
        d.log()
    );
    assert!(text.contains("good"), "{text}");
    d.stop();
}

#[test]
fn inadyn_pushes_as_a_custom_dyndns2_provider() {
    if !have("push::inadyn_pushes_as_a_custom_dyndns2_provider", "inadyn") {
        return;
    }
    let (h, port, d) = setup("");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("inadyn.conf");
    std::fs::write(
        &conf,
        format!(
            "custom ddflare {{\n    username = router\n    password = {PASSWORD}\n    ddns-server = 127.0.0.1:{port}\n    ddns-path = \"/nic/update?hostname=%h&myip=%i\"\n    checkip-command = \"echo 203.0.113.22\"\n    ssl = false\n    hostname = home.example.com\n}}\n"
        ),
    )
    .unwrap();
    let out = Command::new("inadyn")
        .args([
            "--foreground",
            "--no-pidfile",
            "--once",
            "--force",
            "--loglevel",
            "debug",
            "--config",
        ])
        .arg(&conf)
        .arg("--cache-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        a_record(&h, "home.example.com"),
        vec!["203.0.113.22"],
        "{text}\n{}",
        d.log()
    );
    d.stop();
}
