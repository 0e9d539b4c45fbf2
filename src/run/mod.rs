//! The runner: seeds on worker threads, one [`Session`] each, result folders, failure handling.

pub mod checkpoint;
mod lock;
pub mod memory;
mod progress;
mod recorder;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

pub use lock::{SeedLock, held};
pub use progress::{Display, JobsProgress, Progress, ProgressBoard, emit};
pub use recorder::FileRecorder;

use burn::prelude::Device;

use crate::config::Experiment;
use crate::error::UsageError;
use crate::record::{Meta, Status, git_commit};
use crate::session::{Session, interrupt};

/// How to run an experiment (after the CLI's overrides).
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub seeds: Vec<u64>,
    /// Seeds running at once.
    pub jobs: usize,
    /// Overwrite complete results.
    pub force: bool,
    /// Keep complete seeds and continue the others from their last checkpoint.
    pub resume: bool,
    pub display: Display,
}

/// What one seed ended with.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedOutcome {
    pub seed: u64,
    pub status: Status,
    pub error: Option<String>,
    pub final_eval: Option<f64>,
    pub steps: u64,
    /// Seconds from start to end, evaluation included.
    pub wall_s: f64,
    /// Env steps per training second (evaluation excluded).
    pub steps_per_s: f64,
    /// The algorithm's diagnostics in the last curve row (e.g. a planner's `plan_ms`).
    pub diagnostics: Vec<(String, f64)>,
}

/// Refuses to run over complete results unless `force`; writes nothing.
pub fn check_existing(exp: &Experiment, opts: &RunOptions) -> Result<(), UsageError> {
    if opts.force || opts.resume {
        return Ok(());
    }
    let complete: Vec<String> = opts
        .seeds
        .iter()
        .filter(|&&seed| {
            Meta::read(&exp.seed_dir(seed).join("meta.json"))
                .is_ok_and(|m| m.status == Status::Complete)
        })
        .map(|seed| seed.to_string())
        .collect();
    if complete.is_empty() {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "{} already holds complete results for seed(s) {}; pass --force to overwrite them, \
         or --out DIR / --seeds to write elsewhere",
        exp.experiment.out_dir.join(&exp.experiment.name).display(),
        complete.join(", ")
    )))
}

/// Runs every seed of `opts` on `opts.jobs` worker threads on `device` (the plain device of
/// the experiment's backend, chosen once by the caller); a failing seed does not stop the others.
pub fn run(exp: &Experiment, device: &Device, opts: &RunOptions) -> Vec<SeedOutcome> {
    run_with(exp, device, opts, &|session| exp.algo.train(session))
}

/// Runs one seed of `exp` (with `opts.resume`, continues it; a complete seed is kept unless
/// `opts.force`), its progress on `board`: one job of a sweep.
pub fn run_one(
    exp: &Experiment,
    device: &Device,
    seed: u64,
    opts: &RunOptions,
    board: &ProgressBoard,
) -> SeedOutcome {
    start_seed(exp, device, seed, opts, board, &|session| {
        exp.algo.train(session)
    })
}

/// What trains one seed (the experiment's algorithm; a stand-in in tests).
type Train<'a> = dyn Fn(&mut Session) -> anyhow::Result<()> + Sync + 'a;

