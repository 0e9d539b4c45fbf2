//! Deep Q-networks (Mnih et al. 2015) with Stable-Baselines3's vocabulary and defaults, and the
//! Rainbow ingredients as independent flags (Hessel et al. 2018): the training loop.
//!
//! y = R^(k) + γ^k (1 − terminated) Q'(s_{t+k}, a*),  L = E_w[ℓ(Q(s_t, a_t) − y)]
//!
//! with a* = argmax_a Q'(s', a) (DQN) or argmax_a Q(s', a) (`double`, van Hasselt et al. 2016),
//! Q' the target network (hard copy every `target_update_interval` steps, or Polyak with `tau`),
//! ℓ Huber or squared error, k = `n_step` (Sutton 1988), `dueling` heads (Wang et al. 2016) and
//! `prioritized` replay with importance weights w (Schaul et al. 2016); one gradient step is
//! [`update`]. Exploration is ε-greedy with a linear schedule; actions are uniform until
//! `learning_starts`.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dqn_update::{DqnUpdate, update};
use super::greedy::{GreedyPolicy, MODEL_FILE};
use crate::algo::Hyperparameters;
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::off_policy::{OffPolicy, Prioritization, Settings};
use crate::algo::schedule::{Decay, EpsilonSchedule};
use crate::algo::tabular::td::{EXPLORATION_HELP, check_exploration};
use crate::buffer::NStep;
use crate::config::Checker;
use crate::env::Space;
use crate::env::vector::VecEnvSnapshot;
use crate::nn::distributions::argmax;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::q_network::{Q_NETWORK_HELP, QNetwork, QNetworkConfig};
use crate::nn::{SavedModule, SavedOptimizer, adam, plain_device, to_vec, training_device};
use crate::rng::Stream;
use crate::run::Session;

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

/// DQN's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over training.
    pub anneal_lr: bool,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    /// Polyak coefficient of the target update (1: hard copy).
    pub tau: f64,
    pub gamma: f64,
    /// Train every this many steps of the vector env.
    pub train_freq: u64,
    pub gradient_steps: usize,
    /// Update the target network every this many env steps.
    pub target_update_interval: u64,
    pub exploration_fraction: f64,
    pub exploration_initial_eps: f64,
    pub exploration_final_eps: f64,
    pub max_grad_norm: f64,
    pub loss: TdLoss,
    pub double: bool,
    pub dueling: bool,
    pub prioritized: bool,
    pub n_step: usize,
    pub per_alpha: f64,
    pub per_beta0: f64,
    pub per_eps: f64,
    pub policy: QNetworkConfig,
}

impl Default for DqnConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-4,
            anneal_lr: false,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 32,
            tau: 1.0,
            gamma: 0.99,
            train_freq: 4,
            gradient_steps: 1,
            target_update_interval: 10_000,
            exploration_fraction: 0.1,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            max_grad_norm: 10.0,
            loss: TdLoss::Huber,
            double: false,
            dueling: false,
            prioritized: false,
            n_step: 1,
            per_alpha: 0.6,
            per_beta0: 0.4,
            per_eps: 1e-6,
            policy: QNetworkConfig::default(),
        }
    }
}

impl Hyperparameters for DqnConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "Adam step size"),
        ("anneal_lr", "anneal the learning rate linearly to 0"),
        ("buffer_size", "replay capacity in transitions"),
        (
            "learning_starts",
            "env steps of uniform random actions before training",
        ),
        ("batch_size", "transitions per gradient step"),
        (
            "tau",
            "target update θ' ← (1 − τ)θ' + τθ, τ ∈ (0, 1] (1: hard copy)",
        ),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("train_freq", "train every this many vector-env steps"),
        ("gradient_steps", "gradient steps per training round"),
        ("target_update_interval", "env steps between target updates"),
        EXPLORATION_HELP[2],
        EXPLORATION_HELP[0],
        EXPLORATION_HELP[1],
        ("max_grad_norm", "global gradient-norm bound"),
        ("loss", "\"huber\" (smooth L1) or \"mse\""),
        (
            "double",
            "double DQN: the online net picks a*, the target net values it",
        ),
        ("dueling", "dueling heads Q = V + A − mean A"),
        (
            "prioritized",
            "proportional prioritised replay with importance weights",
        ),
        (
            "n_step",
            "k-step returns, stopped at episode ends (1: one-step)",
        ),
        ("per_alpha", "priority exponent α ≥ 0 (0: uniform)"),
        (
            "per_beta0",
            "importance-weight exponent β at step 0, annealed to 1",
        ),
        ("per_eps", "ε added to |δ| so every priority is positive"),
        Q_NETWORK_HELP,
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
        c.require(
            "target_update_interval",
            self.target_update_interval > 0,
            || "must be > 0".into(),
        );
        check_exploration(
            c,
            self.exploration_initial_eps,
            self.exploration_final_eps,
            self.exploration_fraction,
            Decay::Linear,
        );
        c.positive("max_grad_norm", self.max_grad_norm);
        c.require("n_step", self.n_step >= 1, || "must be >= 1".into());
        c.require(
            "per_alpha",
            self.per_alpha.is_finite() && self.per_alpha >= 0.0,
            || format!("must be a finite number >= 0, got {}", self.per_alpha),
        );
        c.in_closed("per_beta0", self.per_beta0, 0.0, 1.0);
        c.positive("per_eps", self.per_eps);
        self.policy.check(c, self.dueling);
    }
}

