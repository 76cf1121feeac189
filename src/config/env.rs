//! The environment overrides, read through [`Source`] (the process environment in production,
//! a map in tests). Env wins over the file. A variable set to an empty string is ignored, except
//! the credential ones: an empty token, key or email is a mistake worth reporting.

use crate::environment::Source;

/// Names the config file, like `--config` (read by the CLI, which then calls `load` with
/// `explicit = true`).
pub const CONFIG: &str = "DDFLARE_CONFIG";
pub const TOKEN: &str = "CLOUDFLARE_API_TOKEN";
pub const TOKEN_FILE: &str = "CLOUDFLARE_API_TOKEN_FILE";
/// The legacy Global API Key and its account email (sent as `X-Auth-Key`/`X-Auth-Email`).
pub const EMAIL: &str = "CLOUDFLARE_API_EMAIL";
pub const KEY: &str = "CLOUDFLARE_API_KEY";
pub const KEY_FILE: &str = "CLOUDFLARE_API_KEY_FILE";
pub const RECORDS: &str = "DDFLARE_RECORDS";
/// `[process] user` and `drop_privileges`.
pub const USER: &str = "DDFLARE_USER";
pub const DROP_PRIVILEGES: &str = "DDFLARE_DROP_PRIVILEGES";
/// Like `--strict` (read by `load`): refuse secrets that group or others may read.
pub const STRICT: &str = "DDFLARE_STRICT";
pub const IPV4: &str = "DDFLARE_IPV4";
pub const IPV6: &str = "DDFLARE_IPV6";
pub const INTERVAL: &str = "DDFLARE_INTERVAL";
pub const TTL: &str = "DDFLARE_TTL";
pub const PROXIED: &str = "DDFLARE_PROXIED";
pub const COMMENT: &str = "DDFLARE_COMMENT";
pub const STATE_DIR: &str = "DDFLARE_STATE_DIR";
pub const API_URL: &str = "DDFLARE_API_URL";
pub const OWNERSHIP: &str = "DDFLARE_OWNERSHIP";
pub const DELETE_ON_STOP: &str = "DDFLARE_DELETE_ON_STOP";
/// `detect.allow_private`.
pub const ALLOW_PRIVATE: &str = "DDFLARE_ALLOW_PRIVATE";
/// `detect.ipv4_accept` … `ipv6_reject`: comma-separated prefixes.
pub const IPV4_ACCEPT: &str = "DDFLARE_IPV4_ACCEPT";
pub const IPV4_REJECT: &str = "DDFLARE_IPV4_REJECT";
pub const IPV6_ACCEPT: &str = "DDFLARE_IPV6_ACCEPT";
pub const IPV6_REJECT: &str = "DDFLARE_IPV6_REJECT";
/// `metrics.listen`.
pub const METRICS_LISTEN: &str = "DDFLARE_METRICS_LISTEN";
/// Notification URLs, separated by spaces or newlines: they replace the file's `[[notify]]`.
pub const NOTIFY: &str = "DDFLARE_NOTIFY";
/// Monitor (heartbeat) URLs, separated by spaces or newlines: they replace `[[monitor]]`.
pub const MONITOR: &str = "DDFLARE_MONITOR";
/// `schedule.cron`: rounds at the minutes it names (UTC), instead of every interval.
pub const CRON: &str = "DDFLARE_CRON";
pub const TIMEZONE: &str = "DDFLARE_TIMEZONE";
/// `log.quiet`, like `--quiet`.
pub const QUIET: &str = "DDFLARE_QUIET";
/// Set by systemd's `StateDirectory=`; may hold several colon-separated paths.
pub const STATE_DIRECTORY: &str = "STATE_DIRECTORY";
/// Set by systemd's `LoadCredential=`; ddflare reads `cloudflare_api_token` in it.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";
/// The credential name under `$CREDENTIALS_DIRECTORY`.
pub const CREDENTIAL_NAME: &str = "cloudflare_api_token";

/// One variable that is set: its name, for messages, and its value.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub value: String,
}

/// Never prints the value: it may be a token.
impl std::fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EnvVar({})", self.name)
    }
}

/// Every override ddflare reads, already filtered for empty values.
#[derive(Debug, Default)]
pub struct Overrides {
    pub token: Option<EnvVar>,
    pub token_file: Option<EnvVar>,
    pub email: Option<EnvVar>,
    pub key: Option<EnvVar>,
    pub key_file: Option<EnvVar>,
    pub records: Option<EnvVar>,
    pub ipv4: Option<EnvVar>,
    pub ipv6: Option<EnvVar>,
    pub interval: Option<EnvVar>,
    pub ttl: Option<EnvVar>,
    pub proxied: Option<EnvVar>,
    pub comment: Option<EnvVar>,
    pub state_dir: Option<EnvVar>,
    pub api_url: Option<EnvVar>,
    pub state_directory: Option<EnvVar>,
    pub credentials_directory: Option<EnvVar>,
    pub ownership: Option<EnvVar>,
    pub delete_on_stop: Option<EnvVar>,
    pub user: Option<EnvVar>,
    pub drop_privileges: Option<EnvVar>,
    pub allow_private: Option<EnvVar>,
    /// `DDFLARE_IPV4_ACCEPT`, `_IPV4_REJECT`, `_IPV6_ACCEPT`, `_IPV6_REJECT`, in that order.
    pub filters: [Option<EnvVar>; 4],
    pub metrics_listen: Option<EnvVar>,
    pub notify: Option<EnvVar>,
    pub monitor: Option<EnvVar>,
    pub quiet: Option<EnvVar>,
    pub cron: Option<EnvVar>,
    pub timezone: Option<EnvVar>,
    /// `TZDIR`: where `schedule.timezone` is looked up (not a ddflare setting).
    pub tzdir: Option<EnvVar>,
}

