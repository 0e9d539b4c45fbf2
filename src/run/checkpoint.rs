//! Checkpoints: `checkpoint.json` in a seed folder holds the session's counters and RNG and the
//! algorithm's whole state, so that `rl run --resume` continues exactly where it was written.
//! Rows of curve.csv and episodes.csv written after the checkpoint are dropped on resume and
//! recomputed, so a resumed run ends with the same files as an uninterrupted one.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// The file name in a seed folder.
pub const FILE: &str = "checkpoint.json";

/// What a session needs to continue: counters, recent returns, the eval stream, clocks and how
/// many rows of each CSV belong to the checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub episodes: u64,
    pub recent_returns: Vec<f64>,
    pub next_eval: u64,
    pub last_eval: Option<(u64, f64)>,
    pub last_diagnostics: Vec<f64>,
    pub eval_rng: Rng,
    pub train_seconds: f64,
    pub curve_rows: u64,
    pub episode_rows: u64,
    pub next_checkpoint: u64,
}

/// A checkpoint taken after env step `step`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub step: u64,
    pub session: SessionState,
    /// The algorithm's own state (its serialised struct).
    pub algo: serde_json::Value,
}

/// The checkpoint in `dir`, if there is one.
pub fn read(dir: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let checkpoint = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoint", path.display()))?;
    Ok(Some(checkpoint))
}

/// Writes `checkpoint` into `dir` (atomically: a crash never leaves half a checkpoint).
pub fn write(dir: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    let json = serde_json::to_vec(checkpoint)?;
    crate::record::write_atomically(&path, &json)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Keeps the header line and the first `rows` data lines of the CSV at `path`.
pub fn truncate_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut kept = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        if i as u64 > rows {
            break;
        }
        kept.push(line?);
    }
    anyhow::ensure!(
        kept.len() as u64 == rows + 1,
        "{}: fewer rows than its checkpoint recorded",
        path.display()
    );
    let mut out = std::fs::File::create(path)?;
    for line in kept {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_header_and_the_checkpointed_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "a,b\n1,2\n3,4\n5,6\n").unwrap();
        truncate_csv(&path, 2).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n1,2\n3,4\n");
        assert!(
            truncate_csv(&path, 5).is_err(),
            "a checkpoint newer than its files"
        );
    }
}
