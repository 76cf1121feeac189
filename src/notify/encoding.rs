//! PURE: the small encodings notification URLs and requests need, written out (a few lines
//! each) instead of a crate: percent-decoding of URL parts (shoutrrr URLs escape `@` in a bot's
//! e-mail as `%40`), percent-encoding of a path segment and of a form body, a query's pairs,
//! and base64 for HTTP basic auth.

/// `%XX` decoded; `+` kept (it means a space only in a query: see [`query_pairs`]). An
/// invalid escape is kept as written; bytes that are not UTF-8 become U+FFFD.
pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX`: a safe path segment or form value.
pub fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct_encode(k), pct_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A query's `key=value` pairs, decoded (`+` is a space), in order; a key without `=` has an
/// empty value.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                pct_decode(&k.replace('+', " ")),
                pct_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc, "{plain}");
        }
    }

    #[test]
    fn percent_round_trips_and_bad_escapes_stay() {
        assert_eq!(pct_decode("my-bot%40zulipchat.com"), "my-bot@zulipchat.com");
        assert_eq!(pct_decode("100%"), "100%");
        assert_eq!(pct_decode("%zz%4"), "%zz%4");
        assert_eq!(pct_decode("%E2%86%92"), "→");
        assert_eq!(pct_encode("!room:example.org"), "%21room%3Aexample.org");
        for s in ["a b&c=d", "→ é", "%41", "!#$&'()*+,/:;=?@[]"] {
            assert_eq!(pct_decode(&pct_encode(s)), s);
        }
        assert_eq!(form(&[("to", "a b"), ("k", "x&y")]), "to=a%20b&k=x%26y");
    }

    #[test]
    fn query_pairs_decode_plus_and_escapes() {
        assert_eq!(
            query_pairs(Some("title=Great+News&chats=-1,%40news&flag")),
            vec![
                ("title".to_owned(), "Great News".to_owned()),
                ("chats".to_owned(), "-1,@news".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert!(query_pairs(None).is_empty());
    }
}
