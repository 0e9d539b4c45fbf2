//! Soft Q-learning with a deep Q-network, discrete form (Haarnoja et al. 2017; the soft DQN of
//! Schulman, Chen & Abbeel 2017): DQN's replay and target network with the soft Bellman backup
//!
//! y = r + γ (1 − terminated) α log Σ_a' exp(Q'(s', a')/α)
//!
//! and the Boltzmann policy π(a|s) ∝ exp(Q(s, a)/α) for acting (uniform until
//! `learning_starts`); one gradient step is [`update`]. The temperature α is fixed
//! (`ent_coef`) or annealed to `ent_coef_final` over the first `ent_coef_fraction` of the
//! budget. Evaluation runs the greedy action argmax_a Q(s, a), as for DQN.

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dqn::TdLoss;
use super::greedy::{self, GreedyPolicy, MODEL_FILE};
use super::soft_q_update::{SoftQUpdate, update};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::footprint::mlp_parameters;
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::schedule::{Decay, EpsilonSchedule};
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::buffer::Transition;
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Env, Space};
use crate::hyper::hyperparameters;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::q_network::{QNetwork, QNetworkConfig};
use crate::nn::{Backend, SavedModule, SavedOptimizer, adam};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Soft DQN's hyperparameters (DQN's names; α in SAC's `ent_coef`).
    pub struct SoftDqnConfig {
        ..off_policy: OffPolicyConfig = OffPolicyConfig {
            learning_rate: 1e-3,
            batch_size: 64,
            buffer_size: 100_000,
            learning_starts: 1_000,
            ..Default::default()
        };
        /// env steps between target updates (each a Polyak step with tau)
        target_update_interval: u64 = 1, nonzero;
        /// temperature α > 0 of the soft backup and the Boltzmann policy (its initial value when annealed)
        ent_coef: f64 = 0.1, positive;
        /// α after annealing (unset: α stays at ent_coef)
        ent_coef_final: Option<f64> = None, positive;
        /// fraction of total_steps over which α anneals
        ent_coef_fraction: f64 = 0.5, in_closed(0.0, 1.0);
        /// "linear" or "exponential" (geometric) annealing of α
        ent_coef_decay: Decay = Decay::Exponential;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// "huber" (smooth L1) or "mse"
        loss: TdLoss = TdLoss::Mse;
        [policy]: QNetworkConfig = QNetworkConfig { net_arch: vec![256, 256], ..Default::default() };
    }
}

impl Algorithm for SoftDqnConfig {
    const NAME: &'static str = "soft_dqn";
    const SUMMARY: &'static str = "soft Q-learning with a deep Q-network: soft Bellman backup α log Σ exp(Q'/α), Boltzmann exploration (Haarnoja et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let q = mlp_parameters(run.obs_dim(), &self.policy.net_arch, run.action_outputs());
        self.off_policy.footprint(run, false, q, q)
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
        Ok(Box::new(greedy::load(
            &self.policy,
            false,
            backend,
            env,
            run_dir,
        )?))
    }
}

impl SoftDqnConfig {
    /// α over a run of `total_steps` steps.
    fn temperature(&self, total_steps: u64) -> EpsilonSchedule {
        EpsilonSchedule {
            initial: self.ent_coef,
            last: self.ent_coef_final.unwrap_or(self.ent_coef),
            fraction: self.ent_coef_fraction,
            decay: self.ent_coef_decay,
            total_steps,
        }
    }
}

/// Samples a ~ π(·|s) ∝ exp(Q(s, ·)/α) from one row of Q-values.
pub fn boltzmann(q: &[f32], alpha: f64, rng: &mut Rng) -> usize {
    let max = q.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = q
        .iter()
        .map(|&x| ((x as f64 - max) / alpha).exp())
        .collect();
    let mut u = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (a, w) in weights.iter().enumerate() {
        if u < *w {
            return a;
        }
        u -= w;
    }
    q.len() - 1
}

/// Diagnostics: means over the gradient steps since the last evaluation, and the schedule.
const DIAGNOSTICS: [&str; 3] = ["loss", "q_mean", "alpha"];

/// Soft DQN's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct SoftDqnState {
    q: SavedModule,
    q_target: SavedModule,
    optimizer: SavedOptimizer,
    envs: VecEnvSnapshot,
    stats: MeansState,
}

