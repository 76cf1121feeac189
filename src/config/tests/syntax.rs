//! Unknown keys at each level, wrong types, syntax errors with line and column, a BOM and CRLF.

use super::*;

#[test]
fn unknown_keys_at_each_level() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("colour = 1\n", "colour: unknown key", 1, "the tables are"),
        (
            "[cloudfare]\n",
            "cloudfare: unknown table",
            1,
            "did you mean `cloudflare`?",
        ),
        (
            "[cloudflare]\napi_tokne = \"x\"\n",
            "cloudflare.api_tokne: unknown key",
            2,
            "did you mean `api_token`?",
        ),
        (
            "[detect]\nipv_4 = \"none\"\n",
            "detect.ipv_4: unknown key",
            2,
            "did you mean `ipv4`?",
        ),
        (
            "[schedule]\nintervall = \"5m\"\n",
            "schedule.intervall: unknown key",
            2,
            "did you mean `interval`?",
        ),
        (
            "[state]\ndirectory = \"/x\"\n",
            "state.directory: unknown key",
            2,
            "the keys of [state] are",
        ),
        (
            "[defaults]\ninterval = \"5m\"\n",
            "defaults.interval: unknown key",
            2,
            "belongs in [schedule]",
        ),
        (
            "[[records]]\nname = \"a.example.com\"\n",
            "records: unknown table",
            1,
            "[[record]]",
        ),
        (
            "[[record]]\nname = \"a.example.com\"\n[[record]]\nname = \"b.example.com\"\nzoneid = \"x\"\n",
            "record[2].zoneid: unknown key",
            5,
            "did you mean `zone_id`?",
        ),
    ];
    for (text, part, line, hint) in cases {
        let e = err(text);
        expect(&e, part, Some(*line));
        expect(&e, hint, None);
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = err("[defaults]\nttl = 300\nproxied = tru\n");
    expect(&e, "ddflare.toml:3:11: ", None);
    expect(&e, "TOML syntax error", None);
    let e = err("[defaults]\nttl = 1\nttl = 2\n");
    expect(
        &e,
        "ddflare.toml:3:1: defaults.ttl: TOML syntax error: duplicate key",
        None,
    );
    let e = err("[defaults\n");
    expect(&e, "ddflare.toml:1:", None);
    let e = err("[record]\nname = \"a.example.com\"\n");
    expect(&e, "hint: write `[[record]]`", Some(1));
}

#[test]
fn bom_and_crlf_are_fine() {
    let text = format!("\u{feff}{}", with_token(ONE_RECORD).replace('\n', "\r\n"));
    assert_eq!(ok(&text).config.records.len(), 1);
}
