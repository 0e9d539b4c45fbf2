//! What every off-policy learner (DQN, DDPG, TD3, SAC) does around its updates, written once:
//! the replay (uniform or prioritised) and its minibatches; the exploration and minibatch
//! streams; the schedule (uniform random actions for the first `learning_starts` steps, then a
//! training round every `train_freq` vector-env steps); the evaluation before training; and
//! checkpoints, which keep the replay when `experiment.checkpoint_replay` is on and otherwise
//! refill it for `learning_starts` more steps after a resume before training again.

pub mod replay;

pub use replay::{Prioritization, Replay};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::buffer::ReplayBatch;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// The replay keys and schedule of an off-policy learner (Stable-Baselines3's names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Replay capacity in transitions.
    pub buffer_size: usize,
    /// Transitions per minibatch.
    pub batch_size: usize,
    /// Env steps of uniform random actions, and of filling the replay, before training.
    pub learning_starts: u64,
    /// Train every this many vector-env steps.
    pub train_freq: u64,
    /// Prioritised replay (uniform when `None`).
    pub prioritized: Option<Prioritization>,
}

/// The replay, streams and counters of one off-policy run.
pub struct OffPolicy {
    pub replay: Replay,
    /// The last minibatch drawn by [`OffPolicy::sample`].
    pub batch: ReplayBatch,
    /// Exploration draws: random actions, ε-greedy, action noise.
    pub explore: Rng,
    /// Minibatch draws, and the updates' own noise.
    pub sampler: Rng,
    /// Env steps so far (all envs together).
    pub step: u64,
    /// Steps of the vector env so far.
    pub vector_steps: u64,
    /// The diagnostics of the last curve row.
    pub diagnostics: Vec<f64>,
    settings: Settings,
    total: u64,
    /// Training waits until this step (`learning_starts`, later after a resume without replay).
    train_from: u64,
    keep_replay: bool,
}

/// An off-policy checkpoint: this module's part and the algorithm's own (`algo`: networks,
/// optimisers, envs...), taken between env steps.
#[derive(Serialize, Deserialize)]
struct State<A> {
    explore: Rng,
    sampler: Rng,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<Replay>,
    train_from: u64,
    vector_steps: u64,
    diagnostics: Vec<f64>,
    algo: A,
}

impl OffPolicy {
    /// An empty replay for observations of `obs_dim` and actions of `act_dim` values (1 for a
    /// discrete action); `diagnostics` go in the first curve row.
    pub fn new(
        session: &Session,
        settings: Settings,
        obs_dim: usize,
        act_dim: usize,
        diagnostics: Vec<f64>,
    ) -> Self {
        let replay = Replay::new(settings.buffer_size, obs_dim, act_dim, settings.prioritized);
        Self {
            replay,
            batch: ReplayBatch::default(),
            explore: session.rng(Stream::Explore),
            sampler: session.rng(Stream::Minibatch),
            step: 0,
            vector_steps: 0,
            diagnostics,
            settings,
            total: session.total_steps(),
            train_from: settings.learning_starts,
            keep_replay: session.checkpoint_replay(),
        }
    }

    /// Continues from the checkpoint being resumed, if any: restores this module's part and
    /// returns the algorithm's.
    pub fn resume<A: DeserializeOwned>(
        &mut self,
        session: &mut Session,
    ) -> anyhow::Result<Option<A>> {
        let Some((at, s)) = session.resumed::<State<A>>()? else {
            return Ok(None);
        };
        (self.explore, self.sampler, self.train_from) = (s.explore, s.sampler, s.train_from);
        match s.replay {
            Some(saved) => self.replay = saved,
            None => self.train_from = at + self.settings.learning_starts,
        }
        (self.step, self.vector_steps, self.diagnostics) = (at, s.vector_steps, s.diagnostics);
        Ok(Some(s.algo))
    }

    /// Evaluates `policy` before training (a resumed run has had that evaluation: a
    /// checkpoint follows the evaluation of its step).
    pub fn evaluate_at_start(
        &self,
        session: &mut Session,
        policy: &mut dyn Policy,
    ) -> anyhow::Result<()> {
        if self.step == 0 {
            session.evaluate(0, policy, &self.diagnostics)?;
        }
        Ok(())
    }

    /// Whether actions are still uniformly random (the first `learning_starts` steps).
    pub fn exploring(&self) -> bool {
        self.step < self.settings.learning_starts
    }

    /// Whether a training round is due after this env step: every `train_freq` vector-env
    /// steps, once the replay has been filled.
    pub fn train_due(&self) -> bool {
        self.vector_steps.is_multiple_of(self.settings.train_freq) && self.step > self.train_from
    }

    /// Draws the next minibatch into [`OffPolicy::batch`] (with importance weights when the
    /// replay is prioritised, β annealed by the share of the budget done).
    pub fn sample(&mut self) {
        let progress = self.step as f64 / self.total as f64;
        self.replay.sample(
            self.settings.batch_size,
            progress,
            &mut self.sampler,
            &mut self.batch,
        );
    }

    /// Evaluates `policy` at the current step and writes its curve row with `diagnostics`.
    pub fn evaluate(
        &mut self,
        session: &mut Session,
        policy: &mut dyn Policy,
        diagnostics: Vec<f64>,
    ) -> anyhow::Result<()> {
        self.diagnostics = diagnostics;
        session.evaluate(self.step, policy, &self.diagnostics)
    }

    /// Writes a checkpoint when one is due, with the algorithm's own state from `algo`.
    pub fn checkpoint<A: Serialize>(
        &self,
        session: &mut Session,
        algo: impl FnOnce() -> anyhow::Result<A>,
    ) -> anyhow::Result<()> {
        session.checkpoint(self.step, || {
            Ok(State {
                explore: self.explore.clone(),
                sampler: self.sampler.clone(),
                replay: self.keep_replay.then(|| self.replay.clone()),
                train_from: self.train_from,
                vector_steps: self.vector_steps,
                diagnostics: self.diagnostics.clone(),
                algo: algo()?,
            })
        })
    }
}
