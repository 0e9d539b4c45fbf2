//! Proximal policy optimisation with the clipped surrogate (Schulman et al. 2017), as
//! Stable-Baselines3 implements it: the training loop. It collects rollouts of `n_steps` per
//! env, computes Â_t by GAE(λ) and R_t = Â_t + V_old(s_t), anneals the learning rate and ε
//! linearly when asked, and runs [`update`] (epochs of shuffled minibatches on the clipped
//! surrogate) on each rollout. With `[algo.bonus]` the run is PPO + RND (Burda et al. 2019),
//! see [`super::ppo_rnd`].

use std::path::Path;

use anyhow::Context;

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::ppo_update::{ADAM_EPSILON, PpoUpdate, update};
use super::rollout::{Collector, Normalization};
use super::{explained_variance, saved};
use crate::algo::exploration::BonusConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::RolloutBuffer;
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, PolicyConfig, adam};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// PPO's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct PpoConfig {
        /// Adam step size (Adam ε = 1e-5 as in SB3)
        learning_rate: f64 = 3e-4, positive;
        /// anneal the learning rate linearly to 0
        anneal_lr: bool = false;
        /// steps per env per rollout (rollout = n_steps × num_envs)
        n_steps: usize = 2048, nonzero;
        /// minibatch size
        batch_size: usize = 64, nonzero;
        /// passes over each rollout
        n_epochs: usize = 10, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// GAE λ ∈ [0, 1] (1: Monte Carlo advantages)
        gae_lambda: f64 = 0.95, in_closed(0.0, 1.0);
        /// surrogate clipping ε > 0
        clip_range: f64 = 0.2, positive;
        /// anneal ε linearly to 0
        anneal_clip_range: bool = false;
        /// clip V(s) to within this of its rollout value (unset: off)
        clip_range_vf: Option<f64> = None, positive;
        /// standardise advantages per minibatch
        normalize_advantage: bool = true;
        /// entropy bonus coefficient
        ent_coef: f64 = 0.0, finite;
        /// value loss coefficient
        vf_coef: f64 = 0.5, non_negative;
        /// global gradient-norm bound
        max_grad_norm: f64 = 0.5, positive;
        /// early-stop an update when approx KL > 1.5 × this (unset: off)
        target_kl: Option<f64> = None, positive;
        /// with a bonus: weight of the extrinsic advantage in A = c_E·A_E + c_I·A_I (Burda et al. 2019's 2)
        ext_coef: f64 = 2.0, non_negative;
        /// with a bonus: weight of the intrinsic advantage (Burda et al. 2019's 1)
        int_coef: f64 = 1.0, non_negative;
        /// with a bonus: share of each minibatch the RND predictor is trained on, in (0, 1]
        update_proportion: f64 = 0.25, in_closed(0.0, 1.0);
        ..normalization: Normalization;
        [policy]: PolicyConfig;
        [bonus]: BonusConfig;
    }
    check: Self::check_minibatch;
}

impl PpoConfig {
    fn check_minibatch(&self, c: &mut Checker) {
        c.require(
            "batch_size",
            self.batch_size != 1 || !self.normalize_advantage,
            || {
                "must be > 1 when normalize_advantage (a standard deviation needs two samples)"
                    .into()
            },
        );
        c.require("update_proportion", self.update_proportion > 0.0, || {
            "must be > 0: the RND predictor is trained on this share of each minibatch".into()
        });
    }

    /// The checks of the PPO variants that take PPO's keys but not its exploration bonus.
    pub fn check_no_bonus(&self, name: &str, c: &mut Checker) {
        c.require("bonus.kind", !self.bonus.enabled(), || {
            format!("must be \"none\": {name} has no exploration bonus (ppo has)")
        });
    }
}

impl Algorithm for PpoConfig {
    const NAME: &'static str = "ppo";
    const SUMMARY: &'static str = "proximal policy optimisation, clipped surrogate + GAE + minibatch epochs (Schulman et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        self.bonus.check_space(&env.spec().observation_space)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        let rollout = self.n_steps * run.num_envs;
        let mut c = CrossChecks::default();
        c.require("algo.batch_size", self.batch_size <= rollout, || {
            format!(
                "{} must be at most the rollout, algo.n_steps × env.num_envs = {} × {} = {rollout}",
                self.batch_size, self.n_steps, run.num_envs
            )
        });
        c.warn(
            "algo.batch_size",
            !rollout.is_multiple_of(self.batch_size),
            || {
                format!(
                    "{} does not divide the rollout of {rollout} (algo.n_steps × env.num_envs): \
                     each epoch ends with a minibatch of {} (as Stable-Baselines3 warns)",
                    self.batch_size,
                    rollout % self.batch_size
                )
            },
        );
        c
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.policy, self.n_steps, run)
    }

    /// `n_epochs` passes over each rollout in minibatches of `batch_size` (a `target_kl` stop
    /// takes fewer).
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let rollout = self.n_steps * run.num_envs;
        let rollouts = run.total_steps.div_ceil(rollout as u64);
        let minibatches = (self.n_epochs * rollout.div_ceil(self.batch_size)) as u64;
        let (updates, batch) = (rollouts * minibatches, self.batch_size);
        Some(super::update_work(&self.policy, run, updates, batch))
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

/// Diagnostics of one update (means over the minibatches done).
pub const DIAGNOSTICS: [&str; 7] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "learning_rate",
];

pub fn train(cfg: &PpoConfig, session: &mut Session) -> anyhow::Result<()> {
    if cfg.bonus.enabled() {
        return super::ppo_rnd::train(cfg, session);
    }
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
    let mut optimizer = adam(ADAM_EPSILON);
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

        let hp = PpoUpdate::scheduled(cfg, step, total);
        let stats;
        (model, stats) = update(model, &mut optimizer, &buffer, &mut order, &hp, &device);
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        let stepped = stats.minibatches > 0;
        session.check_finite(
            step,
            &DIAGNOSTICS,
            diagnostics.iter().map(|&v| stepped.then_some(v)),
        )?;
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(hp.learning_rate);
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
