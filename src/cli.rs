//! The command line (clap derive). `main.rs` parses it and dispatches to [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

use crate::nn::Backend;
use crate::report::compare::{Format, Metric};
use crate::report::plot::XAxis;

/// Reinforcement-learning experiment runner: TOML experiments, gymnasium-exact environments,
/// seeds in parallel, CSV learning curves.
#[derive(Debug, Parser)]
#[command(name = "rl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment: every seed in parallel, one learning curve per seed under results/.
    Run(RunArgs),
    /// Parse and check an experiment file; nothing is run or written.
    Validate(ValidateArgs),
    /// List the environments with their observation and action spaces.
    Envs,
    /// Compare result folders: final return with 95% CI, IQM, AUC, steps to threshold, speed.
    Compare(CompareArgs),
    /// Plot learning curves (mean over seeds, 95% CI band), one panel per env, as PNG or SVG.
    Plot(PlotArgs),
    /// Run a finished run's policy again on fresh episodes and report its returns.
    Eval(EvalArgs),
    /// List the algorithms with their hyperparameters and defaults.
    Algos {
        /// Show only this algorithm.
        name: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The experiment file (TOML).
    pub config: PathBuf,
    /// Seeds to run: `0..5` (end exclusive), `0..=4` or `0,3,7` (default: the file's).
    #[arg(long)]
    pub seeds: Option<String>,
    /// Seeds run at once (default: the file's `jobs`, else the number of cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Results root (default: the file's `out_dir`, else `results`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compute backend of neural algorithms.
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Override a config value, e.g. `--set algo.gamma=0.9` (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub overrides: Vec<String>,
    /// Overwrite complete results of the same seeds.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Keep complete seeds; continue the others from their last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Run only the seeds at positions ≡ I (mod N) of the list (one of N CI jobs; 0-based).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::config::Shard>,
    /// Refuse the run when its memory estimate is above this (e.g. 8G, 512M; default: what
    /// this machine, or its cgroup, has available).
    #[arg(long, value_name = "SIZE", value_parser = crate::run::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Print only the results path and errors.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More diagnostics on stderr (-v info, -vv debug; RUST_LOG also works).
    #[arg(long, short, action = ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The experiment file (TOML).
    pub config: PathBuf,
    /// Override a config value, as for `rl run`.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub overrides: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Result folders (an experiment, a seed, or a folder of experiments) or globs.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// What orders the rows.
    #[arg(long, value_enum, default_value = "final")]
    pub metric: Metric,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Solve threshold for "steps to threshold" (default: each env's own).
    #[arg(long)]
    pub threshold: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Result folders (an experiment, a seed, or a folder of experiments) or globs.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// The picture to write: `.png` or `.svg`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The x axis.
    #[arg(long, value_enum, default_value = "steps")]
    pub x: XAxis,
    /// Trailing moving average over this many evaluations (1: none).
    #[arg(long, default_value_t = 1)]
    pub smooth: usize,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A seed folder, e.g. results/q_learning_taxi/seed_0.
    pub run_dir: PathBuf,
    /// Episodes to run (default: the run's eval_episodes).
    #[arg(long)]
    pub episodes: Option<u32>,
    /// Seed of the evaluation episodes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `--backend` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Flex,
    Ndarray,
    Wgpu,
}

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Self {
        match arg {
            BackendArg::Flex => Backend::Flex,
            BackendArg::Ndarray => Backend::Ndarray,
            BackendArg::Wgpu => Backend::Wgpu,
        }
    }
}
