//! `file:PATH`: the first address of the family in a file another program writes (a PPP
//! hook, a router's status export), read again every round. Words are separated by
//! whitespace; `#` starts a comment to the end of the line; words that are not addresses are
//! skipped, so `ip=203.0.113.7` does not count but `203.0.113.7 # wan` does.

use std::net::IpAddr;
use std::path::PathBuf;

use super::provider::{BoxFuture, DetectError, Found, IpProvider, failure, snippet};
use super::spec::Family;

#[derive(Debug)]
pub struct FileProvider {
    path: PathBuf,
    family: Family,
}

impl FileProvider {
    pub fn new(path: PathBuf, family: Family) -> Self {
        FileProvider { path, family }
    }
}

/// The first address of `family` in `text`.
pub fn first_address(text: &str, family: Family) -> Result<IpAddr, String> {
    let mut other = None;
    for line in text.lines() {
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        for word in line.split_whitespace() {
            if let Ok(addr) = word.parse::<IpAddr>() {
                if family.matches(&addr) {
                    return Ok(addr);
                }
                other.get_or_insert(addr);
            }
        }
    }
    match other {
        Some(addr) => Err(format!(
            "holds no {family} address (only {addr}, of the other family)"
        )),
        None if text.trim().is_empty() => Err("is empty".to_owned()),
        None => Err(format!("holds no IP address: `{}`", snippet(text.trim()))),
    }
}

impl IpProvider for FileProvider {
    fn name(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn detect(&self) -> BoxFuture<'_, Result<Found, DetectError>> {
        Box::pin(async move {
            let failed = failure(self.name());
            // On a blocking thread, as any file read; a FIFO or a device is refused before a
            // byte is read (it used to block that thread for ever), and the size is capped.
            let path = self.path.clone();
            let bytes = tokio::task::spawn_blocking(move || {
                crate::files::read(&path, crate::files::Kind::AddressFile)
            })
            .await
            .map_err(|e| failed(format!("cannot read the file: {e}")))?
            .map_err(|e| {
                let what = match &e {
                    crate::files::FileError::NotFound { .. } => {
                        format!("cannot open the file: {e}")
                    }
                    e => format!("{e}; {}", e.hint()),
                };
                failed(what)
            })?;
            first_address(&String::from_utf8_lossy(&bytes), self.family)
                .map(Found::from)
                .map_err(|m| failed(format!("the file {m}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn first_address_of_the_family() {
        let text =
            "# written by ppp\nip=192.0.2.1\n2001:db8::1 wan6\n203.0.113.7 # wan\n198.51.100.1\n";
        assert_eq!(first_address(text, Family::V4), Ok(ip("203.0.113.7")));
        assert_eq!(first_address(text, Family::V6), Ok(ip("2001:db8::1")));
        assert_eq!(
            first_address("203.0.113.7\n", Family::V6),
            Err("holds no IPv6 address (only 203.0.113.7, of the other family)".to_owned())
        );
        assert_eq!(first_address(" \n", Family::V4), Err("is empty".to_owned()));
        assert_eq!(
            first_address("<html>", Family::V4),
            Err("holds no IP address: `<html>`".to_owned())
        );
        assert_eq!(
            first_address("# 203.0.113.7\n", Family::V4),
            Err("holds no IP address: `# 203.0.113.7`".to_owned())
        );
    }

    #[tokio::test]
    async fn is_read_again_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wan");
        let p = FileProvider::new(path.clone(), Family::V4);
        let err = p.detect().await.unwrap_err().to_string();
        assert!(err.contains("cannot open the file"), "{err}");
        std::fs::write(&path, "203.0.113.7\n").unwrap();
        assert_eq!(p.detect().await.unwrap().addr, ip("203.0.113.7"));
        std::fs::write(&path, "198.51.100.9\n").unwrap();
        assert_eq!(p.detect().await.unwrap().addr, ip("198.51.100.9"));
        std::fs::write(&path, "x".repeat(10 * 1024 * 1024)).unwrap();
        let err = p.detect().await.unwrap_err().to_string();
        assert!(err.contains("larger than 64 KiB"), "{err}");
        assert!(
            err.starts_with(&format!("file:{}: ", path.display())),
            "{err}"
        );
    }
}
