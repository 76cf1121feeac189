//! `ddflare history`: the address changes kept in the state dir (crate::history), oldest
//! first, one line each (outside text escaped), or as JSON. No network.

use super::exit::Verdict;
use super::out::say;
use crate::config::Config;
use crate::history::Change;

/// One change on one line: `2026-12-05T07:18:21Z  home.example.com  A  198.51.100.4 → 203.0.113.7`.
pub fn line(c: &Change) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(c.at);
    let from = c
        .from
        .as_deref()
        .map_or("(new record)".to_owned(), |f| crate::text::bounded(f, 64));
    format!(
        "{}  {}  {}  {from} → {}",
        humantime::format_rfc3339_seconds(at),
        crate::text::bounded(&c.name, 300),
        crate::text::bounded(&c.rtype, 10),
        crate::text::bounded(&c.to, 64),
    )
}

pub fn history(config: &Config, last: Option<usize>, json: bool) -> Verdict {
    let changes = match crate::history::load(&config.state.dir) {
        Ok(c) => c,
        Err(e) => {
            say!("{}", crate::text::bounded_lines(&e, 2000));
            return Verdict::Failed;
        }
    };
    let skip = last.map_or(0, |n| changes.len().saturating_sub(n));
    let shown = &changes[skip..];
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(shown).unwrap_or_default()
        );
    } else if shown.is_empty() {
        say!("no address change recorded yet");
    } else {
        for c in shown {
            say!("{}", line(c));
        }
    }
    Verdict::Ok
}
