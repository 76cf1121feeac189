//! PURE: a [`Snapshot`] in the Prometheus text exposition format (version 0.0.4).
//!
//! Every family is written from the first scrape on: counters whose labels are known in
//! advance at zero, the others (labels learnt at run time, timestamps not yet known) with their
//! `# HELP` and `# TYPE` and no sample, so a dashboard or an alert rule finds the name at once.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::process::Sample;
use super::{ROUND_BUCKETS, Snapshot, health};
use crate::clock::unix;

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

type Samples<'a> = Vec<(Vec<(&'a str, &'a str)>, f64)>;

fn samples(out: &mut String, name: &str, samples: &[(Vec<(&str, &str)>, f64)]) {
    for (labels, value) in samples {
        let l = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect::<Vec<_>>()
            .join(",");
        let l = if l.is_empty() { l } else { format!("{{{l}}}") };
        let _ = writeln!(out, "{name}{l} {value}");
    }
}

/// One metric family: HELP, TYPE, then its samples (label pairs, value), if any.
fn family(out: &mut String, name: &str, kind: &str, help: &str, s: &[(Vec<(&str, &str)>, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    samples(out, name, s);
}

fn one(v: Option<f64>) -> Samples<'static> {
    v.map(|v| vec![(vec![], v)]).unwrap_or_default()
}

fn time(t: Option<SystemTime>) -> Samples<'static> {
    one(t.map(|t| unix(t) as f64))
}

