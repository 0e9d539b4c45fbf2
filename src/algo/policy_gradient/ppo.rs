//! Proximal policy optimisation with the clipped surrogate (Schulman et al. 2017), as
//! Stable-Baselines3 implements it: the training loop. It collects rollouts of `n_steps` per
//! env, computes Â_t by GAE(λ) and R_t = Â_t + V_old(s_t), anneals the learning rate and ε
//! linearly when asked, and runs [`update`] (epochs of shuffled minibatches on the clipped
//! surrogate) on each rollout.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::ppo_update::{PpoUpdate, update};
use super::rollout::{Collector, Normalization};
use super::{NORMALIZATION_HELP, explained_variance, saved};
use crate::algo::Hyperparameters;
use crate::buffer::RolloutBuffer;
use crate::config::Checker;
use crate::nn::policy::POLICY_HELP;
use crate::nn::{
    Acting, ActionKind, ActorCritic, PolicyConfig, adam, plain_device, training_device,
};
use crate::rng::Stream;
use crate::run::Session;

/// PPO's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over training (rl-zoo's `lin_<lr>`).
    pub anneal_lr: bool,
    pub n_steps: usize,
    pub batch_size: usize,
    pub n_epochs: usize,
    pub gamma: f64,
    pub gae_lambda: f64,
    pub clip_range: f64,
    /// Anneal ε linearly to 0 over training (rl-zoo's `lin_<ε>`).
    pub anneal_clip_range: bool,
    /// Clip V(s) to within this of its rollout value (none: no value clipping).
    pub clip_range_vf: Option<f64>,
    pub normalize_advantage: bool,
    pub ent_coef: f64,
    pub vf_coef: f64,
    pub max_grad_norm: f64,
    /// Stop the epochs of an update once the approximate KL exceeds 1.5 × this.
    pub target_kl: Option<f64>,
    pub normalize_obs: bool,
    pub normalize_reward: bool,
    pub clip_obs: f64,
    pub policy: PolicyConfig,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            anneal_lr: false,
            n_steps: 2048,
            batch_size: 64,
            n_epochs: 10,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_range: 0.2,
            anneal_clip_range: false,
            clip_range_vf: None,
            normalize_advantage: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            normalize_obs: false,
            normalize_reward: false,
            clip_obs: 10.0,
            policy: PolicyConfig::default(),
        }
    }
}

impl Hyperparameters for PpoConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "Adam step size (Adam ε = 1e-5 as in SB3)"),
        ("anneal_lr", "anneal the learning rate linearly to 0"),
        (
            "n_steps",
            "steps per env per rollout (rollout = n_steps × num_envs)",
        ),
        ("batch_size", "minibatch size"),
        ("n_epochs", "passes over each rollout"),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("gae_lambda", "GAE λ ∈ [0, 1] (1: Monte Carlo advantages)"),
        ("clip_range", "surrogate clipping ε > 0"),
        ("anneal_clip_range", "anneal ε linearly to 0"),
        (
            "clip_range_vf",
            "clip V(s) to within this of its rollout value (unset: off)",
        ),
        (
            "normalize_advantage",
            "standardise advantages per minibatch",
        ),
        ("ent_coef", "entropy bonus coefficient"),
        ("vf_coef", "value loss coefficient"),
        ("max_grad_norm", "global gradient-norm bound"),
        (
            "target_kl",
            "early-stop an update when approx KL > 1.5 × this (unset: off)",
        ),
        NORMALIZATION_HELP[0],
        NORMALIZATION_HELP[1],
        NORMALIZATION_HELP[2],
        POLICY_HELP,
    ];

    fn check(&self, c: &mut Checker) {
        c.positive("learning_rate", self.learning_rate);
        c.require("n_steps", self.n_steps > 0, || "must be > 0".into());
        c.require(
            "batch_size",
            self.batch_size > 1 || !self.normalize_advantage,
            || {
                "must be > 1 when normalize_advantage (a standard deviation needs two samples)"
                    .into()
            },
        );
        c.require("batch_size", self.batch_size > 0, || "must be > 0".into());
        c.require("n_epochs", self.n_epochs > 0, || "must be > 0".into());
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.in_closed("gae_lambda", self.gae_lambda, 0.0, 1.0);
        c.positive("clip_range", self.clip_range);
        if let Some(v) = self.clip_range_vf {
            c.positive("clip_range_vf", v);
        }
        c.finite("ent_coef", self.ent_coef);
        c.require(
            "vf_coef",
            self.vf_coef.is_finite() && self.vf_coef >= 0.0,
            || format!("must be a finite number >= 0, got {}", self.vf_coef),
        );
        c.positive("max_grad_norm", self.max_grad_norm);
        if let Some(kl) = self.target_kl {
            c.positive("target_kl", kl);
        }
        c.positive("clip_obs", self.clip_obs);
        self.policy.check(c);
    }
}

/// Diagnostics of one update (means over the minibatches done).
const DIAGNOSTICS: [&str; 7] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "learning_rate",
];

pub fn train(cfg: &PpoConfig, session: &mut Session) -> anyhow::Result<()> {
    let backend = session.experiment().experiment.backend;
    let device = training_device(backend)?;
    let plain = plain_device(backend)?;
    let normalization = Normalization {
        obs: cfg.normalize_obs,
        reward: cfg.normalize_reward,
        clip: cfg.clip_obs,
    };
    let mut collector = Collector::new(session, normalization, cfg.gamma, true)?;
    let spec = collector.envs.spec().clone();
    let (obs_dim, n_envs) = (collector.envs.obs_dim(), collector.envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let mut model = ActorCritic::new(
        obs_dim,
        action,
        &cfg.policy,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizer = adam(1e-5);
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..cfg.n_steps * n_envs).collect(),
    };
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<OnPolicyState>()? {
        let saved_order;
        (diagnostics, saved_order) =
            state.restore(&mut model, &mut [&mut optimizer], &mut collector)?;
        order = saved_order.context("a PPO checkpoint holds its minibatch order")?;
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        buffer.compute_advantages(&last_values, cfg.gamma, cfg.gae_lambda);

        // SB3 evaluates its schedules after the rollout, at progress 1 − step / total.
        let remaining = 1.0 - (step as f64 / total as f64).min(1.0);
        let lr = if cfg.anneal_lr {
            cfg.learning_rate * remaining
        } else {
            cfg.learning_rate
        };
        let clip = if cfg.anneal_clip_range {
            cfg.clip_range * remaining
        } else {
            cfg.clip_range
        };
        let hp = PpoUpdate::new(cfg, lr, clip);
        let stats;
        (model, stats) = update(model, &mut optimizer, &buffer, &mut order, &hp, &device);
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(lr);
        session.checkpoint(step, || {
            OnPolicyState::capture(
                &model,
                &[&optimizer],
                &collector,
                &diagnostics,
                Some(order.clone()),
            )
        })?;
        if session.eval_due(step) {
            session.evaluate(
                step,
                &mut collector.evaluation_policy(&acting),
                &diagnostics,
            )?;
        }
    }
    saved::save(session, &model, collector.obs_normalizer.as_ref())
}
