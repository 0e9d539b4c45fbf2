//! REINFORCE (Williams 1992) with reward-to-go and an optional learned baseline:
//!
//! ∇J ≈ E[Σ_t ∇ log π(a_t|s_t) (G_t − b(s_t))],  G_t = Σ_{l ≥ 0} γ^l r_{t+l}
//!
//! where b = 0 or b = V(s) fitted by regression on G_t (CS285 lecture 5). Each update uses the
//! complete episodes of a rollout of `n_steps` × `num_envs` steps: a Monte Carlo return needs
//! the episode's end, so the unfinished tail of each env's rollout is left out of the loss (the
//! `used_fraction` diagnostic). With a learned baseline, an episode cut by the time limit
//! bootstraps its last reward with γ V(final observation); without one it is treated as ended.

use std::path::Path;

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::OnPolicyState;
use super::rollout::{Collector, Normalization};
use super::saved;
use crate::algo::{Algorithm, Footprint, Kind, RunShape};
use crate::buffer::{RolloutBuffer, discounted_returns};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::nn::{Acting, ActionKind, ActorCritic, PolicyConfig, adam, clip_grad_norm, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// The baseline subtracted from the return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// None: the plain Monte Carlo policy gradient.
    None,
    /// A learned state value V(s).
    #[default]
    Value,
}

hyperparameters! {
    /// REINFORCE's hyperparameters.
    pub struct ReinforceConfig {
        /// Adam step size
        learning_rate: f64 = 1e-3, positive;
        /// steps per env per update; only complete episodes enter the loss
        n_steps: usize = 2048, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// "value" (learned V(s)) or "none"
        baseline: Baseline = Baseline::Value;
        /// standardise G_t − b(s_t) per update
        normalize_advantage: bool = true;
        /// entropy bonus coefficient
        ent_coef: f64 = 0.0, finite;
        /// value loss coefficient (baseline = "value")
        vf_coef: f64 = 0.5, non_negative;
        /// global gradient-norm bound (unset: none)
        max_grad_norm: Option<f64> = None, positive;
        ..normalization: Normalization;
        [policy]: PolicyConfig;
    }
}

impl Algorithm for ReinforceConfig {
    const NAME: &'static str = "reinforce";
    const SUMMARY: &'static str =
        "Monte Carlo policy gradient with reward-to-go and a learned baseline (Williams 1992)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.policy, self.n_steps, run)
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
    "used_fraction",
    "learning_rate",
];

/// Rows of the rollout that lie in episodes that ended within it.
fn complete_episode_rows(buffer: &RolloutBuffer) -> Vec<usize> {
    let n = buffer.n_envs;
    let mut rows = Vec::with_capacity(buffer.len());
    for e in 0..n {
        let last_end = (0..buffer.n_steps).rev().find(|&t| buffer.ended[t * n + e]);
        if let Some(last) = last_end {
            rows.extend((0..=last).map(|t| t * n + e));
        }
    }
    rows.sort_unstable();
    rows
}

pub fn train(cfg: &ReinforceConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let normalization = cfg.normalization;
    let learned_baseline = cfg.baseline == Baseline::Value;
    let mut collector = Collector::new(session, normalization, cfg.gamma, learned_baseline)?;
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
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<OnPolicyState>()? {
        (diagnostics, _) = state.restore(&mut model, &mut [&mut optimizer], &mut collector)?;
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        let returns = discounted_returns(
            &buffer.bootstrapped_rewards(),
            &buffer.ended,
            &vec![0.0; n_envs],
            cfg.gamma,
        );
        buffer.advantages = if learned_baseline {
            returns
                .iter()
                .zip(&buffer.values)
                .map(|(g, v)| g - v)
                .collect()
        } else {
            returns.clone()
        };
        buffer.returns = returns;
        let rows = complete_episode_rows(&buffer);
        let used_fraction = rows.len() as f64 / buffer.len() as f64;
        if !rows.is_empty() {
            let mb = buffer.minibatch(&rows, cfg.normalize_advantage && rows.len() > 1, &device);
            let (out, values) = model.forward(mb.observations);
            let (log_prob, entropy) = model.log_prob_entropy(out, &mb.actions);
            let loss_pi = (log_prob * mb.advantages).mean().neg();
            let loss_v = (mb.returns - values).square().mean();
            let entropy = entropy.mean();
            let mut loss = loss_pi.clone() - entropy.clone().mul_scalar(cfg.ent_coef);
            if learned_baseline {
                loss = loss + loss_v.clone().mul_scalar(cfg.vf_coef);
            }
            let stats = Tensor::cat(vec![loss_pi.detach(), loss_v.detach(), entropy.detach()], 0);
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            if let Some(max_norm) = cfg.max_grad_norm {
                clip_grad_norm(&model, &mut grads, max_norm);
            }
            model = optimizer.step(cfg.learning_rate, model, grads);
            acting = Acting::new(&model, action, obs_dim, &plain);
            diagnostics = to_vec(stats).into_iter().map(f64::from).collect();
            session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
            if !learned_baseline {
                diagnostics[1] = f64::NAN;
            }
        } else {
            diagnostics = vec![f64::NAN; 3];
        }
        diagnostics.push(used_fraction);
        diagnostics.push(cfg.learning_rate);
        session.checkpoint(step, || {
            OnPolicyState::capture(&model, &[&optimizer], &collector, &diagnostics, None)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two envs, three steps: env 0 ends at t = 1 (rows 0, 2 used), env 1 never ends.
    #[test]
    fn only_complete_episodes_enter_the_loss() {
        let mut buffer = RolloutBuffer::new(3, 2, 1, ActionKind::Discrete(2));
        for t in 0..3 {
            buffer.push(&[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]);
            buffer.finish_test_step(&[1.0, 1.0], |e| e == 0 && t == 1);
        }
        assert_eq!(complete_episode_rows(&buffer), vec![0, 2]);
    }
}