/// The Prometheus text exposition of a snapshot, `/proc/self`'s sample and the health at `now`.
pub fn render(s: &Snapshot, now: SystemTime, process: &Sample) -> String {
    let mut out = String::new();
    let o = &mut out;
    family(
        o,
        "ddflare_build_info",
        "gauge",
        "The running version.",
        &[(vec![("version", env!("CARGO_PKG_VERSION"))], 1.0)],
    );
    family(
        o,
        "ddflare_start_time_seconds",
        "gauge",
        "When the daemon started, in Unix seconds.",
        &time(Some(s.started)),
    );
    family(
        o,
        "ddflare_healthy",
        "gauge",
        "1 while /healthz answers 200 (a recent successful round), else 0.",
        &one(Some(f64::from(u8::from(health(s, now).ok)))),
    );
    let rounds: Samples = s
        .rounds
        .iter()
        .map(|(r, n)| (vec![("result", *r)], *n as f64))
        .collect();
    family(
        o,
        "ddflare_rounds_total",
        "counter",
        "Rounds (detect, compare, update) by result.",
        &rounds,
    );
    let name = "ddflare_round_duration_seconds";
    let h = &s.round_seconds;
    let _ = writeln!(
        o,
        "# HELP {name} How long rounds took, detection included.\n# TYPE {name} histogram"
    );
    let mut cumulative = 0;
    let les: Vec<String> = ROUND_BUCKETS.iter().map(f64::to_string).collect();
    let mut buckets: Samples = Vec::new();
    for (le, n) in les.iter().zip(h.counts) {
        cumulative += n;
        buckets.push((vec![("le", le.as_str())], cumulative as f64));
    }
    buckets.push((vec![("le", "+Inf")], h.count as f64));
    samples(o, &format!("{name}_bucket"), &buckets);
    samples(o, &format!("{name}_sum"), &one(Some(h.sum)));
    samples(o, &format!("{name}_count"), &one(Some(h.count as f64)));
    let detections: Samples = s
        .detections
        .iter()
        .map(|((f, p, oc), n)| {
            (
                vec![
                    ("family", f.as_str()),
                    ("provider", p.as_str()),
                    ("outcome", *oc),
                ],
                *n as f64,
            )
        })
        .collect();
    family(
        o,
        "ddflare_detections_total",
        "counter",
        "Address detection attempts by family, provider and outcome.",
        &detections,
    );
    let api: Samples = s
        .api_requests
        .iter()
        .map(|((e, c), n)| (vec![("endpoint", *e), ("code", c.as_str())], *n as f64))
        .collect();
    family(
        o,
        "ddflare_api_requests_total",
        "counter",
        "HTTP requests to the Cloudflare API by endpoint class and status code (`error`: no answer).",
        &api,
    );
    let updates: Samples = s
        .record_updates
        .iter()
        .map(|((t, oc), n)| (vec![("type", *t), ("outcome", *oc)], *n as f64))
        .collect();
    family(
        o,
        "ddflare_record_updates_total",
        "counter",
        "Record changes made on Cloudflare (or failed) by record type and outcome.",
        &updates,
    );
    let addrs: Vec<(&str, &str, String)> = s
        .published
        .iter()
        .map(|((n, t), a)| (n.as_str(), t.as_str(), a.to_string()))
        .collect();
    let published: Samples = addrs
        .iter()
        .map(|(n, t, a)| {
            (
                vec![("name", *n), ("type", *t), ("address", a.as_str())],
                1.0,
            )
        })
        .collect();
    family(
        o,
        "ddflare_published_address_info",
        "gauge",
        "The address each managed record points at, as far as ddflare knows.",
        &published,
    );
    family(
        o,
        "ddflare_last_round_timestamp_seconds",
        "gauge",
        "When the last round ended, in Unix seconds.",
        &time(s.last_round),
    );
    family(
        o,
        "ddflare_last_success_timestamp_seconds",
        "gauge",
        "When the last successful round ended, in Unix seconds.",
        &time(s.last_success),
    );
    family(
        o,
        "ddflare_failed_rounds_in_a_row",
        "gauge",
        "Rounds that failed since the last successful one.",
        &one(Some(s.failed_in_a_row as f64)),
    );
    family(
        o,
        "ddflare_token_expiry_timestamp_seconds",
        "gauge",
        "When the API token expires, in Unix seconds (no sample when it does not or is unknown).",
        &time(s.token_expiry),
    );
    let notes: Samples = s
        .notifications
        .iter()
        .map(|((k, r), n)| (vec![("kind", k.as_str()), ("result", *r)], *n as f64))
        .collect();
    family(
        o,
        "ddflare_notifications_total",
        "counter",
        "Notifications and monitor pings by kind and result.",
        &notes,
    );
    let p = process;
    family(
        o,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        &one(p.resident_bytes.map(|v| v as f64)),
    );
    family(
        o,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        &one(p.cpu_seconds),
    );
    family(
        o,
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        &one(p.open_fds.map(|v| v as f64)),
    );
    family(
        o,
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        &one(p.max_fds.map(|v| v as f64)),
    );
    family(
        o,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        &time(Some(s.started)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use std::time::{Duration, UNIX_EPOCH};

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn labels_are_escaped_and_every_family_is_there_from_the_start() {
        let m = Metrics::new(t(1000), Duration::from_secs(900));
        m.detection("IPv4", "file:/run/\"q\"\\", "ok");
        let text = render(&m.snapshot(), t(1001), &Sample::default());
        assert!(text.contains(r#"provider="file:/run/\"q\"\\""#), "{text}");
        assert!(
            text.contains("ddflare_rounds_total{result=\"ok\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("ddflare_record_updates_total{type=\"AAAA\",outcome=\"failed\"} 0"),
            "{text}"
        );
        assert!(text.contains("ddflare_healthy 1\n"), "{text}");
        assert!(
            text.contains("ddflare_round_duration_seconds_bucket{le=\"+Inf\"} 0\n"),
            "{text}"
        );
        // Known only later: the family is announced without a sample.
        for name in [
            "ddflare_last_success_timestamp_seconds",
            "ddflare_api_requests_total",
            "process_open_fds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}\n{text}");
            assert!(!text.contains(&format!("\n{name} ")), "{name}\n{text}");
        }
        assert!(text.contains("process_start_time_seconds 1000\n"), "{text}");
        assert!(text.ends_with('\n'));
        let late = render(&m.snapshot(), t(5000), &Sample::default());
        assert!(late.contains("ddflare_healthy 0\n"), "{late}");
    }
}
