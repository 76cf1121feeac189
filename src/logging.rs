//! Structured logs on stderr: human text (no colours unless a terminal; no timestamps under
//! systemd, whose journal adds them) or one JSON object per line. ddflare's own events go down
//! to the chosen level; dependencies only speak from `warn` up, so no library can print a
//! request header at `trace`. When stderr is systemd's journal stream, every line starts with
//! its syslog priority (`<3>` error … `<7>` debug), which journald turns into the entry's
//! priority (`SyslogLevelPrefix=`, on by default) and strips from the message.
//!
//! The text format is one line per event whatever the event carries: outside text is escaped
//! where ddflare quotes it, and `text_fields` is the last line of defence (every control
//! character of a field escaped; the message's own line breaks, ddflare's `hint:` lines, kept
//! but indented so no line of an event can pass for an event of its own). The JSON format is
//! escaped by serde.

use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write as _};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

use crate::text;

/// `[log]`: how much to log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogConfig {
    /// `quiet`: log only changes and problems (`--quiet` says the same). Default false.
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<Level> for LevelFilter {
    fn from(l: Level) -> Self {
        match l {
            Level::Error => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Debug => LevelFilter::DEBUG,
            Level::Trace => LevelFilter::TRACE,
        }
    }
}

/// Where changes are logged (an address published, a config reloaded): the events that quiet
/// mode keeps besides warnings and errors.
pub const CHANGE_TARGET: &str = "ddflare::change";

/// Installs the global subscriber. `under_journald` drops timestamps (journald adds its own).
/// `quiet`: only changes, warnings and errors (for routers with tiny log buffers).
pub fn init(format: Format, level: Level, under_journald: bool, quiet: bool, color: bool) {
    let level = if quiet {
        LevelFilter::WARN
    } else {
        LevelFilter::from(level)
    };
    let filter = Filter {
        default: LevelFilter::WARN.min(level),
        ddflare: level,
        change: quiet.then_some(LevelFilter::INFO),
    };
    // Without the `json-log` feature (the router builds), JSON falls back to text, with a
    // warning once logging is up.
    #[cfg(not(feature = "json-log"))]
    let (format, json_refused) = (Format::Text, format == Format::Json);
    let stderr_tty = color && std::io::stderr().is_terminal();
    let style = Style {
        json: format == Format::Json,
        // journald stamps each line itself.
        time: format == Format::Json || !under_journald,
        ansi: format == Format::Text && !under_journald && stderr_tty,
        journal: under_journald,
    };
    // Only fails when a subscriber is already set (tests): keep that one.
    let _ = tracing::subscriber::set_global_default(Log {
        filter,
        style,
        sink: Sink::Stderr,
    });
    #[cfg(not(feature = "json-log"))]
    if json_refused {
        tracing::warn!(
            "--log-format json: this build of ddflare has no JSON log format (built without the \
             `json-log` feature, as the router builds are); logging text\nhint: drop \
             --log-format json (or DDFLARE_LOG_FORMAT=json), or run a build with every feature"
        );
    }
}

/// Which events pass: ddflare's own (`ddflare…` targets) down to the chosen level, changes
/// (`ddflare::change`) at INFO in quiet mode, everything else (the libraries) from `default`
/// up. The longest matching target prefix decides, as tracing-subscriber's `Targets` did.
#[derive(Debug, Clone, Copy)]
struct Filter {
    default: LevelFilter,
    ddflare: LevelFilter,
    change: Option<LevelFilter>,
}

impl Filter {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        let target = meta.target();
        let max = match self.change {
            Some(change) if target.starts_with(CHANGE_TARGET) => change,
            _ if target.starts_with("ddflare") => self.ddflare,
            _ => self.default,
        };
        *meta.level() <= max
    }

    fn max(&self) -> LevelFilter {
        self.default
            .max(self.ddflare)
            .max(self.change.unwrap_or(LevelFilter::OFF))
    }
}

