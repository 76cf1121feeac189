//! `ownership` and `delete_on_stop` of one record: the record's key, else `[defaults]`, with
//! `DDFLARE_OWNERSHIP` and `DDFLARE_DELETE_ON_STOP` over both. In comment mode the effective
//! `comment` must carry the marker (`ddflare`), or the records ddflare creates or corrects
//! would not be recognised as its own at the next round.

use toml::Spanned;

use super::context::{Ctx, Src, env_bool};
use super::env::Overrides;
use super::error::ConfigError;
use super::raw::{RawRecord, RawRecordSettings};
use super::values::Problem;
use crate::plan::{DEFAULT_MARKED_COMMENT, MARKER, Ownership, carries_marker};

/// The two settings of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub ownership: Ownership,
    pub delete_on_stop: bool,
}

/// One record's own keys and its key prefix (`record[2]`); `None` for DDFLARE_RECORDS entries.
pub(crate) type Own<'a> = Option<(&'a RawRecord, &'a str)>;

fn parse_ownership(ctx: &Ctx<'_>, src: &Src, text: &str) -> Result<Ownership, ConfigError> {
    text.parse::<Ownership>()
        .map_err(|e| ctx.err(src, Problem::new(format!("expected {e}"))))
}

/// The effective settings of one record, checked against its effective comment.
pub(crate) fn resolve(
    ctx: &Ctx<'_>,
    env: &Overrides,
    defaults: &RawRecordSettings,
    own: Own<'_>,
) -> Result<Settings, ConfigError> {
    let file_ownership: Option<(Src, &Spanned<String>)> = own
        .and_then(|(r, k)| {
            r.ownership
                .as_ref()
                .map(|s| (Src::file(format!("{k}.ownership"), s.span()), s))
        })
        .or_else(|| {
            defaults
                .ownership
                .as_ref()
                .map(|s| (Src::file("defaults.ownership", s.span()), s))
        });
    let (ownership, ownership_src) = match (&env.ownership, file_ownership) {
        (Some(v), _) => {
            let src = Src::env(v.name);
            (parse_ownership(ctx, &src, &v.value)?, Some(src))
        }
        (None, Some((src, s))) => (parse_ownership(ctx, &src, s.get_ref())?, Some(src)),
        (None, None) => (Ownership::default(), None),
    };
    let delete_on_stop = match &env.delete_on_stop {
        Some(v) => env_bool(ctx, v)?,
        None => own
            .and_then(|(r, _)| r.delete_on_stop.as_ref())
            .or(defaults.delete_on_stop.as_ref())
            .is_some_and(|s| *s.get_ref()),
    };
    if ownership == Ownership::Comment {
        check_comment(ctx, env, defaults, own, ownership_src.as_ref())?;
    }
    Ok(Settings {
        ownership,
        delete_on_stop,
    })
}

