//! The manifest `sweep.jsonl`, beside a sweep's results: one JSON line per (trial, seed) job
//! with the trial's resolved config, all a job needs to run (`rl sweep task` reads nothing
//! else). The same sweep file gives the same manifest, byte for byte.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{self, Experiment};
use crate::error::UsageError;

/// The manifest's file name in a sweep's folder.
pub const FILE: &str = "sweep.jsonl";

/// One (trial, seed) job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Position in the manifest (a Slurm array task's index).
    pub index: usize,
    pub sweep: String,
    /// The trial's id, its folder in the sweep's folder.
    pub trial: String,
    pub seed: u64,
    /// The swept keys' values.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The trial's resolved config (TOML), as its `config.toml` holds it.
    pub config: String,
}

impl Job {
    /// The job's experiment, writing into `sweep_dir` (the folder that holds the manifest),
    /// wherever the sweep was planned from; `origin` names the manifest in messages.
    pub fn experiment(&self, sweep_dir: &Path, origin: &str) -> Result<Experiment, UsageError> {
        let mut exp = config::load_str(
            &self.config,
            &format!("{origin}: job {} config", self.index),
            &[],
        )?;
        exp.experiment.out_dir = sweep_dir.to_path_buf();
        Ok(exp)
    }
}

/// The manifest's text: one line per job.
pub fn to_text(jobs: &[Job]) -> String {
    jobs.iter()
        .map(|j| serde_json::to_string(j).expect("a job serialises to JSON") + "\n")
        .collect()
}

/// Reads the manifest at `path`.
pub fn read(path: &Path) -> Result<Vec<Job>, UsageError> {
    let origin = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(format!(
            "{origin}: cannot read the sweep manifest: {e} (`rl sweep plan` writes it)"
        ))
    })?;
    let jobs = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str::<Job>(line)
                .map_err(|e| UsageError::new(format!("{origin}:{}: not a sweep job: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if jobs.iter().enumerate().any(|(i, j)| j.index != i) || jobs.is_empty() {
        return Err(UsageError::new(format!(
            "{origin}: not a sweep manifest: jobs must be numbered 0, 1, 2, ..."
        )));
    }
    Ok(jobs)
}

/// A swept value as JSON (a TOML value always converts).
pub fn json_value(value: &toml_edit::Value) -> serde_json::Value {
    let table: toml::Table = format!("v = {}", value.to_string().trim())
        .parse()
        .expect("a TOML value parses");
    serde_json::to_value(&table["v"]).expect("TOML converts to JSON")
}