/// How a line looks. Text: `[TIME ]LEVEL message key=value…` (the time and the level in
/// colour on a terminal); JSON: `{"timestamp","level",the fields…,"target"}`; under journald,
/// each line of either gets its `<N>` priority. The same bytes as tracing-subscriber's `Full`
/// and `Json` formats (`flatten_event`, no target in text) that ddflare used before; ddflare
/// opens no span, so none is shown.
#[derive(Debug, Clone, Copy)]
struct Style {
    json: bool,
    time: bool,
    ansi: bool,
    journal: bool,
}

/// Where lines go: stderr, or a buffer in tests.
enum Sink {
    Stderr,
    #[cfg(test)]
    Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>),
}

/// The global subscriber: one type, no span registry, no layers (docs/shipping.md).
struct Log {
    filter: Filter,
    style: Style,
    sink: Sink,
}

impl Subscriber for Log {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.filter.enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.filter.enabled(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.filter.max())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = self.style.line(event, SystemTime::now());
        match &self.sink {
            Sink::Stderr => {
                if let Err(e) = std::io::stderr().write_all(line.as_bytes()) {
                    // As tracing-subscriber said it.
                    eprintln!(
                        "[tracing-subscriber] Unable to write an event to the Writer for this Subscriber! Error: {e}\n"
                    );
                }
            }
            #[cfg(test)]
            Sink::Buffer(b) => b
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(line.as_bytes()),
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Style {
    /// The event's line(s), ending in a line break.
    fn line(&self, event: &Event<'_>, now: SystemTime) -> String {
        let level = *event.metadata().level();
        let mut out = String::new();
        let time = self.time.then(|| timestamp(now));
        if self.json {
            #[cfg(feature = "json-log")]
            json_line(&mut out, event, time.as_deref());
        } else {
            if let Some(t) = time {
                if self.ansi {
                    let _ = write!(out, "\x1b[2m{t}\x1b[0m ");
                } else {
                    out.push_str(&t);
                    out.push(' ');
                }
            }
            let (word, colour) = match level {
                tracing::Level::TRACE => ("TRACE", 35),
                tracing::Level::DEBUG => ("DEBUG", 34),
                tracing::Level::INFO => (" INFO", 32),
                tracing::Level::WARN => (" WARN", 33),
                _ => ("ERROR", 31),
            };
            if self.ansi {
                let _ = write!(out, "\x1b[{colour}m{word}\x1b[0m ");
            } else {
                out.push_str(word);
                out.push(' ');
            }
            text_fields(&mut out, event);
            out.push('\n');
        }
        if self.journal {
            let mut prefixed = String::new();
            let _ = write_prefixed(&mut prefixed, syslog_priority(&level), &out);
            return prefixed;
        }
        out
    }
}

/// RFC 3339 in UTC with microseconds (`2026-12-05T11:32:39.123456Z`). A clock before 1970
/// (never seen) is written as the epoch.
fn timestamp(now: SystemTime) -> String {
    let now = now.max(SystemTime::UNIX_EPOCH);
    humantime::format_rfc3339_micros(now).to_string()
}

/// The JSON object of an event: `timestamp`, `level`, the event's fields at the top level in
/// their order (the message as `message`), `target`; strings escaped by serde_json.
#[cfg(feature = "json-log")]
fn json_line(out: &mut String, event: &Event<'_>, time: Option<&str>) {
    out.push('{');
    if let Some(time) = time {
        out.push_str("\"timestamp\":");
        json_str(out, time);
        out.push(',');
    }
    out.push_str("\"level\":");
    json_str(out, event.metadata().level().as_str());
    let mut visitor = JsonVisitor(out);
    event.record(&mut visitor);
    out.push_str(",\"target\":");
    json_str(out, event.metadata().target());
    out.push_str("}\n");
}

#[cfg(feature = "json-log")]
fn json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Each field as `,"name":value`: numbers and booleans as JSON's, the rest as strings
/// (`Debug` of a value, `Display` of an error), as tracing-serde wrote them.
#[cfg(feature = "json-log")]
struct JsonVisitor<'a>(&'a mut String);

#[cfg(feature = "json-log")]
impl JsonVisitor<'_> {
    fn key(&mut self, field: &Field) {
        self.0.push(',');
        json_str(self.0, field.name());
        self.0.push(':');
    }
}

