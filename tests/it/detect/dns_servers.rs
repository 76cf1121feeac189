//! `cloudflare.dns` and `cloudflare.doh` against real DNS servers on loopback: BIND 9 serves
//! `whoami.cloudflare` TXT in class CH from a CH view (dnsmasq, knot and nsd refuse class
//! CH), and dnsdist serves it over DNS over HTTPS with a certificate from a test CA, which
//! ddflare trusts only through `cloudflare.ca_file`. BIND answers a fixed address; the
//! answer that echoes the real source address is covered by the namespace tests.
//!
//! Needs `named` (Debian package bind9) and `dnsdist` (package dnsdist); a missing one skips
//! its test with a loud message.

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::netns::have;
use crate::support::{Harness, assert_exit};

/// The address BIND answers for whoami.cloudflare.
const ANSWER: &str = "203.0.113.99";

/// A port free on 127.0.0.1 for both TCP and UDP (a small race, acceptable on loopback).
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `named`/`dnsdist` may live in /usr/sbin, outside a user's PATH.
fn tool(name: &str) -> Option<PathBuf> {
    if have(name) {
        return Some(PathBuf::from(name));
    }
    ["/usr/sbin", "/usr/bin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// A child process killed (by its own id) when the test ends.
struct Server {
    child: Child,
    name: &'static str,
}

impl Server {
    fn log(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut log = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut log);
        }
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut log);
        }
        format!("--- {} log:\n{log}", self.name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something accepts TCP connections on the port.
fn wait_tcp(port: u16, server: &mut Server) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            let name = server.name;
            panic!("{name} exited ({status}):\n{}", server.log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let name = server.name;
    panic!("{name} did not listen on {port}:\n{}", server.log());
}

/// BIND 9 on 127.0.0.1:`port` with a CH view serving whoami.cloudflare TXT [`ANSWER`].
fn bind9(named: &Path, dir: &Path, port: u16) -> Server {
    let d = dir.display();
    std::fs::write(
        dir.join("whoami.zone"),
        format!(
            "$TTL 0\n@ CH SOA localhost. root.localhost. 1 3600 600 86400 0\n@ CH NS localhost.\n@ CH TXT \"{ANSWER}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("named.conf"),
        format!(
            "options {{\n  directory \"{d}\";\n  pid-file none;\n  session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  recursion no;\n  dnssec-validation no;\n}};\nview \"chaos\" ch {{\n  match-clients {{ any; }};\n  zone \"whoami.cloudflare\" ch {{\n    type primary;\n    file \"{d}/whoami.zone\";\n  }};\n}};\n"
        ),
    )
    .unwrap();
    let child = Command::new(named)
        .arg("-g")
        .arg("-n")
        .arg("1")
        .arg("-c")
        .arg(dir.join("named.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        name: "named",
    };
    wait_tcp(port, &mut server);
    server
}

fn config(h: &Harness, detect: &str, extra: &str) {
    std::fs::write(
        h.config_path(),
        format!(
            "[cloudflare]\napi_url = \"{}\"\n{extra}\n[detect]\n# The answer is a documentation address.\nallow_private = true\nipv6 = \"none\"\n{detect}\n\n[state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
            h.emu.base_url(),
            h.state_dir().display()
        ),
    )
    .unwrap();
}

#[test]
fn cloudflare_dns_asks_bind9_in_class_ch() {
    let Some(named) = tool("named") else {
        crate::support::skip(
            "detect::dns_servers::cloudflare_dns_asks_bind9_in_class_ch",
            "`named` is not installed",
            &["bind9"],
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut bind = bind9(&named, dir.path(), port);
    let h = Harness::new(&["example.com"]);
    config(
        &h,
        &format!("ipv4 = \"cloudflare.dns\"\ndns_servers = \"127.0.0.1:{port}\""),
        "",
    );
    let out = h.ddflare(&["detect"]).output().unwrap();
    if out.status.code() != Some(0) {
        panic!("{}\n{}", crate::support::text(&out), bind.log());
    }
    let out = crate::support::text(&out);
    assert!(
        out.contains(&format!("IPv4: {ANSWER} (from cloudflare.dns)")),
        "{out}"
    );

    // And the whole round: the record is created with BIND's answer.
    assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert_eq!(
        h.records("example.com"),
        vec![(
            "home.example.com".to_owned(),
            "A".to_owned(),
            ANSWER.to_owned()
        )]
    );
}

#[test]
fn cloudflare_doh_asks_dnsdist_over_real_tls() {
    let (Some(named), Some(dnsdist)) = (tool("named"), tool("dnsdist")) else {
        crate::support::skip(
            "detect::dns_servers::cloudflare_doh_asks_dnsdist_over_real_tls",
            "`named` or `dnsdist` is not installed",
            &["bind9", "dnsdist"],
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let named_port = free_port();
    let _bind = bind9(&named, dir.path(), named_port);
    let pki = crate::tls::pki(&["127.0.0.1"]);
    let d = dir.path();
    std::fs::write(d.join("cert.pem"), &pki.cert_pem).unwrap();
    std::fs::write(d.join("key.pem"), &pki.key_pem).unwrap();
    std::fs::write(d.join("ca.pem"), &pki.ca_pem).unwrap();
    let (dns_port, doh_port) = (free_port(), free_port());
    // No security polling (it would ask the internet), a plain listener on a free port, DoH
    // on another, BIND behind it.
    std::fs::write(
        d.join("dnsdist.conf"),
        format!(
            "setSecurityPollSuffix(\"\")\nsetLocal(\"127.0.0.1:{dns_port}\")\naddDOHLocal(\"127.0.0.1:{doh_port}\", \"{c}\", \"{k}\", \"/dns-query\")\nnewServer({{address=\"127.0.0.1:{named_port}\"}}):setUp()\n",
            c = d.join("cert.pem").display(),
            k = d.join("key.pem").display()
        ),
    )
    .unwrap();
    let child = Command::new(dnsdist)
        .args(["--supervised", "--disable-syslog", "-C"])
        .arg(d.join("dnsdist.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut dnsdist = Server {
        child,
        name: "dnsdist",
    };
    wait_tcp(doh_port, &mut dnsdist);

    let h = Harness::new(&["example.com"]);
    let doh =
        format!("ipv4 = \"cloudflare.doh\"\ndoh_url = \"https://127.0.0.1:{doh_port}/dns-query\"");
    // Without the CA the certificate is refused: verification is never turned off.
    config(&h, &doh, "");
    let out = h.ddflare(&["detect"]).output().unwrap();
    let text = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    config(
        &h,
        &doh,
        &format!("ca_file = \"{}\"\n", d.join("ca.pem").display()),
    );
    let out = h.ddflare(&["detect"]).output().unwrap();
    let text = crate::support::text(&out);
    if out.status.code() != Some(0) {
        panic!("{text}\n{}", dnsdist.log());
    }
    assert!(
        text.contains(&format!("IPv4: {ANSWER} (from cloudflare.doh)")),
        "{text}"
    );
}
