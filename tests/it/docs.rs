//! What the package ships besides the binary: the man pages and the shell completions that
//! examples/gen-docs generates from the CLI definition (its generation code is this file's
//! `gen_docs`), checked with the real tools (man and groff, bash, zsh, fish); and the summary
//! of skipped tests that `scripts/test` prints.

use std::path::Path;
use std::process::Command;

use crate::support::skip;

#[path = "../../examples/gen-docs/docs.rs"]
mod gen_docs;

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    gen_docs::generate(dir.path()).unwrap();
    dir
}

fn subcommands() -> Vec<String> {
    ddflare::cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `man -l PAGE` as text, 80 columns, with groff's warnings on; (page, warnings).
fn render(page: &Path) -> (String, String) {
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    assert!(out.status.success(), "man -l {}", page.display());
    (
        plain(&String::from_utf8_lossy(&out.stdout)),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Without the overstrike grotty writes for bold and underline (`X\bX`, `_\bX`), as `col -b`.
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    out.into_iter().collect()
}

#[test]
fn man_pages_render_without_warnings_and_name_every_command() {
    if !installed("man") || !installed("groff") {
        skip(
            "docs::man_pages_render_without_warnings_and_name_every_command",
            "`man` or `groff` is not installed",
            &["man-db", "groff-base"],
        );
        return;
    }
    let dir = generated();
    let man = dir.path().join("man");
    let commands = subcommands();
    assert!(commands.len() >= 6, "{commands:?}");
    let mut pages: Vec<_> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    for c in &commands {
        assert!(
            pages.contains(&man.join(format!("ddflare-{c}.1"))),
            "no page for {c}: {pages:?}"
        );
    }
    for page in &pages {
        let (text, warnings) = render(page);
        assert!(warnings.is_empty(), "{}: {warnings}", page.display());
        assert!(text.lines().count() > 5, "{}:\n{text}", page.display());
    }
    let (top, _) = render(&man.join("ddflare.1"));
    for c in &commands {
        assert!(top.contains(&format!("ddflare-{c}(1)")), "{c} in\n{top}");
    }
    for section in [
        "SYNOPSIS",
        "OPTIONS",
        "ENVIRONMENT",
        "EXIT STATUS",
        "SEE ALSO",
    ] {
        assert!(top.contains(section), "{section} in\n{top}");
    }
    assert!(top.contains("ddflare.toml(5)"), "{top}");
    let (toml, _) = render(&man.join("ddflare.toml.5"));
    assert!(toml.contains("cloudflare.api_token_file"), "{toml}");
}

#[test]
fn bash_completes_the_commands_and_zsh_and_fish_parse_theirs() {
    let dir = generated();
    let completions = dir.path().join("completions");
    let bash = completions.join("ddflare.bash");
    // The same files the .deb installs (Cargo.toml [package.metadata.deb] assets).
    for f in ["ddflare.bash", "_ddflare", "ddflare.fish"] {
        assert!(completions.join(f).is_file(), "{f}");
    }
    let script = format!(
        "source '{}'\ncomplete -p ddflare\nCOMP_WORDS=(ddflare \"$1\"); COMP_CWORD=1\n\
         COMP_LINE=\"ddflare $1\"; COMP_POINT=${{#COMP_LINE}}\n_ddflare ddflare \"$1\" ddflare\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        bash.display()
    );
    let complete = |word: &str| -> String {
        let out = Command::new("bash")
            .args(["-c", &script, "bash", word])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = complete("");
    assert!(
        all.starts_with("complete -F _ddflare") || all.contains("-F _ddflare ddflare"),
        "{all}"
    );
    for c in subcommands() {
        assert!(all.lines().any(|l| l == c), "{c} in\n{all}");
    }
    let st = complete("st");
    let words: Vec<&str> = st.lines().skip(1).collect();
    assert_eq!(words, ["status"], "{st}");

    for (shell, file, package) in [("zsh", "_ddflare", "zsh"), ("fish", "ddflare.fish", "fish")] {
        if !installed(shell) {
            skip(
                &format!(
                    "docs::bash_completes_the_commands_and_zsh_and_fish_parse_theirs ({shell})"
                ),
                &format!("`{shell}` is not installed"),
                &[package],
            );
            continue;
        }
        let out = Command::new(shell)
            .arg("-n")
            .arg(completions.join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell} -n {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Set in the child run of the next test: it only notes a skip.
const CHILD: &str = "DDFLARE_TEST_SKIP_CHILD";

#[test]
fn skipped_tests_are_summed_up_with_the_command_that_brings_them_back() {
    if std::env::var_os(CHILD).is_some() {
        skip("docs::a", "`named` is not installed", &["bind9"]);
        skip("docs::b", "needs root", &[]);
        skip(
            "docs::c",
            "`dnsdist` is not installed",
            &["bind9", "dnsdist"],
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("skipped");
    // This test again, in a process of its own, with the log scripts/test would set.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "docs::skipped_tests_are_summed_up_with_the_command_that_brings_them_back",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("DDFLARE_SKIP_LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::support::text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("*** SKIPPED docs::a: `named` is not installed (apt-get install bind9) ***"),
        "{}",
        crate::support::text(&out)
    );
    let noted = std::fs::read_to_string(&log).unwrap();
    assert_eq!(noted.lines().count(), 3, "{noted}");
    assert!(noted.contains("docs::b\tneeds root\t\n"), "{noted:?}");

    // scripts/test's summary function, on that log.
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test"))
            .unwrap();
    let start = script.find("skipped_summary() {").unwrap();
    let end = start + script[start..].find("\n}\n").unwrap() + 3;
    let out = Command::new("bash")
        .args(["-c", &format!("{}skipped_summary", &script[start..end])])
        .env("DDFLARE_SKIP_LOG", &log)
        .output()
        .unwrap();
    let summary = crate::support::text(&out);
    assert!(out.status.success(), "{summary}");
    assert!(summary.contains("== skipped tests (3):"), "{summary}");
    assert!(
        summary.contains("  docs::a: `named` is not installed\n"),
        "{summary}"
    );
    assert!(
        summary.ends_with("to run them: sudo apt-get install -y bind9 dnsdist\n"),
        "{summary}"
    );
    assert!(!log.exists(), "the summary removes its log");
}
