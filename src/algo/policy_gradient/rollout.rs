//! Collecting on-policy experience: `n_steps` steps of every vectorised env with one forward
//! pass per step, actions sampled on the CPU with the run's exploration stream.
//!
//! Time-limit truncations bootstrap as Stable-Baselines3 does (Pardo et al. 2018): the truncated
//! step gets + γ V(final observation), and the episode counts as ended. The bootstrap is stored
//! apart from the reward (the buffer's `truncation_bootstrap`), so a learner may relabel the
//! rewards of a collected rollout.

use serde::{Deserialize, Serialize};

use crate::buffer::{RolloutBuffer, StepEnd};
use crate::env::normalize::{ObsNormalizer, RewardScaler};
use crate::env::vector::{EpisodeEnd, VecEnvSnapshot};
use crate::env::{EnvSpec, VecEnv};
use crate::hyper::hyperparameters;
use crate::nn::{Acting, ActionKind};
use crate::rng::{Rng, Stream, worker_stream};
use crate::session::Session;

use super::saved::{DeterministicPolicy, clip_to_bounds};

hyperparameters! {
    /// Observation and reward normalisation (SB3's `VecNormalize`), keys of the on-policy
    /// methods.
    #[derive(Copy)]
    pub struct Normalization {
        /// normalise observations with running mean/std (frozen for evaluation, saved with the
        /// run)
        normalize_obs: bool = false;
        /// scale rewards by the running std of the discounted return
        normalize_reward: bool = false;
        /// clip normalised observations and rewards to ±this
        clip_obs: f64 = 10.0, positive;
    }
}

/// What a checkpoint needs to continue collecting exactly (between rollouts).
#[derive(Serialize, Deserialize)]
pub struct CollectorState {
    envs: VecEnvSnapshot,
    obs_normalizer: Option<ObsNormalizer>,
    reward_scaler: Option<RewardScaler>,
    rng: Rng,
    obs: Vec<f32>,
}

/// The training envs and everything that turns their output into rollouts.
pub struct Collector {
    pub envs: VecEnv,
    pub obs_normalizer: Option<ObsNormalizer>,
    reward_scaler: Option<RewardScaler>,
    rng: Rng,
    action: ActionKind,
    bounds: Option<(Vec<f32>, Vec<f32>)>,
    gamma: f64,
    bootstrap_truncated: bool,
    /// Current observations as the policy sees them (normalised when on).
    obs: Vec<f32>,
    actions: Vec<f32>,
    env_actions: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f64>,
    truncation_bootstrap: Vec<f64>,
    next_obs: Vec<f32>,
}

impl Collector {
    /// `gamma` discounts truncation bootstraps and the return that reward scaling tracks;
    /// `bootstrap_truncated` is off for methods without a critic.
    pub fn new(
        session: &Session,
        normalization: Normalization,
        gamma: f64,
        bootstrap_truncated: bool,
    ) -> anyhow::Result<Self> {
        let envs = session.make_vec_env()?;
        let rng = session.rng(Stream::Explore);
        Self::with_envs(envs, rng, normalization, gamma, bootstrap_truncated)
    }

    /// The collector of worker `worker` of a parallel method in its `generation`-th start
    /// (see [`worker_stream`]): `env.num_envs` envs of its own, reset with seeds from its own
    /// env stream, and its own exploration stream. Worker 0 of generation 0 is [`Collector::new`].
    pub fn for_worker(
        session: &Session,
        normalization: Normalization,
        gamma: f64,
        bootstrap_truncated: bool,
        (worker, generation): (u64, u64),
    ) -> anyhow::Result<Self> {
        let mut seeds = worker_stream(session.seed(), Stream::Env, worker, generation);
        let envs = session.make_vec_env_seeded(&mut seeds)?;
        let rng = worker_stream(session.seed(), Stream::Explore, worker, generation);
        Self::with_envs(envs, rng, normalization, gamma, bootstrap_truncated)
    }

