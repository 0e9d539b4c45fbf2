//! Deterministic-policy actor-critics, as Stable-Baselines3 implements them:
//!
//! - TD3 (Fujimoto et al. 2018): twin critics with the clipped double-Q target
//!   y = r + γ (1 − d) min_i Q'_i(s', clip(μ'(s') + clip(ε, −c, c), −1, 1)), ε ~ N(0, σ̃²)
//!   (target policy smoothing), J(Q) = Σ_i E[(Q_i(s, a) − y)²], and the actor
//!   J(μ) = −E[Q_1(s, μ(s))] with the target nets updated only every `policy_delay` steps;
//! - DDPG (Lillicrap et al. 2016): the same with one critic, no smoothing and no delay.
//!
//! Exploration adds Gaussian or Ornstein–Uhlenbeck noise to μ(s) in the normalised box. The actor
//! step differentiates through a frozen copy of the critic, so no critic weight gradient is
//! computed there.

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::collect::{Collector, CollectorState};
use super::noise::{ActionNoise, NoiseType};
use super::saved::{Actor, ActorPolicy, MODEL_FILE};
use super::{ActorCriticNets, Td3Arch};
use crate::algo::Hyperparameters;
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::buffer::{ReplayBatch, ReplayBuffer};
use crate::config::Checker;
use crate::nn::actors::DeterministicActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{SavedModule, SavedOptimizer, adam, matrix, vector};
use crate::rng::{Rng, Stream, standard_normal};
use crate::session::Session;

/// TD3's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Td3Config {
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    pub noise_type: NoiseType,
    pub noise_std: f64,
    /// Update the actor and the targets every this many critic steps.
    pub policy_delay: usize,
    /// σ̃ of the target policy smoothing noise.
    pub target_policy_noise: f64,
    /// c: the smoothing noise is clipped to ±c.
    pub target_noise_clip: f64,
    pub policy: ActorCriticNets<Td3Arch>,
}

impl Default for Td3Config {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            train_freq: 1,
            gradient_steps: 1,
            noise_type: NoiseType::Normal,
            noise_std: 0.1,
            policy_delay: 2,
            target_policy_noise: 0.2,
            target_noise_clip: 0.5,
            policy: ActorCriticNets::default(),
        }
    }
}

/// DDPG's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DdpgConfig {
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    pub noise_type: NoiseType,
    pub noise_std: f64,
    pub policy: ActorCriticNets<Td3Arch>,
}

impl Default for DdpgConfig {
    fn default() -> Self {
        let td3 = Td3Config::default();
        Self {
            learning_rate: td3.learning_rate,
            buffer_size: td3.buffer_size,
            learning_starts: td3.learning_starts,
            batch_size: td3.batch_size,
            tau: td3.tau,
            gamma: td3.gamma,
            train_freq: td3.train_freq,
            gradient_steps: td3.gradient_steps,
            noise_type: td3.noise_type,
            noise_std: td3.noise_std,
            policy: td3.policy,
        }
    }
}

impl DdpgConfig {
    /// DDPG is TD3 with no target smoothing and no actor delay (train it with one critic).
    pub fn as_td3(&self) -> Td3Config {
        Td3Config {
            learning_rate: self.learning_rate,
            buffer_size: self.buffer_size,
            learning_starts: self.learning_starts,
            batch_size: self.batch_size,
            tau: self.tau,
            gamma: self.gamma,
            train_freq: self.train_freq,
            gradient_steps: self.gradient_steps,
            noise_type: self.noise_type,
            noise_std: self.noise_std,
            policy_delay: 1,
            target_policy_noise: 0.0,
            target_noise_clip: 0.0,
            policy: self.policy.clone(),
        }
    }
}

/// Help lines of the keys DDPG and TD3 share.
const SHARED_HELP: [(&str, &str); 11] = [
    ("learning_rate", "Adam step size of actor and critics"),
    ("buffer_size", "replay capacity in transitions"),
    (
        "learning_starts",
        "env steps of uniform random actions before training",
    ),
    ("batch_size", "transitions per gradient step"),
    ("tau", "Polyak coefficient of the target nets, in (0, 1]"),
    ("gamma", "discount factor γ ∈ [0, 1]"),
    ("train_freq", "train every this many vector-env steps"),
    ("gradient_steps", "gradient steps per training round"),
    (
        "noise_type",
        "exploration noise: \"normal\", \"ornstein_uhlenbeck\" or \"none\"",
    ),
    ("noise_std", "σ of the exploration noise in the [−1, 1] box"),
    (
        "policy",
        "[algo.policy] table: net_arch (hidden sizes of the actor and each critic, default [400, 300]), activation (\"relu\")",
    ),
];

