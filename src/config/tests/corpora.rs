//! The `tests/bad_config` corpus (each file's error) and `config.example.toml` (valid, every key
//! documented).

use super::*;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bad_config")
}

#[test]
fn bad_config_corpus() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "only {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Without `dns-detect`, naming its providers is the error (without_features.rs).
        if cfg!(not(feature = "dns-detect"))
            && (text.contains("cloudflare.dns") || text.contains("cloudflare.doh"))
        {
            continue;
        }
        // Without `router-query`, naming a `router.` provider is the error.
        if cfg!(not(feature = "router-query")) && text.contains("router.") {
            continue;
        }
        let header = |key: &str| {
            text.lines()
                .take_while(|l| l.starts_with('#'))
                .find_map(|l| {
                    l.strip_prefix(&format!("# {key}:"))
                        .map(|v| v.trim().to_owned())
                })
        };
        let Some(expected) = header("expect") else {
            failures.push(format!("{name}: no `# expect:` line"));
            continue;
        };
        let line = header("line");
        let mut vars: Vec<(String, String)> = Vec::new();
        if let Some(env_line) = header("env") {
            for pair in env_line.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    vars.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        let env_map: HashMap<String, String> = vars.into_iter().collect();
        let outcome = std::panic::catch_unwind(|| parse(&text, &name, &env_map));
        let shown = match outcome {
            Err(_) => {
                failures.push(format!("{name}: panicked"));
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Ok(Err(e)) => e.to_string(),
        };
        if !shown.contains(&expected) {
            failures.push(format!("{name}: expected `{expected}` in:\n{shown}"));
        }
        if let Some(line) = line
            && !shown.contains(&format!("{name}:{line}:"))
        {
            failures.push(format!("{name}: expected line {line} in:\n{shown}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn example_config_is_valid_and_documented() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let l = ok_env(&text, &env(&[("CLOUDFLARE_API_TOKEN", TOKEN)]));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert!(!l.config.records.is_empty());
    // Without a token from the environment it fails only for the token.
    let e = parse(&text, "config.example.toml", &no_env());
    if let Err(e) = e {
        assert!(e.key().starts_with("cloudflare.api_token"), "{e}");
    }
    // Every key is mentioned in the example.
    for (table, keys) in error::KNOWN_KEYS {
        for key in *keys {
            assert!(
                text.contains(key),
                "config.example.toml does not document `{table}.{key}`"
            );
        }
    }
}
