//! `${NAME}` in record names and zones: one config shared by many hosts (a Kubernetes
//! DaemonSet's ConfigMap, one Ansible template) where each host publishes its own name, e.g.
//! `name = "${NODE_NAME}.example.com"` with `NODE_NAME` from the downward API.
//!
//! The rules (docs/kubernetes.md, "Fleet mode", says the same to users):
//! - **Which keys**: `[[record]] name`, `[[record]] zone` and each entry of `DDFLARE_RECORDS`.
//!   Nothing else: a `$` was never valid in a DNS name, so no config the previous release
//!   accepted changes meaning, while comments and URLs may hold a `$` of their own.
//! - **Syntax**: `${NAME}`, NAME being an ASCII letter or `_` then letters, digits and `_`.
//!   No `$NAME` without braces, no defaults (`${NAME:-x}`), no nesting: what a variable holds
//!   is taken as it is, never expanded again.
//! - **Escaping**: none, and none needed: `$` cannot appear in a DNS name, so every `$` must
//!   open a `${NAME}`; any other `$` is an error saying so.
//! - **Unset or empty**: an error naming the key (and line) and the variable: the config is
//!   refused (exit 78), never a record named `.example.com`.
//! - **ddflare's own variables** (`DDFLARE_*`, `CLOUDFLARE_*`) are refused: they hold the
//!   token and the settings, never a name, and a token must not become a DNS name.
//! - The result is then checked as any name is (labels, length, UTS #46).
//!
//! Pure: the environment is a lookup passed in.

use std::borrow::Cow;

use super::values::Problem;
use crate::text;

/// The longest value taken from a variable: a DNS name's 253 characters.
const MAX_VALUE: usize = 253;

