//! HTTP clients: rustls on ring with Mozilla's roots compiled in (a router or a scratch image
//! has no CA bundle), plus an optional extra PEM file for private or test CAs. Verification is
//! never turned off.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
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
    #[error("`{name}`: {message}")]
    Proxy { name: String, message: String },
}

/// ring with only what a TLS client of HTTPS APIs needs. AES-GCM is mandatory for TLS 1.3
/// servers (RFC 8446 §9.1) and offered by every TLS 1.2 server worth talking to. Key exchange
/// is P-256 alone: every TLS 1.3 server must offer it (RFC 8446 §9.1), and its code is linked
/// anyway for P-256 certificates; X25519, the group most servers prefer, would add 33,856 bytes
/// of ring's tables and code that the 2.6 MiB budget has no room for (docs/shipping.md: a
/// server offering X25519 alone fails the handshake). ChaCha20, P-384 key exchange and the
/// private-key signing code (client certificates) are left out, which keeps the static binary
/// small. Every signature
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
        kx_groups: vec![kx_group::SECP256R1],
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

/// The proxies of the environment, for the Cloudflare API and notifications only: address
/// detection always connects directly (an echo service behind a proxy would see the proxy's
/// address). Read once at start: `HTTPS_PROXY` (https URLs), `HTTP_PROXY` (http URLs),
/// `ALL_PROXY` (both, when the specific one is unset) and `NO_PROXY` (hosts, domains, CIDR
/// blocks or `*` that connect directly), each in upper case first, then lower case; an empty
/// value is unset. As curl does, `HTTP_PROXY` is ignored under CGI (`REQUEST_METHOD` set), where a
/// request header could have set it ("httpoxy").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies {
    https: Option<String>,
    http: Option<String>,
    all: Option<String>,
    no: Option<String>,
}

impl Proxies {
    /// The proxies `env` names.
    pub fn from_env(env: &dyn crate::environment::Source) -> Proxies {
        let first = |names: [&str; 2]| {
            names
                .iter()
                .filter_map(|n| env.get(n))
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        let cgi = env.get("REQUEST_METHOD").is_some();
        Proxies {
            https: first(["HTTPS_PROXY", "https_proxy"]),
            http: if cgi {
                None
            } else {
                first(["HTTP_PROXY", "http_proxy"])
            },
            all: first(["ALL_PROXY", "all_proxy"]),
            no: first(["NO_PROXY", "no_proxy"]),
        }
    }

    /// The proxies in use, secrets redacted (`HTTPS_PROXY=http://[redacted]@proxy:3128`), for the log;
    /// empty when there is none.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, v) in [
            ("HTTPS_PROXY", &self.https),
            ("HTTP_PROXY", &self.http),
            ("ALL_PROXY", &self.all),
        ] {
            if let Some(v) = v {
                parts.push(format!("{name}={}", crate::text::url(v)));
            }
        }
        if !parts.is_empty()
            && let Some(no) = &self.no
        {
            parts.push(format!("NO_PROXY={}", crate::text::bounded(no, 200)));
        }
        parts.join(" ")
    }

    /// A proxy URL as reqwest takes it: `HOST:PORT` means `http://HOST:PORT`; only `http://`
    /// and `https://` proxies are supported (no SOCKS in this build).
    fn parse(name: &str, value: &str) -> Result<reqwest::Url, HttpSetupError> {
        let full = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        let bad = |why: &str| HttpSetupError::Proxy {
            name: name.to_owned(),
            message: format!("{} {why}", crate::text::url(value)),
        };
        let url = reqwest::Url::parse(&full).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(&format!(
                "uses `{}://`; ddflare supports http:// and https:// proxies",
                crate::text::bounded(url.scheme(), 20)
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("names no host"));
        }
        Ok(url)
    }

    /// Checks every proxy URL (at start, so a typo is a config error, not a failed round).
    pub fn validate(&self) -> Result<(), HttpSetupError> {
        self.reqwest().map(|_| ())
    }

    fn reqwest(&self) -> Result<Vec<reqwest::Proxy>, HttpSetupError> {
        let no = || self.no.as_deref().and_then(reqwest::NoProxy::from_string);
        let client = |e: reqwest::Error| HttpSetupError::Client(e.to_string());
        let mut out = Vec::new();
        // reqwest asks each proxy in order; the first that intercepts a URL wins, so the
        // scheme-specific ones come before ALL_PROXY.
        if let Some(v) = &self.https {
            let url = Self::parse("HTTPS_PROXY", v)?;
            out.push(reqwest::Proxy::https(url).map_err(client)?.no_proxy(no()));
        }
        if let Some(v) = &self.http {
            let url = Self::parse("HTTP_PROXY", v)?;
            out.push(reqwest::Proxy::http(url).map_err(client)?.no_proxy(no()));
        }
        if let Some(v) = &self.all {
            let url = Self::parse("ALL_PROXY", v)?;
            out.push(reqwest::Proxy::all(url).map_err(client)?.no_proxy(no()));
        }
        Ok(out)
    }
}

