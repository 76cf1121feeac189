//! The standard `process_*` metrics (Prometheus's client libraries' names): resident memory,
//! CPU time and file descriptors, read from `/proc/self` at each scrape (Linux only; elsewhere
//! the families stay without samples). The parsing is PURE; [`Sample::read`] is the edge.
//!
//! These are kernel files of this process, not input anyone else controls: they are read
//! directly, each through a 64 KiB cap, rather than through `crate::files` (whose reader
//! spawns a thread per read to bound a FIFO's open: no FIFO can sit at `/proc/self/stat`).

use std::io::Read as _;

/// What `/proc/self` said; `None` where it could not be read or parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    pub resident_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

/// Clock ticks per second of `/proc/<pid>/stat`'s times: `USER_HZ`, 100 on every
/// architecture Linux exposes to user space.
const USER_HZ: f64 = 100.0;

/// User plus system CPU seconds from `/proc/self/stat` (fields 14 and 15, counted after the
/// command name, which may itself hold spaces and parentheses).
pub fn cpu_seconds(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// `VmRSS` of `/proc/self/status`, in bytes.
pub fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The soft limit on open files from `/proc/self/limits` (`None` when unlimited).
pub fn max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn small(path: &str) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 << 10)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

impl Sample {
    /// Reads `/proc/self` now.
    pub fn read() -> Sample {
        Sample {
            resident_bytes: small("/proc/self/status").and_then(|s| resident_bytes(&s)),
            cpu_seconds: small("/proc/self/stat").and_then(|s| cpu_seconds(&s)),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|d| d.count() as u64),
            max_fds: small("/proc/self/limits").and_then(|s| max_fds(&s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_parsed() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 102 0 0 0 250 50 0 0 20 0 1 0 5733001";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("42 (x) S 1"), None);
        let status = "Name:\tddflare\nVmPeak:\t  9000 kB\nVmRSS:\t    2024 kB\n";
        assert_eq!(resident_bytes(status), Some(2024 * 1024));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(max_fds(limits), Some(1024));
        assert_eq!(
            max_fds("Max open files            unlimited            unlimited            files"),
            None
        );
    }

    #[test]
    fn this_process_is_read() {
        let s = Sample::read();
        assert!(s.resident_bytes.unwrap() > 0, "{s:?}");
        assert!(s.cpu_seconds.is_some(), "{s:?}");
        assert!(s.open_fds.unwrap() >= 3, "{s:?}");
        assert!(s.max_fds.unwrap() >= s.open_fds.unwrap(), "{s:?}");
    }
}
