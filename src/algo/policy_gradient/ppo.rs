//! Proximal policy optimisation with the clipped surrogate (Schulman et al. 2017), as
//! Stable-Baselines3 implements it:
//!
//! L = −E[min(r_t Â_t, clip(r_t, 1 − ε, 1 + ε) Â_t)] + c_v E[(V(s_t) − R_t)²] − c_e E[H(π(·|s_t))]
//!
//! with r_t = π(a_t|s_t) / π_old(a_t|s_t), Â_t from GAE(λ), R_t = Â_t + V_old(s_t), several
//! epochs of shuffled minibatches per rollout, global gradient-norm clipping, optional value
//! clipping, linear annealing of the learning rate and ε, and an optional early stop when the
//! approximate KL (Schulman's k3 estimator, E[(r − 1) − log r]) exceeds 1.5 × target_kl.

use std::path::Path;

use anyhow::Context;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::seq::SliceRandom;

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::rollout::{Collector, Normalization};
use super::{explained_variance, saved};
use crate::algo::{Algorithm, Kind};
use crate::buffer::RolloutBuffer;
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::nn::{Acting, ActionKind, ActorCritic, PolicyConfig, adam, clip_grad_norm, to_vec};
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
        ..normalization: Normalization;
        [policy]: PolicyConfig;
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
    }
}

impl Algorithm for PpoConfig {
    const NAME: &'static str = "ppo";
    const SUMMARY: &'static str = "proximal policy optimisation, clipped surrogate + GAE + minibatch epochs (Schulman et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
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
    let mut optimizer = adam(1e-5);
    let mut minibatch_rng = session.rng(Stream::Minibatch);
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut indices: Vec<usize> = (0..cfg.n_steps * n_envs).collect();
    if let Some((at, state)) = session.resumed::<OnPolicyState>()? {
        let order;
        (diagnostics, order) = state.restore(&mut model, &mut [&mut optimizer], &mut collector)?;
        let order = order.context("a PPO checkpoint holds its minibatch order")?;
        (minibatch_rng, indices) = (order.rng, order.indices);
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

        let mut sums = None::<Tensor<1>>;
        let mut minibatches = 0usize;
        'epochs: for _ in 0..cfg.n_epochs {
            indices.shuffle(&mut minibatch_rng);
            for chunk in indices.chunks(cfg.batch_size) {
                let mb = buffer.minibatch(chunk, cfg.normalize_advantage, &device);
                let (out, values) = model.forward(mb.observations);
                let (log_prob, entropy) = model.log_prob_entropy(out, &mb.actions);
                let log_ratio = log_prob - mb.old_log_probs;
                let ratio = log_ratio.clone().exp();
                let surrogate = mb.advantages.clone() * ratio.clone();
                let clipped = mb.advantages * ratio.clone().clamp(1.0 - clip, 1.0 + clip);
                let loss_pi = surrogate.min_pair(clipped).mean().neg();
                let values = match cfg.clip_range_vf {
                    Some(vf_clip) => {
                        mb.old_values.clone() + (values - mb.old_values).clamp(-vf_clip, vf_clip)
                    }
                    None => values,
                };
                let loss_v = (mb.returns - values).square().mean();
                let entropy = entropy.mean();
                let loss = loss_pi.clone() + loss_v.clone().mul_scalar(cfg.vf_coef)
                    - entropy.clone().mul_scalar(cfg.ent_coef);

                let ratio = ratio.detach();
                let approx_kl = (ratio.clone().sub_scalar(1.0) - log_ratio.detach()).mean();
                if let Some(target) = cfg.target_kl {
                    let kl = f64::from(approx_kl.clone().into_scalar::<f32>());
                    if kl > 1.5 * target {
                        break 'epochs;
                    }
                }
                let clip_fraction = ratio
                    .sub_scalar(1.0)
                    .abs()
                    .greater_elem(clip)
                    .float()
                    .mean();
                let stats = Tensor::cat(
                    vec![
                        loss_pi.detach(),
                        loss_v.detach(),
                        entropy.detach(),
                        approx_kl,
                        clip_fraction,
                    ],
                    0,
                );
                sums = Some(match sums {
                    Some(s) => s + stats,
                    None => stats,
                });
                minibatches += 1;

                let mut grads = GradientsParams::from_grads(loss.backward(), &model);
                clip_grad_norm(&model, &mut grads, cfg.max_grad_norm);
                model = optimizer.step(lr, model, grads);
            }
        }
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = match sums {
            Some(s) => to_vec(s)
                .iter()
                .map(|&x| f64::from(x) / minibatches as f64)
                .collect(),
            None => vec![f64::NAN; 5],
        };
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(lr);
        session.checkpoint(step, || {
            let order = MinibatchOrder {
                rng: minibatch_rng.clone(),
                indices: indices.clone(),
            };
            OnPolicyState::capture(&model, &[&optimizer], &collector, &diagnostics, Some(order))
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
