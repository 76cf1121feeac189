//! The composition root lives in [`ddflare::cli`]; this file only hands it the process.

#[cfg(all(target_env = "musl", panic = "abort"))]
#[path = "bin_unwind.rs"]
mod unwind;

fn main() -> std::process::ExitCode {
    ddflare::cli::main()
}
