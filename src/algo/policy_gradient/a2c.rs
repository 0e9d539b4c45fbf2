//! Advantage actor-critic, the synchronous variant of A3C (Mnih et al. 2016), as
//! Stable-Baselines3 implements it: the training loop. Each rollout of `n_steps` × `num_envs`
//! transitions gets Â_t from GAE(λ) (λ = 1: n-step returns bootstrapped at the rollout's end)
//! and one gradient step of [`update`], with RMSprop (α = 0.99, ε = 1e-5) or Adam and either one
//! optimiser for both nets or one each.

use burn::optim::RmsPropConfig;
use serde::{Deserialize, Serialize};

use super::a2c_update::{A2cOptimizers, A2cUpdate, update};
use super::checkpoint::OnPolicyState;
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

/// The optimiser of A2C.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum A2cOptimizer {
    /// RMSprop (α = 0.99, ε = 1e-5, no momentum), SB3's default for A2C.
    #[default]
    Rmsprop,
    /// Adam (ε = 1e-5).
    Adam,
}

/// A2C's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct A2cConfig {
    pub learning_rate: f64,
    pub anneal_lr: bool,
    pub n_steps: usize,
    pub gamma: f64,
    pub gae_lambda: f64,
    pub ent_coef: f64,
    pub vf_coef: f64,
    pub max_grad_norm: f64,
    pub normalize_advantage: bool,
    pub optimizer: A2cOptimizer,
    /// One optimiser for the policy net and one for the value net (needs separate nets).
    pub separate_optimizers: bool,
    pub normalize_obs: bool,
    pub normalize_reward: bool,
    pub clip_obs: f64,
    pub policy: PolicyConfig,
}

impl Default for A2cConfig {
    fn default() -> Self {
        Self {
            learning_rate: 7e-4,
            anneal_lr: false,
            n_steps: 5,
            gamma: 0.99,
            gae_lambda: 1.0,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            normalize_advantage: false,
            optimizer: A2cOptimizer::Rmsprop,
            separate_optimizers: false,
            normalize_obs: false,
            normalize_reward: false,
            clip_obs: 10.0,
            policy: PolicyConfig::default(),
        }
    }
}

impl Hyperparameters for A2cConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "optimiser step size"),
        ("anneal_lr", "anneal the learning rate linearly to 0"),
        (
            "n_steps",
            "steps per env per update (rollout = n_steps × num_envs)",
        ),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("gae_lambda", "GAE λ ∈ [0, 1] (1: n-step returns)"),
        ("ent_coef", "entropy bonus coefficient"),
        ("vf_coef", "value loss coefficient"),
        ("max_grad_norm", "global gradient-norm bound"),
        ("normalize_advantage", "standardise advantages per update"),
        (
            "optimizer",
            "\"rmsprop\" (α 0.99, ε 1e-5) or \"adam\" (ε 1e-5)",
        ),
        (
            "separate_optimizers",
            "one optimiser for the policy net, one for the value net",
        ),
        NORMALIZATION_HELP[0],
        NORMALIZATION_HELP[1],
        NORMALIZATION_HELP[2],
        POLICY_HELP,
    ];

    fn check(&self, c: &mut Checker) {
        c.positive("learning_rate", self.learning_rate);
        c.require("n_steps", self.n_steps > 0, || "must be > 0".into());
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.in_closed("gae_lambda", self.gae_lambda, 0.0, 1.0);
        c.finite("ent_coef", self.ent_coef);
        c.require(
            "vf_coef",
            self.vf_coef.is_finite() && self.vf_coef >= 0.0,
            || format!("must be a finite number >= 0, got {}", self.vf_coef),
        );
        c.positive("max_grad_norm", self.max_grad_norm);
        c.require(
            "separate_optimizers",
            !(self.separate_optimizers && self.policy.share_features_extractor),
            || "separate optimisers need separate nets: set policy.share_features_extractor = false".into(),
        );
        c.positive("clip_obs", self.clip_obs);
        self.policy.check(c);
    }
}

const DIAGNOSTICS: [&str; 5] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "explained_variance",
    "learning_rate",
];

fn optimizer(cfg: &A2cConfig) -> burn::optim::ModuleOptimizer {
    match cfg.optimizer {
        A2cOptimizer::Rmsprop => RmsPropConfig::new()
            .with_alpha(0.99)
            .with_epsilon(1e-5)
            .with_momentum(0.0)
            .init(),
        A2cOptimizer::Adam => adam(1e-5),
    }
}

pub fn train(cfg: &A2cConfig, session: &mut Session) -> anyhow::Result<()> {
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
    // Either one optimiser for everything, or the actor's and the critic's.
    let mut optimizers = A2cOptimizers {
        actor: optimizer(cfg),
        critic: cfg.separate_optimizers.then(|| optimizer(cfg)),
    };
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<OnPolicyState>()? {
        let mut saved = vec![&mut optimizers.actor];
        saved.extend(optimizers.critic.as_mut());
        (diagnostics, _) = state.restore(&mut model, &mut saved, &mut collector)?;
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        buffer.compute_advantages(&last_values, cfg.gamma, cfg.gae_lambda);
        let remaining = 1.0 - (step as f64 / total as f64).min(1.0);
        let lr = if cfg.anneal_lr {
            cfg.learning_rate * remaining
        } else {
            cfg.learning_rate
        };
        let stats;
        (model, stats) = update(
            model,
            &mut optimizers,
            &buffer,
            &A2cUpdate::new(cfg, lr),
            &device,
        );
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = vec![stats.loss_pi, stats.loss_v, stats.entropy];
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(lr);
        session.checkpoint(step, || {
            let mut saved = vec![&optimizers.actor];
            saved.extend(optimizers.critic.as_ref());
            OnPolicyState::capture(&model, &saved, &collector, &diagnostics, None)
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
