//! Writes the man pages and the shell completions of the package, generated from the CLI
//! definition (`ddflare::cli::command`), into a directory: `cargo run --example gen-docs --
//! DIR` (scripts/build-deb). Nothing of this is in the binary.

// A tool of the build: a failure to write is its whole error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod docs;

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| std::path::PathBuf::from("dist/deb"), Into::into);
    match docs::generate(&out) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
        }
        Err(e) => {
            eprintln!("gen-docs: cannot write to {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}
