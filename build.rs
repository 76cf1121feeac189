//! Build facts for `ddflare --version`: the commit the binary was built from and the target.
//! The commit comes from `$DDFLARE_COMMIT` when set (a build without `.git`, such as the
//! Dockerfile's, passes it in), else from `git rev-parse`, else `unknown`.

use std::process::Command;

fn main() {
    let commit = std::env::var("DDFLARE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            let text = String::from_utf8(out.stdout).ok()?;
            let commit = text.trim();
            (out.status.success() && !commit.is_empty()).then(|| commit.to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let commit: String = commit
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(40)
        .collect();
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=DDFLARE_COMMIT={commit}");
    println!("cargo:rustc-env=DDFLARE_TARGET={target}");
    println!("cargo:rerun-if-env-changed=DDFLARE_COMMIT");
    // A new commit changes HEAD (a branch) or the ref it names.
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .output()
        && out.status.success()
        && let Ok(dir) = String::from_utf8(out.stdout)
    {
        let dir = dir.trim();
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Ok(head) = std::fs::read_to_string(format!("{dir}/HEAD"))
            && let Some(r) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed={dir}/{r}");
        }
    }
}
