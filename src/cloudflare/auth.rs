//! The credentials a [`super::Client`] sends, and the API token's file read again when it is
//! replaced, so that a rotated secret reaches a running daemon without a restart.
//!
//! Before each request the file is stat'ed (through links: a Kubernetes secret volume swaps
//! its `..data` link to a new directory, leaving the old file as it was) and read again when
//! its (device, inode, mtime, ctime, size) differ from the last read. After Cloudflare refuses
//! the credentials, the file is read once more whatever its stamp says, and the call is tried
//! again only if the token differs. A file that is gone, unreadable or holds no usable token
//! keeps the current one (a warning, once per stamp). The token is never logged.
//!
//! Clones of a client share one `Auth`: a reload reaches every copy.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use tracing::{info, warn};

use super::settings::Credentials;
use crate::files::{self, Kind};
use crate::http::HttpSetupError;

/// The longest token accepted from a rotated file (Cloudflare's are 40 characters; the
/// config allows 200).
const MAX_TOKEN: usize = 200;

/// What identifies one version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    size: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            size: m.size(),
        })
    }
}

#[derive(Debug)]
struct Watched {
    path: PathBuf,
    /// ` of credentials `NAME`` for a `[[credentials]]` token, empty for `[cloudflare]`'s:
    /// the log says whose file it is.
    whose: String,
    /// The stamp of the last read, or of the last failed attempt (not retried until it
    /// changes). Taken when the client is built: the config's read came just before, maybe
    /// as root before dropping privileges, after which the file may no longer be readable.
    seen: Option<Stamp>,
    /// The last failure to use the file, with the stamp it was for: said once, not again
    /// at every refusal while the file stays as it is.
    failed: Option<(Option<Stamp>, String)>,
}

#[derive(Debug)]
struct Inner {
    headers: Vec<(HeaderName, HeaderValue)>,
    file: Option<Watched>,
}

/// The authentication headers, marked sensitive (their `Debug` prints `Sensitive`).
#[derive(Debug)]
pub(super) struct Auth(Mutex<Inner>);

impl Auth {
    /// `token_file`: where an API token came from, to watch; ignored for a Global API Key.
    /// `name`: the `[[credentials]]` name, `None` for `[cloudflare]`'s.
    pub(super) fn new(
        credentials: &Credentials,
        token_file: Option<&Path>,
        name: Option<&str>,
    ) -> Result<Auth, HttpSetupError> {
        let file = match credentials {
            Credentials::Token(_) => token_file.map(|p| Watched {
                path: p.to_owned(),
                whose: name.map_or_else(String::new, |n| format!(" of credentials `{n}`")),
                seen: Stamp::of(p),
                failed: None,
            }),
            Credentials::GlobalKey { .. } => None,
        };
        Ok(Auth(Mutex::new(Inner {
            headers: headers(credentials)?,
            file,
        })))
    }

    /// The headers for the next request, after reading the token file again if it changed.
    pub(super) fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner.reload(false);
        inner.headers.clone()
    }

    /// After Cloudflare refused the credentials: reads the token file again whatever its stamp
    /// says; true when it now holds another token (worth one more try).
    pub(super) fn reload_after_refusal(&self) -> bool {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner.file.is_some() && inner.reload(true)
    }
}

impl Inner {
    /// Reads the file when its stamp changed (or `force`); true when the token changed.
    fn reload(&mut self, force: bool) -> bool {
        let Some(file) = self.file.as_mut() else {
            return false;
        };
        let stamp = Stamp::of(&file.path);
        if !force && stamp.is_some() && stamp == file.seen {
            return false;
        }
        let Some(stamp) = stamp else {
            if file.seen.is_some() {
                warn!(
                    file = %files::shown(&file.path),
                    "the API token file{} is gone; keeping the token read before",
                    file.whose
                );
                file.seen = None;
            }
            return false;
        };
        file.seen = Some(stamp);
        let value = match read_token(&file.path) {
            Ok(v) => {
                file.failed = None;
                v
            }
            Err(why) => {
                let failure = (Some(stamp), why);
                if file.failed.as_ref() != Some(&failure) {
                    warn!(
                        file = %files::shown(&file.path),
                        "cannot use the API token file{} as it is now ({}); keeping the token read before",
                        file.whose,
                        failure.1
                    );
                    file.failed = Some(failure);
                }
                return false;
            }
        };
        if self.headers.first().is_some_and(|(_, v)| *v == value) {
            return false;
        }
        self.headers = vec![(AUTHORIZATION, value)];
        info!(
            file = %files::shown(&file.path),
            "the API token file{} changed: the new token is used from now on",
            file.whose
        );
        true
    }
}

/// The `Authorization` value of the token in `path`; why not, without the file's content.
fn read_token(path: &Path) -> Result<HeaderValue, String> {
    let bytes = files::read(path, Kind::Secret).map_err(|e| e.reason())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let token = text.trim();
    if token.is_empty() {
        return Err("it is empty".into());
    }
    if token.len() > MAX_TOKEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "it does not hold a token alone (expected up to {MAX_TOKEN} visible ASCII characters)"
        ));
    }
    sensitive(format!("Bearer {token}")).ok_or_else(|| "not a header value".to_owned())
}

fn sensitive(v: String) -> Option<HeaderValue> {
    HeaderValue::try_from(v).ok().map(|mut h| {
        h.set_sensitive(true);
        h
    })
}

