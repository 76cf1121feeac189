//! Real TLS: a test CA and a server certificate made here, a TLS front (rustls) before the
//! emulator, and ddflare trusting the CA only through `cloudflare.ca_file`. Without it the
//! connection must fail: verification is never turned off.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::{Harness, assert_exit};

/// A test CA and a server certificate signed by it, all PEM.
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// A CA and a server certificate for `names` (IP addresses become IP SANs).
pub fn pki(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let params = CertificateParams::new(names).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}

impl Pki {
    pub fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(self.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

/// A CA (PEM) and a TLS acceptor for 127.0.0.1 signed by it.
fn test_pki() -> (String, TlsAcceptor) {
    let pki = pki(&["127.0.0.1"]);
    (pki.ca_pem.clone(), pki.acceptor())
}

/// Terminates TLS on a loopback port and forwards the plain bytes to `backend`.
async fn tls_front(acceptor: TlsAcceptor, backend: SocketAddr) -> SocketAddr {
    tls_front_on("127.0.0.1:0".parse().unwrap(), acceptor, backend).await
}

/// Terminates TLS on `bind` and forwards the plain bytes to `backend`.
pub async fn tls_front_on(
    bind: SocketAddr,
    acceptor: TlsAcceptor,
    backend: SocketAddr,
) -> SocketAddr {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    addr
}

#[test]
fn https_api_is_trusted_only_through_the_configured_ca() {
    let h = Harness::new(&["example.com"]);
    let (ca_pem, acceptor) = test_pki();
    let front = h.spawn(tls_front(acceptor, h.emu.addr()));
    let ca_file = h.dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let api = format!("https://{front}/client/v4");
    // allow_private: 203.0.113.7 is a documentation address, not a global one.
    let write = |ca: Option<&std::path::Path>| {
        let ca = ca
            .map(|p| format!("ca_file = \"{}\"\n", p.display()))
            .unwrap_or_default();
        std::fs::write(
            h.config_path(),
            format!(
                "[cloudflare]\napi_url = \"{api}\"\nrequest_timeout = \"3s\"\nmax_retries = 0\n{ca}\n[detect]\nallow_private = true\nipv4 = [\"static:203.0.113.7\"]\nipv6 = [\"none\"]\n\n[state]\ndir = \"{}\"\n\n[[record]]\nname = \"home.example.com\"\n",
                h.state_dir().display()
            ),
        )
        .unwrap();
    };

    write(None);
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 1);
    assert!(out.to_lowercase().contains("certificate"), "{out}");
    assert!(h.records("example.com").is_empty());

    write(Some(&ca_file));
    let out = assert_exit(&h.ddflare(&["once"]).output().unwrap(), 0);
    assert!(
        out.contains("home.example.com A 203.0.113.7 created"),
        "{out}"
    );
    assert_eq!(h.records("example.com").len(), 1);
}
