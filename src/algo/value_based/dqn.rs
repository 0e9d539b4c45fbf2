//! Deep Q-networks (Mnih et al. 2015) with Stable-Baselines3's vocabulary and defaults, and the
//! Rainbow ingredients as independent flags (Hessel et al. 2018):
//!
//! y = R^(k) + γ^k (1 − terminated) Q'(s_{t+k}, a*),  L = E_w[ℓ(Q(s_t, a_t) − y)]
//!
//! with a* = argmax_a Q'(s', a) (DQN) or argmax_a Q(s', a) (`double`, van Hasselt et al. 2016),
//! Q' the target network (hard copy every `target_update_interval` steps, or Polyak with `tau`),
//! ℓ Huber or squared error, k = `n_step` (Sutton 1988), `dueling` heads (Wang et al. 2016) and
//! `prioritized` replay with importance weights w (Schaul et al. 2016). Exploration is ε-greedy
//! with a linear schedule; actions are uniform until `learning_starts`.

use std::path::Path;

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::greedy::{self, GreedyPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::schedule::EpsilonGreedy;
use crate::algo::{Algorithm, Kind};
use crate::buffer::{
    NStep, PrioritizedReplay, ReplayBatch, ReplayBuffer, Transition, annealed_beta,
};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::nn::distributions::argmax;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::q_network::{QNetwork, QNetworkConfig};
use crate::nn::{SavedModule, SavedOptimizer, adam, clip_grad_norm, matrix, to_vec, vector};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// The regression loss on the TD error δ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TdLoss {
    /// ½δ² for |δ| ≤ 1, |δ| − ½ beyond (PyTorch's `smooth_l1_loss`, SB3's choice).
    #[default]
    Huber,
    /// δ².
    Mse,
}

hyperparameters! {
    /// DQN's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct DqnConfig {
        ..off_policy: OffPolicyConfig = OffPolicyConfig {
            learning_rate: 1e-4,
            batch_size: 32,
            tau: 1.0,
            train_freq: 4,
            ..Default::default()
        };
        /// anneal the learning rate linearly to 0
        anneal_lr: bool = false;
        /// env steps between target updates
        target_update_interval: u64 = 10_000, nonzero;
        ..exploration: EpsilonGreedy;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// "huber" (smooth L1) or "mse"
        loss: TdLoss = TdLoss::Huber;
        /// double DQN: the online net picks a*, the target net values it
        double: bool = false;
        /// dueling heads Q = V + A − mean A
        dueling: bool = false;
        /// proportional prioritised replay with importance weights
        prioritized: bool = false;
        /// k-step returns, stopped at episode ends (1: one-step)
        n_step: usize = 1, nonzero;
        /// priority exponent α ≥ 0 (0: uniform)
        per_alpha: f64 = 0.6, non_negative;
        /// importance-weight exponent β at step 0, annealed to 1
        per_beta0: f64 = 0.4, in_closed(0.0, 1.0);
        /// ε added to |δ| so every priority is positive
        per_eps: f64 = 1e-6, positive;
        [policy]: QNetworkConfig;
    }
    check: Self::check_dueling;
}

impl DqnConfig {
    fn check_dueling(&self, c: &mut Checker) {
        c.require(
            "policy.net_arch",
            !self.dueling || !self.policy.net_arch.is_empty(),
            || "the dueling streams branch off a hidden layer: net_arch needs at least one".into(),
        );
    }
}

impl Algorithm for DqnConfig {
    const NAME: &'static str = "dqn";
    const SUMMARY: &'static str = "deep Q-network with replay and a target net; double, dueling, prioritised, n-step as flags (Mnih et al. 2015)";
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
        let saved = greedy::load(&self.policy, self.dueling, backend, env, run_dir)?;
        Ok(Box::new(saved))
    }
}

/// Diagnostics: means over the gradient steps since the last evaluation, and the schedules.
const DIAGNOSTICS: [&str; 4] = ["loss", "q_mean", "epsilon", "learning_rate"];

/// Uniform or prioritised replay.
#[derive(Clone, Serialize, Deserialize)]
enum Replay {
    Uniform(ReplayBuffer),
    Prioritized(PrioritizedReplay),
}

impl Replay {
    fn add(&mut self, t: &Transition) {
        match self {
            Replay::Uniform(r) => {
                r.add(t);
            }
            Replay::Prioritized(p) => p.add(t),
        }
    }
}

/// Everything a checkpoint needs to continue DQN exactly (taken between env steps).
#[derive(Serialize, Deserialize)]
struct DqnState {
    q: SavedModule,
    q_target: SavedModule,
    optimizer: SavedOptimizer,
    explore: Rng,
    sampler: Rng,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<Replay>,
    /// Training waits until this step (`learning_starts`, later after a resume without replay).
    train_from: u64,
    n_step: NStep,
    envs: VecEnvSnapshot,
    vector_steps: u64,
    stats: MeansState,
    diagnostics: Vec<f64>,
}