/// The headers that carry the credentials: `Authorization: Bearer`, or `X-Auth-Email` and
/// `X-Auth-Key`. The configuration checked their characters; the error never shows the value.
fn headers(credentials: &Credentials) -> Result<Vec<(HeaderName, HeaderValue)>, HttpSetupError> {
    let value = |v: String, what: &str| {
        sensitive(v).ok_or_else(|| {
            HttpSetupError::Client(format!(
                "the {what} holds characters an HTTP header cannot carry"
            ))
        })
    };
    Ok(match credentials {
        Credentials::Token(t) => vec![(
            AUTHORIZATION,
            value(format!("Bearer {}", t.expose()), "API token")?,
        )],
        Credentials::GlobalKey { email, key } => vec![
            (
                HeaderName::from_static("x-auth-email"),
                value(email.clone(), "email")?,
            ),
            (
                HeaderName::from_static("x-auth-key"),
                value(key.expose().to_owned(), "Global API Key")?,
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    const OLD: &str = "0ld-token-0123456789abcdefABCDEF_xyz0123";
    const NEW: &str = "n3w-token-0123456789abcdefABCDEF_xyz0123";

    fn bearer(auth: &Auth) -> String {
        let h = auth.headers();
        assert_eq!(h.len(), 1);
        String::from_utf8(h[0].1.as_bytes().to_vec()).unwrap()
    }

    fn watching(path: &Path) -> Auth {
        Auth::new(&Credentials::Token(Secret::new(OLD)), Some(path), None).unwrap()
    }

    const KEY: &str = "5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291";

    #[test]
    fn a_global_key_is_sent_as_x_auth_headers_never_shown() {
        let creds = Credentials::GlobalKey {
            email: "me@example.com".into(),
            key: Secret::new(KEY),
        };
        let headers = headers(&creds).unwrap_or_default();
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-auth-email", "x-auth-key"]);
        assert!(headers.iter().all(|(_, v)| v.is_sensitive()));
        assert_eq!(headers[1].1.to_str().ok(), Some(KEY));
        assert!(!format!("{headers:?}").contains(&KEY[..12]));

        let token = Credentials::Token(Secret::new("t0ken-0123456789-abcdefABCDEF_xyz"));
        let headers = super::headers(&token).unwrap_or_default();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].0, reqwest::header::AUTHORIZATION);
        assert!(headers[0].1.is_sensitive());
        assert!(!format!("{headers:?}").contains("t0ken"));
    }

    #[test]
    fn a_file_replaced_by_rename_or_rewritten_in_place_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, format!("{OLD}\n")).unwrap();
        let auth = watching(&path);
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
        // As an editor or `install` does: a new file renamed over the old one.
        let tmp = dir.path().join("token.new");
        std::fs::write(&tmp, NEW).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(bearer(&auth), format!("Bearer {NEW}"));
        // In place (same inode): the size or the times change.
        std::fs::write(&path, format!("{OLD}   ")).unwrap();
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
    }

    #[test]
    fn a_kubernetes_secret_rotation_swaps_the_data_link() {
        // The kubelet's layout: token → ..data/token, ..data → ..<timestamp>/; a rotation
        // writes a new timestamped directory and renames a new ..data link over the old one.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("..2026_12_04_1")).unwrap();
        std::fs::write(d.join("..2026_12_04_1/token"), OLD).unwrap();
        std::os::unix::fs::symlink("..2026_12_04_1", d.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/token", d.join("token")).unwrap();
        let auth = watching(&d.join("token"));
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
        std::fs::create_dir(d.join("..2026_12_04_2")).unwrap();
        std::fs::write(d.join("..2026_12_04_2/token"), NEW).unwrap();
        std::os::unix::fs::symlink("..2026_12_04_2", d.join("..data_tmp")).unwrap();
        std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
        std::fs::remove_dir_all(d.join("..2026_12_04_1")).unwrap();
        assert_eq!(bearer(&auth), format!("Bearer {NEW}"));
    }

    #[test]
    fn a_gone_empty_or_garbled_file_keeps_the_current_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, OLD).unwrap();
        let auth = watching(&path);
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
        for bad in [
            "",
            "  \n",
            "two words",
            "tok\u{7}en",
            &"x".repeat(MAX_TOKEN + 1),
        ] {
            std::fs::write(&path, bad).unwrap();
            assert_eq!(bearer(&auth), format!("Bearer {OLD}"), "{bad:?}");
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
        // Back, fixed: used.
        std::fs::write(&path, NEW).unwrap();
        assert_eq!(bearer(&auth), format!("Bearer {NEW}"));
    }

    #[test]
    fn a_refusal_reads_the_file_again_and_says_whether_the_token_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, OLD).unwrap();
        let auth = watching(&path);
        assert_eq!(bearer(&auth), format!("Bearer {OLD}"));
        assert!(!auth.reload_after_refusal(), "same token: no second try");
        std::fs::write(&path, NEW).unwrap();
        assert!(auth.reload_after_refusal());
        assert_eq!(bearer(&auth), format!("Bearer {NEW}"));
        let inline = Auth::new(&Credentials::Token(Secret::new(OLD)), None, None).unwrap();
        assert!(!inline.reload_after_refusal());
    }
}