#[cfg(feature = "json-log")]
impl Visit for JsonVisitor<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0.push_str(if value { "true" } else { "false" });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        self.0
            .push_str(&serde_json::to_string(&value).unwrap_or_default());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        json_str(self.0, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.key(field);
        json_str(self.0, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(field);
        json_str(self.0, &format!("{value:?}"));
    }
}

/// The longest message or field value in a text line, in characters: far above what ddflare
/// writes, so only a flood from outside is cut.
const FIELD_MAX: usize = 4000;

/// How a continuation line of a message starts: indented under the event's first line.
const CONTINUATION: &str = "\n    ";

/// The text format's fields: the message, then `key=value` pairs, as tracing's default
/// writes them, but safe: a field's control characters (line breaks included) are escaped, a
/// message's line breaks start an indented continuation line and its other control characters
/// are escaped, and each part is bounded.
fn text_fields(out: &mut String, event: &Event<'_>) {
    let mut visitor = TextVisitor::default();
    event.record(&mut visitor);
    visitor.write(out);
}
/// The fields of a decision line (one with an `outcome`) that its message already says: the
/// text format leaves them to the JSON one, so the line stays readable (`zone` is shown).
const DECISION_SAID: &[&str] = &[
    "name", "type", "from", "to", "outcome", "cached", "error", "hint", "cf_ray",
];

#[derive(Default)]
struct TextVisitor {
    /// (field name, its rendered part), in order.
    parts: Vec<(&'static str, String)>,
}

impl TextVisitor {
    /// The parts, space-separated; a decision line's said fields left out.
    fn write(&self, out: &mut String) {
        let decision = self.parts.iter().any(|(n, _)| *n == "outcome");
        let mut first = true;
        for (name, part) in &self.parts {
            if decision && DECISION_SAID.contains(name) {
                continue;
            }
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(part);
        }
    }

    fn push(&mut self, field: &Field, value: &str) {
        let part = if field.name() == "message" {
            let safe = text::bounded_lines(value, FIELD_MAX);
            safe.replace('\n', CONTINUATION)
        } else {
            let name = field.name().strip_prefix("r#").unwrap_or(field.name());
            format!("{name}={}", text::bounded(value, FIELD_MAX))
        };
        let name = field.name();
        self.parts
            .push((name.strip_prefix("r#").unwrap_or(name), part));
    }
}

impl Visit for TextVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.push(field, value);
        } else {
            // Quoted, as tracing's default writes a string field.
            self.push(field, &format!("{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, &format!("{value:?}"));
    }
}

/// Whether stderr is the journal stream systemd connected: `$JOURNAL_STREAM` is `DEV:INODE`
/// of that stream, and must match stderr itself (a child whose stderr was redirected still
/// inherits the variable).
pub fn stderr_is_journal(journal_stream: Option<&str>) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some((dev, ino)) = journal_stream.and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    let meta = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).metadata());
    matches!(meta, Ok(m) if m.dev() == dev && m.ino() == ino)
}

/// The syslog priority journald reads from a line's `<N>` prefix.
pub fn syslog_priority(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 3,
        tracing::Level::WARN => 4,
        tracing::Level::INFO => 6,
        _ => 7,
    }
}

