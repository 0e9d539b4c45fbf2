//! Checkpoints: `checkpoint.json` in a seed folder names the file with the session's counters
//! and RNG and the algorithm's whole state (`checkpoint.<step>.cbor`, binary CBOR, so that
//! networks, optimiser moments and replay buffers stay compact and exact, NaN included), so
//! that `rl run --resume` continues exactly where it was written. Rows of curve.csv and episodes.csv
//! written after the checkpoint are dropped on resume and recomputed, so a resumed run ends with
//! the same files as an uninterrupted one.
//!
//! The state file is written first and the index last, each atomically, so a crash at any
//! moment leaves the previous checkpoint or the new one, never a mix.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub use crate::session::checkpoint::{Checkpoint, SessionState, decode, encode};

/// The index file in a seed folder.
pub const FILE: &str = "checkpoint.json";

/// `checkpoint.json`: the step and the name of the state file.
#[derive(Serialize, Deserialize)]
struct Index {
    step: u64,
    state_file: String,
}

/// The checkpoint in `dir`, if there is one.
pub fn read(dir: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let index: Index = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoint", path.display()))?;
    let state_path = dir.join(&index.state_file);
    let bytes = std::fs::read(&state_path).with_context(|| {
        format!(
            "cannot read {}, the state file {} names",
            state_path.display(),
            path.display()
        )
    })?;
    let checkpoint = Checkpoint::from_state_bytes(index.step, &bytes)
        .with_context(|| format!("{}: not a checkpoint state", state_path.display()))?;
    Ok(Some(checkpoint))
}

/// Writes `checkpoint` into `dir` (atomically: a crash never leaves half a checkpoint) and
/// removes the state files of older checkpoints. The state file holds the session's state
/// (CBOR, after its length as 8 little-endian bytes), then the algorithm's.
pub fn write(dir: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let state_file = format!("checkpoint.{}.cbor", checkpoint.step);
    let state_path = dir.join(&state_file);
    let bytes = checkpoint.state_bytes()?;
    crate::record::write_atomically(&state_path, &bytes)
        .with_context(|| format!("cannot write {}", state_path.display()))?;
    let index = Index {
        step: checkpoint.step,
        state_file: state_file.clone(),
    };
    let path = dir.join(FILE);
    crate::record::write_atomically(&path, &serde_json::to_vec(&index)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    remove_state_files(dir, Some(&state_file))
}

/// Removes the checkpoint of `dir`, if any (a fresh run starts without one).
pub fn remove(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    if path.exists() {
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    remove_state_files(dir, None)
}

/// Removes the `checkpoint.*.cbor` files of `dir` but `keep`.
fn remove_state_files(dir: &Path, keep: Option<&str>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("checkpoint.") && name.ends_with(".cbor") && Some(name) != keep {
            let path = dir.join(name);
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
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

    fn session() -> SessionState {
        SessionState {
            episodes: 3,
            recent_returns: vec![1.0, 2.0],
            next_eval: 10,
            last_eval: Some((5, 1.5)),
            last_diagnostics: vec![0.25, f64::NAN],
            eval_rng: crate::rng::from_seed(7),
            train_seconds: 0.5,
            curve_rows: 1,
            episode_rows: 3,
            next_checkpoint: 20,
        }
    }

    #[test]
    fn a_newer_checkpoint_replaces_the_older_state_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        let state = (
            vec![0.1f32, f32::MAX, f32::MIN_POSITIVE],
            f64::NAN.to_bits(),
        );
        let first = Checkpoint {
            step: 10,
            session: session(),
            algo: encode(&state).unwrap(),
        };
        write(dir.path(), &first).unwrap();
        let second = Checkpoint {
            step: 20,
            ..first.clone()
        };
        write(dir.path(), &second).unwrap();
        let back = read(dir.path()).unwrap().unwrap();
        assert_eq!((back.step, &back.algo), (20, &second.algo));
        assert!(back.session.last_diagnostics[1].is_nan(), "NaN survives");
        assert!(!dir.path().join("checkpoint.10.cbor").exists());
        let back: (Vec<f32>, u64) = decode(&read(dir.path()).unwrap().unwrap().algo).unwrap();
        assert_eq!(back, state, "f32 values come back bit for bit");
        remove(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
