//! The experiment schema: `[experiment]`, `[env]`, `[algo]`, with documented defaults.
//!
//! Parsing is the registry: unknown keys, wrong types and out-of-range values are errors that
//! name the file, key, line:column and what is allowed (see [`load`]).

mod load;
mod locate;
mod seeds;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{load, load_str};
pub use seeds::Seeds;

use crate::algo::AlgoConfig;
use crate::env::EnvOptions;

/// A fully resolved experiment (defaults filled in, overrides applied, values checked).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Experiment {
    pub experiment: ExperimentSection,
    pub env: EnvSection,
    pub algo: AlgoConfig,
}

/// The compute backend of neural algorithms (tabular and planning methods run in plain Rust).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (the CPU default).
    #[default]
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// Burn's wgpu GPU backend (Vulkan, Metal, DX12; software Vulkan where no GPU exists).
    Wgpu,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }
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
fn default_num_envs() -> usize {
    1
}

/// `[env]`: the environment and its options (gymnasium's `make` kwargs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    /// A registered id (`rl envs` lists them), e.g. `CartPole-v1`.
    pub id: String,
    /// Copies stepped together by the vector env (default 1).
    #[serde(default = "default_num_envs")]
    pub num_envs: usize,
    /// Overrides the registered time limit (training and evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_episode_steps: Option<u32>,
    /// FrozenLake: `"4x4"` or `"8x8"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_name: Option<String>,
    /// FrozenLake (default true), CliffWalking (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_slippery: Option<bool>,
    /// FrozenLake: a custom map, one string per row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<Vec<String>>,
    /// Pendulum: gravity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g: Option<f64>,
}

impl EnvSection {
    /// The per-env options handed to the registry.
    pub fn options(&self) -> EnvOptions {
        EnvOptions {
            map_name: self.map_name.clone(),
            is_slippery: self.is_slippery,
            desc: self.desc.clone(),
            g: self.g,
        }
    }
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

    /// The fully resolved config as TOML (what `config.toml` in a run folder holds).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an experiment always serialises to TOML")
    }
}