/// Diagnostics: means over the gradient steps since the last evaluation, and the schedules.
const DIAGNOSTICS: [&str; 4] = ["loss", "q_mean", "epsilon", "learning_rate"];

/// DQN's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct DqnState {
    q: SavedModule,
    q_target: SavedModule,
    optimizer: SavedOptimizer,
    n_step: NStep,
    envs: VecEnvSnapshot,
    stats: MeansState,
}

pub fn train(cfg: &DqnConfig, session: &mut Session) -> anyhow::Result<()> {
    let backend = session.experiment().experiment.backend;
    let device = training_device(backend)?;
    let plain = plain_device(backend)?;
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
    let total = session.total_steps();
    let epsilon = EpsilonSchedule {
        initial: cfg.exploration_initial_eps,
        last: cfg.exploration_final_eps,
        fraction: cfg.exploration_fraction,
        decay: Decay::Linear,
        total_steps: total,
    };
    let settings = Settings {
        buffer_size: cfg.buffer_size,
        batch_size: cfg.batch_size,
        learning_starts: cfg.learning_starts,
        train_freq: cfg.train_freq,
        prioritized: cfg.prioritized.then_some(Prioritization {
            alpha: cfg.per_alpha,
            beta0: cfg.per_beta0,
            epsilon: cfg.per_eps,
        }),
    };
    let diagnostics = vec![f64::NAN, f64::NAN, epsilon.value(0), cfg.learning_rate];
    let mut off = OffPolicy::new(session, settings, obs_dim, 1, diagnostics);
    let mut n_step = NStep::new(cfg.n_step, cfg.gamma, n_envs, obs_dim, 1);
    // SB3 counts the target interval in vector-env steps.
    let target_every = (cfg.target_update_interval / n_envs as u64).max(1);
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut stats = DeviceMeans::new(2);
    if let Some(state) = off.resume::<DqnState>(session)? {
        q = state.q.restore(q)?;
        q_target = state.q_target.restore(q_target)?;
        optimizer = state.optimizer.restore(optimizer)?;
        n_step = state.n_step;
        envs.restore(&state.envs);
        stats.restore(state.stats, &device);
    }
    let mut greedy = GreedyPolicy::new(&q, obs_dim, &plain);
    off.evaluate_at_start(session, &mut greedy)?;
    let mut obs = envs.observations().to_vec();
    let mut actions = vec![0usize; n_envs];
    let mut explored = vec![false; n_envs];
    while off.step < total {
        // ε-greedy (uniform until learning_starts): one forward pass for the greedy envs.
        let eps = if off.exploring() {
            1.0
        } else {
            epsilon.value(off.step)
        };
        for (e, random) in explored.iter_mut().enumerate() {
            *random = off.explore.random::<f64>() < eps;
            if *random {
                actions[e] = off.explore.random_range(0..n_actions);
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
                |t| off.replay.add(t),
            );
        }
        obs.copy_from_slice(envs.observations());
        off.step += n_envs as u64;
        off.vector_steps += 1;
        session.record_episodes(off.step, envs.ended())?;

        let lr = if cfg.anneal_lr {
            let progress = off.step as f64 / total as f64;
            cfg.learning_rate * (1.0 - progress).max(0.0)
        } else {
            cfg.learning_rate
        };
        if off.train_due() {
            let hp = DqnUpdate {
                learning_rate: lr,
                double: cfg.double,
                loss: cfg.loss,
                max_grad_norm: cfg.max_grad_norm,
            };
            for _ in 0..cfg.gradient_steps {
                off.sample();
                let step_stats;
                (q, step_stats) = update(q, &q_target, &mut optimizer, &off.batch, &hp, &device);
                stats.add(vec![step_stats.loss, step_stats.q_mean]);
                if let Some(td) = step_stats.td_errors {
                    off.replay.update_priorities(&off.batch, &to_vec(td));
                }
            }
            greedy = GreedyPolicy::new(&q, obs_dim, &plain);
        }
        if off.vector_steps.is_multiple_of(target_every) {
            q_target = polyak_update(q_target, &q, cfg.tau);
        }
        if session.eval_due(off.step) {
            let mut diagnostics = stats.take();
            diagnostics.extend([epsilon.value(off.step), lr]);
            off.evaluate(session, &mut greedy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(DqnState {
                q: SavedModule::of(&q)?,
                q_target: SavedModule::of(&q_target)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                n_step: n_step.clone(),
                envs: envs.snapshot(),
                stats: stats.state(),
            })
        })?;
    }
    greedy.save(&session.file(MODEL_FILE))
}