/// `text` with every `${NAME}` replaced by `lookup(NAME)`; borrowed when it holds no `$`.
pub(crate) fn expand<'t>(
    text: &'t str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Cow<'t, str>, Problem> {
    if !text.contains('$') {
        return Ok(Cow::Borrowed(text));
    }
    let shown = || format!("\"{}\"", text::bounded(text, 300));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(inner) = after.strip_prefix('{') else {
            return Err(Problem::new(format!(
                "expected `${{NAME}}` after `$` in {}",
                shown()
            ))
            .hint("write a variable as ${NODE_NAME}; a `$` cannot appear in a DNS name otherwise, so there is nothing to escape"));
        };
        let Some(end) = inner.find('}') else {
            return Err(Problem::new(format!(
                "expected `}}` to close `${{` in {}",
                shown()
            )));
        };
        let name = &inner[..end];
        check_name(name, &shown)?;
        let value = lookup(name).unwrap_or_default();
        if value.is_empty() {
            let state = if lookup(name).is_some() {
                "is empty"
            } else {
                "is not set"
            };
            return Err(Problem::new(format!(
                "expected the variable {name} in {} to hold a name, but it {state}",
                shown()
            ))
            .hint(format!(
                "set {name} in ddflare's environment (in Kubernetes: `env: [{{name: {name}, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}]`)"
            )));
        }
        if value.len() > MAX_VALUE {
            return Err(Problem::new(format!(
                "expected the variable {name} in {} to hold a name of at most {MAX_VALUE} characters, found {} characters",
                shown(),
                value.len()
            )));
        }
        out.push_str(&value);
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

fn check_name(name: &str, shown: &dyn Fn() -> String) -> Result<(), Problem> {
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(Problem::new(format!(
            "expected a variable name of letters, digits and `_` inside `${{…}}` in {}, found \"{}\"",
            shown(),
            text::bounded(name, 64)
        ))
        .hint("ddflare expands ${NAME} only: no default values, no nesting"));
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("DDFLARE_") || upper.starts_with("CLOUDFLARE_") {
        return Err(Problem::new(format!(
            "expected a variable of the host in {}, found ddflare's own {name}",
            shown()
        ))
        .hint("DDFLARE_* and CLOUDFLARE_* variables are settings and secrets, never names: use another variable (e.g. NODE_NAME)"));
    }
    Ok(())
}

/// What a name came from, for an error about the expanded result: empty when nothing was
/// expanded.
pub(crate) fn origin_note(raw: &str, expanded: &str) -> String {
    if raw == expanded {
        String::new()
    } else {
        format!(" (expanded from \"{}\")", text::bounded(raw, 300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[track_caller]
    fn ok(text: &str, pairs: &[(&str, &str)]) -> String {
        match expand(text, &env(pairs)) {
            Ok(s) => s.into_owned(),
            Err(p) => panic!("unexpected error: {}", p.message),
        }
    }

    #[track_caller]
    fn err(text: &str, pairs: &[(&str, &str)]) -> Problem {
        match expand(text, &env(pairs)) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(p) => p,
        }
    }

    #[test]
    fn text_without_a_dollar_is_borrowed_as_is() {
        let r = expand("home.example.com", &env(&[])).unwrap();
        assert!(matches!(r, Cow::Borrowed("home.example.com")));
    }

    #[test]
    fn variables_are_replaced_anywhere_and_more_than_once() {
        let e = [("NODE_NAME", "pi-3"), ("_Z", "example.com")];
        assert_eq!(ok("${NODE_NAME}.${_Z}", &e), "pi-3.example.com");
        assert_eq!(ok("a${NODE_NAME}b.example.com", &e), "api-3b.example.com");
        assert_eq!(
            ok("${NODE_NAME}.${NODE_NAME}.example.com", &e),
            "pi-3.pi-3.example.com"
        );
    }

    #[test]
    fn a_value_is_never_expanded_again() {
        let e = [("A", "${B}"), ("B", "x")];
        assert_eq!(ok("${A}.example.com", &e), "${B}.example.com");
    }

    #[test]
    fn unset_and_empty_variables_are_errors_that_name_them() {
        let p = err("${NODE_NAME}.example.com", &[]);
        assert!(p.message.contains("NODE_NAME"), "{}", p.message);
        assert!(p.message.contains("is not set"), "{}", p.message);
        assert!(p.hint.as_deref().unwrap().contains("spec.nodeName"));
        let p = err("${NODE_NAME}.example.com", &[("NODE_NAME", "")]);
        assert!(p.message.contains("is empty"), "{}", p.message);
    }

    #[test]
    fn malformed_references_are_errors() {
        for (text, needle) in [
            ("$NODE.example.com", "expected `${NAME}` after `$`"),
            ("a$.example.com", "expected `${NAME}` after `$`"),
            ("$$.example.com", "expected `${NAME}` after `$`"),
            ("${NODE.example.com", "expected `}` to close"),
            ("${}.example.com", "found \"\""),
            ("${1X}.example.com", "found \"1X\""),
            ("${X:-pi}.example.com", "found \"X:-pi\""),
            ("${A${B}}.example.com", "found \"A${B\""),
        ] {
            let p = err(text, &[("NODE", "n"), ("X", "x"), ("A", "a"), ("B", "b")]);
            assert!(p.message.contains(needle), "{text}: {}", p.message);
        }
    }

    #[test]
    fn ddflares_own_variables_are_refused_whatever_their_case() {
        for v in [
            "CLOUDFLARE_API_TOKEN",
            "DDFLARE_RECORDS",
            "cloudflare_api_key",
        ] {
            let p = err(&format!("${{{v}}}.example.com"), &[(v, "secret-value")]);
            assert!(p.message.contains("ddflare's own"), "{}", p.message);
            assert!(!p.message.contains("secret-value"), "{}", p.message);
        }
    }

    #[test]
    fn over_long_values_are_refused_without_being_shown() {
        let long = "a".repeat(300);
        let p = err("${N}.example.com", &[("N", &long)]);
        assert!(p.message.contains("300 characters"), "{}", p.message);
        assert!(!p.message.contains(&long));
    }

    #[test]
    fn control_characters_in_the_text_are_escaped_in_messages() {
        let p = err("${X}\u{1b}[2J.example.com", &[]);
        assert!(!p.message.contains('\u{1b}'), "{:?}", p.message);
    }

    #[test]
    fn the_origin_note_is_empty_when_nothing_was_expanded() {
        assert_eq!(origin_note("a.example.com", "a.example.com"), "");
        assert_eq!(
            origin_note("${N}.example.com", "x.example.com"),
            " (expanded from \"${N}.example.com\")"
        );
    }
}
