//! The `[cloudflare]` settings the client is built from: the credentials, the API's base URL,
//! extra trust roots, timeouts and retries. Owned here; `config/` fills them in.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

/// How to replace a Global API Key by a scoped token (the advice given whenever one is used).
pub const TOKEN_STEPS: &str = "create a scoped API token at My Profile → API Tokens → Create \
Token → template \"Edit zone DNS\" → Zone Resources: Include, Specific zone, your zone; save it in \
a file (chmod 600), set `api_token_file` (or CLOUDFLARE_API_TOKEN_FILE) and remove `api_email` and \
`api_key`";

/// How ddflare authenticates to the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `api_token`, `api_token_file`, `CLOUDFLARE_API_TOKEN`, `CLOUDFLARE_API_TOKEN_FILE` or the
    /// systemd credential: sent as `Authorization: Bearer`.
    Token(Secret),
    /// The legacy Global API Key (`api_email` + `api_key`/`api_key_file`, or their variables):
    /// sent as `X-Auth-Email` + `X-Auth-Key`. It can do anything the account can.
    GlobalKey { email: String, key: Secret },
}

impl Credentials {
    /// The API token, when that is what is used.
    pub fn token(&self) -> Option<&Secret> {
        match self {
            Credentials::Token(t) => Some(t),
            Credentials::GlobalKey { .. } => None,
        }
    }

    /// The warning given at every start (check, once, run) while a Global API Key is used.
    pub fn warning(&self) -> Option<String> {
        match self {
            Credentials::Token(_) => None,
            Credentials::GlobalKey { .. } => Some(format!(
                "using the Global API Key (api_key or CLOUDFLARE_API_KEY), which can do anything your account can: every zone, every setting\nhint: a scoped API token is safer: {}",
                TOKEN_STEPS
            )),
        }
    }
}

/// One `[[credentials]]`: an API token besides `[cloudflare]`'s, used by the records (and
/// lists) that name it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedCredentials {
    /// `[a-z0-9_-]+`, unique.
    pub name: String,
    /// Always a token.
    pub credentials: Credentials,
    /// The file the token was read from, read again when it changes.
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudflareConfig {
    /// The API token or the Global API Key: the default, for whatever names no credentials.
    pub credentials: Credentials,
    /// The file the API token was read from, read again when it changes (a rotated secret).
    pub token_file: Option<PathBuf>,
    /// `[[credentials]]`, in the order of the file.
    pub named: Vec<NamedCredentials>,
    /// `api_url`, without a trailing slash. https, or http only on a loopback address.
    pub api_url: String,
    /// `ca_file`: extra PEM roots trusted besides the compiled-in ones (tests, private CAs).
    pub ca_file: Option<PathBuf>,
    /// `request_timeout`: one HTTP request, connect to last byte. Default 10s.
    pub request_timeout: Duration,
    /// `max_retries`: retries of one request after 429, 5xx or a timeout. Default 3.
    pub max_retries: u32,
}
