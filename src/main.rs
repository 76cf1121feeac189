//! The composition root lives in [`ddflare::cli`]; this file only hands it the process.

fn main() -> std::process::ExitCode {
    ddflare::cli::main()
}
