//! The command line (clap derive). `main.rs` parses it and dispatches to [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

use crate::nn::Backend;
use crate::report::compare::{Format, Metric};
use crate::report::gate::Metric as GateMetric;
use crate::report::plot::{XAxis, XRange, YAxis};
use crate::report::verdicts::ReportFormat;

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
    /// Gather the seed folders of one experiment from several result folders (CI shards).
    Merge(MergeArgs),
    /// Pass or fail results: expectations ([expect] or flags) and a regression test against a
    /// baseline. Exit 0 all hold, 1 one fails, 2 bad input.
    Check(CheckArgs),
    /// Run a finished run's policy again on fresh episodes and report its returns.
    Eval(EvalArgs),
    /// Play a finished run's policy and write its transitions as an expert dataset (CSV and a
    /// JSON sidecar) for imitation learning.
    Collect(CollectArgs),
    /// Hyperparameter sweeps: plan the trials, run them here or as Slurm job arrays, report.
    Sweep {
        #[command(subcommand)]
        command: SweepCommand,
    },
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
pub struct MergeArgs {
    /// Where the merged experiment goes: DEST/<experiment>/seed_<k>/ (must not exist yet).
    pub dest: PathBuf,
    /// Result folders holding seeds of the experiment (an experiment folder, a folder of one
    /// experiment, or seed folders), or globs.
    #[arg(required = true)]
    pub sources: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Result folders (seeds of one experiment in several folders are pooled), or globs.
    #[arg(required = true)]
    pub results: Vec<String>,
    /// Expect a final evaluation return of at least X (on --seeds-passing seeds).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub min_final: Option<f64>,
    /// How many seeds must reach --min-final (default: every listed seed).
    #[arg(long, value_name = "K", requires = "min_final")]
    pub seeds_passing: Option<usize>,
    /// Expect the IQM of the seeds' final returns to be at least X.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub min_iqm: Option<f64>,
    /// Expect the median steps to the solve threshold to be at most S.
    #[arg(long, value_name = "S")]
    pub max_steps_to_threshold: Option<u64>,
    /// The threshold of --max-steps-to-threshold (default: the env's).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Baseline result folders: fail when a candidate is worse beyond --tolerance.
    #[arg(long, value_name = "DIR")]
    pub baseline: Vec<String>,
    /// What the regression test compares.
    #[arg(long, value_enum, default_value = "final")]
    pub metric: GateMetric,
    /// How much worse than the baseline is still a pass (in the metric's units).
    #[arg(long, default_value_t = 0.0)]
    pub tolerance: f64,
    /// False-alarm rate of the regression test, in (0, 1).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// What is printed.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Also write the report to FILE (.xml JUnit, .md markdown, .txt text; else --format).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
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
    /// The y axis: `eval-return` (curve.csv); from episodes.csv, `episode-length` (each training
    /// episode's length by episode number) or `cumulative-return` (the training returns summed);
    /// or any other curve.csv column, such as a bandit's `regret`, `optimal_pct`, `reward_mean`
    /// (rows without a value are skipped).
    #[arg(long, default_value = "eval-return")]
    pub y: YAxis,
    /// Draw only the best K experiments (a sweep's top trials), ranked by --metric.
    #[arg(long, value_name = "K")]
    pub top: Option<usize>,
    /// What ranks the experiments for --top.
    #[arg(long, value_enum, default_value = "final", requires = "top")]
    pub metric: Metric,
    /// Trailing moving average over this many evaluations (1: none).
    #[arg(long, default_value_t = 1)]
    pub smooth: usize,
    /// Draw only this part of the x axis, `LO..HI` in its units (env steps, seconds, or
    /// episodes for `episode-length`), e.g. `--x-range 2..50` for S&B's Figure 8.2.
    #[arg(long, value_name = "LO..HI")]
    pub x_range: Option<XRange>,
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
    /// Cross-play: the seed folder of another run on the same multi-agent env, whose policy acts
    /// for the agents named by --cross-agents (the others act by this run's).
    #[arg(long, requires = "cross_agents")]
    pub cross: Option<PathBuf>,
    /// The agents that act by --cross's policy, comma-separated (names as `rl envs` lists them).
    #[arg(long, value_delimiter = ',', requires = "cross")]
    pub cross_agents: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// A seed folder of a finished run, e.g. results/experts/ppo_cartpole/seed_0.
    pub run_dir: PathBuf,
    /// Episodes to play.
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// The dataset file (CSV); its metadata goes to <OUT>.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the episodes (the same episodes as `rl eval --seed`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share ε of actions replaced by uniform random ones.
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
}

