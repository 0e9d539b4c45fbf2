//! Embeds the git commit of the build in `RL_GIT_COMMIT` (recorded in every meta.json), and the
//! name of the profile's output folder in `RL_PROFILE_DIR` (`gpu` for `cargo build --profile gpu`,
//! whose wgpu backend is optimised; see Cargo.toml).

use std::process::Command;

/// `git rev-parse <args>`, trimmed; `None` outside a git checkout or without git.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn main() {
    // In a linked worktree `.git` is a file: HEAD lives in the worktree's own git dir and the
    // branches in the common one. Watching paths that do not exist would rerun this script (and
    // recompile rl) on every cargo call.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    // The checked-out branch's own ref, not every branch's: a commit in another worktree must
    // not recompile this one. A packed (or missing) ref falls back to the whole refs/heads.
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        let branch = git(&["symbolic-ref", "-q", "HEAD"]).map(|r| format!("{dir}/{r}"));
        let refs = match branch {
            Some(path) if std::path::Path::new(&path).exists() => path,
            _ => format!("{dir}/refs/heads"),
        };
        for path in [refs, format!("{dir}/packed-refs")] {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    // OUT_DIR is <target>/<profile folder>/build/rl-<hash>/out (cargo names a custom profile's
    // folder after it; `PROFILE` says `release` for every profile that inherits release).
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let profile_dir = std::path::Path::new(&out_dir)
        .ancestors()
        .nth(3)
        .and_then(|dir| dir.file_name())
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    println!("cargo:rustc-env=RL_PROFILE_DIR={profile_dir}");
    if let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=RL_GIT_COMMIT={commit}");
    }
}