/// The TLS settings shared by every client of one process, and the proxies of the clients
/// that may use one.
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
    proxies: Proxies,
}

impl Tls {
    /// Compiled-in roots, plus the certificates in `extra_ca` when given.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, HttpSetupError> {
        // Trust anchors only (name, key, constraints), not whole certificates: the same
        // verification for about half the bytes in a router-sized binary.
        let mut roots = RootCertStore::empty();
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
            // The exact room: pushing past a full `Vec` of the compiled-in roots would double it.
            let compiled = webpki_roots::TLS_SERVER_ROOTS;
            roots.roots.reserve_exact(compiled.len() + certs.len());
            roots.roots.extend_from_slice(compiled);
            for cert in certs {
                roots.add(cert).map_err(|e| HttpSetupError::BadRoot {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?;
            }
        } else {
            roots.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        }
        let provider = Arc::new(provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HttpSetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // Session tickets for the few servers one process talks to (the API, an address
        // service or two, a notifier): rustls's default room for 256 servers is a 28 KB table.
        config.resumption = rustls::client::Resumption::in_memory_sessions(SESSION_SERVERS);
        Ok(Tls {
            config: Arc::new(config),
            proxies: Proxies::default(),
        })
    }

    /// The same setup, with `proxies` for [`Tls::proxied_client`].
    pub fn with_proxies(mut self, proxies: Proxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// A client that closes each connection after its request, unless `keep` (see
    /// [`RoundClient`]).
    fn builder(&self, timeout: Duration, keep: bool) -> reqwest::ClientBuilder {
        let builder = if keep {
            reqwest::Client::builder()
        } else {
            // No pool at all: the connection goes with its response. An idle connection holds
            // about 60 KB of buffers (hyper's, rustls's) for nothing, and hyper's pool wakes the
            // process every 90 s to look for expired ones.
            reqwest::Client::builder().pool_max_idle_per_host(0)
        };
        builder
            .tls_backend_preconfigured((*self.config).clone())
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // reqwest reads the proxy variables itself unless told not to; ddflare decides
            // per client (see `proxied_client`).
            .no_proxy()
    }

    /// A client that always connects directly, whatever the proxy variables say: for address
    /// detection. `local` binds outgoing connections to an address (e.g. `0.0.0.0` or `::` to
    /// force the address family); `timeout` bounds a whole request.
    /// Detection asks each address service once a round, so no connection is kept.
    pub fn client(
        &self,
        local: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<reqwest::Client, HttpSetupError> {
        self.builder(timeout, false)
            .local_address(local)
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))
    }

    /// A client through the proxies of [`Tls::with_proxies`] (direct when there are none), that
    /// keeps no connection: for notifications.
    pub fn proxied_client(&self, timeout: Duration) -> Result<reqwest::Client, HttpSetupError> {
        self.proxied(timeout, false)
    }

    /// The client of the Cloudflare API: proxied like [`Tls::proxied_client`], its
    /// connections kept for the requests of one round.
    pub fn round_client(&self, timeout: Duration) -> Result<RoundClient, HttpSetupError> {
        let first = self.proxied(timeout, true)?;
        Ok(RoundClient {
            inner: Arc::new(RoundInner {
                tls: self.clone(),
                timeout,
                current: Mutex::new(Some(first)),
            }),
        })
    }

    fn proxied(&self, timeout: Duration, keep: bool) -> Result<reqwest::Client, HttpSetupError> {
        let mut builder = self.builder(timeout, keep);
        for proxy in self.proxies.reqwest()? {
            builder = builder.proxy(proxy);
        }
        builder
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))
    }
}

