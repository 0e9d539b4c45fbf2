//! A `Session` is what an algorithm sees of the runner: its envs, RNG streams, the evaluation
//! schedule and the recorder. Algorithms know nothing of files, threads or terminals.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::evaluate::{Evaluator, Policy, eval_env};
use super::progress::Progress;
use crate::config::Experiment;
use crate::env::{TimeLimit, VecEnv, make_env, vector::EpisodeEnd};
use crate::record::{CurveRow, CurveWriter, EpisodeWriter, ReturnStats};
use crate::rng::{self, Rng, Stream};

use super::checkpoint::{self, Checkpoint, SessionState};
use super::cpu_time::process_cpu_seconds;

/// Training episodes averaged in `train_return_mean` (Stable-Baselines3's `ep_rew_mean` window).
const TRAIN_RETURN_WINDOW: usize = 100;

/// One seed's run as the algorithm sees it.
pub struct Session<'a> {
    exp: &'a Experiment,
    seed: u64,
    dir: &'a Path,
    curve: Option<CurveWriter>,
    episodes_file: EpisodeWriter,
    evaluator: Evaluator,
    progress: &'a mut Progress,
    started: Instant,
    eval_time: Duration,
    /// Process CPU seconds when the session started, and spent in evaluations since.
    started_cpu: f64,
    eval_cpu: f64,
    steps: u64,
    episodes: u64,
    recent_returns: VecDeque<f64>,
    next_eval: u64,
    last_eval: Option<(u64, f64)>,
    diagnostic_names: Vec<String>,
    last_diagnostics: Vec<f64>,
    /// The checkpoint being resumed from, until the algorithm takes its state.
    resume: Option<Checkpoint>,
    /// Training seconds before a resume.
    earlier_train_seconds: f64,
    curve_rows: u64,
    episode_rows: u64,
    next_checkpoint: u64,
}

impl<'a> Session<'a> {
    /// Opens the result files of `seed` in `dir` and builds the evaluation env; with `resume`,
    /// keeps the rows written up to that checkpoint and continues from its state.
    pub fn new(
        exp: &'a Experiment,
        seed: u64,
        dir: &'a Path,
        progress: &'a mut Progress,
        resume: Option<Checkpoint>,
    ) -> anyhow::Result<Self> {
        let episodes_path = dir.join("episodes.csv");
        let episodes_file = match &resume {
            None => EpisodeWriter::create(&episodes_path),
            Some(c) => {
                checkpoint::truncate_csv(&episodes_path, c.session.episode_rows)?;
                EpisodeWriter::append(&episodes_path)
            }
        }
        .with_context(|| format!("cannot open {}", episodes_path.display()))?;
        let evaluator = Evaluator::new(eval_env(exp)?, rng::stream(seed, Stream::Eval));
        let mut session = Self {
            exp,
            seed,
            dir,
            curve: None,
            episodes_file,
            evaluator,
            progress,
            started: Instant::now(),
            eval_time: Duration::ZERO,
            started_cpu: process_cpu_seconds(),
            eval_cpu: 0.0,
            steps: 0,
            episodes: 0,
            recent_returns: VecDeque::with_capacity(TRAIN_RETURN_WINDOW),
            next_eval: 0,
            last_eval: None,
            diagnostic_names: Vec::new(),
            last_diagnostics: Vec::new(),
            resume: None,
            earlier_train_seconds: 0.0,
            curve_rows: 0,
            episode_rows: 0,
            next_checkpoint: exp.experiment.checkpoint_every.unwrap_or(u64::MAX),
        };
        if let Some(c) = resume {
            let s = &c.session;
            session.evaluator.set_rng(s.eval_rng.clone());
            session.steps = c.step;
            session.episodes = s.episodes;
            session.recent_returns = s.recent_returns.iter().copied().collect();
            session.next_eval = s.next_eval;
            session.last_eval = s.last_eval;
            session.last_diagnostics.clone_from(&s.last_diagnostics);
            session.earlier_train_seconds = s.train_seconds;
            session.curve_rows = s.curve_rows;
            session.episode_rows = s.episode_rows;
            session.next_checkpoint = s.next_checkpoint;
            session.resume = Some(c);
        }
        Ok(session)
    }

    /// The state the algorithm saved in the checkpoint being resumed (once; `None` on a fresh
    /// run): the step it was taken after, and the state.
    pub fn resumed<T: serde::de::DeserializeOwned>(&mut self) -> anyhow::Result<Option<(u64, T)>> {
        let Some(c) = self.resume.take() else {
            return Ok(None);
        };
        Ok(Some((c.step, checkpoint::decode(&c.algo)?)))
    }

