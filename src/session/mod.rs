//! A `Session` is what an algorithm sees of a run: its envs, RNG streams, the evaluation
//! schedule, the device and a [`Recorder`]. It is built from a [`RunSpec`] (no algorithm config,
//! no files), so algorithms know nothing of files, threads or terminals: the runner hands them a
//! session over the seed folder, a test one over memory.

pub mod checkpoint;
mod cpu_time;
mod cross_play;
mod evaluate;
mod evaluate_multi;
pub mod interrupt;
mod recorder;
mod spec;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Context;
use burn::prelude::Device;

pub use cross_play::CrossPlay;
pub use evaluate::{Evaluator, Policy, eval_env};
pub use evaluate_multi::{MultiEvaluation, MultiEvaluator, MultiPolicy};
pub use recorder::{EpisodeRow, MemoryCurveRow, MemoryRecorder, ProgressEvent, Recorder};
pub use spec::{OnNonFinite, RunSpec};

use crate::env::bridge::Worker;
use crate::env::multi::vector::MultiEpisodeEnd;
use crate::env::multi::{MultiVecEnv, is_multi_agent, make_multi_env};
use crate::env::{TimeLimit, VecEnv, vector::EpisodeEnd};
use crate::record::{CurveRow, ReturnStats};
use crate::rng::{self, Rng, Stream};
use checkpoint::{Checkpoint, SessionState};
use cpu_time::process_cpu_seconds;

/// Training episodes averaged in `train_return_mean` (Stable-Baselines3's `ep_rew_mean` window).
const TRAIN_RETURN_WINDOW: usize = 100;

/// The evaluation env of the run: single-agent, or multi-agent (PettingZoo's parallel API).
enum Evaluation {
    Single(Evaluator),
    Multi(MultiEvaluator),
}

impl Evaluation {
    fn rng(&self) -> &Rng {
        match self {
            Evaluation::Single(e) => e.rng(),
            Evaluation::Multi(e) => e.rng(),
        }
    }

    fn set_rng(&mut self, rng: Rng) {
        match self {
            Evaluation::Single(e) => e.set_rng(rng),
            Evaluation::Multi(e) => e.set_rng(rng),
        }
    }
}