/// `rl sweep` subcommands.
#[derive(Debug, Subcommand)]
pub enum SweepCommand {
    /// Print the trials; write the manifest (sweep.jsonl) and each trial's config.toml.
    Plan(SweepFileArgs),
    /// Run every job that is not complete on this machine (failed and interrupted ones
    /// continue from their checkpoints).
    Run(SweepRunArgs),
    /// Submit the jobs that are not complete as a Slurm job array (or print its script).
    Slurm(SweepSlurmArgs),
    /// Run one job of a manifest (what each Slurm array task runs).
    Task(SweepTaskArgs),
    /// Count complete, running, interrupted, failed and pending jobs; list the failures.
    Status(SweepDirArgs),
    /// Print the best trial as a ready-to-run experiment file.
    Best(SweepBestArgs),
}

#[derive(Debug, clap::Args)]
pub struct SweepFileArgs {
    /// The sweep file: an experiment with a [sweep] table, or a [sweep] table naming `base`.
    pub file: PathBuf,
    /// Results root (default: the base experiment's `out_dir`); the sweep writes `<out>/<name>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print only the results path and errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct SweepRunArgs {
    #[command(flatten)]
    pub sweep: SweepFileArgs,
    /// Jobs run at once (default: the number of cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Run only the jobs at positions ≡ I (mod N) of the manifest (one of N CI jobs).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::config::Shard>,
}

#[derive(Debug, clap::Args)]
pub struct SweepSlurmArgs {
    #[command(flatten)]
    pub sweep: SweepFileArgs,
    /// Partition (`#SBATCH --partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of each task, e.g. `2:00:00` (`#SBATCH --time`).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs of each task (its worker threads).
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: u32,
    /// Memory of each task, e.g. `4G` (`#SBATCH --mem`).
    #[arg(long)]
    pub mem: Option<String>,
    /// Tasks running at once (`--array=...%K`).
    #[arg(long, value_name = "K")]
    pub max_parallel: Option<usize>,
    /// A further sbatch option, e.g. `--sbatch-arg=--account=abc` (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Print the script instead of submitting it; writes nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct SweepTaskArgs {
    /// The sweep's manifest (`<out>/<name>/sweep.jsonl`).
    pub manifest: PathBuf,
    /// The job to run (a line of the manifest, from 0; `$SLURM_ARRAY_TASK_ID`).
    #[arg(long)]
    pub index: usize,
    /// Print only the results path and errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct SweepDirArgs {
    /// The sweep's results folder (`<out>/<name>`, holding sweep.jsonl).
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SweepBestArgs {
    /// The sweep's results folder (`<out>/<name>`).
    pub dir: PathBuf,
    /// What ranks the trials.
    #[arg(long, value_enum, default_value = "iqm")]
    pub metric: BestMetric,
}

/// How `rl sweep best` ranks the trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BestMetric {
    /// Interquartile mean of final returns over seeds.
    Iqm,
    /// Mean final return.
    Final,
    /// Normalised area under the eval curve.
    Auc,
}

impl From<BestMetric> for Metric {
    fn from(metric: BestMetric) -> Self {
        match metric {
            BestMetric::Iqm => Metric::Iqm,
            BestMetric::Final => Metric::Final,
            BestMetric::Auc => Metric::Auc,
        }
    }
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