impl Hyperparameters for Td3Config {
    const HELP: &'static [(&'static str, &'static str)] = &[
        SHARED_HELP[0],
        SHARED_HELP[1],
        SHARED_HELP[2],
        SHARED_HELP[3],
        SHARED_HELP[4],
        SHARED_HELP[5],
        SHARED_HELP[6],
        SHARED_HELP[7],
        SHARED_HELP[8],
        SHARED_HELP[9],
        (
            "policy_delay",
            "critic steps per actor and target update (≥ 1)",
        ),
        ("target_policy_noise", "σ̃ of the target smoothing noise"),
        (
            "target_noise_clip",
            "the smoothing noise is clipped to ±this",
        ),
        SHARED_HELP[10],
    ];

    fn check(&self, c: &mut Checker) {
        check_shared(
            c,
            (self.learning_rate, self.buffer_size, self.batch_size),
            (self.tau, self.gamma, self.train_freq, self.noise_std),
            &self.policy,
        );
        c.require("policy_delay", self.policy_delay >= 1, || {
            "must be >= 1".into()
        });
        c.require(
            "target_policy_noise",
            self.target_policy_noise.is_finite() && self.target_policy_noise >= 0.0,
            || "must be a finite number >= 0".into(),
        );
        c.require(
            "target_noise_clip",
            self.target_noise_clip.is_finite() && self.target_noise_clip >= 0.0,
            || "must be a finite number >= 0".into(),
        );
    }
}

impl Hyperparameters for DdpgConfig {
    const HELP: &'static [(&'static str, &'static str)] = &SHARED_HELP;

    fn check(&self, c: &mut Checker) {
        check_shared(
            c,
            (self.learning_rate, self.buffer_size, self.batch_size),
            (self.tau, self.gamma, self.train_freq, self.noise_std),
            &self.policy,
        );
    }
}

fn check_shared(
    c: &mut Checker,
    (learning_rate, buffer_size, batch_size): (f64, usize, usize),
    (tau, gamma, train_freq, noise_std): (f64, f64, u64, f64),
    policy: &ActorCriticNets<Td3Arch>,
) {
    c.positive("learning_rate", learning_rate);
    c.require("buffer_size", buffer_size > 0, || "must be > 0".into());
    c.require("batch_size", batch_size > 0, || "must be > 0".into());
    c.require("tau", tau > 0.0 && tau <= 1.0, || {
        format!("must be in (0, 1], got {tau}")
    });
    c.in_closed("gamma", gamma, 0.0, 1.0);
    c.require("train_freq", train_freq > 0, || "must be > 0".into());
    c.require(
        "noise_std",
        noise_std.is_finite() && noise_std >= 0.0,
        || "must be a finite number >= 0".into(),
    );
    policy.check(c);
}

const DIAGNOSTICS: [&str; 3] = ["loss_pi", "loss_q", "q_mean"];

/// Trains TD3 with `n_critics` critics (2; DDPG passes its settings with 1).
/// Everything a checkpoint needs to continue TD3/DDPG exactly (taken between env steps).
#[derive(Serialize, Deserialize)]
struct Td3State {
    actor: SavedModule,
    critics: SavedModule,
    actor_target: SavedModule,
    critics_target: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
    explore: Rng,
    sampler: Rng,
    noise: ActionNoise,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<ReplayBuffer>,
    /// Training waits until this step (`learning_starts`, later after a resume without replay).
    train_from: u64,
    collector: CollectorState,
    vector_steps: u64,
    updates: usize,
    stats: MeansState,
    actor_losses: MeansState,
    diagnostics: Vec<f64>,
}

