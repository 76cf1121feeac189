//! A property test: no input, however broken, panics the parser.

use super::*;
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "[cloudflare]\n",
    "[detect]\n",
    "[schedule]\n",
    "[state]\n",
    "[defaults]\n",
    "[metrics]\n",
    "[alerts]\n",
    "[[notify]]\n",
    "[[monitor]]\n",
    "cron = \"*/5 * * * *\"\n",
    "url = \"ntfy://ntfy.sh/t\"\n",
    "listen = \"127.0.0.1:9489\"\n",
    "[[record]]\n",
    "[record]\n",
    "name = \"home.example.com\"\n",
    "name = \"bücher.example\"\n",
    "ttl = 60\n",
    "ttl = \"auto\"\n",
    "ttl = -1\n",
    "ipv4 = \"none\"\n",
    "ipv6 = [\"none\"]\n",
    "ipv4 = false\n",
    "interval = \"5m\"\n",
    "interval = 5\n",
    "api_token = \"abcdefghijklmnopqrstuvwxyz\"\n",
    "api_token_file = \"/nonexistent\"\n",
    "zone = \"example.com\"\n",
    "comment = \"x\"\n",
    "proxied = true\n",
    "= \n",
    "\"\n",
    "[\n",
    "]]\n",
    "é",
    "\u{feff}",
    "\r\n",
    "# c\n",
    "a.b.c = 1\n",
    "record = [{name = \"x.example\"}]\n",
    "'''\n",
    "\"\"\"\n",
    "\t",
    "\0",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text, "p.toml", &HashMap::new());
    }

    #[test]
    fn spliced_fragments_never_panic(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..24)) {
        let text: String = parts.iter().map(|i| FRAGMENTS[*i]).collect();
        let r = parse(&text, "p.toml", &HashMap::new());
        if let Err(e) = r {
            // Messages stay single-purpose: the hint, if any, is on its own line.
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn env_values_never_panic(var in 0usize..12, value in any::<String>()) {
        const VARS: [&str; 12] = [
            "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_TOKEN_FILE", "DDFLARE_RECORDS", "DDFLARE_IPV4",
            "DDFLARE_IPV6", "DDFLARE_INTERVAL", "DDFLARE_TTL", "DDFLARE_PROXIED", "DDFLARE_COMMENT",
            "DDFLARE_STATE_DIR", "DDFLARE_API_URL", "STATE_DIRECTORY",
        ];
        let mut e = HashMap::new();
        e.insert(VARS[var].to_owned(), value);
        let _ = parse(ONE_RECORD, "p.toml", &e);
    }
}