impl Overrides {
    pub fn read(env: &dyn Source) -> Overrides {
        let keep_empty = |name: &'static str| env.get(name).map(|value| EnvVar { name, value });
        let non_empty = |name: &'static str| {
            env.get(name)
                .filter(|v| !v.trim().is_empty())
                .map(|value| EnvVar { name, value })
        };
        Overrides {
            token: keep_empty(TOKEN),
            token_file: keep_empty(TOKEN_FILE),
            email: keep_empty(EMAIL),
            key: keep_empty(KEY),
            key_file: keep_empty(KEY_FILE),
            records: non_empty(RECORDS),
            ipv4: non_empty(IPV4),
            ipv6: non_empty(IPV6),
            interval: non_empty(INTERVAL),
            ttl: non_empty(TTL),
            proxied: non_empty(PROXIED),
            // A comment of spaces is still "set"; only the empty string is ignored.
            comment: env
                .get(COMMENT)
                .filter(|v| !v.is_empty())
                .map(|value| EnvVar {
                    name: COMMENT,
                    value,
                }),
            state_dir: non_empty(STATE_DIR),
            api_url: non_empty(API_URL),
            state_directory: non_empty(STATE_DIRECTORY),
            credentials_directory: non_empty(CREDENTIALS_DIRECTORY),
            ownership: non_empty(OWNERSHIP),
            delete_on_stop: non_empty(DELETE_ON_STOP),
            user: non_empty(USER),
            drop_privileges: non_empty(DROP_PRIVILEGES),
            allow_private: non_empty(ALLOW_PRIVATE),
            filters: [IPV4_ACCEPT, IPV4_REJECT, IPV6_ACCEPT, IPV6_REJECT].map(non_empty),
            metrics_listen: non_empty(METRICS_LISTEN),
            notify: non_empty(NOTIFY),
            monitor: non_empty(MONITOR),
            quiet: non_empty(QUIET),
            cron: non_empty(CRON),
            timezone: non_empty(TIMEZONE),
            tzdir: non_empty("TZDIR"),
        }
    }

    /// The token and key values and the notification and monitor URLs seen in the
    /// environment, so errors can be scrubbed of them.
    pub fn secrets(&self) -> Vec<String> {
        let urls = [&self.notify, &self.monitor]
            .into_iter()
            .flatten()
            .flat_map(|v| split_urls(&v.value));
        self.token
            .iter()
            .chain(self.key.iter())
            .map(|v| v.value.trim().to_owned())
            .chain(urls)
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// `true/false/1/0/yes/no/on/off`, any case.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Splits a list of URLs on whitespace (spaces, tabs, newlines): URLs hold commas, never
/// spaces.
pub fn split_urls(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

/// Splits a comma-separated list, trimming items and dropping empty ones.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first path of `$STATE_DIRECTORY` (systemd joins several with `:`).
pub fn first_state_directory(value: &str) -> Option<&str> {
    value.split(':').map(str::trim).find(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn empty_values_are_ignored_except_tokens() {
        let o = Overrides::read(&env(&[
            (TOKEN, ""),
            (TOKEN_FILE, ""),
            (TTL, ""),
            (RECORDS, "  "),
            (COMMENT, ""),
        ]));
        assert!(o.token.is_some());
        assert!(o.token_file.is_some());
        assert!(o.ttl.is_none());
        assert!(o.records.is_none());
        assert!(o.comment.is_none());
    }

    #[test]
    fn bools_and_lists() {
        for t in ["true", "1", "YES", "on"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "0", "No", "off"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(split_list(" a , b,,c, "), vec!["a", "b", "c"]);
        assert_eq!(first_state_directory("/a:/b"), Some("/a"));
        assert_eq!(first_state_directory(":/b"), Some("/b"));
    }

    #[test]
    fn debug_hides_token_value() {
        let o = Overrides::read(&env(&[
            (TOKEN, "abcdefghijabcdefghij12345"),
            (KEY, "0123456789abcdef0123456789abcdef01234"),
        ]));
        assert!(!format!("{o:?}").contains("abcdefghij"));
        assert!(!format!("{o:?}").contains("0123456789abcdef"));
        assert_eq!(
            o.secrets(),
            vec![
                "abcdefghijabcdefghij12345".to_owned(),
                "0123456789abcdef0123456789abcdef01234".to_owned()
            ]
        );
    }
}