/// One seed's run as the algorithm sees it.
///
/// On a multi-agent env the session speaks the multi-agent side of the seam: training envs from
/// [`Session::make_multi_vec_env`], episodes through [`Session::record_multi_episodes`] (the team
/// return in `return`, each agent's in `return_<agent>`), evaluations through
/// [`Session::evaluate_multi`] (the team return in `eval_return_*`; each agent's mean return and
/// the env's diagnostics in columns before the algorithm's own).
pub struct Session<'a> {
    spec: &'a RunSpec,
    recorder: &'a mut dyn Recorder,
    curve_started: bool,
    evaluator: Evaluation,
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
    /// A session of `spec` recording into `recorder`, with its evaluation env; with `resume`,
    /// it continues from that checkpoint's state (the recorder already holds the rows written
    /// up to it).
    pub fn new(
        spec: &'a RunSpec,
        recorder: &'a mut dyn Recorder,
        resume: Option<Checkpoint>,
    ) -> anyhow::Result<Self> {
        let eval_rng = rng::stream(spec.seed, Stream::Eval);
        let (evaluator, agent_columns) = if is_multi_agent(&spec.env.id) {
            let env = make_multi_env(&spec.env.id, &spec.env.options())?;
            let agents = env.spec().agents.iter();
            let columns = agents.map(|a| format!("return_{a}")).collect();
            (
                Evaluation::Multi(MultiEvaluator::new(env, eval_rng)),
                columns,
            )
        } else {
            let env = eval_env(&spec.env, spec.eval_max_episode_steps)?;
            (
                Evaluation::Single(Evaluator::new(env, eval_rng)),
                Vec::new(),
            )
        };
        recorder.start_episodes(&agent_columns)?;
        let mut session = Self {
            spec,
            recorder,
            curve_started: false,
            evaluator,
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
            next_checkpoint: spec.checkpoint_every.unwrap_or(u64::MAX),
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
    /// with [`Interrupted`](interrupt::Interrupted).
    pub fn checkpoint<T: serde::Serialize>(
        &mut self,
        step: u64,
        state: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<()> {
        let interrupted = interrupt::requested();
        if step < self.next_checkpoint && !interrupted {
            return Ok(());
        }
        if let Some(every) = self.spec.checkpoint_every {
            self.next_checkpoint = (step / every + 1) * every;
        }
        self.recorder.flush()?;
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
        self.recorder.checkpoint(&Checkpoint {
            step,
            session,
            algo,
        })?;
        Ok(interrupt::check()?)
    }

    /// The run this session executes.
    pub fn spec(&self) -> &RunSpec {
        self.spec
    }

    pub fn seed(&self) -> u64 {
        self.spec.seed
    }

    /// The training budget (`experiment.total_steps`; 0 for planners).
    pub fn total_steps(&self) -> u64 {
        self.spec.total_steps
    }

    /// The plain device neural algorithms act on (chosen once by the runner).
    pub fn device(&self) -> &Device {
        &self.spec.device
    }

    /// The autodiff device neural algorithms train on.
    pub fn training_device(&self) -> Device {
        self.spec.device.clone().autodiff()
    }

    /// Whether checkpoints keep the replay buffer (`experiment.checkpoint_replay`).
    pub fn checkpoint_replay(&self) -> bool {
        self.spec.checkpoint_replay
    }

    /// A fresh generator for `stream` of this seed.
    pub fn rng(&self, stream: Stream) -> Rng {
        rng::stream(self.spec.seed, stream)
    }

    /// One training env with the run's time limit, not yet reset.
    pub fn make_env(&self) -> anyhow::Result<TimeLimit> {
        let section = &self.spec.env;
        let env = section.make()?;
        let limit = section.max_episode_steps.or(env.spec().max_episode_steps);
        Ok(TimeLimit::new(env, limit))
    }

    /// `env.num_envs` training envs, reset with seeds drawn from the env stream.
    pub fn make_vec_env(&self) -> anyhow::Result<VecEnv> {
        self.make_vec_env_seeded(&mut self.rng(Stream::Env))
    }

    /// `env.num_envs` training envs (a gymnasium env's copies in one bridge worker), reset
    /// with seeds drawn from `seeds`.
    pub fn make_vec_env_seeded(&self, seeds: &mut Rng) -> anyhow::Result<VecEnv> {
        let n = self.spec.env.num_envs;
        let mut vec_env = match self.spec.env.bridge()? {
            Some(bridge) => VecEnv::bridged(Worker::start(&bridge, n, true)?),
            None => VecEnv::new(
                (0..n)
                    .map(|_| self.make_env())
                    .collect::<anyhow::Result<_>>()?,
            ),
        };
        let seeds: Vec<u64> = (0..vec_env.num_envs())
            .map(|_| rand::RngExt::random(seeds))
            .collect();
        vec_env.reset(&seeds);
        Ok(vec_env)
    }

    /// `env.num_envs` multi-agent training envs, reset with seeds drawn from the env stream.
    pub fn make_multi_vec_env(&self) -> anyhow::Result<MultiVecEnv> {
        let section = &self.spec.env;
        let envs = (0..section.num_envs)
            .map(|_| make_multi_env(&section.id, &section.options()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut vec_env = MultiVecEnv::new(envs);
        let mut seeds = self.rng(Stream::Env);
        let seeds: Vec<u64> = (0..vec_env.num_envs())
            .map(|_| rand::RngExt::random(&mut seeds))
            .collect();
        vec_env.reset(&seeds);
        Ok(vec_env)
    }

    /// Declares the algorithm's diagnostic columns of curve.csv; call once, before evaluating.
    /// On a multi-agent env they follow the evaluation's own columns (see [`Session`]).
    pub fn set_diagnostics(&mut self, names: &[&str]) -> anyhow::Result<()> {
        let mut columns = match &self.evaluator {
            Evaluation::Single(_) => Vec::new(),
            Evaluation::Multi(e) => e.columns(),
        };
        columns.extend(names.iter().map(|n| n.to_string()));
        let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
        self.recorder.start_curve(&refs)?;
        self.curve_started = true;
        self.diagnostic_names = columns;
        Ok(())
    }

    /// Records the training episodes that ended at env step `step` and updates progress.
    /// (Ctrl-C is seen by [`Session::checkpoint`] or [`Session::tick`].)
    pub fn record_episodes(&mut self, step: u64, ended: &[EpisodeEnd]) -> anyhow::Result<()> {
        for end in ended {
            self.record_episode(step, end.episode_return, end.length, Vec::new())?;
        }
        self.show_progress(step);
        Ok(())
    }

    /// [`Session::record_episodes`] for multi-agent envs: the team return and each agent's.
    pub fn record_multi_episodes(
        &mut self,
        step: u64,
        ended: &[MultiEpisodeEnd],
    ) -> anyhow::Result<()> {
        for end in ended {
            self.record_episode(step, end.team_return(), end.length, end.returns.clone())?;
        }
        self.show_progress(step);
        Ok(())
    }

    fn record_episode(
        &mut self,
        step: u64,
        episode_return: f64,
        length: u32,
        agent_returns: Vec<f64>,
    ) -> anyhow::Result<()> {
        self.steps = step;
        self.episodes += 1;
        if self.recent_returns.len() == TRAIN_RETURN_WINDOW {
            self.recent_returns.pop_front();
        }
        self.recent_returns.push_back(episode_return);
        let wall_s = self.train_seconds();
        self.recorder.episode(&EpisodeRow {
            step,
            episode_return,
            length,
            wall_s,
            agent_returns,
        })?;
        self.episode_rows += 1;
        Ok(())
    }

    /// Updates the progress display (cheap; call as often as convenient).
    /// Fails with [`Interrupted`](interrupt::Interrupted) once Ctrl-C was pressed.
    pub fn tick(&mut self, step: u64) -> anyhow::Result<()> {
        self.show_progress(step);
        Ok(interrupt::check()?)
    }

    fn show_progress(&mut self, step: u64) {
        self.steps = step;
        let sps = self.steps_per_second();
        self.recorder.progress(ProgressEvent::Step {
            step,
            sps,
            last_eval: self.last_eval.map(|(_, r)| r),
        });
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
        self.evaluate_with(step, policy, |_, _| diagnostics.to_vec())
    }

    /// As [`Session::evaluate`], with diagnostics read from the policy and the episodes'
    /// returns after its episodes (e.g. a planner's time per planning step, the best skill's
    /// return).
    pub fn evaluate_with<P: Policy + ?Sized>(
        &mut self,
        step: u64,
        policy: &mut P,
        diagnostics: impl FnOnce(&P, &[f64]) -> Vec<f64>,
    ) -> anyhow::Result<()> {
        if !self.start_evaluation(step)? {
            return Ok(());
        }
        let wall_s = self.train_seconds();
        let Evaluation::Single(evaluator) = &mut self.evaluator else {
            anyhow::bail!("a multi-agent env is evaluated by evaluate_multi");
        };
        let (eval_started, eval_started_cpu) = (Instant::now(), process_cpu_seconds());
        let episodes = self.spec.eval_episodes;
        let recorder = &mut *self.recorder;
        let returns = evaluator.run_observed(policy, episodes, |done| {
            recorder.progress(ProgressEvent::Evaluating {
                done,
                total: episodes,
            });
            !interrupt::requested()
        });
        self.eval_time += eval_started.elapsed();
        self.eval_cpu += process_cpu_seconds() - eval_started_cpu;
        interrupt::check()?;
        if let Some(&r) = returns.iter().find(|r| !r.is_finite()) {
            self.non_finite(step, "an evaluation return", r)?;
        }
        let diagnostics = diagnostics(policy, &returns);
        self.finish_evaluation(step, wall_s, &returns, diagnostics)
    }

    /// Evaluates the agents' `policy` on the multi-agent env at `step` and appends a curve row:
    /// the team return, each agent's mean return and the env's diagnostics, then the
    /// algorithm's `diagnostics` (one value per declared column). A second call for the same
    /// step is ignored.
    pub fn evaluate_multi(
        &mut self,
        step: u64,
        policy: &mut dyn MultiPolicy,
        diagnostics: &[f64],
    ) -> anyhow::Result<()> {
        if !self.start_evaluation(step)? {
            return Ok(());
        }
        let wall_s = self.train_seconds();
        let Evaluation::Multi(evaluator) = &mut self.evaluator else {
            anyhow::bail!("a single-agent env is evaluated by evaluate");
        };
        let (eval_started, eval_started_cpu) = (Instant::now(), process_cpu_seconds());
        let episodes = self.spec.eval_episodes;
        let recorder = &mut *self.recorder;
        let result = evaluator.run_observed(policy, episodes, |done| {
            recorder.progress(ProgressEvent::Evaluating {
                done,
                total: episodes,
            });
            !interrupt::requested()
        });
        self.eval_time += eval_started.elapsed();
        self.eval_cpu += process_cpu_seconds() - eval_started_cpu;
        interrupt::check()?;
        if let Some(&r) = result.team_returns.iter().find(|r| !r.is_finite()) {
            self.non_finite(step, "an evaluation return", r)?;
        }
        let mut row = result.columns();
        row.extend_from_slice(diagnostics);
        self.finish_evaluation(step, wall_s, &result.team_returns, row)
    }

    /// Whether an evaluation at `step` is to run (not one already recorded for it).
    fn start_evaluation(&mut self, step: u64) -> anyhow::Result<bool> {
        if self.last_eval.is_some_and(|(s, _)| s == step) {
            return Ok(false);
        }
        anyhow::ensure!(
            self.curve_started,
            "set_diagnostics must be called before the first evaluation"
        );
        self.steps = step;
        interrupt::check()?;
        Ok(true)
    }

    /// Appends the curve row of an evaluation at `step` (training time `wall_s`).
    fn finish_evaluation(
        &mut self,
        step: u64,
        wall_s: f64,
        returns: &[f64],
        diagnostics: Vec<f64>,
    ) -> anyhow::Result<()> {
        let stats = ReturnStats::of(returns);
        let train_return_mean = (!self.recent_returns.is_empty())
            .then(|| self.recent_returns.iter().sum::<f64>() / self.recent_returns.len() as f64);
        let sps = self.steps_per_second();
        let row = CurveRow {
            step,
            episodes: self.episodes,
            wall_s,
            eval_returns: returns,
            train_return_mean,
            diagnostics: &diagnostics,
            sps,
        };
        self.recorder.curve_row(&row)?;
        self.curve_rows += 1;
        self.recorder.flush()?;
        let every = self.spec.eval_every;
        self.next_eval = (step / every + 1) * every;
        self.last_eval = Some((step, stats.mean));
        self.last_diagnostics = diagnostics;
        tracing::debug!(
            seed = self.spec.seed,
            step,
            mean = stats.mean,
            std = stats.std,
            "evaluation"
        );
        self.recorder.progress(ProgressEvent::Evaluated {
            step,
            mean: stats.mean,
            std: stats.std,
            sps,
        });
        Ok(())
    }

    /// Reports that `quantity` (a loss, an action, a return) was `value`, not finite, at env
    /// step `step`: with `experiment.on_nonfinite = "fail"` (the default) the seed stops here,
    /// failed, the rows before kept; with `"continue"` the value is recorded as it is.
    pub fn non_finite(&self, step: u64, quantity: &str, value: f64) -> anyhow::Result<()> {
        match self.spec.on_nonfinite {
            OnNonFinite::Fail => anyhow::bail!(
                "diverged at step {step}: {quantity} is {value} (experiment.on_nonfinite = \
                 \"continue\" records it instead)"
            ),
            OnNonFinite::Continue => Ok(()),
        }
    }

    /// [`Session::non_finite`] for the first of `values` (named by `names`) that is not
    /// finite, if any; values that are not available yet are `None`.
    pub fn check_finite(
        &self,
        step: u64,
        names: &[&str],
        values: impl IntoIterator<Item = Option<f64>>,
    ) -> anyhow::Result<()> {
        for (name, value) in names.iter().zip(values) {
            if let Some(v) = value.filter(|v| !v.is_finite()) {
                self.non_finite(step, name, v)?;
            }
        }
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

    /// Saves the learned policy as the artifact `policy.json`, for `rl eval`.
    pub fn save_policy<T: serde::Serialize>(&mut self, policy: &T) -> anyhow::Result<()> {
        self.save_json("policy.json", policy)
    }

    /// Saves `value` as the JSON artifact `name`.
    pub fn save_json<T: serde::Serialize>(&mut self, name: &str, value: &T) -> anyhow::Result<()> {
        let json = serde_json::to_string(value)?;
        self.save_artifact(name, json.as_bytes())
    }

    /// Saves the artifact `name` (a trained network, statistics) of the trained policy.
    pub fn save_artifact(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.recorder
            .artifact(name, bytes)
            .with_context(|| format!("cannot save {name}"))
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

    /// Flushes the recorder at the end of the run.
    pub fn close(&mut self) -> anyhow::Result<()> {
        self.recorder.flush()
    }
}
