//! Text from outside ddflare (API answers, providers, config values) made fit to show: control
//! characters escaped so it cannot start a line or move a terminal, its length bounded, and
//! what looks like a credential redacted (a URL's userinfo and query values, token-shaped
//! words). A leaf: every layer that shows an outside string calls it.

/// What a redacted part is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The shortest run of `[A-Za-z0-9_-]` taken for a credential: Cloudflare's API tokens are 40
/// characters, Global API Keys 37, most services' keys longer; words and host labels are
/// shorter.
const TOKEN_MIN: usize = 32;

/// The longest URL shown, in characters.
const URL_MAX: usize = 200;

/// Characters that break a line, move the cursor or reorder what is shown: the C0 and C1
/// controls, the Unicode line and paragraph separators (a line break to many viewers) and the
/// bidirectional overrides ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Whether `text` holds a character [`bounded`] would escape.
pub fn has_unsafe(text: &str) -> bool {
    text.chars().any(is_unsafe)
}

/// `text` on one line: every unsafe character escaped as Rust writes it (`\n`, `\u{1b}`), and
/// at most `max` characters shown (escapes included), then `…`.
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::new();
    push_bounded(&mut out, text, max);
    out
}

/// Appends [`bounded`] `text` to `out`; returns how many characters of `max` are left, `None`
/// when `text` was cut.
fn push_bounded(out: &mut String, text: &str, max: usize) -> Option<usize> {
    let mut left = max;
    for c in text.chars() {
        let start = out.len();
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        let n = out[start..].chars().count();
        if n > left {
            out.truncate(start);
            out.push('…');
            return None;
        }
        left -= n;
    }
    Some(left)
}

/// [`bounded`] line by line: the line breaks of `text` kept, everything else unsafe escaped;
/// at most `max` characters in all. For ddflare's own multi-line texts (a hint with an
/// example) that may quote an outside value.
pub fn bounded_lines(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut left = max;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match push_bounded(&mut out, line, left) {
            Some(l) => left = l,
            None => break,
        }
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A credential's shape: at least [`TOKEN_MIN`] of `[A-Za-z0-9_-]` with a letter and a digit.
/// A zone, record or account ID (exactly 32 lowercase hex digits) is not: it is no secret, and
/// messages name it so the user can find it.
pub fn is_token_shaped(word: &str) -> bool {
    let id = word.len() == 32
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    word.len() >= TOKEN_MIN
        && word.chars().all(is_token_char)
        && word.chars().any(|c| c.is_ascii_alphabetic())
        && word.chars().any(|c| c.is_ascii_digit())
        && !id
}

/// `text` with each token-shaped run of `[A-Za-z0-9_-]` replaced by [`REDACTED`].
fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if is_token_shaped(run) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A URL as written (valid or not) with its secrets redacted: the userinfo (`user:password@`),
/// every query value, the fragment, and token-shaped words of the path. The scheme, host,
/// port, path and query keys stay, so the user still recognises it.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_words(url);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("{REDACTED}@{host}"),
        None => authority.to_owned(),
    };
    let (before_fragment, fragment) = match after.split_once('#') {
        Some((b, _)) => (b, Some(REDACTED)),
        None => (after, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = format!(
        "{}://{authority}{}",
        redact_words(scheme),
        redact_words(path)
    );
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() => format!("{}={REDACTED}", redact_words(k)),
                _ => redact_words(pair),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// A URL fit to show: [`redact_url`], escaped and bounded.
pub fn url(url: &str) -> String {
    bounded(&redact_url(url), URL_MAX)
}

/// The host of a URL as written, with its port when one is given (`router.lan:8080`), without
/// userinfo; `None` when there is no `scheme://`.
pub fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    Some(
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host),
    )
}

/// Where a URL ends in free text: whitespace, quotes, backticks, angle brackets, or the
/// backslash of an escaped quote.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\')
}