    /// Writes a checkpoint after step `step` when one is due (`experiment.checkpoint_every`) or
    /// Ctrl-C was pressed; `state` gives the algorithm's whole state. After Ctrl-C it then fails
    /// with [`Interrupted`](super::interrupt::Interrupted).
    pub fn checkpoint<T: serde::Serialize>(
        &mut self,
        step: u64,
        state: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<()> {
        let interrupted = super::interrupt::requested();
        if step < self.next_checkpoint && !interrupted {
            return Ok(());
        }
        if let Some(every) = self.exp.experiment.checkpoint_every {
            self.next_checkpoint = (step / every + 1) * every;
        }
        self.episodes_file.flush()?;
        let session = SessionState {
            episodes: self.episodes,
            recent_returns: self.recent_returns.iter().copied().collect(),
            next_eval: self.next_eval,
            last_eval: self.last_eval,
            last_diagnostics: self.last_diagnostics.clone(),
            eval_rng: self.evaluator.rng().clone(),
            train_seconds: self.train_seconds(),
            curve_rows: self.curve_rows,
            episode_rows: self.episode_rows,
            next_checkpoint: self.next_checkpoint,
        };
        let algo = checkpoint::encode(&state()?)?;
        checkpoint::write(
            self.dir,
            &Checkpoint {
                step,
                session,
                algo,
            },
        )?;
        Ok(super::interrupt::check()?)
    }

    pub fn experiment(&self) -> &Experiment {
        self.exp
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The training budget (`experiment.total_steps`; 0 for planners).
    pub fn total_steps(&self) -> u64 {
        self.exp.total_steps()
    }

    /// A fresh generator for `stream` of this seed.
    pub fn rng(&self, stream: Stream) -> Rng {
        rng::stream(self.seed, stream)
    }

    /// One training env with the experiment's time limit, not yet reset.
    pub fn make_env(&self) -> anyhow::Result<TimeLimit> {
        let env = make_env(&self.exp.env.id, &self.exp.env.options())?;
        let limit = self
            .exp
            .env
            .max_episode_steps
            .or(env.spec().max_episode_steps);
        Ok(TimeLimit::new(env, limit))
    }

    /// `env.num_envs` training envs, reset with seeds drawn from the env stream.
    pub fn make_vec_env(&self) -> anyhow::Result<VecEnv> {
        let envs = (0..self.exp.env.num_envs)
            .map(|_| self.make_env())
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut vec_env = VecEnv::new(envs);
        let mut seeds = self.rng(Stream::Env);
        let seeds: Vec<u64> = (0..vec_env.num_envs())
            .map(|_| rand::RngExt::random(&mut seeds))
            .collect();
        vec_env.reset(&seeds);
        Ok(vec_env)
    }

    /// Declares the algorithm's diagnostic columns of curve.csv; call once, before evaluating.
    pub fn set_diagnostics(&mut self, names: &[&str]) -> anyhow::Result<()> {
        let path = self.dir.join("curve.csv");
        let writer = match &self.resume {
            None => CurveWriter::create(&path, names),
            Some(c) => {
                checkpoint::truncate_csv(&path, c.session.curve_rows)?;
                CurveWriter::append(&path, names)
            }
        };
        self.curve = Some(writer.with_context(|| format!("cannot open {}", path.display()))?);
        self.diagnostic_names = names.iter().map(|n| n.to_string()).collect();
        Ok(())
    }

    /// Records the training episodes that ended at env step `step` and updates progress.
    /// (Ctrl-C is seen by [`Session::checkpoint`] or [`Session::tick`].)
    pub fn record_episodes(&mut self, step: u64, ended: &[EpisodeEnd]) -> anyhow::Result<()> {
        self.steps = step;
        for end in ended {
            self.episodes += 1;
            if self.recent_returns.len() == TRAIN_RETURN_WINDOW {
                self.recent_returns.pop_front();
            }
            self.recent_returns.push_back(end.episode_return);
            let wall = self.train_seconds();
            self.episodes_file
                .write(step, end.episode_return, end.length, wall)?;
            self.episode_rows += 1;
        }
        self.show_progress(step);
        Ok(())
    }

    /// Updates the progress display (cheap; call as often as convenient).
    /// Fails with [`Interrupted`](super::interrupt::Interrupted) once Ctrl-C was pressed.
    pub fn tick(&mut self, step: u64) -> anyhow::Result<()> {
        self.show_progress(step);
        Ok(super::interrupt::check()?)
    }

    fn show_progress(&mut self, step: u64) {
        self.steps = step;
        let sps = self.steps_per_second();
        self.progress
            .tick(step, sps, self.last_eval.map(|(_, r)| r));
    }

    /// Whether an evaluation is due at `step` (every `eval_every` steps and at the budget's end).
    pub fn eval_due(&self, step: u64) -> bool {
        step >= self.next_eval || step >= self.total_steps()
    }

    /// Evaluates `policy` at `step` and appends a curve row with `diagnostics` (one value per
    /// declared column; NaN for "not available yet"). A second call for the same step is ignored.
    pub fn evaluate(
        &mut self,
        step: u64,
        policy: &mut dyn Policy,
        diagnostics: &[f64],
    ) -> anyhow::Result<()> {
        self.evaluate_with(step, policy, |_| diagnostics.to_vec())
    }

    /// As [`Session::evaluate`], with diagnostics read from the policy after its episodes
    /// (e.g. a planner's time per planning step).
    pub fn evaluate_with<P: Policy + ?Sized>(
        &mut self,
        step: u64,
        policy: &mut P,
        diagnostics: impl FnOnce(&P) -> Vec<f64>,
    ) -> anyhow::Result<()> {
        if self.last_eval.is_some_and(|(s, _)| s == step) {
            return Ok(());
        }
        self.steps = step;
        let wall_s = self.train_seconds();
        let eval_started = Instant::now();
        let eval_started_cpu = process_cpu_seconds();
        super::interrupt::check()?;
        let episodes = self.exp.experiment.eval_episodes;
        let returns = self.evaluator.run_observed(policy, episodes, |done| {
            self.progress.evaluating(done, episodes);
            !super::interrupt::requested()
        });
        self.eval_time += eval_started.elapsed();
        self.eval_cpu += process_cpu_seconds() - eval_started_cpu;
        super::interrupt::check()?;
        let diagnostics = diagnostics(policy);
        let stats = ReturnStats::of(&returns);
        let train_return_mean = (!self.recent_returns.is_empty())
            .then(|| self.recent_returns.iter().sum::<f64>() / self.recent_returns.len() as f64);
        let sps = self.steps_per_second();
        let row = CurveRow {
            step,
            episodes: self.episodes,
            wall_s,
            eval_returns: &returns,
            train_return_mean,
            diagnostics: &diagnostics,
            sps,
        };
        self.curve
            .as_mut()
            .context("set_diagnostics must be called before the first evaluation")?
            .write(&row)?;
        self.curve_rows += 1;
        self.episodes_file.flush()?;
        let every = self.exp.eval_every();
        self.next_eval = (step / every + 1) * every;
        self.last_eval = Some((step, stats.mean));
        self.last_diagnostics = diagnostics;
        tracing::debug!(
            seed = self.seed,
            step,
            mean = stats.mean,
            std = stats.std,
            "evaluation"
        );
        self.progress.evaluated(step, stats.mean, stats.std, sps);
        Ok(())
    }

    /// The diagnostics of the last curve row, by column name.
    pub fn last_diagnostics(&self) -> Vec<(String, f64)> {
        self.diagnostic_names
            .iter()
            .cloned()
            .zip(self.last_diagnostics.iter().copied())
            .collect()
    }

    /// Saves the learned policy as `policy.json` in the run folder, for `rl eval`.
    pub fn save_policy<T: serde::Serialize>(&self, policy: &T) -> anyhow::Result<()> {
        self.save_json("policy.json", policy)
    }

    /// Writes `value` as JSON to the file `name` of the run folder.
    pub fn save_json<T: serde::Serialize>(&self, name: &str, value: &T) -> anyhow::Result<()> {
        let path = self.file(name);
        let json = serde_json::to_string(value)?;
        crate::record::write_atomically(&path, json.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The path of the file `name` in the run folder (for artifacts such as trained networks).
    pub fn file(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(name)
    }

    /// Training seconds so far (evaluation time excluded).
    pub fn train_seconds(&self) -> f64 {
        self.earlier_train_seconds + (self.started.elapsed() - self.eval_time).as_secs_f64()
    }

    /// CPU seconds of the whole process since this session started (a resumed run: since the
    /// resume), evaluations excluded: the seed's training cost when it runs alone.
    pub fn process_train_cpu_seconds(&self) -> f64 {
        process_cpu_seconds() - self.started_cpu - self.eval_cpu
    }

    /// Env steps per training second.
    pub fn steps_per_second(&self) -> f64 {
        let t = self.train_seconds();
        if t > 0.0 { self.steps as f64 / t } else { 0.0 }
    }

    /// Env steps done so far (as last reported by the algorithm).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Mean return of the last evaluation.
    pub fn last_eval_mean(&self) -> Option<f64> {
        self.last_eval.map(|(_, r)| r)
    }

    /// Flushes the files at the end of the run.
    pub fn close(&mut self) -> anyhow::Result<()> {
        self.episodes_file.flush()?;
        Ok(())
    }
}