/// The level is padded to five characters (" INFO"); the first line's padding is dropped so
/// the journal's message starts with the level word.
fn write_prefixed(out: &mut impl fmt::Write, priority: u8, text: &str) -> fmt::Result {
    for (i, line) in text.lines().enumerate() {
        let line = if i == 0 { line.trim_start() } else { line };
        writeln!(out, "<{priority}>{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_gets_the_priority() {
        let mut out = String::new();
        write_prefixed(&mut out, 4, " WARN a problem\n  hint: do this\n").unwrap();
        assert_eq!(out, "<4>WARN a problem\n<4>  hint: do this\n");
    }

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(syslog_priority(&tracing::Level::ERROR), 3);
        assert_eq!(syslog_priority(&tracing::Level::WARN), 4);
        assert_eq!(syslog_priority(&tracing::Level::INFO), 6);
        assert_eq!(syslog_priority(&tracing::Level::DEBUG), 7);
        assert_eq!(syslog_priority(&tracing::Level::TRACE), 7);
    }

    #[test]
    fn journal_stream_must_be_stderr_itself() {
        assert!(!stderr_is_journal(None));
        assert!(!stderr_is_journal(Some("garbage")));
        assert!(!stderr_is_journal(Some("1:2")));
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let m = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .and_then(|fd| std::fs::File::from(fd).metadata())
            .unwrap();
        assert!(stderr_is_journal(Some(&format!("{}:{}", m.dev(), m.ino()))));
    }

    /// Events formatted by ddflare's subscriber into a buffer, everything enabled.
    fn capture_with(style: Style, emit: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        let buf = Arc::new(Mutex::new(Vec::new()));
        let log = Log {
            filter: Filter {
                default: LevelFilter::TRACE,
                ddflare: LevelFilter::TRACE,
                change: None,
            },
            style,
            sink: Sink::Buffer(buf.clone()),
        };
        tracing::subscriber::with_default(log, emit);
        let bytes = buf.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// Without time, colour or journal priorities.
    fn capture(json: bool, emit: impl FnOnce()) -> String {
        let style = Style {
            json,
            time: false,
            ansi: false,
            journal: false,
        };
        capture_with(style, emit)
    }

    /// The same events through tracing-subscriber's `Full` (no target) and `Json`
    /// (`flatten_event`) formats, which ddflare used before its own subscriber.
    fn capture_reference(json: bool, time: bool, ansi: bool, emit: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::field::RecordFields;
        use tracing_subscriber::fmt::format::Writer;
        use tracing_subscriber::layer::SubscriberExt;
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        struct Fields;
        impl<'w> tracing_subscriber::fmt::FormatFields<'w> for Fields {
            fn format_fields<R: RecordFields>(&self, mut w: Writer<'w>, f: R) -> fmt::Result {
                let mut visitor = TextVisitor::default();
                f.record(&mut visitor);
                let mut out = String::new();
                visitor.write(&mut out);
                w.write_str(&out)
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(move || out.clone());
        let format = tracing_subscriber::fmt::format();
        match (json, time) {
            (true, true) => tracing::subscriber::with_default(
                tracing_subscriber::registry().with(
                    layer
                        .event_format(format.json().flatten_event(true))
                        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new()),
                ),
                emit,
            ),
            (true, false) => tracing::subscriber::with_default(
                tracing_subscriber::registry().with(
                    layer
                        .event_format(format.json().flatten_event(true).without_time())
                        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new()),
                ),
                emit,
            ),
            (false, true) => tracing::subscriber::with_default(
                tracing_subscriber::registry().with(
                    layer
                        .event_format(format.with_target(false))
                        .fmt_fields(Fields),
                ),
                emit,
            ),
            (false, false) => tracing::subscriber::with_default(
                tracing_subscriber::registry().with(
                    layer
                        .event_format(format.with_target(false).without_time())
                        .fmt_fields(Fields),
                ),
                emit,
            ),
        }
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// Every `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` replaced by `<time>`.
    fn mask_times(s: &str) -> String {
        const SHAPE: &[u8] = b"0000-00-00T00:00:00.000000Z";
        let b = s.as_bytes();
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            let fits = b.len() - i >= SHAPE.len()
                && SHAPE.iter().zip(&b[i..]).all(|(p, c)| {
                    if *p == b'0' {
                        c.is_ascii_digit()
                    } else {
                        p == c
                    }
                });
            if fits {
                out.extend_from_slice(b"<time>");
                i += SHAPE.len();
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// Events of every level and every kind of field value.
    fn events() -> Vec<Box<dyn Fn()>> {
        #[derive(Debug)]
        struct E;
        impl fmt::Display for E {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an \"error\"\nwith a line")
            }
        }
        impl std::error::Error for E {}
        vec![
            Box::new(|| tracing::error!("the token is refused\nhint: edit it")),
            Box::new(|| tracing::warn!(error = %FORGED, "{FORGED}")),
            Box::new(|| tracing::info!(changed = 2u64, api_calls = 3u64, "round done")),
            Box::new(|| {
                tracing::info!(
                    delta = -4i64,
                    ok = true,
                    no = false,
                    ratio = 0.25,
                    "numbers"
                )
            }),
            Box::new(|| tracing::debug!(name = "home.example.com", dbg = ?"q\"uoted", "debug")),
            Box::new(|| tracing::debug!(big = 1u128 << 100, neg = -(1i128 << 100), "wide")),
            Box::new(|| {
                let e = E;
                tracing::warn!(
                    error = &e as &(dyn std::error::Error + 'static),
                    "an error value"
                )
            }),
            Box::new(|| tracing::info!(target: "ddflare::change", name = "x", "a change")),
            Box::new(|| tracing::info!(nan = f64::NAN, inf = f64::INFINITY, "floats")),
            Box::new(|| {
                tracing::warn!(
                    name = "home.example.com",
                    "type" = "A",
                    outcome = "failed",
                    zone = "example.com",
                    "home.example.com A 203.0.113.7 failed: refused"
                )
            }),
            Box::new(|| tracing::info!("ünïcödé \u{1b}[31m and \u{7f}")),
        ]
    }

    #[test]
    fn the_same_bytes_as_tracing_subscriber_wrote() {
        for json in [false, true] {
            if json && cfg!(not(feature = "json-log")) {
                continue;
            }
            for (time, ansi) in [(true, true), (true, false), (false, false)] {
                let ansi = ansi && !json;
                for emit in events() {
                    let style = Style {
                        json,
                        time,
                        ansi,
                        journal: false,
                    };
                    let ours = capture_with(style, &emit);
                    let theirs = capture_reference(json, time, ansi, &emit);
                    assert!(!ours.is_empty());
                    assert_eq!(
                        mask_times(&ours),
                        mask_times(&theirs),
                        "json {json} time {time} ansi {ansi}"
                    );
                    // Under journald: the same lines, each with its priority.
                    let journal = capture_with(
                        Style {
                            journal: true,
                            ..style
                        },
                        &emit,
                    );
                    let level = if theirs.contains("ERROR") {
                        3
                    } else if theirs.contains("WARN") {
                        4
                    } else if theirs.contains("INFO") {
                        6
                    } else {
                        7
                    };
                    let mut want = String::new();
                    write_prefixed(&mut want, level, &theirs).unwrap();
                    assert_eq!(
                        mask_times(&journal),
                        mask_times(&want),
                        "journal, json {json}"
                    );
                }
            }
        }
        // A real timestamp: RFC 3339, microseconds, UTC.
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_764_935_559_123_456);
        assert_eq!(timestamp(t), "2025-12-05T11:52:39.123456Z");
        assert_eq!(
            timestamp(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn the_filter_picks_the_longest_target() {
        let seen = |filter: Filter| {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let style = Style {
                json: false,
                time: false,
                ansi: false,
                journal: false,
            };
            let log = Log {
                filter,
                style,
                sink: Sink::Buffer(buf.clone()),
            };
            tracing::subscriber::with_default(log, || {
                tracing::info!(target: "ddflare::change", "change info");
                tracing::debug!(target: "ddflare::change", "change debug");
                tracing::info!(target: "ddflare::daemon", "own info");
                tracing::warn!(target: "ddflare::daemon", "own warn");
                tracing::debug!(target: "ddflare::daemon", "own debug");
                tracing::info!(target: "hyper_util::client", "lib info");
                tracing::warn!(target: "hyper_util::client", "lib warn");
                tracing::error!(target: "hyper_util::client", "lib error");
            });
            let bytes = buf.lock().unwrap().clone();
            String::from_utf8(bytes).unwrap()
        };
        let quiet = Filter {
            default: LevelFilter::WARN,
            ddflare: LevelFilter::WARN,
            change: Some(LevelFilter::INFO),
        };
        assert_eq!(
            seen(quiet),
            " INFO change info\n WARN own warn\n WARN lib warn\nERROR lib error\n"
        );
        assert_eq!(quiet.max(), LevelFilter::INFO);
        let debug = Filter {
            default: LevelFilter::WARN,
            ddflare: LevelFilter::DEBUG,
            change: None,
        };
        assert_eq!(
            seen(debug),
            " INFO change info\nDEBUG change debug\n INFO own info\n WARN own warn\nDEBUG own debug\n WARN lib warn\nERROR lib error\n"
        );
        assert_eq!(debug.max(), LevelFilter::DEBUG);
    }

    const FORGED: &str = "bad\nINFO home.example.com A 6.6.6.6 updated\r\x1b[2K";

    #[test]
    fn a_field_cannot_start_a_line() {
        let err = FORGED.to_owned();
        let out = capture(false, || {
            tracing::warn!(error = %err, name = err.as_str(), dbg = ?err, "round failed");
        });
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(!text::has_unsafe(out.trim_end()), "{out:?}");
        assert!(
            out.contains("error=bad\\nINFO home.example.com A 6.6.6.6 updated\\r\\u{1b}[2K"),
            "{out}"
        );
        assert!(out.starts_with(" WARN round failed error="), "{out}");
    }

    #[test]
    fn a_message_keeps_its_hint_lines_indented() {
        let out = capture(false, || {
            tracing::error!("the token is refused\nhint: edit it");
            tracing::warn!("{FORGED}");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "ERROR the token is refused",
                "    hint: edit it",
                " WARN bad",
                "    INFO home.example.com A 6.6.6.6 updated\\r\\u{1b}[2K",
            ],
            "{out}"
        );
        let long = capture(false, || tracing::info!("{}", "x".repeat(100_000)));
        assert!(long.len() < 4100, "{}", long.len());
    }

    #[test]
    #[cfg(feature = "json-log")]
    fn json_is_escaped_by_serde() {
        let err = FORGED.to_owned();
        let out = capture(true, || tracing::warn!(error = %err, "{FORGED}"));
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["error"], FORGED);
        assert_eq!(v["message"], FORGED);
    }

    #[cfg(feature = "json-log")]
    #[test]
    fn a_decision_line_reads_as_text_and_carries_fields_as_json() {
        let emit = || {
            tracing::warn!(
                name = "home.example.com",
                "type" = "A",
                to = "203.0.113.7",
                zone = "example.com",
                outcome = "failed",
                error = "refused",
                hint = "edit the token",
                cf_ray = "8f1c2d3e4a5b6c7d-AMS",
                "home.example.com A 203.0.113.7 failed: refused"
            );
        };
        let text = capture(false, emit);
        assert_eq!(
            text,
            " WARN home.example.com A 203.0.113.7 failed: refused zone=\"example.com\"\n"
        );
        let json = capture(true, emit);
        let v: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
        for (k, want) in [
            ("name", "home.example.com"),
            ("type", "A"),
            ("to", "203.0.113.7"),
            ("zone", "example.com"),
            ("outcome", "failed"),
            ("hint", "edit the token"),
            ("cf_ray", "8f1c2d3e4a5b6c7d-AMS"),
        ] {
            assert_eq!(v[k], want, "{k} in {json}");
        }
        // Another event's `name` field is shown.
        let other = capture(false, || tracing::info!(name = "x", "other"));
        assert_eq!(other, " INFO other name=\"x\"\n");
    }
}
