//! One-step TD control (Sutton & Barto ch. 6): Q(s,a) ← Q(s,a) + α [target − Q(s,a)] with
//! - Q-learning: target = r + γ max_a' Q(s', a')                       (S&B 6.5, Watkins 1989)
//! - Sarsa: target = r + γ Q(s', a'), a' the next ε-greedy action          (S&B 6.4)
//! - expected Sarsa: target = r + γ Σ_a' π(a'|s') Q(s', a'), π ε-greedy   (S&B 6.6)
//!
//! Terminal transitions use target = r; time-limit truncations bootstrap from the final state.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::env::vector::VecEnvSnapshot;
use crate::rng::Rng;

use super::q_table::{GreedyTable, MeanAbsError, QTable, greedy_policy, state_index, table_size};
use crate::algo::schedule::EpsilonGreedy;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Stream;
use crate::session::{Policy, Session};

hyperparameters! {
    /// The keys of TD control, shared by Q-learning, Sarsa, expected Sarsa and Sarsa(λ).
    pub struct TdConfig {
        /// step size α ∈ (0, 1]
        learning_rate: f64 = 0.1, in_half_open(0.0, 1.0);
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        ..exploration: EpsilonGreedy = EpsilonGreedy {
            exploration_fraction: 0.5,
            ..Default::default()
        };
        /// initial value of every Q(s, a) (optimism drives exploration)
        q_init: f64 = 0.0, finite;
    }
}

hyperparameters! {
    /// Q-learning's hyperparameters.
    pub struct QLearningConfig {
        ..td: TdConfig;
    }
}

hyperparameters! {
    /// Sarsa's hyperparameters.
    pub struct SarsaConfig {
        ..td: TdConfig;
    }
}

hyperparameters! {
    /// Expected Sarsa's hyperparameters.
    pub struct ExpectedSarsaConfig {
        ..td: TdConfig;
    }
}

impl Algorithm for QLearningConfig {
    const NAME: &'static str = "q_learning";
    const SUMMARY: &'static str =
        "off-policy TD control, target r + γ max_a' Q(s',a') (Watkins 1989; S&B 6.5)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.td, TdTarget::MaxQ, session)
    }

    fn policy(
        &self,
        _: &dyn Env,
        _: Rng,
        run_dir: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        super::saved_policy(run_dir)
    }
}

impl Algorithm for SarsaConfig {
    const NAME: &'static str = "sarsa";
    const SUMMARY: &'static str =
        "on-policy TD control, target r + γ Q(s',a'), a' ~ ε-greedy (S&B 6.4)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.td, TdTarget::Sarsa, session)
    }

    fn policy(
        &self,
        _: &dyn Env,
        _: Rng,
        run_dir: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        super::saved_policy(run_dir)
    }
}

impl Algorithm for ExpectedSarsaConfig {
    const NAME: &'static str = "expected_sarsa";
    const SUMMARY: &'static str =
        "TD control, target r + γ Σ_a' π(a'|s') Q(s',a') under ε-greedy π (S&B 6.6)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.td, TdTarget::Expected, session)
    }

    fn policy(
        &self,
        _: &dyn Env,
        _: Rng,
        run_dir: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        super::saved_policy(run_dir)
    }
}

/// Which one-step target the update uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TdTarget {
    /// Q-learning.
    MaxQ,
    /// Sarsa.
    Sarsa,
    /// Expected Sarsa.
    Expected,
}

/// Everything a checkpoint needs to continue TD control exactly.
#[derive(Serialize, Deserialize)]
struct TdState {
    q: QTable,
    rng: Rng,
    envs: VecEnvSnapshot,
    s: usize,
    a: usize,
    td_error: MeanAbsError,
}

pub fn train(cfg: &TdConfig, target: TdTarget, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_vec_env()?;
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let epsilon = cfg.exploration.schedule(session.total_steps());
    session.set_diagnostics(&["epsilon", "td_error"])?;
    let (first, state) = match session.resumed::<TdState>()? {
        Some((step, st)) => {
            env.restore(&st.envs);
            (step + 1, st)
        }
        None => {
            let q = QTable::new(n_states, n_actions, cfg.q_init);
            session.evaluate(0, &mut greedy_policy(&q), &[epsilon.value(0), f64::NAN])?;
            let mut rng = session.rng(Stream::Explore);
            let s = state_index(env.observation(0));
            let a = q.epsilon_greedy(s, epsilon.value(0), &mut rng);
            let envs = env.snapshot();
            (
                1,
                TdState {
                    q,
                    rng,
                    envs,
                    s,
                    a,
                    td_error: MeanAbsError::default(),
                },
            )
        }
    };
    let TdState {
        mut q,
        mut rng,
        mut s,
        mut a,
        mut td_error,
        ..
    } = state;
    for step in first..=session.total_steps() {
        let eps = epsilon.value(step);
        env.step_discrete(&[a]);
        let r = env.rewards()[0];
        let terminated = env.terminated()[0];
        let ended = terminated || env.truncated()[0];
        let s_next = state_index(if ended {
            env.final_observation(0)
        } else {
            env.observation(0)
        });

        // Sarsa chooses a' before the update (S&B 6.4); a truncated episode only bootstraps from it.
        let a_sarsa = (target == TdTarget::Sarsa).then(|| q.epsilon_greedy(s_next, eps, &mut rng));
        let bootstrap = match target {
            TdTarget::MaxQ => q.max(s_next),
            TdTarget::Sarsa => q.get(s_next, a_sarsa.expect("drawn above")),
            TdTarget::Expected => q.expected(s_next, eps),
        };
        let td_target = if terminated {
            r
        } else {
            r + cfg.gamma * bootstrap
        };
        let delta = td_target - q.get(s, a);
        q.add_at(q.index(s, a), cfg.learning_rate * delta);
        td_error.push(delta);

        if ended {
            s = state_index(env.observation(0));
            a = q.epsilon_greedy(s, eps, &mut rng);
        } else {
            s = s_next;
            a = a_sarsa.unwrap_or_else(|| q.epsilon_greedy(s, eps, &mut rng));
        }
        session.record_episodes(step, env.ended())?;
        if session.eval_due(step) {
            session.evaluate(step, &mut greedy_policy(&q), &[eps, td_error.take()])?;
        }
        session.checkpoint(step, || {
            Ok(TdState {
                q: q.clone(),
                rng: rng.clone(),
                envs: env.snapshot(),
                s,
                a,
                td_error,
            })
        })?;
    }
    session.save_policy(&GreedyTable::of_q(&q))
}