    fn with_envs(
        envs: VecEnv,
        rng: Rng,
        normalization: Normalization,
        gamma: f64,
        bootstrap_truncated: bool,
    ) -> anyhow::Result<Self> {
        let n = envs.num_envs();
        let spec = envs.spec().clone();
        let obs_dim = envs.obs_dim();
        let action = ActionKind::of(&spec.action_space);
        let bounds = match &spec.action_space {
            crate::env::Space::Box { low, high } => Some((low.clone(), high.clone())),
            crate::env::Space::Discrete(_) => None,
        };
        let mut obs_normalizer = normalization
            .normalize_obs
            .then(|| ObsNormalizer::new(obs_dim, normalization.clip_obs));
        let mut obs = envs.observations().to_vec();
        if let Some(norm) = &mut obs_normalizer {
            norm.stats.update(envs.observations());
            norm.normalize(envs.observations(), &mut obs);
        }
        Ok(Self {
            obs_normalizer,
            reward_scaler: normalization
                .normalize_reward
                .then(|| RewardScaler::new(n, gamma, normalization.clip_obs)),
            rng,
            action,
            bounds,
            gamma,
            bootstrap_truncated,
            obs,
            actions: vec![0.0; n * action.stored_dim()],
            env_actions: vec![0.0; n * action.stored_dim()],
            log_probs: vec![0.0; n],
            values: vec![0.0; n],
            rewards: vec![0.0; n],
            truncation_bootstrap: vec![0.0; n],
            next_obs: vec![0.0; n * obs_dim],
            envs,
        })
    }

    pub fn state(&self) -> CollectorState {
        CollectorState {
            envs: self.envs.snapshot(),
            obs_normalizer: self.obs_normalizer.clone(),
            reward_scaler: self.reward_scaler.clone(),
            rng: self.rng.clone(),
            obs: self.obs.clone(),
        }
    }

    pub fn restore(&mut self, state: CollectorState) {
        self.envs.restore(&state.envs);
        self.obs_normalizer = state.obs_normalizer;
        self.reward_scaler = state.reward_scaler;
        self.rng = state.rng;
        self.obs = state.obs;
    }

    /// The current observations as the policy sees them (normalised when on): the states after
    /// the last rollout.
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// The deterministic policy of `acting` with the current observation statistics frozen.
    pub fn evaluation_policy(&self, acting: &Acting) -> DeterministicPolicy {
        DeterministicPolicy::new(
            acting.clone(),
            self.obs_normalizer.clone(),
            self.envs.spec(),
        )
    }

    /// The evaluation before the first update: of the untrained policy, or after a resume the
    /// one due at the checkpoint's step (a checkpoint precedes its step's evaluation).
    pub fn evaluate_at_start(
        &self,
        acting: &Acting,
        session: &mut Session,
        step: u64,
        diagnostics: &[f64],
    ) -> anyhow::Result<()> {
        if step == 0 || session.eval_due(step) {
            session.evaluate(step, &mut self.evaluation_policy(acting), diagnostics)?;
        }
        Ok(())
    }

    /// Fills `buffer` with one rollout; `step` counts env steps (the last rollout may overshoot
    /// the budget, as in SB3). Records finished episodes and evaluates when due (with the
    /// `diagnostics` of the last update). Returns V of the observations after the rollout.
    pub fn collect(
        &mut self,
        acting: &Acting,
        buffer: &mut RolloutBuffer,
        session: &mut Session,
        step: &mut u64,
        diagnostics: &[f64],
    ) -> anyhow::Result<Vec<f32>> {
        buffer.clear();
        let n = self.envs.num_envs();
        while !buffer.is_full() {
            if let Some(a) = self.sample(acting) {
                session.non_finite(*step, "an action", f64::from(a))?;
            }
            self.step_envs(acting, buffer);
            *step += n as u64;
            session.record_episodes(*step, self.envs.ended())?;
            // The evaluation at the end of the budget follows the last update.
            if *step < session.total_steps() && session.eval_due(*step) {
                let mut policy = self.evaluation_policy(acting);
                session.evaluate(*step, &mut policy, diagnostics)?;
            }
        }
        Ok(acting.values(&self.obs))
    }

    /// As [`Collector::collect`] without a session, for a worker thread: fills `buffer` with one
    /// rollout and logs, step by step, what `collect` would have told the session, for the
    /// session's thread to replay in order ([`StepLog::record`], [`StepLog::evaluate_if_due`]). Returns V of the observations
    /// after the rollout.
    pub fn collect_logged(
        &mut self,
        acting: &Acting,
        buffer: &mut RolloutBuffer,
        log: &mut Vec<StepLog>,
    ) -> Vec<f32> {
        buffer.clear();
        log.clear();
        while !buffer.is_full() {
            let non_finite_action = self.sample(acting);
            self.step_envs(acting, buffer);
            log.push(StepLog {
                non_finite_action,
                ended: self.envs.ended().to_vec(),
                obs_normalizer: self.obs_normalizer.clone(),
            });
        }
        acting.values(&self.obs)
    }

    /// Samples the next actions; returns the first non-finite one, if any.
    fn sample(&mut self, acting: &Acting) -> Option<f32> {
        acting.sample(
            &self.obs,
            &mut self.rng,
            &mut self.actions,
            &mut self.log_probs,
            &mut self.values,
        );
        self.actions.iter().find(|a| !a.is_finite()).copied()
    }

