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
    /// Not a regular file, too large, unreadable (see [`crate::files`]).
    #[error("{0}")]
    CaRead(crate::files::FileError),
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

/// ring with only what a TLS client of HTTPS APIs needs. AES-GCM is mandatory for TLS 1.3
/// servers (RFC 8446 §9.1) and offered by every TLS 1.2 server worth talking to, and X25519 and
/// P-256 cover key exchange; ChaCha20, P-384 key exchange and the private-key signing code
/// (client certificates) are left out, which keeps the static binary small. Every signature
/// algorithm stays, so any certificate chain still verifies. The provider is assembled field
/// by field: starting from `ring::default_provider()` would link every suite and the signing
/// code it then discards (~56 KB of the x86_64 binary).
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::{cipher_suite as cs, kx_group};
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &RingClient,
        key_provider: &RingClient,
    }
}

static SIGNATURE_ALGORITHMS: rustls::crypto::WebPkiSupportedAlgorithms = {
    use rustls::SignatureScheme as S;
    use webpki::ring as alg;
    rustls::crypto::WebPkiSupportedAlgorithms {
        all: &[
            alg::ECDSA_P256_SHA256,
            alg::ECDSA_P256_SHA384,
            alg::ECDSA_P384_SHA256,
            alg::ECDSA_P384_SHA384,
            alg::ED25519,
            alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            alg::RSA_PKCS1_2048_8192_SHA256,
            alg::RSA_PKCS1_2048_8192_SHA384,
            alg::RSA_PKCS1_2048_8192_SHA512,
            alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            (
                S::ECDSA_NISTP384_SHA384,
                &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
            ),
            (
                S::ECDSA_NISTP256_SHA256,
                &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
            ),
            (S::ED25519, &[alg::ED25519]),
            (
                S::RSA_PSS_SHA512,
                &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                S::RSA_PSS_SHA384,
                &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                S::RSA_PSS_SHA256,
                &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (S::RSA_PKCS1_SHA512, &[alg::RSA_PKCS1_2048_8192_SHA512]),
            (S::RSA_PKCS1_SHA384, &[alg::RSA_PKCS1_2048_8192_SHA384]),
            (S::RSA_PKCS1_SHA256, &[alg::RSA_PKCS1_2048_8192_SHA256]),
        ],
    }
};

impl rustls::crypto::SecureRandom for RingClient {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

/// Random numbers from ring; no private key: ddflare never authenticates with a client
/// certificate.
#[derive(Debug)]
struct RingClient;

impl rustls::crypto::KeyProvider for RingClient {
    fn load_private_key(
        &self,
        _key_der: rustls_pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "ddflare uses no client certificate".into(),
        ))
    }
}

/// The TLS settings shared by every client of one process.
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
}

impl Tls {
    /// Compiled-in roots, plus the certificates in `extra_ca` when given.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, HttpSetupError> {
        // Trust anchors only (name, key, constraints), not whole certificates: the same
        // verification for about half the bytes in a router-sized binary.
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = extra_ca {
            // Through the one reader: a FIFO is refused before any read, and the size is
            // capped (a 2 GiB file once took 26 s and 2.1 GB of memory).
            let pem = crate::files::read(path, crate::files::Kind::CaBundle)
                .map_err(HttpSetupError::CaRead)?;
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
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
        let provider = Arc::new(provider());
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
