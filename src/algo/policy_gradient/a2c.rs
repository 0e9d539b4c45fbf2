//! Advantage actor-critic, the synchronous variant of A3C (Mnih et al. 2016), as
//! Stable-Baselines3 implements it: the training loop. Each rollout of `n_steps` × `num_envs`
//! transitions gets Â_t from GAE(λ) (λ = 1: n-step returns bootstrapped at the rollout's end)
//! and one gradient step of [`update`], with RMSprop (α = 0.99, ε = 1e-5) or Adam and either one
//! optimiser for both nets or one each.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::a2c_update::{A2cOptimizers, A2cUpdate, update};
use super::checkpoint::OnPolicyState;
use super::rollout::{Collector, Normalization};
use super::{explained_variance, saved};
use crate::algo::{Algorithm, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::RolloutBuffer;
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, PolicyConfig, adam, rmsprop};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

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

hyperparameters! {
    /// A2C's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct A2cConfig {
        /// optimiser step size
        learning_rate: f64 = 7e-4, positive;
        /// anneal the learning rate linearly to 0
        anneal_lr: bool = false;
        /// steps per env per update (rollout = n_steps × num_envs)
        n_steps: usize = 5, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// GAE λ ∈ [0, 1] (1: n-step returns)
        gae_lambda: f64 = 1.0, in_closed(0.0, 1.0);
        /// entropy bonus coefficient
        ent_coef: f64 = 0.0, finite;
        /// value loss coefficient
        vf_coef: f64 = 0.5, non_negative;
        /// global gradient-norm bound
        max_grad_norm: f64 = 0.5, positive;
        /// standardise advantages per update
        normalize_advantage: bool = false;
        /// "rmsprop" (α 0.99, ε 1e-5) or "adam" (ε 1e-5)
        optimizer: A2cOptimizer = A2cOptimizer::Rmsprop;
        /// one optimiser for the policy net, one for the value net
        separate_optimizers: bool = false;
        ..normalization: Normalization;
        [policy]: PolicyConfig;
    }
    check: Self::check_optimizers;
}

impl A2cConfig {
    fn check_optimizers(&self, c: &mut Checker) {
        c.require(
            "separate_optimizers",
            !(self.separate_optimizers && self.policy.share_features_extractor),
            || "separate optimisers need separate nets: set policy.share_features_extractor = false".into(),
        );
    }
}

impl Algorithm for A2cConfig {
    const NAME: &'static str = "a2c";
    const SUMMARY: &'static str =
        "advantage actor-critic, n-step returns or GAE, one step per rollout (Mnih et al. 2016)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.policy, self.n_steps, run)
    }

    /// One update per rollout of `n_steps × num_envs` rows.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let rollout = self.n_steps * run.num_envs;
        let updates = run.total_steps.div_ceil(rollout as u64);
        Some(super::update_work(&self.policy, run, updates, rollout))
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let normalize_obs = self.normalization.normalize_obs;
        super::saved_policy(&self.policy, normalize_obs, backend, env, run_dir)
    }
}

const DIAGNOSTICS: [&str; 5] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "explained_variance",
    "learning_rate",
];

/// A fresh optimiser of `cfg`'s kind.
pub fn optimizer(cfg: &A2cConfig) -> burn::optim::ModuleOptimizer {
    match cfg.optimizer {
        A2cOptimizer::Rmsprop => rmsprop(0.99, 1e-5),
        A2cOptimizer::Adam => adam(1e-5),
    }
}

pub fn train(cfg: &A2cConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let normalization = cfg.normalization;
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
        session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
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