pub fn train(cfg: &SoftDqnConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_vec_env()?;
    let (n_envs, obs_dim) = (envs.num_envs(), envs.obs_dim());
    let Space::Discrete(n_actions) = envs.spec().action_space else {
        anyhow::bail!("soft_dqn needs discrete actions (checked with the config)");
    };
    let mut q = QNetwork::new(
        obs_dim,
        n_actions,
        &cfg.policy,
        false,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut q_target = target_copy(&q);
    let mut optimizer = adam(1e-8);
    let total = session.total_steps();
    let alpha = cfg.temperature(total);
    let settings = Settings {
        buffer_size: cfg.off_policy.buffer_size,
        batch_size: cfg.off_policy.batch_size,
        learning_starts: cfg.off_policy.learning_starts,
        train_freq: cfg.off_policy.train_freq,
        prioritized: None,
    };
    let diagnostics = vec![f64::NAN, f64::NAN, alpha.value(0)];
    let mut off = OffPolicy::new(session, settings, obs_dim, 1, diagnostics);
    let target_every = (cfg.target_update_interval / n_envs as u64).max(1);
    let gamma = cfg.off_policy.gamma as f32;
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut stats = DeviceMeans::new(&DIAGNOSTICS[..2]);
    if let Some(state) = off.resume::<SoftDqnState>(session)? {
        q = state.q.restore(q)?;
        q_target = state.q_target.restore(q_target)?;
        optimizer = state.optimizer.restore(optimizer)?;
        envs.restore(&state.envs);
        stats.restore(state.stats, &device);
    }
    let mut greedy = GreedyPolicy::new(&q, obs_dim, &plain);
    off.evaluate_at_start(session, &mut greedy)?;
    let mut obs = envs.observations().to_vec();
    let mut actions = vec![0usize; n_envs];
    while off.step < total {
        let a = alpha.value(off.step);
        if off.exploring() {
            for action in actions.iter_mut() {
                *action = off.explore.random_range(0..n_actions);
            }
        } else {
            let q_values = greedy.q_values(&obs);
            for (action, row) in actions.iter_mut().zip(q_values.chunks_exact(n_actions)) {
                *action = boltzmann(row, a, &mut off.explore);
            }
        }
        envs.step_discrete(&actions);
        let (terminated, truncated) = (envs.terminated(), envs.truncated());
        for e in 0..n_envs {
            let next_obs = if terminated[e] || truncated[e] {
                envs.final_observation(e)
            } else {
                envs.observation(e)
            };
            off.replay.add(&Transition {
                obs: &obs[e * obs_dim..(e + 1) * obs_dim],
                action: &[actions[e] as f32],
                reward: envs.rewards()[e] as f32,
                next_obs,
                terminated: terminated[e],
                truncated: truncated[e],
                discount: gamma,
            });
        }
        obs.copy_from_slice(envs.observations());
        off.step += n_envs as u64;
        off.vector_steps += 1;
        session.record_episodes(off.step, envs.ended())?;

        if off.train_due() {
            let hp = SoftQUpdate {
                learning_rate: cfg.off_policy.learning_rate,
                alpha: a,
                loss: cfg.loss,
                max_grad_norm: cfg.max_grad_norm,
            };
            for _ in 0..cfg.off_policy.gradient_steps {
                off.sample();
                let step_stats;
                (q, step_stats) = update(q, &q_target, &mut optimizer, &off.batch, &hp, &device);
                stats.add(off.step, vec![step_stats.loss, step_stats.q_mean]);
            }
            greedy = GreedyPolicy::new(&q, obs_dim, &plain);
        }
        if off.vector_steps.is_multiple_of(target_every) {
            q_target = polyak_update(q_target, &q, cfg.off_policy.tau);
        }
        if session.eval_due(off.step) {
            let mut diagnostics = stats.take(session)?;
            diagnostics.push(alpha.value(off.step));
            off.evaluate(session, &mut greedy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(SoftDqnState {
                q: SavedModule::of(&q)?,
                q_target: SavedModule::of(&q_target)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                envs: envs.snapshot(),
                stats: stats.state(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &greedy.to_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// Sampled frequencies match exp(Q/α) / Σ exp(Q/α).
    #[test]
    fn boltzmann_frequencies() {
        let q = [1.0, 1.5, 0.0];
        let alpha = 0.5;
        let z: f64 = q.iter().map(|&x| (x as f64 / alpha).exp()).sum();
        let mut rng = rng::from_seed(3);
        let n = 60_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[boltzmann(&q, alpha, &mut rng)] += 1;
        }
        for (a, c) in counts.iter().enumerate() {
            let p = (q[a] as f64 / alpha).exp() / z;
            assert!((*c as f64 / n as f64 - p).abs() < 0.01, "{counts:?}");
        }
    }
}
