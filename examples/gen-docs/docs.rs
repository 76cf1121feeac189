//! The generation itself, shared with the tests (tests/it/docs.rs includes this file): man
//! pages under `DIR/man/` (ddflare.1, one ddflare-COMMAND.1 per command, and the hand-written
//! ddflare.toml.5 copied from man/), completions under `DIR/completions/` (ddflare.bash,
//! _ddflare, ddflare.fish).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// What ddflare(1) says besides what clap knows: the environment, the exit codes, the files.
const EXTRA: &str = r#".SH ENVIRONMENT
.TP
.B DDFLARE_CONFIG
The config file, when \-\-config is not given.
.TP
.B DDFLARE_LOG_FORMAT
.IR text " or " json ,
as \-\-log\-format.
.TP
.B DDFLARE_LOG_LEVEL
.IR error ", " warn ", " info ", " debug " or " trace ,
as \-\-log\-level.
.TP
.B NO_COLOR
Set and not empty: no colours in the text logs.
.TP
.B CLOUDFLARE_API_TOKEN
.TQ
.B CLOUDFLARE_API_TOKEN_FILE
The API token, or a file holding it.
.PP
The DDFLARE_* variables that stand for config keys are listed in
.BR ddflare.toml (5).
.SH "EXIT STATUS"
.TP
.B 0
Success.
.TP
.B 1
A failure: a record could not be reconciled, nothing was detected, the daemon is unhealthy.
.TP
.B 2
A usage error.
.TP
.B 78
A configuration error (EX_CONFIG).
.SH FILES
.TP
.I /etc/ddflare/ddflare.toml
The default config file.
.TP
.I /var/lib/ddflare
The state directory (the cache, the heartbeat).
.SH "SEE ALSO"
.BR ddflare.toml (5),
.I /usr/share/doc/ddflare/README.md
"#;

/// Writes everything under `out`; returns the files written.
pub fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let cmd = ddflare::cli::command();
    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    // One page per command, then ddflare.1 again with the sections clap does not know.
    clap_mangen::generate_to(cmd.clone(), &man)?;
    let mut page = Vec::new();
    let top = clap_mangen::Man::new(cmd.clone())
        .date("")
        .manual("ddflare manual");
    top.render(&mut page)?;
    page.write_all(EXTRA.as_bytes())?;
    std::fs::write(man.join("ddflare.1"), page)?;
    let toml5 = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/ddflare.toml.5");
    std::fs::copy(&toml5, man.join("ddflare.toml.5"))?;

    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd.clone(), "ddflare", &completions)?;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&man)?
        .chain(std::fs::read_dir(&completions)?)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    Ok(files)
}
