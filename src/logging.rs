//! Structured logs on stderr: human text (no colours unless a terminal; no timestamps under
//! systemd, whose journal adds them) or one JSON object per line. ddflare's own events go down
//! to the chosen level; dependencies only speak from `warn` up, so no library can print a
//! request header at `trace`. When stderr is systemd's journal stream, every line starts with
//! its syslog priority (`<3>` error … `<7>` debug), which journald turns into the entry's
//! priority (`SyslogLevelPrefix=`, on by default) and strips from the message.
//!
//! The text format is one line per event whatever the event carries: outside text is escaped
//! where ddflare quotes it, and [`TextFields`] is the last line of defence (every control
//! character of a field escaped; the message's own line breaks, ddflare's `hint:` lines, kept
//! but indented so no line of an event can pass for an event of its own). The JSON format is
//! escaped by serde.

use std::fmt;
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{Full, Writer};
#[cfg(feature = "json-log")]
use tracing_subscriber::fmt::format::{Json, JsonFields};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::text;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
    let mut filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("ddflare", level);
    if quiet {
        filter = filter.with_target(CHANGE_TARGET, LevelFilter::INFO);
    }
    // Without the `json-log` feature (the router builds), JSON falls back to text, with a
    // warning once logging is up.
    #[cfg(not(feature = "json-log"))]
    let (format, json_refused) = (Format::Text, format == Format::Json);
    let stderr_tty = color && std::io::stderr().is_terminal();
    // One layer type whatever the format (the format is picked inside it, at run time): one
    // copy of tracing-subscriber's layer and subscriber machinery instead of four, ~12 KB of
    // binary (docs/shipping.md). Each variant formats exactly as its own layer did.
    #[cfg(feature = "json-log")]
    let json = || tracing_subscriber::fmt::format().json().flatten_event(true);
    let (fields, events, ansi) = match format {
        #[cfg(feature = "json-log")]
        Format::Json if under_journald => (
            Fields::Json(JsonFields::new()),
            Events::JsonJournal(SyslogPrefix(json())),
            false,
        ),
        #[cfg(feature = "json-log")]
        Format::Json => (Fields::Json(JsonFields::new()), Events::Json(json()), false),
        Format::Text if under_journald => (
            Fields::Text(TextFields),
            Events::TextJournal(SyslogPrefix(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_ansi(false)
                    .with_target(false),
            )),
            false,
        ),
        // Text (and JSON in a build without `json-log`, `format` is Text then).
        _ => (
            Fields::Text(TextFields),
            Events::Text(tracing_subscriber::fmt::format().with_target(false)),
            stderr_tty,
        ),
    };
    let result = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .fmt_fields(fields)
                .event_format(events)
                .with_writer(std::io::stderr),
        )
        .try_init();
    // Only fails when a subscriber is already set (tests): keep that one.
    let _ = result;
    #[cfg(not(feature = "json-log"))]
    if json_refused {
        tracing::warn!(
            "--log-format json: this build of ddflare has no JSON log format (built without the \
             `json-log` feature, as the router builds are); logging text\nhint: drop \
             --log-format json (or DDFLARE_LOG_FORMAT=json), or run a build with every feature"
        );
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
pub struct TextFields;

impl<'w> FormatFields<'w> for TextFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = TextVisitor::default();
        fields.record(&mut visitor);
        let decision = visitor.parts.iter().any(|(n, _)| *n == "outcome");
        let mut out = String::new();
        for (name, part) in &visitor.parts {
            if decision && DECISION_SAID.contains(name) {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
        writer.write_str(&out)
    }
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

/// The event format of each log format (see [`init`]).
enum Events {
    #[cfg(feature = "json-log")]
    Json(tracing_subscriber::fmt::format::Format<Json>),
    #[cfg(feature = "json-log")]
    JsonJournal(SyslogPrefix<tracing_subscriber::fmt::format::Format<Json>>),
    Text(tracing_subscriber::fmt::format::Format),
    TextJournal(SyslogPrefix<tracing_subscriber::fmt::format::Format<Full, ()>>),
}

impl<S, N> FormatEvent<S, N> for Events
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        match self {
            #[cfg(feature = "json-log")]
            Events::Json(f) => f.format_event(ctx, writer, event),
            #[cfg(feature = "json-log")]
            Events::JsonJournal(f) => f.format_event(ctx, writer, event),
            Events::Text(f) => f.format_event(ctx, writer, event),
            Events::TextJournal(f) => f.format_event(ctx, writer, event),
        }
    }
}

/// The field format of each log format: JSON's, or [`TextFields`].
enum Fields {
    #[cfg(feature = "json-log")]
    Json(JsonFields),
    Text(TextFields),
}

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        match self {
            #[cfg(feature = "json-log")]
            Fields::Json(f) => f.format_fields(writer, fields),
            Fields::Text(f) => f.format_fields(writer, fields),
        }
    }
}

/// Formats an event with `F`, then puts the `<N>` priority before each of its lines, so a
/// warning's `hint:` line is a warning in the journal too.
struct SyslogPrefix<F>(F);

impl<S, N, F> FormatEvent<S, N> for SyslogPrefix<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut text = String::new();
        self.0.format_event(ctx, Writer::new(&mut text), event)?;
        let p = syslog_priority(event.metadata().level());
        write_prefixed(&mut writer, p, &text)
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

    /// Events formatted by the real layer into a buffer, as `init` sets it up for text.
    fn capture(json: bool, emit: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
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
        let buf = Buf::default();
        let out = buf.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_writer(move || out.clone());
        if json {
            #[cfg(feature = "json-log")]
            tracing::subscriber::with_default(
                tracing_subscriber::registry().with(layer.json().flatten_event(true)),
                emit,
            );
            #[cfg(not(feature = "json-log"))]
            unreachable!("JSON tests need the json-log feature");
        } else {
            let subscriber = tracing_subscriber::registry().with(layer.fmt_fields(TextFields));
            tracing::subscriber::with_default(subscriber, emit);
        }
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
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