/// In comment mode, the comment that applies to the record (the same precedence as in
/// `build`: DDFLARE_COMMENT, the record's, then `[defaults]`) must carry the marker.
fn check_comment(
    ctx: &Ctx<'_>,
    env: &Overrides,
    defaults: &RawRecordSettings,
    own: Own<'_>,
    ownership_src: Option<&Src>,
) -> Result<(), ConfigError> {
    let (text, src) = if let Some(v) = &env.comment {
        (v.value.clone(), Src::env(v.name))
    } else if let Some((s, k)) =
        own.and_then(|(r, k)| r.comment.as_ref().map(|s| (s, format!("{k}.comment"))))
    {
        (s.get_ref().clone(), Src::file(k, s.span()))
    } else if let Some(s) = &defaults.comment {
        (s.get_ref().clone(), Src::file("defaults.comment", s.span()))
    } else {
        return Ok(());
    };
    if carries_marker(&text) {
        return Ok(());
    }
    let from = match ownership_src {
        Some(Src::File { key, span }) => format!("{key} on line {}", ctx.line(span)),
        Some(Src::Env { var, .. }) => var.to_string(),
        None => "ownership".to_owned(),
    };
    Err(ctx.err(
        &src,
        Problem::new(format!(
            "expected a comment with the word `{MARKER}` in it, as ownership is \"comment\" ({from}); found \"{}\"",
            text.escape_debug()
        ))
        .hint(format!(
            "in comment mode ddflare edits only records whose comment holds `{MARKER}`, and gives its own records the configured comment: write e.g. \"{}, {DEFAULT_MARKED_COMMENT}\", or remove `comment` to use \"{DEFAULT_MARKED_COMMENT}\"",
            if text.trim().is_empty() { "home" } else { text.trim() }.escape_debug()
        )),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{ConfigError, Loaded, parse};
    use crate::plan::Ownership;

    const HEAD: &str = "[cloudflare]\napi_token = \"Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456\"\n";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[track_caller]
    fn ok(body: &str, e: &[(&str, &str)]) -> Loaded {
        match parse(&format!("{HEAD}{body}"), "ddflare.toml", &env(e)) {
            Ok(l) => l,
            Err(err) => panic!("unexpected error:\n{err}"),
        }
    }

    #[track_caller]
    fn err(body: &str, e: &[(&str, &str)]) -> ConfigError {
        match parse(&format!("{HEAD}{body}"), "ddflare.toml", &env(e)) {
            Ok(_) => panic!("accepted:\n{body}"),
            Err(err) => err,
        }
    }

    #[track_caller]
    fn expect(e: &ConfigError, part: &str, line: Option<usize>) {
        let shown = e.to_string();
        assert!(shown.contains(part), "expected `{part}` in:\n{shown}");
        if let Some(line) = line {
            assert!(
                shown.contains(&format!("ddflare.toml:{line}:")),
                "expected line {line} in:\n{shown}"
            );
        }
    }

    fn settings(l: &Loaded) -> Vec<(Ownership, bool)> {
        l.config
            .records
            .iter()
            .map(|r| (r.ownership, r.delete_on_stop))
            .collect()
    }

    #[test]
    fn defaults_per_record_overrides_and_environment() {
        let two = "[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\n";
        assert_eq!(
            settings(&ok(two, &[])),
            vec![(Ownership::All, false), (Ownership::All, false)]
        );
        let body = "[defaults]\nownership = \"comment\"\ndelete_on_stop = true\n\
                    [[record]]\nname = \"a.example.com\"\n\
                    [[record]]\nname = \"b.example.com\"\nownership = \"all\"\ndelete_on_stop = false\n";
        assert_eq!(
            settings(&ok(body, &[])),
            vec![(Ownership::Comment, true), (Ownership::All, false)]
        );
        // The environment applies to every record, over both.
        assert_eq!(
            settings(&ok(
                body,
                &[
                    ("DDFLARE_OWNERSHIP", "all"),
                    ("DDFLARE_DELETE_ON_STOP", "yes")
                ]
            )),
            vec![(Ownership::All, true), (Ownership::All, true)]
        );
        assert_eq!(
            settings(&ok(
                two,
                &[
                    ("DDFLARE_OWNERSHIP", "Comment"),
                    ("DDFLARE_DELETE_ON_STOP", "0")
                ]
            )),
            vec![(Ownership::Comment, false), (Ownership::Comment, false)]
        );
        // DDFLARE_RECORDS entries get [defaults].
        let l = ok(
            "[defaults]\nownership = \"comment\"\ndelete_on_stop = true\n",
            &[("DDFLARE_RECORDS", "a.example.com")],
        );
        assert_eq!(settings(&l), vec![(Ownership::Comment, true)]);
    }

    #[test]
    fn comments_with_the_marker_are_accepted_in_comment_mode() {
        for comment in [
            "managed by ddflare",
            "DDFLARE",
            "[ddflare] nas",
            "nas (ddflare)",
        ] {
            let l = ok(
                &format!(
                    "[defaults]\nownership = \"comment\"\ncomment = \"{comment}\"\n[[record]]\nname = \"a.example.com\"\n"
                ),
                &[],
            );
            assert_eq!(l.config.records[0].comment.as_deref(), Some(comment));
        }
        // No comment at all: ddflare's own default carries the marker.
        ok(
            "[defaults]\nownership = \"comment\"\n[[record]]\nname = \"a.example.com\"\n",
            &[],
        );
        // All mode: any comment.
        ok(
            "[defaults]\ncomment = \"VPN\"\n[[record]]\nname = \"a.example.com\"\n",
            &[],
        );
    }

    #[test]
    fn a_comment_without_the_marker_is_refused_naming_key_and_line() {
        // The comment in [defaults], ownership in [defaults].
        let e = err(
            "[defaults]\nownership = \"comment\"\ncomment = \"VPN endpoint\"\n[[record]]\nname = \"a.example.com\"\n",
            &[],
        );
        expect(
            &e,
            "defaults.comment: expected a comment with the word `ddflare` in it, as ownership is \"comment\" (defaults.ownership on line 4); found \"VPN endpoint\"",
            Some(5),
        );
        expect(&e, "\"VPN endpoint, managed by ddflare\"", None);
        // The record's comment, ownership from [defaults].
        let e = err(
            "[defaults]\nownership = \"comment\"\n[[record]]\nname = \"a.example.com\"\ncomment = \"myddflare box\"\n",
            &[],
        );
        expect(
            &e,
            "record[1].comment: expected a comment with the word `ddflare`",
            Some(7),
        );
        // [defaults] comment, ownership on the record: the comment's line, the record named.
        let e = err(
            "[defaults]\ncomment = \"\"\n[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\nownership = \"comment\"\n",
            &[],
        );
        expect(&e, "(record[2].ownership on line 9); found \"\"", Some(4));
        // DDFLARE_COMMENT.
        let e = err(
            "[defaults]\nownership = \"comment\"\ncomment = \"managed by ddflare\"\n[[record]]\nname = \"a.example.com\"\n",
            &[("DDFLARE_COMMENT", "from env")],
        );
        expect(
            &e,
            "DDFLARE_COMMENT: expected a comment with the word `ddflare`",
            None,
        );
        // DDFLARE_OWNERSHIP against the file's comment.
        let e = err(
            "[[record]]\nname = \"a.example.com\"\ncomment = \"VPN\"\n",
            &[("DDFLARE_OWNERSHIP", "comment")],
        );
        expect(
            &e,
            "record[1].comment: expected a comment with the word `ddflare` in it, as ownership is \"comment\" (DDFLARE_OWNERSHIP)",
            Some(5),
        );
    }

    #[test]
    fn bad_values_name_key_and_line() {
        let e = err(
            "[defaults]\nownership = \"mine\"\n[[record]]\nname = \"a.example.com\"\n",
            &[],
        );
        expect(
            &e,
            "defaults.ownership: expected \"all\" or \"comment\", found \"mine\"",
            Some(4),
        );
        let e = err(
            "[[record]]\nname = \"a.example.com\"\nownership = \"marker\"\n",
            &[],
        );
        expect(
            &e,
            "record[1].ownership: expected \"all\" or \"comment\"",
            Some(5),
        );
        let e = err(
            "[[record]]\nname = \"a.example.com\"\ndelete_on_stop = \"yes\"\n",
            &[],
        );
        expect(&e, "delete_on_stop", Some(5));
        let e = err(
            "[[record]]\nname = \"a.example.com\"\n",
            &[("DDFLARE_OWNERSHIP", "none")],
        );
        expect(
            &e,
            "DDFLARE_OWNERSHIP: expected \"all\" or \"comment\"",
            None,
        );
        let e = err(
            "[[record]]\nname = \"a.example.com\"\n",
            &[("DDFLARE_DELETE_ON_STOP", "maybe")],
        );
        expect(&e, "DDFLARE_DELETE_ON_STOP: expected true/false", None);
        let e = err(
            "[defaults]\nownershp = \"all\"\n[[record]]\nname = \"a.example.com\"\n",
            &[],
        );
        expect(&e, "did you mean `ownership`?", Some(4));
    }
}