fn run_with(
    exp: &Experiment,
    device: &Device,
    opts: &RunOptions,
    train: &Train,
) -> Vec<SeedOutcome> {
    let board = ProgressBoard::new(opts.display);
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(opts.seeds.len()));
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, opts.seeds.len()) {
            scope.spawn(|| {
                crate::nn::subnormal::flush_to_zero();
                while let Some(&seed) = opts.seeds.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if interrupt::requested() {
                        break;
                    }
                    let outcome = start_seed(exp, device, seed, opts, &board, train);
                    if let (Status::Failed, Some(error)) = (outcome.status, &outcome.error) {
                        board.error(&format!("seed {seed} failed: {error}"));
                    }
                    outcomes
                        .lock()
                        .expect("no worker panics while holding the lock")
                        .push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("workers finished");
    outcomes.sort_by_key(|o| opts.seeds.iter().position(|s| *s == o.seed));
    outcomes
}

/// Takes the seed folder's lock, then runs the seed (`--resume`: continues it). A seed another
/// process is running fails without a change to its folder; a complete seed is kept unless
/// `--force` (with `--resume`, or when another run completed it since this command started).
fn start_seed(
    exp: &Experiment,
    device: &Device,
    seed: u64,
    opts: &RunOptions,
    board: &ProgressBoard,
    train: &Train,
) -> SeedOutcome {
    let dir = exp.seed_dir(seed);
    let _lock = match SeedLock::acquire(&dir) {
        Ok(lock) => lock,
        Err(e) => {
            board
                .seed(&exp.experiment.name, seed, exp.total_steps())
                .finish("in use");
            return SeedOutcome::failed(seed, format!("{e:#}"));
        }
    };
    if !opts.force
        && let Ok(meta) = Meta::read(&dir.join("meta.json"))
        && meta.status == Status::Complete
    {
        board
            .seed(&exp.experiment.name, seed, exp.total_steps())
            .finish("complete (kept)");
        return SeedOutcome::of(&meta, Vec::new());
    }
    if opts.resume {
        resume_seed(exp, device, seed, board, train)
    } else {
        run_seed(exp, device, seed, board, train, None)
    }
}

/// Continues one incomplete seed from its checkpoint (or starts it over without one).
fn resume_seed(
    exp: &Experiment,
    device: &Device,
    seed: u64,
    board: &ProgressBoard,
    train: &Train,
) -> SeedOutcome {
    let dir = exp.seed_dir(seed);
    let checkpoint = checkpoint::read(&dir).and_then(|c| match c {
        Some(c) => same_config(exp, &dir).map(|()| Some(c)),
        None => Ok(None),
    });
    match checkpoint {
        Ok(c) => run_seed(exp, device, seed, board, train, c),
        Err(e) => SeedOutcome::failed(seed, format!("{e:#}")),
    }
}

/// A checkpoint continues only the experiment that wrote it (seeds, jobs and out_dir aside).
fn same_config(exp: &Experiment, dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("config.toml");
    let mut saved = crate::config::load_saved(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    saved.experiment.seeds = exp.experiment.seeds.clone();
    saved.experiment.jobs = exp.experiment.jobs;
    saved.experiment.out_dir.clone_from(&exp.experiment.out_dir);
    anyhow::ensure!(
        saved == *exp,
        "{} differs from the experiment being resumed at `{}`; rerun without --resume (or with \
         --force)",
        path.display(),
        crate::record::first_differing_key(&saved.to_toml(), &exp.to_toml())
    );
    Ok(())
}

/// Runs one seed in its folder (its lock held): config.toml, meta.json (running → complete |
/// failed | interrupted), the curves through a [`FileRecorder`].
fn run_seed(
    exp: &Experiment,
    device: &Device,
    seed: u64,
    board: &ProgressBoard,
    train: &Train,
    resume: Option<checkpoint::Checkpoint>,
) -> SeedOutcome {
    let dir = exp.seed_dir(seed);
    let started = Instant::now();
    let mut meta = Meta {
        status: Status::Running,
        error: None,
        experiment: exp.experiment.name.clone(),
        algo: exp.algo.name().to_string(),
        env: exp.env.id.clone(),
        reward_threshold: Some(
            crate::env::registry::spec_of(&exp.env.id).and_then(|s| s.reward_threshold),
        ),
        seed,
        backend: exp.experiment.backend.name().to_string(),
        rl_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit().to_string(),
        start_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        end_time: None,
        wall_s: 0.0,
        train_s: 0.0,
        env_steps: 0,
        steps_per_s: 0.0,
        final_eval_return_mean: None,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        process_train_cpu_s: None,
        deterministic: exp.algo.deterministic(),
    };
    let mut progress = board.seed(&exp.experiment.name, seed, exp.total_steps());
    let mut diagnostics = Vec::new();
    tracing::info!(seed, dir = %dir.display(), "seed started");
    let result = prepare_dir(exp, &dir, &meta, resume.is_some()).and_then(|()| {
        let spec = exp.run_spec(seed, device.clone());
        let mut recorder = FileRecorder::open(&dir, &mut progress, resume.as_ref())?;
        let mut session = Session::new(&spec, &mut recorder, resume)?;
        let trained = catch_unwind(AssertUnwindSafe(|| train(&mut session)))
            .unwrap_or_else(|panic| Err(anyhow::anyhow!("panicked: {}", panic_message(&panic))))
            .and_then(|()| session.close());
        meta.env_steps = session.steps();
        meta.train_s = session.train_seconds();
        meta.steps_per_s = session.steps_per_second();
        meta.process_train_cpu_s = Some(session.process_train_cpu_seconds());
        meta.final_eval_return_mean = session.last_eval_mean();
        diagnostics = session.last_diagnostics();
        trained
    });
    meta.wall_s = started.elapsed().as_secs_f64();
    meta.end_time = Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
    // A complete seed needs its checkpoint no more (`--resume` keeps complete seeds as they are).
    let result = result.and_then(|()| checkpoint::remove(&dir));
    match &result {
        Ok(()) => meta.status = Status::Complete,
        Err(e) if e.is::<interrupt::Interrupted>() => {
            meta.status = Status::Interrupted;
            meta.error = Some(e.to_string());
        }
        Err(e) => {
            meta.status = Status::Failed;
            meta.error = Some(format!("{e:#}"));
        }
    }
    let mut error = meta.error.clone();
    if dir.is_dir()
        && let Err(e) = meta.write(&dir.join("meta.json"))
    {
        meta.status = Status::Failed;
        error = Some(format!(
            "cannot write {}: {e}",
            dir.join("meta.json").display()
        ));
    }
    progress.finish(meta.status.name());
    SeedOutcome {
        error,
        ..SeedOutcome::of(&meta, diagnostics)
    }
}

impl SeedOutcome {
    /// The outcome a meta.json records.
    fn of(meta: &Meta, diagnostics: Vec<(String, f64)>) -> Self {
        Self {
            seed: meta.seed,
            status: meta.status,
            error: meta.error.clone(),
            final_eval: meta.final_eval_return_mean,
            steps: meta.env_steps,
            wall_s: meta.wall_s,
            steps_per_s: meta.steps_per_s,
            diagnostics,
        }
    }

    /// A seed that failed before it could run.
    fn failed(seed: u64, error: String) -> Self {
        Self {
            seed,
            status: Status::Failed,
            error: Some(error),
            final_eval: None,
            steps: 0,
            wall_s: 0.0,
            steps_per_s: 0.0,
            diagnostics: Vec::new(),
        }
    }
}

/// Creates the seed folder with the resolved config and a `running` meta.json; a fresh run
/// (`resuming` false) drops an old checkpoint.
fn prepare_dir(exp: &Experiment, dir: &Path, meta: &Meta, resuming: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if !resuming {
        checkpoint::remove(dir)?;
    }
    crate::record::write_atomically(&dir.join("config.toml"), exp.to_toml().as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("config.toml").display()))?;
    meta.write(&dir.join("meta.json"))
        .with_context(|| format!("cannot write {}", dir.join("meta.json").display()))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    #[test]
    fn a_panicking_seed_is_recorded_as_failed_and_the_others_complete() {
        let out = tempfile::tempdir().unwrap();
        let text = format!(
            "[experiment]\nname = \"panics\"\ntotal_steps = 100\nout_dir = {:?}\n\
             [env]\nid = \"CliffWalking-v0\"\n[algo]\nname = \"q_learning\"\n",
            out.path().display().to_string()
        );
        let exp = load_str(&text, "test", &[]).unwrap();
        let opts = RunOptions {
            seeds: vec![0, 1, 2],
            jobs: 2,
            force: false,
            resume: false,
            display: Display::Quiet,
        };
        let outcomes = run_with(&exp, &Device::flex(), &opts, &|session| {
            if session.seed() == 1 {
                panic!("boom");
            }
            exp.algo.train(session)
        });
        let status: Vec<Status> = outcomes.iter().map(|o| o.status).collect();
        assert_eq!(status, [Status::Complete, Status::Failed, Status::Complete]);
        assert_eq!(outcomes[1].error.as_deref(), Some("panicked: boom"));
        let meta = Meta::read(&exp.seed_dir(1).join("meta.json")).unwrap();
        assert_eq!(
            (meta.status, meta.error.as_deref()),
            (Status::Failed, Some("panicked: boom"))
        );
    }
}