pub fn train(cfg: &Td3Config, n_critics: usize, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let (hidden, activation) = (&cfg.policy.net_arch, cfg.policy.activation);
    let mut init = session.rng(Stream::Init);
    let mut actor =
        DeterministicActor::new(obs_dim, act_dim, hidden, activation, &mut init, &device);
    let mut critics = Critics::new(
        obs_dim, act_dim, hidden, activation, n_critics, &mut init, &device,
    );
    let mut actor_target = target_copy(&actor);
    let mut critics_target = target_copy(&critics);
    let (mut actor_opt, mut critic_opt) = (adam(1e-8), adam(1e-8));
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let mut noise = ActionNoise::new(cfg.noise_type, cfg.noise_std, n_envs, act_dim);
    let mut replay = ReplayBuffer::new(cfg.buffer_size, obs_dim, act_dim);
    let mut batch = ReplayBatch::default();
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let action_box = collector.action_box.clone();
    let snapshot = |actor: &DeterministicActor| {
        ActorPolicy::new(
            &Actor::Deterministic(actor.clone()),
            obs_dim,
            action_box.clone(),
            &plain,
        )
    };
    let mut stats = DeviceMeans::new(2);
    // The actor loss is only computed every `policy_delay` steps: its mean is over those.
    let mut actor_losses = DeviceMeans::new(1);
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let (mut step, mut vector_steps, mut updates) = (0u64, 0u64, 0usize);
    let mut train_from = cfg.learning_starts;
    let keep_replay = session.checkpoint_replay();
    if let Some((at, s)) = session.resumed::<Td3State>()? {
        actor = s.actor.restore(actor)?;
        critics = s.critics.restore(critics)?;
        actor_target = s.actor_target.restore(actor_target)?;
        critics_target = s.critics_target.restore(critics_target)?;
        actor_opt = s.actor_opt.restore(actor_opt)?;
        critic_opt = s.critic_opt.restore(critic_opt)?;
        (explore, sampler, noise, train_from) = (s.explore, s.sampler, s.noise, s.train_from);
        match s.replay {
            Some(saved) => replay = saved,
            None => train_from = at + cfg.learning_starts,
        }
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
        actor_losses.restore(s.actor_losses, &device);
        (step, vector_steps, updates) = (at, s.vector_steps, s.updates);
        diagnostics = s.diagnostics;
    }
    let mut policy = snapshot(&actor);
    // A checkpoint follows the evaluation of its step: a resumed run has had it.
    if step == 0 {
        session.evaluate(0, &mut policy, &diagnostics)?;
    }
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while step < total {
        if step < cfg.learning_starts {
            actions.fill_with(|| explore.random_range(-1.0..=1.0));
        } else {
            actions = policy.scaled_actions(&collector.obs);
            for (e, row) in actions.chunks_exact_mut(act_dim).enumerate() {
                noise.perturb(e, row, &mut explore);
                row.iter_mut().for_each(|a| *a = a.clamp(-1.0, 1.0));
            }
        }
        let ended = collector.step(&actions, &mut replay, session, &mut step)?;
        for (e, _) in ended.iter().enumerate().filter(|(_, ended)| **ended) {
            noise.reset(e);
        }
        vector_steps += 1;

        if vector_steps % cfg.train_freq == 0 && step > train_from {
            for _ in 0..cfg.gradient_steps {
                updates += 1;
                replay.sample_uniform(cfg.batch_size, &mut sampler, &mut batch);
                let b = batch.len();
                let obs = matrix(&batch.observations, obs_dim, &device);
                let next_obs = matrix(&batch.next_observations, obs_dim, &device);

                let y = {
                    let smoothing: Vec<f32> = (0..b * act_dim)
                        .map(|_| {
                            let e = cfg.target_policy_noise * standard_normal(&mut sampler);
                            e.clamp(-cfg.target_noise_clip, cfg.target_noise_clip) as f32
                        })
                        .collect();
                    let next_actions = (actor_target.forward(next_obs.clone())
                        + matrix(&smoothing, act_dim, &device))
                    .clamp(-1.0, 1.0);
                    let next_q = critics_target.min(next_obs, next_actions);
                    let not_terminated = vector(&batch.terminated, &device).neg().add_scalar(1.0);
                    vector(&batch.rewards, &device)
                        + vector(&batch.discounts, &device) * not_terminated * next_q
                }
                .detach();
                let qs = critics.forward(obs.clone(), matrix(&batch.actions, act_dim, &device));
                let q_mean = qs[0].clone().detach().mean();
                let loss_q = qs
                    .into_iter()
                    .map(|q| (q - y.clone()).square().mean())
                    .reduce(|a, b| a + b)
                    .expect("at least one critic");
                let grads = GradientsParams::from_grads(loss_q.backward(), &critics);
                critics = critic_opt.step(cfg.learning_rate, critics, grads);
                stats.add(vec![loss_q.detach(), q_mean]);

                if updates % cfg.policy_delay == 0 {
                    let q = critics
                        .clone()
                        .no_grad()
                        .first(obs.clone(), actor.forward(obs));
                    let loss_pi = q.mean().neg();
                    let grads = GradientsParams::from_grads(loss_pi.backward(), &actor);
                    actor = actor_opt.step(cfg.learning_rate, actor, grads);
                    actor_losses.add(vec![loss_pi.detach()]);
                    critics_target = polyak_update(critics_target, &critics, cfg.tau);
                    actor_target = polyak_update(actor_target, &actor, cfg.tau);
                }
            }
            policy = snapshot(&actor);
        }
        if session.eval_due(step) {
            diagnostics = actor_losses.take();
            diagnostics.extend(stats.take());
            session.evaluate(step, &mut policy, &diagnostics)?;
        }
        session.checkpoint(step, || {
            Ok(Td3State {
                actor: SavedModule::of(&actor)?,
                critics: SavedModule::of(&critics)?,
                actor_target: SavedModule::of(&actor_target)?,
                critics_target: SavedModule::of(&critics_target)?,
                actor_opt: SavedOptimizer::of(&actor_opt)?,
                critic_opt: SavedOptimizer::of(&critic_opt)?,
                explore: explore.clone(),
                sampler: sampler.clone(),
                noise: noise.clone(),
                replay: keep_replay.then(|| replay.clone()),
                train_from,
                collector: collector.state(),
                vector_steps,
                updates,
                stats: stats.state(),
                actor_losses: actor_losses.state(),
                diagnostics: diagnostics.clone(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &policy.to_bytes()?)
}
