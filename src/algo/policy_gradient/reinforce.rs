//! REINFORCE (Williams 1992) with reward-to-go and an optional learned baseline:
//!
//! ∇J ≈ E[Σ_t ∇ log π(a_t|s_t) (G_t − b(s_t))],  G_t = Σ_{l ≥ 0} γ^l r_{t+l}
//!
//! where b = 0 or b = V(s) fitted by regression on G_t (CS285 lecture 5). Each update uses the
//! complete episodes of a rollout of `n_steps` × `num_envs` steps: a Monte Carlo return needs
//! the episode's end, so the unfinished tail of each env's rollout is left out of the loss (the
//! `used_fraction` diagnostic). With a learned baseline, an episode cut by the time limit
//! bootstraps its last reward with γ V(final observation); without one it is treated as ended.

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::OnPolicyState;
use super::rollout::{Collector, Normalization};
use super::{NORMALIZATION_HELP, saved};
use crate::algo::Hyperparameters;
use crate::buffer::{RolloutBuffer, discounted_returns};
use crate::config::Checker;
use crate::nn::policy::POLICY_HELP;
use crate::nn::{
    Acting, ActionKind, ActorCritic, PolicyConfig, adam, clip_grad_norm, to_vec,
    };
use crate::rng::Stream;
use crate::session::Session;

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

/// REINFORCE's hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinforceConfig {
    pub learning_rate: f64,
    /// Steps per env per update.
    pub n_steps: usize,
    pub gamma: f64,
    pub baseline: Baseline,
    /// Standardise G_t − b(s_t) over the update's samples.
    pub normalize_advantage: bool,
    pub ent_coef: f64,
    pub vf_coef: f64,
    /// Global gradient-norm bound (unset: no clipping).
    pub max_grad_norm: Option<f64>,
    pub normalize_obs: bool,
    pub normalize_reward: bool,
    pub clip_obs: f64,
    pub policy: PolicyConfig,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            n_steps: 2048,
            gamma: 0.99,
            baseline: Baseline::Value,
            normalize_advantage: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: None,
            normalize_obs: false,
            normalize_reward: false,
            clip_obs: 10.0,
            policy: PolicyConfig::default(),
        }
    }
}

impl Hyperparameters for ReinforceConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "Adam step size"),
        (
            "n_steps",
            "steps per env per update; only complete episodes enter the loss",
        ),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("baseline", "\"value\" (learned V(s)) or \"none\""),
        ("normalize_advantage", "standardise G_t − b(s_t) per update"),
        ("ent_coef", "entropy bonus coefficient"),
        ("vf_coef", "value loss coefficient (baseline = \"value\")"),
        ("max_grad_norm", "global gradient-norm bound (unset: none)"),
        NORMALIZATION_HELP[0],
        NORMALIZATION_HELP[1],
        NORMALIZATION_HELP[2],
        POLICY_HELP,
    ];

    fn check(&self, c: &mut Checker) {
        c.positive("learning_rate", self.learning_rate);
        c.require("n_steps", self.n_steps > 0, || "must be > 0".into());
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.finite("ent_coef", self.ent_coef);
        c.require(
            "vf_coef",
            self.vf_coef.is_finite() && self.vf_coef >= 0.0,
            || format!("must be a finite number >= 0, got {}", self.vf_coef),
        );
        if let Some(g) = self.max_grad_norm {
            c.positive("max_grad_norm", g);
        }
        c.positive("clip_obs", self.clip_obs);
        self.policy.check(c);
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
    let normalization = Normalization {
        obs: cfg.normalize_obs,
        reward: cfg.normalize_reward,
        clip: cfg.clip_obs,
    };
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
            &buffer.rewards,
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
            buffer.finish_step(&[1.0, 1.0], |e| e == 0 && t == 1);
        }
        assert_eq!(complete_episode_rows(&buffer), vec![0, 2]);
    }
}
