//! What one seed's run is, as the algorithm's session needs it: no algorithm config, no files.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::env::EnvSection;

/// One seed's run: its seed, budget, evaluation schedule, env, device and checkpoint settings.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub seed: u64,
    /// Training budget in env steps (dynamic programming: sweeps); 0 for planners.
    pub total_steps: u64,
    /// Evaluate every this many steps (and at step 0 and at the end).
    pub eval_every: u64,
    /// Greedy episodes per evaluation.
    pub eval_episodes: u32,
    /// Cap on evaluation episode length for envs without a time limit.
    pub eval_max_episode_steps: u32,
    pub env: EnvSection,
    /// The plain (non-autodiff) device neural algorithms compute on, chosen once by the runner.
    pub device: Device,
    /// Write a checkpoint every this many env steps (none: only on Ctrl-C).
    pub checkpoint_every: Option<u64>,
    /// Whether off-policy checkpoints keep their replay buffer.
    pub checkpoint_replay: bool,
    /// What a non-finite evaluation return does.
    pub on_nonfinite: OnNonFinite,
}

/// `[experiment] on_nonfinite`: a diverged policy (NaN or infinite evaluation returns) fails
/// its seed, or is recorded as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnNonFinite {
    /// Stop the seed with status `failed`, naming the step (the rows before it are kept).
    #[default]
    Fail,
    /// Record the non-finite returns and go on (empty cells in curve.csv).
    Continue,
}

impl RunSpec {
    /// A run of `total_steps` on `env` (a problem drawn per run drawn from `seed`) with seed
    /// `seed` on flex, evaluated `eval_episodes`
    /// episodes every `eval_every` steps, without checkpoints (for tests and library use).
    pub fn new(seed: u64, env: EnvSection, total_steps: u64, eval_every: u64) -> Self {
        Self {
            seed,
            total_steps,
            eval_every: eval_every.max(1),
            eval_episodes: 10,
            eval_max_episode_steps: 1000,
            env: env.for_run(seed),
            device: Device::flex(),
            checkpoint_every: None,
            checkpoint_replay: true,
            on_nonfinite: OnNonFinite::Fail,
        }
    }
}
