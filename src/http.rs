//! HTTP clients: rustls on ring with Mozilla's roots compiled in (a router or a scratch image
//! has no CA bundle), plus an optional extra PEM file for private or test CAs. Verification is
//! never turned off.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// `User-Agent` of every request ddflare makes.
pub const USER_AGENT: &str = concat!("ddflare/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("the CA file {0} holds no PEM certificate")]
    CaFileEmpty(PathBuf),
    #[error("a certificate in {path} is not usable as a root: {message}")]
    BadRoot { path: PathBuf, message: String },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("HTTP client setup failed: {0}")]
    Client(String),
}

/// The TLS settings shared by every client of one process.
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
}

impl Tls {
    /// Compiled-in roots, plus the certificates in `extra_ca` when given.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, HttpSetupError> {
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned(),
        );
        debug_assert!(added > 0);
        if let Some(path) = extra_ca {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect())
                .map_err(|source| HttpSetupError::CaFile {
                    path: path.to_owned(),
                    source,
                })?;
            if certs.is_empty() {
                return Err(HttpSetupError::CaFileEmpty(path.to_owned()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| HttpSetupError::BadRoot {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HttpSetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls {
            config: Arc::new(config),
        })
    }

    /// A client with this TLS setup. `local` binds outgoing connections to an address (e.g.
    /// `0.0.0.0` or `::` to force the address family); `timeout` bounds a whole request.
    pub fn client(
        &self,
        local: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<reqwest::Client, HttpSetupError> {
        reqwest::Client::builder()
            .tls_backend_preconfigured((*self.config).clone())
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout)
            .local_address(local)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))
    }
}
