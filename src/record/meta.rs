//! `meta.json`: the status and provenance of one seed's run.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

/// Life cycle of a seed's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Complete,
    Interrupted,
    Failed,
}

impl Status {
    /// The word meta.json uses.
    pub fn name(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        }
    }
}

/// Everything a report needs to know about a run besides its curves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub status: Status,
    pub error: Option<String>,
    pub experiment: String,
    pub algo: String,
    pub env: String,
    /// The env's solve threshold (`EnvSpec::reward_threshold`; null: the env has none),
    /// recorded so that reports need not know the env. `None` when meta.json predates it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub reward_threshold: Option<Option<f64>>,
    pub seed: u64,
    pub backend: String,
    pub rl_version: String,
    pub git_commit: String,
    pub start_time: String,
    pub end_time: Option<String>,
    /// Wall-clock seconds from start to end, evaluation included.
    pub wall_s: f64,
    /// Training seconds (evaluation excluded), the `wall_s` of curve.csv.
    pub train_s: f64,
    pub env_steps: u64,
    /// Env steps per training second.
    pub steps_per_s: f64,
    pub final_eval_return_mean: Option<f64>,
    pub cores: usize,
    /// CPU seconds of the whole process while the seed trained (evaluations excluded): the
    /// seed's own cost when it ran alone (`--jobs 1`, one seed), else shared with the others.
    #[serde(default)]
    pub process_train_cpu_s: Option<f64>,
    /// Whether the run is reproducible bit for bit from its seed (false: asynchronous updates,
    /// A3C with several workers). Absent in older meta.json: true.
    #[serde(default = "reproducible")]
    pub deterministic: bool,
}

fn reproducible() -> bool {
    true
}

impl Meta {
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("meta serialises to JSON");
        super::write_atomically(path, json.as_bytes())
    }

    pub fn read(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }
}

/// A field that is there, null or not, reads as `Some` (an absent one stays `None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

/// rl's git commit at build time (`unknown` outside a git checkout).
pub fn git_commit() -> &'static str {
    option_env!("RL_GIT_COMMIT").unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A threshold, a recorded absence of one (null) and a meta.json from before the record
    /// (no key) read back apart.
    #[test]
    fn the_threshold_round_trips_and_its_absence_is_told_apart() {
        let meta = Meta {
            status: Status::Complete,
            error: None,
            experiment: "x".into(),
            algo: "lqr".into(),
            env: "DoubleIntegrator-v0".into(),
            reward_threshold: Some(None),
            seed: 0,
            backend: "flex".into(),
            rl_version: "0".into(),
            git_commit: "unknown".into(),
            start_time: "t".into(),
            end_time: None,
            wall_s: 0.0,
            train_s: 0.0,
            env_steps: 0,
            steps_per_s: 0.0,
            final_eval_return_mean: None,
            cores: 1,
            process_train_cpu_s: None,
            deterministic: true,
        };
        let read = |m: &Meta| -> Meta {
            serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap()
        };
        assert!(
            serde_json::to_string(&meta)
                .unwrap()
                .contains("\"reward_threshold\":null")
        );
        assert_eq!(read(&meta), meta);
        let solved = Meta {
            reward_threshold: Some(Some(475.0)),
            ..meta.clone()
        };
        assert_eq!(read(&solved), solved);
        let older = Meta {
            reward_threshold: None,
            ..meta
        };
        assert!(
            !serde_json::to_string(&older)
                .unwrap()
                .contains("reward_threshold")
        );
        assert_eq!(read(&older), older);
    }
}
