//! `[expect]`: what an experiment's results must show for `rl check` to pass — the README's
//! acceptance lines, machine-checked. Saved with the resolved config in each seed's
//! `config.toml`, where `rl check` reads it.

use serde::{Deserialize, Serialize};

/// The expectations of one experiment (every key optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// At least `seeds_passing` seeds end with a final evaluation return ≥ this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_final: Option<f64>,
    /// How many seeds must reach `min_final` (default: every seed of `experiment.seeds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds_passing: Option<usize>,
    /// The interquartile mean of the seeds' final returns is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_iqm: Option<f64>,
    /// The median over seeds of the first step whose evaluation reaches `threshold` is at most
    /// this (a seed that never reaches it counts as never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps_to_threshold: Option<u64>,
    /// The return `max_steps_to_threshold` waits for (default: the env's solve threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

impl Expectations {
    /// Whether no expectation is set.
    pub fn is_empty(&self) -> bool {
        self.min_final.is_none() && self.min_iqm.is_none() && self.max_steps_to_threshold.is_none()
    }
}
