//! The output side of `ddflare import`: the tool names and the ddflare.toml being written
//! (sections, comments, the `# not carried over` lines), with TOML string quoting.

use std::fmt::Write as _;

/// The tools `--from` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Favonia,
    Timothymiller,
    Ddclient,
}

impl From {
    pub fn parse(s: &str) -> Option<From> {
        match s.trim().to_ascii_lowercase().as_str() {
            "favonia" | "favonia/cloudflare-ddns" => Some(From::Favonia),
            "timothymiller" | "timothymiller/cloudflare-ddns" => Some(From::Timothymiller),
            "ddclient" => Some(From::Ddclient),
            _ => None,
        }
    }
}

/// A ddflare config being written: sections in order, each a list of lines (`key = value`
/// or `# comment`), plus the header's comments.
#[derive(Debug, Default)]
pub struct Toml {
    pub(super) header: Vec<String>,
    /// (table header such as `[cloudflare]` or `[[record]]`, lines).
    pub(super) sections: Vec<(String, Vec<String>)>,
    pub(super) not_carried: Vec<String>,
}

impl Toml {
    pub(super) fn note(&mut self, line: impl Into<String>) {
        self.header.push(line.into());
    }

    /// Adds `line` to the (last, or new) section `name`; `[[…]]` always starts a new one.
    pub(super) fn put(&mut self, name: &str, line: impl Into<String>) {
        let line = line.into();
        match self.sections.iter_mut().rev().find(|(n, _)| n == name) {
            Some((_, lines)) if !name.starts_with("[[") => lines.push(line),
            _ => self.sections.push((name.to_owned(), vec![line])),
        }
    }

    pub(super) fn table(&mut self, name: &str, lines: Vec<String>) {
        self.sections.push((name.to_owned(), lines));
    }

    pub(super) fn skip(&mut self, what: impl Into<String>) {
        self.not_carried.push(what.into());
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            let _ = writeln!(out, "# {h}");
        }
        for n in &self.not_carried {
            let _ = writeln!(out, "# not carried over: {n}");
        }
        for (name, lines) in &self.sections {
            let _ = writeln!(out, "\n{name}");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
        out
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value for a comment line: bounded, escaped, URL secrets and token-shaped words redacted.
pub(super) fn shown(s: &str) -> String {
    crate::text::url(s)
}