/// How many servers' TLS session tickets are kept.
const SESSION_SERVERS: usize = 8;

/// A client whose connections last one round: the requests of a round (a listing and its
/// writes, one zone after another) share a connection, and [`RoundClient::release`] at the
/// round's end drops the pool, which closes it. Rounds are minutes or hours apart: a kept
/// connection would hold about 60 KB of the idle daemon's memory, and Cloudflare closes idle
/// connections long before the next round anyway. Clones share the connections.
#[derive(Clone, Debug)]
pub struct RoundClient {
    inner: Arc<RoundInner>,
}

#[derive(Debug)]
struct RoundInner {
    tls: Tls,
    timeout: Duration,
    /// `None` between rounds: built again on the next request.
    current: Mutex<Option<reqwest::Client>>,
}

impl RoundClient {
    /// The client of this round (a new one after [`RoundClient::release`]). Building one
    /// again cannot fail where the first build worked: the same settings, checked then.
    pub fn get(&self) -> Result<reqwest::Client, HttpSetupError> {
        let mut current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = current.as_ref() {
            return Ok(c.clone());
        }
        let c = self.inner.tls.proxied(self.inner.timeout, true)?;
        *current = Some(c.clone());
        Ok(c)
    }

    /// The round is over: its kept connections close once no request in flight holds them.
    pub fn release(&self) {
        let old = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn proxies_upper_case_first_then_lower_and_empty_is_unset() {
        let p = Proxies::from_env(&env(&[
            ("HTTPS_PROXY", "http://upper:3128"),
            ("https_proxy", "http://lower:3128"),
            ("http_proxy", "lower-http:8080"),
            ("ALL_PROXY", ""),
            ("all_proxy", "http://all:1"),
            ("no_proxy", "localhost,10.0.0.0/8"),
        ]));
        assert_eq!(p.https.as_deref(), Some("http://upper:3128"));
        assert_eq!(p.http.as_deref(), Some("lower-http:8080"));
        assert_eq!(p.all.as_deref(), Some("http://all:1"));
        assert_eq!(p.no.as_deref(), Some("localhost,10.0.0.0/8"));
        assert!(p.validate().is_ok());
        assert_eq!(Proxies::from_env(&env(&[])), Proxies::default());
        assert_eq!(Proxies::default().describe(), "");
    }

    #[test]
    fn http_proxy_is_ignored_under_cgi() {
        let p = Proxies::from_env(&env(&[
            ("HTTP_PROXY", "http://evil:1"),
            ("REQUEST_METHOD", "GET"),
        ]));
        assert_eq!(p.http, None);
    }

    #[test]
    fn proxy_credentials_never_shown() {
        let p = Proxies::from_env(&env(&[
            ("HTTPS_PROXY", "http://user:s3cret-pass@proxy.lan:3128"),
            ("NO_PROXY", "127.0.0.1"),
        ]));
        let d = p.describe();
        assert!(!d.contains("s3cret"), "{d}");
        assert!(!d.contains("user"), "{d}");
        assert!(d.contains("HTTPS_PROXY=http://"), "{d}");
        assert!(d.contains("proxy.lan:3128"), "{d}");
        assert!(d.contains("NO_PROXY=127.0.0.1"), "{d}");

        let bad = Proxies::from_env(&env(&[(
            "ALL_PROXY",
            "socks5://user:s3cret@proxy.lan:1080",
        )]));
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("`ALL_PROXY`") && e.contains("socks5"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        let bad = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://s3cret@:99999")]));
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("`HTTPS_PROXY`") && !e.contains("s3cret"), "{e}");
    }

    /// A plain HTTP/1.1 server on loopback that answers every request with a kept-alive 200,
    /// and counts the connections it accepted and those the client closed.
    struct Counting {
        url: String,
        accepted: Arc<std::sync::atomic::AtomicUsize>,
        closed: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Counting {
        fn start() -> Counting {
            use std::io::{Read, Write};
            use std::sync::atomic::{AtomicUsize, Ordering};
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            let accepted = Arc::new(AtomicUsize::new(0));
            let closed = Arc::new(AtomicUsize::new(0));
            let (a, c) = (accepted.clone(), closed.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    a.fetch_add(1, Ordering::SeqCst);
                    let c = c.clone();
                    std::thread::spawn(move || {
                        let mut got = Vec::new();
                        let mut buf = [0u8; 1024];
                        loop {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                            while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                                got.drain(..end + 4);
                                let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                                if stream.write_all(ok).is_err() {
                                    return;
                                }
                            }
                        }
                        c.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            Counting {
                url,
                accepted,
                closed,
            }
        }

        fn accepted(&self) -> usize {
            self.accepted.load(std::sync::atomic::Ordering::SeqCst)
        }

        /// Waits (up to 10 s) until the client has closed `n` connections; how many it closed.
        async fn closed_at_least(&self, n: usize) -> usize {
            for _ in 0..1000 {
                let closed = self.closed.load(std::sync::atomic::Ordering::SeqCst);
                if closed >= n {
                    return closed;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            self.closed.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    async fn fetch(client: &reqwest::Client, url: &str) {
        let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(&body[..], b"ok");
    }

    #[tokio::test]
    async fn the_api_client_keeps_one_connection_for_a_round_and_closes_it_at_its_end() {
        let server = Counting::start();
        let round = Tls::new(None)
            .unwrap()
            .round_client(Duration::from_secs(10))
            .unwrap();
        for _ in 0..3 {
            fetch(&round.get().unwrap(), &server.url).await;
        }
        assert_eq!(
            server.accepted(),
            1,
            "the requests of a round share a connection"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            server.closed_at_least(0).await,
            0,
            "kept while the round lasts"
        );

        round.release();
        assert_eq!(
            server.closed_at_least(1).await,
            1,
            "closed at the round's end"
        );
        fetch(&round.get().unwrap(), &server.url).await;
        assert_eq!(server.accepted(), 2, "the next round connects again");
    }

    #[tokio::test]
    async fn detection_and_notification_clients_keep_no_connection() {
        let server = Counting::start();
        let tls = Tls::new(None).unwrap();
        for client in [
            tls.client(None, Duration::from_secs(10)).unwrap(),
            tls.proxied_client(Duration::from_secs(10)).unwrap(),
        ] {
            let before = server.accepted();
            fetch(&client, &server.url).await;
            fetch(&client, &server.url).await;
            assert_eq!(server.accepted(), before + 2);
            // Both closed while the client still exists: nothing waits for the next round.
            assert_eq!(server.closed_at_least(before + 2).await, before + 2);
        }
    }

    #[test]
    fn clients_build_with_and_without_proxies() {
        let tls = Tls::new(None)
            .unwrap()
            .with_proxies(Proxies::from_env(&env(&[(
                "HTTPS_PROXY",
                "proxy.lan:3128",
            )])));
        assert!(tls.proxied_client(Duration::from_secs(1)).is_ok());
        assert!(tls.client(None, Duration::from_secs(1)).is_ok());
    }
}
