//! HTTPS: a certificate chain and key (PEM) loaded into a rustls acceptor, and what a TLS
//! connection tells `/cdn-cgi/trace`. With it, clients that only ever talk to
//! `https://api.cloudflare.com` can be pointed at the emulator through `/etc/hosts` and a
//! test CA (`bench/run` does that for ddclient and inadyn).

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{ProtocolVersion, ServerConfig, ServerConnection};

/// Builds an acceptor (TLS 1.2 and 1.3, ring) from a PEM chain (leaf first) and a PEM key
/// (PKCS#8, PKCS#1 or SEC1). Errors name the part that is wrong.
pub(crate) fn acceptor(chain_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err("no CERTIFICATE block in the certificate file".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("no usable private key in the key file: {e}"))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not make a server identity: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The `/cdn-cgi/trace` values of a connection: `tls`, `sni` and `kex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsInfo {
    pub version: &'static str,
    pub sni: bool,
    pub kex: String,
}

impl TlsInfo {
    pub fn of(conn: &ServerConnection) -> Self {
        let version = match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        // Cloudflare names groups the way OpenSSL's short names do.
        let kex = conn
            .negotiated_key_exchange_group()
            .map(|g| match format!("{:?}", g.name()).as_str() {
                "secp256r1" => "P-256".to_owned(),
                "secp384r1" => "P-384".to_owned(),
                other => other.to_owned(),
            })
            .unwrap_or_else(|| "none".to_owned());
        Self {
            version,
            sni: conn.server_name().is_some(),
            kex,
        }
    }
}
