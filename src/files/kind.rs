//! [`Kind`]: what a file is for, and with it its size cap, its name in messages and the
//! setting that names it.

/// What a file is for: its size cap, how it is named in messages, where it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The TOML config.
    Config,
    /// A token or Global API Key file (`api_token_file`, `api_key_file`, a credential).
    Secret,
    /// `cloudflare.ca_file`.
    CaBundle,
    /// `state.json`.
    State,
    /// `heartbeat`.
    Heartbeat,
    /// `token-check.json`.
    TokenCheck,
    /// `history.json`: the last address changes.
    History,
    /// A `file:` provider's address file.
    AddressFile,
    /// A TZif file of the system's zoneinfo (`schedule.timezone`).
    Zoneinfo,
}

impl Kind {
    /// The largest file of this kind that is read; each is far above any real file and far
    /// below what would hurt a router with 64 MB of memory.
    pub const fn cap(self) -> u64 {
        match self {
            // A config with hundreds of records is under 100 KiB.
            Kind::Config => 4 << 20,
            // A token is 40 characters, a key 37; a file of a few lines at most.
            Kind::Secret => 64 << 10,
            // Mozilla's whole bundle is ~220 KiB; a private CA is a few KiB. 8 MiB is 30
            // bundles (the public roots are compiled in anyway).
            Kind::CaBundle => 8 << 20,
            // ~300 bytes per record: 16 MiB is over 50 000 records, far more than an API
            // token should ever manage.
            Kind::State => 16 << 20,
            // Both are one small JSON object (~100 bytes).
            Kind::Heartbeat | Kind::TokenCheck => 4 << 10,
            // ddflare writes at most 64 KiB of it (crate::history::MAX_BYTES).
            Kind::History => 64 << 10,
            // An address file is a few lines (a PPP hook's output, a status export).
            Kind::AddressFile => 64 << 10,
            // The largest zone in tzdata is under 4 KiB ("fat": under 8).
            Kind::Zoneinfo => 256 << 10,
        }
    }

    /// How the file is named in a message.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Config => "the config file",
            Kind::Secret => "the secret file",
            Kind::CaBundle => "the CA file",
            Kind::State => "the state file",
            Kind::Heartbeat => "the heartbeat",
            Kind::TokenCheck => "the token check cache",
            Kind::History => "the history file",
            Kind::AddressFile => "the address file",
            Kind::Zoneinfo => "the zoneinfo file",
        }
    }

    /// Where the path comes from, for hints.
    pub fn setting(self) -> &'static str {
        match self {
            Kind::Config => "--config (or DDFLARE_CONFIG)",
            Kind::Secret => {
                "api_token_file / api_key_file (or CLOUDFLARE_API_TOKEN_FILE / CLOUDFLARE_API_KEY_FILE)"
            }
            Kind::CaBundle => "cloudflare.ca_file",
            Kind::State | Kind::Heartbeat | Kind::TokenCheck | Kind::History => {
                "state.dir (or DDFLARE_STATE_DIR)"
            }
            Kind::AddressFile => "the path of the `file:` provider",
            Kind::Zoneinfo => "schedule.timezone (or TZDIR)",
        }
    }

    /// ddflare's own files, in the state dir: never through a link.
    pub fn in_state_dir(self) -> bool {
        matches!(
            self,
            Kind::State | Kind::Heartbeat | Kind::TokenCheck | Kind::History
        )
    }

    pub(super) fn too_large_hint(self) -> &'static str {
        match self {
            Kind::Config => {
                "check the path given with --config or DDFLARE_CONFIG: a config is a few KiB"
            }
            Kind::Secret => "the file must hold the token (or the key) alone",
            Kind::CaBundle => {
                "put only the private or test CA in ca_file: the public roots are built in"
            }
            Kind::State | Kind::Heartbeat | Kind::TokenCheck | Kind::History => {
                "ddflare did not write this: remove it, and ddflare writes it again (the records are read from Cloudflare once)"
            }
            Kind::AddressFile => "point the `file:` provider at a file that holds the address",
            Kind::Zoneinfo => "point TZDIR at a zoneinfo directory (e.g. /usr/share/zoneinfo)",
        }
    }
}