/// Free text (a message quoting values) with what looks like a credential redacted: each
/// `scheme://…` in it as [`redact_url`] does, and token-shaped words elsewhere.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        // The scheme is the run of scheme characters before `://`.
        let scheme_start = rest[..sep]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = rest[sep..].find(ends_url).map_or(rest.len(), |i| sep + i);
        out.push_str(&redact_words(&rest[..scheme_start]));
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(&redact_words(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Zq9_fakeTOKENfakeTOKENfakeTOKEN-0123456";

    #[test]
    fn bounded_escapes_and_cuts() {
        assert_eq!(bounded("203.0.113.7", 60), "203.0.113.7");
        assert_eq!(
            bounded("a\nb\r\tc\x1b[0m\0", 60),
            "a\\nb\\r\\tc\\u{1b}[0m\\u{0}"
        );
        assert_eq!(bounded("x\u{2028}y\u{202e}z", 60), "x\\u{2028}y\\u{202e}z");
        assert_eq!(bounded("\u{85}", 60), "\\u{85}");
        assert_eq!(bounded(&"é".repeat(10), 10), "é".repeat(10));
        assert_eq!(bounded(&"é".repeat(11), 10), format!("{}…", "é".repeat(10)));
        // The escapes count: a wall of line breaks is bounded too.
        assert_eq!(bounded(&"\n".repeat(100), 10), "\\n\\n\\n\\n\\n…");
        assert_eq!(bounded("", 10), "");
        assert!(has_unsafe("a\rb") && !has_unsafe("a b é"));
    }

    #[test]
    fn bounded_lines_keeps_line_breaks_only() {
        assert_eq!(
            bounded_lines("add\n  [[record]]\x1b", 100),
            "add\n  [[record]]\\u{1b}"
        );
        let cut = bounded_lines(&"line\n".repeat(100), 20);
        assert_eq!(cut, "line\nline\nline\nline\nline\n…");
        // A URL after a multi-byte character.
        assert_eq!(redact("é…https://a:b@h/"), "é…https://[redacted]@h/");
    }

    #[test]
    fn token_shapes() {
        assert!(is_token_shaped(TOKEN));
        // A Global API Key: 37 hex digits.
        assert!(is_token_shaped("5e0c2f4f0e6a4b2f9d3c8a1b7e6d5c4b3a291"));
        // A zone ID is named in messages.
        assert!(!is_token_shaped("023e105f4ecef8ad9ca31a8372d0c353"));
        assert!(!is_token_shaped("home"));
        assert!(!is_token_shaped(
            "the-quick-brown-fox-jumps-over-the-lazy-dog"
        ));
        assert!(!is_token_shaped("short1"));
    }

    #[test]
    fn urls_lose_userinfo_query_values_and_tokens() {
        assert_eq!(
            redact_url("http://admin:PW@192.0.2.1:8080/status/ip"),
            "http://[redacted]@192.0.2.1:8080/status/ip"
        );
        assert_eq!(
            redact_url("https://router.lan/ip?user=admin&pass=x&json#frag"),
            "https://router.lan/ip?user=[redacted]&pass=[redacted]&json#[redacted]"
        );
        assert_eq!(
            redact_url(&format!("https://hc.example/ping/{TOKEN}")),
            "https://hc.example/ping/[redacted]"
        );
        assert_eq!(redact_url("https://ip.example/"), "https://ip.example/");
        assert_eq!(redact_url("http://[::1]:80/"), "http://[::1]:80/");
        // Not a URL at all.
        assert_eq!(redact_url(TOKEN), REDACTED);
        assert_eq!(redact_url("a@b:c"), "a@b:c");
        assert_eq!(
            url("http://u:p@h/\nINFO forged"),
            "http://[redacted]@h/\\nINFO forged"
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("http://admin:PW@router.lan:8080/ip"),
            Some("router.lan:8080")
        );
        assert_eq!(url_host("https://ip.example"), Some("ip.example"));
        assert_eq!(url_host("https://[2001:db8::1]/x?y"), Some("[2001:db8::1]"));
        assert_eq!(url_host("nope"), None);
    }

    #[test]
    fn free_text() {
        assert_eq!(
            redact("found \"https://admin:PW@api.example.com/v4\", which has user info"),
            "found \"https://[redacted]@api.example.com/v4\", which has user info"
        );
        assert_eq!(
            redact(&format!("found \"{TOKEN}\" (39 characters)")),
            "found \"[redacted]\" (39 characters)"
        );
        assert_eq!(
            redact("expected `url:` then a URL, not `url:ftp://a:b@c/?k=v`"),
            "expected `url:` then a URL, not `url:ftp://[redacted]@c/?k=[redacted]`"
        );
        // Escaped quotes end a URL too.
        assert_eq!(
            redact("found \\\"http://u:p@h/\\\" here"),
            "found \\\"http://[redacted]@h/\\\" here"
        );
        let plain = "zone 023e105f4ecef8ad9ca31a8372d0c353: use \"https://…\"";
        assert_eq!(redact(plain), plain);
        // Idempotent: a redacted text stays as it is.
        let once = redact("x https://a:b@h/?q=1 y");
        assert_eq!(redact(&once), once);
    }
}