pub fn train(cfg: &DqnConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_vec_env()?;
    let (n_envs, obs_dim) = (envs.num_envs(), envs.obs_dim());
    let Space::Discrete(n_actions) = envs.spec().action_space else {
        anyhow::bail!("dqn needs discrete actions (checked with the config)");
    };
    let mut q = QNetwork::new(
        obs_dim,
        n_actions,
        &cfg.policy,
        cfg.dueling,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut q_target = target_copy(&q);
    let mut optimizer = adam(1e-8);
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let storage = ReplayBuffer::new(cfg.off_policy.buffer_size, obs_dim, 1);
    let mut replay = if cfg.prioritized {
        Replay::Prioritized(PrioritizedReplay::new(storage, cfg.per_alpha, cfg.per_eps))
    } else {
        Replay::Uniform(storage)
    };
    let mut n_step = NStep::new(cfg.n_step, cfg.off_policy.gamma, n_envs, obs_dim, 1);
    let total = session.total_steps();
    let epsilon = cfg.exploration.schedule(total);
    // SB3 counts the target interval in vector-env steps.
    let target_every = (cfg.target_update_interval / n_envs as u64).max(1);
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut stats = DeviceMeans::new(2);
    let mut diagnostics = vec![
        f64::NAN,
        f64::NAN,
        epsilon.value(0),
        cfg.off_policy.learning_rate,
    ];
    let (mut step, mut vector_steps) = (0u64, 0u64);
    let mut train_from = cfg.off_policy.learning_starts;
    let keep_replay = session.checkpoint_replay();
    if let Some((at, state)) = session.resumed::<DqnState>()? {
        q = state.q.restore(q)?;
        q_target = state.q_target.restore(q_target)?;
        optimizer = state.optimizer.restore(optimizer)?;
        (explore, sampler) = (state.explore, state.sampler);
        (train_from, n_step) = (state.train_from, state.n_step);
        match state.replay {
            Some(saved) => replay = saved,
            None => train_from = at + cfg.off_policy.learning_starts,
        }
        envs.restore(&state.envs);
        stats.restore(state.stats, &device);
        (step, vector_steps, diagnostics) = (at, state.vector_steps, state.diagnostics);
    }
    let mut greedy = GreedyPolicy::new(&q, obs_dim, &plain);
    // A checkpoint follows the evaluation of its step: a resumed run has had it.
    if step == 0 {
        session.evaluate(0, &mut greedy, &diagnostics)?;
    }
    let mut batch = ReplayBatch::default();
    let mut importance = Vec::with_capacity(cfg.off_policy.batch_size);
    let mut obs = envs.observations().to_vec();
    let mut actions = vec![0usize; n_envs];
    let mut explored = vec![false; n_envs];
    while step < total {
        // ε-greedy (uniform until learning_starts): one forward pass for the greedy envs.
        let eps = if step < cfg.off_policy.learning_starts {
            1.0
        } else {
            epsilon.value(step)
        };
        for (e, random) in explored.iter_mut().enumerate() {
            *random = explore.random::<f64>() < eps;
            if *random {
                actions[e] = explore.random_range(0..n_actions);
            }
        }
        if explored.iter().any(|&r| !r) {
            let q_values = greedy.q_values(&obs);
            for (e, row) in q_values.chunks_exact(n_actions).enumerate() {
                if !explored[e] {
                    actions[e] = argmax(row);
                }
            }
        }
        envs.step_discrete(&actions);
        let (terminated, truncated) = (envs.terminated(), envs.truncated());
        for e in 0..n_envs {
            let next = if terminated[e] || truncated[e] {
                envs.final_observation(e)
            } else {
                envs.observation(e)
            };
            n_step.push(
                e,
                &obs[e * obs_dim..(e + 1) * obs_dim],
                &[actions[e] as f32],
                envs.rewards()[e],
                next,
                terminated[e],
                truncated[e],
                |t| replay.add(t),
            );
        }
        obs.copy_from_slice(envs.observations());
        step += n_envs as u64;
        vector_steps += 1;
        session.record_episodes(step, envs.ended())?;

        let progress = step as f64 / total as f64;
        let lr = if cfg.anneal_lr {
            cfg.off_policy.learning_rate * (1.0 - progress).max(0.0)
        } else {
            cfg.off_policy.learning_rate
        };
        if vector_steps % cfg.off_policy.train_freq == 0 && step > train_from {
            let beta = annealed_beta(cfg.per_beta0, progress);
            for _ in 0..cfg.off_policy.gradient_steps {
                let b = cfg.off_policy.batch_size;
                let weights = match &replay {
                    Replay::Uniform(r) => {
                        r.sample_uniform(b, &mut sampler, &mut batch);
                        None
                    }
                    Replay::Prioritized(p) => {
                        p.sample(b, beta, &mut sampler, &mut batch, &mut importance);
                        Some(&importance[..])
                    }
                };
                let (update, td_errors) =
                    gradient_step(cfg, &q, &q_target, &batch, weights, obs_dim, &device);
                q = optimizer.step(lr, q, update.grads);
                stats.add(vec![update.loss, update.q_mean]);
                if let (Replay::Prioritized(p), Some(td)) = (&mut replay, td_errors) {
                    p.update_priorities(&batch.indices, &to_vec(td));
                }
            }
            greedy = GreedyPolicy::new(&q, obs_dim, &plain);
        }
        if vector_steps % target_every == 0 {
            q_target = polyak_update(q_target, &q, cfg.off_policy.tau);
        }
        if session.eval_due(step) {
            diagnostics = stats.take();
            diagnostics.extend([epsilon.value(step), lr]);
            session.evaluate(step, &mut greedy, &diagnostics)?;
        }
        session.checkpoint(step, || {
            Ok(DqnState {
                q: SavedModule::of(&q)?,
                q_target: SavedModule::of(&q_target)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                explore: explore.clone(),
                sampler: sampler.clone(),
                replay: keep_replay.then(|| replay.clone()),
                train_from,
                n_step: n_step.clone(),
                envs: envs.snapshot(),
                vector_steps,
                stats: stats.state(),
                diagnostics: diagnostics.clone(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &greedy.to_bytes()?)
}

/// The gradients of one step and what to record of it.
struct Update {
    grads: GradientsParams,
    loss: Tensor<1>,
    q_mean: Tensor<1>,
}

/// The loss of one minibatch and its gradients (clipped); the TD errors when replay is
/// prioritised (`weights` given).
fn gradient_step(
    cfg: &DqnConfig,
    q: &QNetwork,
    q_target: &QNetwork,
    batch: &ReplayBatch,
    weights: Option<&[f32]>,
    obs_dim: usize,
    device: &Device,
) -> (Update, Option<Tensor<1>>) {
    let b = batch.len();
    let matrix = |v: &[f32]| matrix(v, obs_dim, device);
    let vector = |v: &[f32]| vector(v, device);
    let actions: Vec<i64> = batch.actions.iter().map(|&a| a as i64).collect();
    let actions = Tensor::<1, Int>::from_data(TensorData::new(actions, [b]), device);

    let next_obs = matrix(&batch.next_observations);
    let target_q = q_target.forward(next_obs.clone());
    let next_q = if cfg.double {
        let best = q.forward(next_obs).detach().argmax(1);
        target_q.gather(1, best)
    } else {
        target_q.max_dim(1)
    }
    .squeeze_dim::<1>(1);
    let not_terminated = vector(&batch.terminated).neg().add_scalar(1.0);
    let y = (vector(&batch.rewards) + vector(&batch.discounts) * not_terminated * next_q).detach();

    let q_taken = q
        .forward(matrix(&batch.observations))
        .gather(1, actions.unsqueeze_dim::<2>(1))
        .squeeze_dim::<1>(1);
    let td = q_taken.clone() - y;
    let per_sample = match cfg.loss {
        TdLoss::Huber => huber(td.clone()),
        TdLoss::Mse => td.clone().square(),
    };
    let loss = match weights {
        Some(w) => (per_sample * vector(w)).mean(),
        None => per_sample.mean(),
    };
    let mut grads = GradientsParams::from_grads(loss.backward(), q);
    clip_grad_norm(q, &mut grads, cfg.max_grad_norm);
    let update = Update {
        grads,
        loss: loss.detach(),
        q_mean: q_taken.detach().mean(),
    };
    (update, weights.map(|_| td.detach()))
}

/// The Huber loss with δ = 1 elementwise: ½x² for |x| ≤ 1, |x| − ½ beyond (Huber 1964).
pub fn huber(x: Tensor<1>) -> Tensor<1> {
    let abs = x.abs();
    let quadratic = abs.clone().clamp_max(1.0);
    let linear = abs - quadratic.clone();
    quadratic.square().mul_scalar(0.5) + linear
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huber_is_quadratic_inside_and_linear_outside() {
        let x = Tensor::<1>::from_floats([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0], &Device::flex());
        let got = to_vec(huber(x));
        let expected = [2.5, 0.5, 0.125, 0.0, 0.125, 1.5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
    }
}
