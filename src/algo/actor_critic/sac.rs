//! Soft actor-critic (Haarnoja et al. 2018, "SAC: algorithms and applications"), as
//! Stable-Baselines3 implements it. Per gradient step, on a replay minibatch:
//!
//! - temperature: J(α) = −E[log α · (log π(ã|s) + H̄)] with target entropy H̄ = −dim(A) (eq. 18);
//! - critics: y = r + γ (1 − d)(min_i Q'_i(s', ã') − α log π(ã'|s')), ã' ~ π(·|s'),
//!   J(Q) = ½ Σ_i E[(Q_i(s, a) − y)²] (twin critics, clipped double Q);
//! - actor: J(π) = E[α log π(ã|s) − min_i Q_i(s, ã)], ã = tanh(μ + σε) reparameterised;
//! - Polyak-averaged target critics.
//!
//! The actor step differentiates through frozen copies of the critics, so no critic weight
//! gradient is computed there.

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::collect::{Collector, CollectorState};
use super::saved::{Actor, ActorPolicy, MODEL_FILE};
use super::{ActorCriticNets, SacArch};
use crate::algo::Hyperparameters;
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::buffer::{ReplayBatch, ReplayBuffer};
use crate::config::Checker;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{
    SavedModule, SavedOptimizer, adam, matrix, to_vec, vector,
};
use crate::rng::{Rng, Stream, standard_normal};
use crate::session::Session;

/// SAC's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Adam step size of the actor, the critics and the temperature.
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    /// The entropy temperature α: its initial value when learned, else fixed.
    pub ent_coef: f64,
    /// Learn α by dual gradient descent on the entropy constraint (SB3's `ent_coef = "auto"`).
    pub learn_ent_coef: bool,
    /// H̄ of the entropy constraint (unset: −dim(A)).
    pub target_entropy: Option<f64>,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// Generalised state-dependent exploration (Raffin et al. 2022) instead of a log σ(s) head.
    pub use_sde: bool,
    /// With gSDE, resample the exploration weights every this many steps (−1: only at the start
    /// of each `train_freq` round).
    pub sde_sample_freq: i64,
    /// With gSDE, the initial log σ of the exploration weights.
    pub log_std_init: f64,
    pub policy: ActorCriticNets<SacArch>,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            train_freq: 1,
            gradient_steps: 1,
            ent_coef: 1.0,
            learn_ent_coef: true,
            target_entropy: None,
            target_update_interval: 1,
            use_sde: false,
            sde_sample_freq: -1,
            log_std_init: -3.0,
            policy: ActorCriticNets::default(),
        }
    }
}

impl Hyperparameters for SacConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        (
            "learning_rate",
            "Adam step size of actor, critics and temperature",
        ),
        ("buffer_size", "replay capacity in transitions"),
        (
            "learning_starts",
            "env steps of uniform random actions before training",
        ),
        ("batch_size", "transitions per gradient step"),
        ("tau", "Polyak coefficient of the target critics, in (0, 1]"),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("train_freq", "train every this many vector-env steps"),
        ("gradient_steps", "gradient steps per training round"),
        (
            "ent_coef",
            "entropy temperature α > 0 (the initial value when learned)",
        ),
        (
            "learn_ent_coef",
            "learn α towards the target entropy (SB3's \"auto\")",
        ),
        (
            "target_entropy",
            "entropy target H̄ of the learned α (unset: −dim(A))",
        ),
        (
            "target_update_interval",
            "gradient steps between target updates",
        ),
        (
            "use_sde",
            "gSDE: exploration u = μ(s) + z(s)W with W held fixed between resamples",
        ),
        (
            "sde_sample_freq",
            "gSDE: resample W every this many steps (−1: once per train_freq round)",
        ),
        ("log_std_init", "gSDE: initial log σ of the weights W"),
        (
            "policy",
            "[algo.policy] table: net_arch (hidden sizes of the actor and each critic, default [256, 256]), activation (\"relu\")",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.positive("learning_rate", self.learning_rate);
        c.require("buffer_size", self.buffer_size > 0, || "must be > 0".into());
        c.require("batch_size", self.batch_size > 0, || "must be > 0".into());
        c.require("tau", self.tau > 0.0 && self.tau <= 1.0, || {
            format!("must be in (0, 1], got {}", self.tau)
        });
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.require("train_freq", self.train_freq > 0, || "must be > 0".into());
        c.positive("ent_coef", self.ent_coef);
        if let Some(h) = self.target_entropy {
            c.finite("target_entropy", h);
        }
        c.require(
            "target_update_interval",
            self.target_update_interval > 0,
            || "must be > 0".into(),
        );
        c.require(
            "sde_sample_freq",
            self.sde_sample_freq == -1 || self.sde_sample_freq > 0,
            || format!("must be -1 or > 0, got {}", self.sde_sample_freq),
        );
        c.finite("log_std_init", self.log_std_init);
        self.policy.check(c);
    }
}

