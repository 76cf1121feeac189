//! ddflare.toml(5) (man/ddflare.toml.5, written by hand) documents every key the parser knows:
//! a key added to `KNOWN_KEYS` without its entry in the page fails here.

use crate::config::error::{ARRAY_TABLES, KNOWN_KEYS};

const PAGE: &str = include_str!("../../../man/ddflare.toml.5");

#[test]
fn the_man_page_names_every_key() {
    let lines: Vec<&str> = PAGE.lines().map(str::trim_end).collect();
    let mut missing = Vec::new();
    for (table, keys) in KNOWN_KEYS {
        for key in *keys {
            let found = if table.is_empty() {
                // A table: named in a section heading, as [name] or [[name]].
                let (one, many) = (format!("[{key}]"), format!("[[{key}]]"));
                lines
                    .iter()
                    .any(|l| l.starts_with(".SH") && (l.contains(&one) || l.contains(&many)))
            } else {
                let dotted = format!(".B {table}.{key}");
                let array = format!(".B [[{table}]] {key}");
                // A table inside a table: its own keys are listed ([[push.client]] user).
                let nested = format!(".B [[{table}.{key}]] ");
                lines
                    .iter()
                    .any(|l| *l == dotted || *l == array || l.starts_with(&nested))
            };
            if !found {
                missing.push(if table.is_empty() {
                    (*key).to_owned()
                } else {
                    format!("{table}.{key}")
                });
            }
        }
    }
    assert!(
        missing.is_empty(),
        "man/ddflare.toml.5 does not document {missing:?}: add a `.TP` entry with `.B table.key` (or `.B [[table]] key`) for each"
    );
    // The array tables are written as such.
    for table in ARRAY_TABLES {
        assert!(PAGE.contains(&format!(".B [[{table}]] ")), "[[{table}]]");
    }
}