    /// Steps every env with the sampled actions and stores the transitions in `buffer`.
    fn step_envs(&mut self, acting: &Acting, buffer: &mut RolloutBuffer) {
        let n = self.envs.num_envs();
        let dim = self.action.stored_dim();
        match &self.bounds {
            None => {
                let idx: Vec<usize> = self.actions.iter().map(|&a| a as usize).collect();
                self.envs.step_discrete(&idx);
            }
            Some((low, high)) => {
                self.env_actions.copy_from_slice(&self.actions);
                for row in self.env_actions.chunks_exact_mut(dim) {
                    clip_to_bounds(row, low, high);
                }
                self.envs.step_continuous(&self.env_actions);
            }
        }
        let terminated = self.envs.terminated().to_vec();
        let truncated = self.envs.truncated().to_vec();
        let ended: Vec<bool> = (0..n).map(|e| terminated[e] || truncated[e]).collect();
        self.rewards.copy_from_slice(self.envs.rewards());
        if let Some(scaler) = &mut self.reward_scaler {
            scaler.scale(&mut self.rewards, &ended);
        }
        self.truncation_bootstrap.fill(0.0);
        if self.bootstrap_truncated {
            self.bootstrap(acting, &terminated, &truncated);
        }
        buffer.push(&self.obs, &self.actions, &self.log_probs, &self.values);

        let raw = self.envs.observations();
        match &mut self.obs_normalizer {
            Some(norm) => {
                norm.stats.update(raw);
                norm.normalize(raw, &mut self.obs);
            }
            None => self.obs.copy_from_slice(raw),
        }
        self.next_obs.copy_from_slice(&self.obs);
        let d = self.envs.obs_dim();
        for e in (0..n).filter(|&e| ended[e]) {
            let next = &mut self.next_obs[e * d..(e + 1) * d];
            next.copy_from_slice(self.envs.final_observation(e));
            if let Some(norm) = &self.obs_normalizer {
                let raw = next.to_vec();
                norm.normalize(&raw, next);
            }
        }
        buffer.finish_step(StepEnd {
            rewards: &self.rewards,
            truncation_bootstrap: &self.truncation_bootstrap,
            next_observations: &self.next_obs,
            terminated: &terminated,
            ended: &ended,
        });
    }

    /// The truncation bootstrap γ V(s_final) of envs truncated (not terminated) by the time
    /// limit.
    fn bootstrap(&mut self, acting: &Acting, terminated: &[bool], truncated: &[bool]) {
        let cut: Vec<usize> = (0..truncated.len())
            .filter(|&e| truncated[e] && !terminated[e])
            .collect();
        if cut.is_empty() {
            return;
        }
        let dim = self.envs.obs_dim();
        let mut finals = Vec::with_capacity(cut.len() * dim);
        for &e in &cut {
            finals.extend_from_slice(self.envs.final_observation(e));
        }
        if let Some(norm) = &self.obs_normalizer {
            let raw = finals.clone();
            norm.normalize(&raw, &mut finals);
        }
        let values = acting.values(&finals);
        for (&e, v) in cut.iter().zip(values) {
            self.truncation_bootstrap[e] = self.gamma * v as f64;
        }
    }
}

/// What one env step of [`Collector::collect_logged`] has to tell the session.
#[derive(Clone)]
pub struct StepLog {
    /// The first non-finite action sampled, if any.
    pub non_finite_action: Option<f32>,
    /// The episodes that ended.
    pub ended: Vec<EpisodeEnd>,
    /// The observation statistics after the step (an evaluation then would freeze these).
    pub obs_normalizer: Option<ObsNormalizer>,
}

impl StepLog {
    /// Tells `session` what [`Collector::collect`] would have at `step` (the env steps after
    /// this one), evaluation aside: the non-finite action and the ended episodes.
    pub fn record(&self, session: &mut Session, step: u64) -> anyhow::Result<()> {
        if let Some(a) = self.non_finite_action {
            session.non_finite(step, "an action", f64::from(a))?;
        }
        session.record_episodes(step, &self.ended)
    }

    /// The evaluation [`Collector::collect`] would have made at `step` if one is due before the
    /// budget's end: of `acting` on the env `spec`, with this step's observation statistics.
    pub fn evaluate_if_due(
        &self,
        session: &mut Session,
        step: u64,
        acting: &Acting,
        spec: &EnvSpec,
        diagnostics: &[f64],
    ) -> anyhow::Result<()> {
        if step < session.total_steps() && session.eval_due(step) {
            let mut policy =
                DeterministicPolicy::new(acting.clone(), self.obs_normalizer.clone(), spec);
            session.evaluate(step, &mut policy, diagnostics)?;
        }
        Ok(())
    }
}
