//! Record and zone names against Unicode's UTS #46 conformance file (`data/IdnaTestV2.txt`,
//! Unicode 16.0.0): every line. ddflare's mapping must give the file's nontransitional ToASCII
//! result, or refuse what the file marks as an error; the flags ddflare leaves off only ever
//! refuse less, and their status codes are the ones ignored here.

use super::super::values::{dns_name, uts46_to_ascii};

/// Status codes of flags ddflare turns off in UTS #46, because its own ASCII rules decide
/// (afterwards, refusing only): UseSTD3ASCIIRules (U1: `_` is allowed), CheckHyphens for the
/// third and fourth positions (V2: `ab--cd` is a DNS name), VerifyDnsLength (A4_1, A4_2:
/// lengths and empty labels are checked with their own messages).
const RELAXED: [&str; 4] = ["U1", "V2", "A4_1", "A4_2"];

struct Case {
    line: usize,
    source: String,
    to_ascii_n: String,
    status: Vec<String>,
}

/// `None` for a surrogate code point (`\uD800`): no Rust string, and no TOML string, can hold
/// one, so those lines cannot reach ddflare.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let (hex, after) = if let Some(t) = tail.strip_prefix("x{") {
            let end = t.find('}').unwrap();
            (&t[..end], &t[end + 1..])
        } else if let Some(t) = tail.strip_prefix('u') {
            (&t[..4], &t[4..])
        } else {
            out.push('\\');
            rest = tail;
            continue;
        };
        out.push(char::from_u32(u32::from_str_radix(hex, 16).unwrap())?);
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}

fn status(s: &str) -> Vec<String> {
    s.trim_matches(['[', ']'])
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The file's columns, with its blank-means-previous rules: source; toUnicode; its status;
/// toAsciiN; its status. Lines with a surrogate are left out (see [`unescape`]).
fn cases() -> Vec<Case> {
    include_str!("data/IdnaTestV2.txt")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|(i, l)| {
            let l = l.split('#').next().unwrap();
            let cols: Vec<&str> = l.split(';').map(str::trim).collect();
            let unquote = |s: &str| {
                if s == "\"\"" {
                    Some(String::new())
                } else {
                    unescape(s)
                }
            };
            let source = unquote(cols[0])?;
            let to_unicode = if cols[1].is_empty() {
                source.clone()
            } else {
                unquote(cols[1])?
            };
            let to_ascii_n = if cols[3].is_empty() {
                to_unicode
            } else {
                unquote(cols[3])?
            };
            let status = if cols[4].is_empty() {
                status(cols[2])
            } else {
                status(cols[4])
            };
            Some(Case {
                line: i + 1,
                source,
                to_ascii_n,
                status,
            })
        })
        .collect()
}

fn errors(c: &Case) -> Vec<&str> {
    c.status
        .iter()
        .map(String::as_str)
        .filter(|s| !RELAXED.contains(s))
        .collect()
}

#[test]
fn the_mapping_is_uts46_on_every_line_of_the_conformance_file() {
    let cases = cases();
    assert!(cases.len() > 6000, "{} lines", cases.len());
    let mut wrong = Vec::new();
    let mut newer = Vec::new();
    for c in &cases {
        if newer_ideograph(c) {
            newer.push(c.line);
            continue;
        }
        let got = uts46_to_ascii(&c.source);
        let ok = if errors(c).is_empty() {
            got.as_deref().ok() == Some(c.to_ascii_n.as_str())
        } else {
            got.is_err()
        };
        if !ok {
            wrong.push(format!(
                "line {}: {:?} → {got:?}, the file says {:?} {:?}",
                c.line, c.source, c.to_ascii_n, c.status
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} lines:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(newer.len(), NEWER_LINES, "{newer:?}");
}

/// The lines whose only error is V7 (a disallowed code point) for a code point of the Tertiary
/// Ideographic Plane (U+30000..U+3FFFF) that the tables accept: they are ICU4X's data, made
/// from Unicode 18.0 (`icu_normalizer_data`'s README), where the file is 16.0, and later
/// versions assign ideographs there (CJK extension J in 17.0). A browser on the same data maps
/// them the same way. Pinned, so that the exception cannot grow unseen.
const NEWER_LINES: usize = 7;

fn newer_ideograph(c: &Case) -> bool {
    let (decoded, _) = idna::uts46::Uts46::new().to_unicode(
        c.source.as_bytes(),
        idna::uts46::AsciiDenyList::EMPTY,
        idna::uts46::Hyphens::Allow,
    );
    errors(c) == ["V7"]
        && decoded
            .chars()
            .any(|ch| ('\u{30000}'..='\u{3ffff}').contains(&ch))
        && uts46_to_ascii(&c.source).is_ok()
}

/// What `dns_name` accepts is what the file maps without error (less the trailing dot), and
/// each of its refusals is UTS #46's or ddflare's own ASCII rules on the mapped name.
#[test]
fn every_name_accepted_maps_as_the_conformance_file_says() {
    let mut accepted = 0;
    let mut wrong = Vec::new();
    for c in cases().iter().filter(|c| !newer_ideograph(c)) {
        let Ok(name) = dns_name(&c.source, false) else {
            continue;
        };
        accepted += 1;
        let want = c.to_ascii_n.strip_suffix('.').unwrap_or(&c.to_ascii_n);
        // A4_2 for the root's empty label alone: ddflare takes a fully qualified name with
        // its trailing dot.
        let root_only = |s: &str| s == "A4_2" && want.split('.').all(|l| !l.is_empty());
        let unexpected: Vec<&str> = errors(c)
            .into_iter()
            .chain(
                c.status
                    .iter()
                    .map(String::as_str)
                    .filter(|s| s.starts_with("A4") && !root_only(s)),
            )
            .collect();
        if name != want || !unexpected.is_empty() {
            wrong.push(format!(
                "line {}: {:?} → {name:?}, the file says {want:?} {:?}",
                c.line, c.source, c.status
            ));
        }
    }
    assert!(accepted > 400, "only {accepted} names accepted");
    assert!(
        wrong.is_empty(),
        "{} lines:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
