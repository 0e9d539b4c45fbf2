//! `rl merge DEST SRC...`: the seed folders of one experiment, gathered from several result
//! folders (CI shards' artifacts) into `DEST/<experiment>/`, all or nothing.

use std::path::{Path, PathBuf};

use crate::cli::MergeArgs;
use crate::error::UsageError;
use crate::report::identity::Identity;
use crate::report::pool::add_seeds;
use crate::report::results::{self, ExperimentResults};

/// Merges `args.sources` into `args.dest`; returns what was written.
pub fn merge(args: &MergeArgs) -> Result<String, UsageError> {
    let folders = results::load_unpooled(&args.sources)?;
    let (first, rest) = folders.split_first().expect("clap requires a source");
    let identity = identity_of(first)?;
    let mut merged = first.clone();
    for other in rest {
        if other.name != first.name {
            return Err(UsageError::new(format!(
                "{} holds experiment {} but {} holds {}: rl merge gathers one experiment",
                first.dir.display(),
                first.name,
                other.dir.display(),
                other.name
            )));
        }
        let other_identity = identity_of(other)?;
        if other_identity != identity {
            return Err(UsageError::new(format!(
                "{} and {} are not the same experiment: they differ in {}",
                first.dir.display(),
                other.dir.display(),
                identity.difference(&other_identity)
            )));
        }
        add_seeds(&mut merged, other.clone())?;
    }
    let target = args.dest.join(&merged.name);
    if target.exists() {
        return Err(UsageError::new(format!(
            "{}: already exists; merge into a new folder",
            target.display()
        )));
    }
    write_all_or_nothing(&merged, &args.dest, &target)
        .map_err(|e| UsageError::new(format!("cannot write {}: {e}", target.display())))?;
    let seeds: Vec<String> = merged
        .seeds
        .iter()
        .map(|s| s.meta.seed.to_string())
        .collect();
    Ok(format!(
        "merged {} seeds ({}) of {} from {} folders into {}\n",
        seeds.len(),
        seeds.join(","),
        merged.name,
        folders.len(),
        target.display()
    ))
}

/// The identity every seed of `e` shares (a folder mixing experiments is refused).
fn identity_of(e: &ExperimentResults) -> Result<Identity, UsageError> {
    let id = Identity::of(&e.seeds[0].dir, &e.seeds[0].meta)?;
    for s in &e.seeds[1..] {
        let other = Identity::of(&s.dir, &s.meta)?;
        if other != id {
            return Err(UsageError::new(format!(
                "{} and {} are not the same experiment: they differ in {}",
                e.seeds[0].dir.display(),
                s.dir.display(),
                id.difference(&other)
            )));
        }
    }
    Ok(id)
}

/// Copies every seed folder into a hidden folder beside `target`, then renames it into place:
/// an interrupted merge leaves no partial `target`.
fn write_all_or_nothing(e: &ExperimentResults, dest: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    let staging = dest.join(format!(".{}.merging-{}", e.name, std::process::id()));
    let result = (|| {
        for seed in &e.seeds {
            copy_seed(&seed.dir, &staging.join(format!("seed_{}", seed.meta.seed)))?;
        }
        std::fs::rename(&staging, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Copies a seed folder's files (not its lock).
fn copy_seed(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "rl.lock" {
            continue;
        }
        let path: PathBuf = entry.path();
        if path.is_dir() {
            copy_seed(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
