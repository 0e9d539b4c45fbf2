//! When two seed folders are runs of the same experiment, and when they hold the same results:
//! the rules `rl merge`, `rl compare` and `rl check` pool seeds from several folders by (CI
//! shards downloaded side by side).

use std::path::Path;

use crate::error::UsageError;
use crate::record::{Meta, first_differing_key};

/// Columns that measure time rather than learning: they differ between two runs of one seed.
pub const WALL_CLOCK_COLUMNS: [&str; 3] = ["wall_s", "sps", "plan_ms"];

/// What makes seed folders runs of one experiment: the resolved config (`config.toml`) without
/// the keys that only say which seeds ran where and how many at once, the rl version and build,
/// and the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    config: String,
    rl_version: String,
    git_commit: String,
    backend: String,
}

/// `[experiment]` keys that do not change a seed's results.
const PLACEMENT_KEYS: [&str; 3] = ["seeds", "out_dir", "jobs"];

impl Identity {
    /// The identity of the run in `seed_dir` (whose meta.json is `meta`).
    pub fn of(seed_dir: &Path, meta: &Meta) -> Result<Self, UsageError> {
        let path = seed_dir.join("config.toml");
        let bad = |e: String| UsageError::new(format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let mut config: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(e.to_string()))?;
        if let Some(experiment) = config.get_mut("experiment").and_then(|e| e.as_table_mut()) {
            for key in PLACEMENT_KEYS {
                experiment.remove(key);
            }
        }
        Ok(Self {
            config: toml::to_string(&config).expect("a TOML table serialises"),
            rl_version: meta.rl_version.clone(),
            git_commit: meta.git_commit.clone(),
            backend: meta.backend.clone(),
        })
    }

    /// What differs between `self` and `other`, in words.
    pub fn difference(&self, other: &Identity) -> String {
        let mut what = Vec::new();
        if self.config != other.config {
            let key = first_differing_key(&self.config, &other.config);
            what.push(format!("the resolved config ({key})"));
        }
        if self.rl_version != other.rl_version || self.git_commit != other.git_commit {
            what.push(format!(
                "the rl build ({} {} vs {} {})",
                self.rl_version, self.git_commit, other.rl_version, other.git_commit
            ));
        }
        if self.backend != other.backend {
            what.push(format!(
                "the backend ({} vs {})",
                self.backend, other.backend
            ));
        }
        what.join(", ")
    }
}

/// A result CSV without its wall-clock columns.
fn learning_columns(path: &Path) -> Result<Vec<Vec<String>>, UsageError> {
    let bad = |e: String| UsageError::new(format!("{}: {e}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| bad(e.to_string()))?;
    let mut rows = Vec::new();
    let mut keep: Vec<bool> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        if keep.is_empty() {
            keep = record
                .iter()
                .map(|c| !WALL_CLOCK_COLUMNS.contains(&c))
                .collect();
        }
        rows.push(
            record
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.to_string())
                .collect(),
        );
    }
    Ok(rows)
}

/// Whether two folders of one seed hold the same results: the same status, and the same
/// curve.csv and episodes.csv, wall-clock columns aside.
pub fn same_results(a: &Path, a_meta: &Meta, b: &Path, b_meta: &Meta) -> Result<bool, UsageError> {
    if a_meta.status != b_meta.status {
        return Ok(false);
    }
    for file in ["curve.csv", "episodes.csv"] {
        let (fa, fb) = (a.join(file), b.join(file));
        match (fa.is_file(), fb.is_file()) {
            (false, false) => continue,
            (true, true) => {
                if learning_columns(&fa)? != learning_columns(&fb)? {
                    return Ok(false);
                }
            }
            _ => return Ok(false),
        }
    }
    Ok(true)
}
