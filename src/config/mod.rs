//! The experiment schema: `[experiment]`, `[env]`, `[algo]`, with documented defaults.
//!
//! Parsing is the registry: unknown keys, wrong types and out-of-range values are errors that
//! name the file, key, line:column and what is allowed (see [`load`]).

mod load;
mod locate;
mod seeds;
mod shard;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{load, load_saved, load_str};
pub use locate::line_col;
pub use seeds::Seeds;
pub use shard::Shard;

use crate::algo::{AlgoConfig, CrossChecks, Footprint, RunShape, UpdateWork};
pub use crate::env::EnvSection;
use crate::env::TimeLimit;
pub use crate::nn::Backend;
use crate::record::Expectations;
use crate::session::{OnNonFinite, RunSpec};
use burn::prelude::Device;

/// A fully resolved experiment (defaults filled in, overrides applied, values checked).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Experiment {
    pub experiment: ExperimentSection,
    pub env: EnvSection,
    pub algo: AlgoConfig,
    /// `[expect]`: what `rl check` requires of the results (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expectations>,
}

/// `[experiment]`: what to run and how to evaluate it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSection {
    /// Names the results folder `<out_dir>/<name>/`.
    pub name: String,
    /// Seeds to run: `"0..5"`, `"0..=4"`, `"0,3,7"` or `[0, 3, 7]` (default `"0..5"`).
    #[serde(default = "default_seeds")]
    pub seeds: Seeds,
    /// Training budget in env steps (summed over vectorised envs); dynamic programming counts
    /// sweeps. Required by learning algorithms; planners, which do not train, take none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_steps: Option<u64>,
    /// Evaluate every this many steps, and at step 0 and at the end (default total_steps / 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<u64>,
    /// Greedy episodes per evaluation (default 10).
    #[serde(default = "default_eval_episodes")]
    pub eval_episodes: u32,
    /// Cap on evaluation episode length for envs without a time limit (default 1000).
    #[serde(default = "default_eval_max_episode_steps")]
    pub eval_max_episode_steps: u32,
    /// Write a checkpoint every this many env steps, for `rl run --resume` (default: none; a
    /// checkpoint is also written on Ctrl-C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<u64>,
    /// Save the replay buffer in checkpoints (default true). Off, checkpoints of off-policy
    /// methods stay small, and a resumed run refills its buffer for `learning_starts` steps
    /// before it trains again (so it does not repeat the uninterrupted run).
    #[serde(default = "default_checkpoint_replay")]
    pub checkpoint_replay: bool,
    /// Seeds run at once on worker threads (default: the number of cores).
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Root of the results (default `results`).
    #[serde(default = "default_out_dir")]
    pub out_dir: PathBuf,
    /// `flex`, `ndarray` or `wgpu` (neural algorithms only; default `flex`).
    #[serde(default)]
    pub backend: Backend,
    /// What a non-finite loss, action or evaluation return does: `fail` the seed (default; the
    /// rows before it are kept, the error names the step and the quantity) or `continue`
    /// recording it.
    #[serde(default)]
    pub on_nonfinite: OnNonFinite,
}

fn default_seeds() -> Seeds {
    Seeds((0..5).collect())
}
fn default_checkpoint_replay() -> bool {
    true
}
fn default_eval_episodes() -> u32 {
    10
}
fn default_eval_max_episode_steps() -> u32 {
    1000
}
fn default_out_dir() -> PathBuf {
    PathBuf::from("results")
}
impl Experiment {
    /// Where seed `seed` writes its results.
    pub fn seed_dir(&self, seed: u64) -> PathBuf {
        self.experiment
            .out_dir
            .join(&self.experiment.name)
            .join(format!("seed_{seed}"))
    }

    /// The training budget (0 for planners, which do not train).
    pub fn total_steps(&self) -> u64 {
        self.experiment.total_steps.unwrap_or(0)
    }

    /// `eval_every` after defaults.
    pub fn eval_every(&self) -> u64 {
        self.experiment
            .eval_every
            .unwrap_or((self.total_steps() / 20).max(1))
    }

    /// What the session of seed `seed` needs of this experiment, on `device`.
    pub fn run_spec(&self, seed: u64, device: Device) -> RunSpec {
        let e = &self.experiment;
        RunSpec {
            seed,
            total_steps: self.total_steps(),
            eval_every: self.eval_every(),
            eval_episodes: e.eval_episodes,
            eval_max_episode_steps: e.eval_max_episode_steps,
            env: self.env.for_run(seed),
            device,
            checkpoint_every: e.checkpoint_every,
            checkpoint_replay: e.checkpoint_replay,
            on_nonfinite: e.on_nonfinite,
        }
    }

    /// Calls `f` with the run's shape (its env, made as a run makes it, with the time limit).
    fn with_shape<T>(&self, f: impl FnOnce(&RunShape) -> T) -> anyhow::Result<T> {
        let env = self.env.make()?;
        let limit = self.env.max_episode_steps.or(env.spec().max_episode_steps);
        let env = TimeLimit::new(env, limit);
        Ok(f(&RunShape {
            env: &env,
            num_envs: self.env.num_envs,
            total_steps: self.total_steps(),
        }))
    }

    /// The algorithm's checks across tables (a loaded experiment has passed their errors; the
    /// warnings are for `rl run` and `rl validate` to print).
    pub fn cross_checks(&self) -> CrossChecks {
        self.with_shape(|run| self.algo.check_run(run))
            .unwrap_or_default()
    }

    /// One seed's estimated memory.
    pub fn footprint(&self) -> Footprint {
        self.with_shape(|run| self.algo.footprint(run))
            .unwrap_or_default()
    }

    /// The matrix products of its training (`None` where the algorithm does not count them).
    pub fn update_work(&self) -> Option<UpdateWork> {
        self.with_shape(|run| self.algo.update_work(run))
            .ok()
            .flatten()
    }

    /// The fully resolved config as TOML (what `config.toml` in a run folder holds).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an experiment always serialises to TOML")
    }
}