/// log α as a one-parameter module, so that an optimiser can step it.
#[derive(Module, Debug)]
struct LogAlpha {
    value: Param<Tensor<1>>,
}

const DIAGNOSTICS: [&str; 5] = ["loss_pi", "loss_q", "alpha", "entropy", "q_mean"];

/// `n` standard normal draws as f32.
fn normals(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| standard_normal(rng) as f32).collect()
}

/// Everything a checkpoint needs to continue SAC exactly (taken between env steps).
#[derive(Serialize, Deserialize)]
struct SacState {
    actor: SavedModule,
    critics: SavedModule,
    critics_target: SavedModule,
    log_alpha: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
    alpha_opt: SavedOptimizer,
    explore: Rng,
    sampler: Rng,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<ReplayBuffer>,
    /// Training waits until this step (`learning_starts`, later after a resume without replay).
    train_from: u64,
    collector: CollectorState,
    /// gSDE's exploration matrices, one per env (row-major).
    sde_noise: Vec<Vec<f32>>,
    vector_steps: u64,
    gradient_steps: usize,
    stats: MeansState,
    diagnostics: Vec<f64>,
}

pub fn train(cfg: &SacConfig, session: &mut Session) -> anyhow::Result<()> {
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
    let mut actor = SquashedGaussianActor::new(
        obs_dim,
        act_dim,
        hidden,
        activation,
        cfg.use_sde.then_some(cfg.log_std_init),
        &mut init,
        &device,
    );
    let mut critics = Critics::new(obs_dim, act_dim, hidden, activation, 2, &mut init, &device);
    let mut critics_target = target_copy(&critics);
    let mut log_alpha = LogAlpha {
        value: Param::from_data(
            TensorData::new(vec![cfg.ent_coef.ln() as f32], [1]),
            &device,
        ),
    };
    let target_entropy = cfg.target_entropy.unwrap_or(-(act_dim as f64));
    let (mut actor_opt, mut critic_opt, mut alpha_opt) = (adam(1e-8), adam(1e-8), adam(1e-8));
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let mut replay = ReplayBuffer::new(cfg.buffer_size, obs_dim, act_dim);
    let mut batch = ReplayBatch::default();
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let action_box = collector.action_box.clone();
    let snapshot = |actor: &SquashedGaussianActor| {
        ActorPolicy::new(
            &Actor::Squashed(actor.clone()),
            obs_dim,
            action_box.clone(),
            &plain,
        )
    };
    let mut stats = DeviceMeans::new(DIAGNOSTICS.len());
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut sde_noise: Vec<Tensor<2>> = Vec::new();
    let (mut step, mut vector_steps, mut gradient_steps) = (0u64, 0u64, 0usize);
    let mut train_from = cfg.learning_starts;
    let keep_replay = session.checkpoint_replay();
    if let Some((at, s)) = session.resumed::<SacState>()? {
        actor = s.actor.restore(actor)?;
        critics = s.critics.restore(critics)?;
        critics_target = s.critics_target.restore(critics_target)?;
        log_alpha = s.log_alpha.restore(log_alpha)?;
        actor_opt = s.actor_opt.restore(actor_opt)?;
        critic_opt = s.critic_opt.restore(critic_opt)?;
        alpha_opt = s.alpha_opt.restore(alpha_opt)?;
        (explore, sampler, train_from) = (s.explore, s.sampler, s.train_from);
        match s.replay {
            Some(saved) => replay = saved,
            None => train_from = at + cfg.learning_starts,
        }
        collector.restore(&s.collector);
        let cols = actor.noise_shape(1)[1];
        sde_noise = s
            .sde_noise
            .iter()
            .map(|w| matrix(w, cols, &plain))
            .collect();
        stats.restore(s.stats, &device);
        (step, vector_steps, gradient_steps) = (at, s.vector_steps, s.gradient_steps);
        diagnostics = s.diagnostics;
    }
    let mut policy = snapshot(&actor);
    let mut acting = actor.valid();
    // A checkpoint follows the evaluation of its step: a resumed run has had it.
    if step == 0 {
        session.evaluate(0, &mut policy, &diagnostics)?;
    }
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while step < total {
        let round_step = vector_steps % cfg.train_freq;
        if cfg.use_sde
            && (round_step == 0
                || (cfg.sde_sample_freq > 0
                    && round_step.is_multiple_of(cfg.sde_sample_freq as u64)))
        {
            let shape = acting.noise_shape(1);
            sde_noise = (0..n_envs)
                .map(|_| {
                    matrix(
                        &normals(&mut explore, shape[0] * shape[1]),
                        shape[1],
                        &plain,
                    )
                })
                .collect();
        }
        if step < cfg.learning_starts {
            actions.fill_with(|| explore.random_range(-1.0..=1.0));
        } else if cfg.use_sde {
            // Each env keeps its own exploration weights W.
            for (e, noise) in sde_noise.iter().enumerate() {
                let obs = matrix(
                    &collector.obs[e * obs_dim..(e + 1) * obs_dim],
                    obs_dim,
                    &plain,
                );
                let (a, _) = acting.sample(obs, noise.clone());
                actions[e * act_dim..(e + 1) * act_dim].copy_from_slice(&to_vec(a));
            }
        } else {
            let noise = matrix(&normals(&mut explore, n_envs * act_dim), act_dim, &plain);
            let (a, _) = acting.sample(matrix(&collector.obs, obs_dim, &plain), noise);
            actions = to_vec(a);
        }
        collector.step(&actions, &mut replay, session, &mut step)?;
        vector_steps += 1;

        if vector_steps % cfg.train_freq == 0 && step > train_from {
            for _ in 0..cfg.gradient_steps {
                replay.sample_uniform(cfg.batch_size, &mut sampler, &mut batch);
                let b = batch.len();
                let obs = matrix(&batch.observations, obs_dim, &device);
                let next_obs = matrix(&batch.next_observations, obs_dim, &device);

                // Temperature. (With gSDE one draw of W serves the batch and the target.)
                let shape = actor.noise_shape(b);
                let mut draw = || {
                    matrix(
                        &normals(&mut sampler, shape[0] * shape[1]),
                        shape[1],
                        &device,
                    )
                };
                let noise = draw();
                let next_noise = if cfg.use_sde { noise.clone() } else { draw() };
                let (pi_actions, log_prob) = actor.sample(obs.clone(), noise);
                let alpha = log_alpha.value.val().detach().exp();
                if cfg.learn_ent_coef {
                    let gap = log_prob.clone().detach().add_scalar(target_entropy);
                    let loss = (log_alpha.value.val() * gap).mean().neg();
                    let grads = GradientsParams::from_grads(loss.backward(), &log_alpha);
                    log_alpha = alpha_opt.step(cfg.learning_rate, log_alpha, grads);
                }

                // Critics.
                let y = {
                    let (next_actions, next_log_prob) =
                        actor.clone().no_grad().sample(next_obs.clone(), next_noise);
                    let soft_q =
                        critics_target.min(next_obs, next_actions) - next_log_prob * alpha.clone();
                    let not_terminated = vector(&batch.terminated, &device).neg().add_scalar(1.0);
                    vector(&batch.rewards, &device)
                        + vector(&batch.discounts, &device) * not_terminated * soft_q
                }
                .detach();
                let replayed = matrix(&batch.actions, act_dim, &device);
                let qs = critics.forward(obs.clone(), replayed);
                let q_mean = qs[0].clone().detach().mean();
                let loss_q = qs
                    .into_iter()
                    .map(|q| (q - y.clone()).square().mean())
                    .reduce(|a, b| a + b)
                    .expect("two critics")
                    .mul_scalar(0.5);
                let grads = GradientsParams::from_grads(loss_q.backward(), &critics);
                critics = critic_opt.step(cfg.learning_rate, critics, grads);

                // Actor, through the updated critics held fixed.
                let q_pi = critics.clone().no_grad().min(obs, pi_actions);
                let loss_pi = (log_prob.clone() * alpha.clone() - q_pi).mean();
                let grads = GradientsParams::from_grads(loss_pi.backward(), &actor);
                actor = actor_opt.step(cfg.learning_rate, actor, grads);

                gradient_steps += 1;
                if gradient_steps % cfg.target_update_interval == 0 {
                    critics_target = polyak_update(critics_target, &critics, cfg.tau);
                }
                stats.add(vec![
                    loss_pi.detach(),
                    loss_q.detach(),
                    alpha,
                    log_prob.detach().mean().neg(),
                    q_mean,
                ]);
            }
            acting = actor.valid();
        }
        if session.eval_due(step) {
            diagnostics = stats.take();
            policy = snapshot(&actor);
            session.evaluate(step, &mut policy, &diagnostics)?;
        }
        session.checkpoint(step, || {
            Ok(SacState {
                actor: SavedModule::of(&actor)?,
                critics: SavedModule::of(&critics)?,
                critics_target: SavedModule::of(&critics_target)?,
                log_alpha: SavedModule::of(&log_alpha)?,
                actor_opt: SavedOptimizer::of(&actor_opt)?,
                critic_opt: SavedOptimizer::of(&critic_opt)?,
                alpha_opt: SavedOptimizer::of(&alpha_opt)?,
                explore: explore.clone(),
                sampler: sampler.clone(),
                replay: keep_replay.then(|| replay.clone()),
                train_from,
                collector: collector.state(),
                sde_noise: sde_noise.iter().cloned().map(to_vec).collect(),
                vector_steps,
                gradient_steps,
                stats: stats.state(),
                diagnostics: diagnostics.clone(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &snapshot(&actor).to_bytes()?)
}
