//! One-step TD control (Sutton & Barto ch. 6): Q(s,a) ← Q(s,a) + α [target − Q(s,a)] with
//! - Q-learning: target = r + γ max_a' Q(s', a')                       (S&B 6.5, Watkins 1989)
//! - Sarsa: target = r + γ Q(s', a'), a' the next ε-greedy action          (S&B 6.4)
//! - expected Sarsa: target = r + γ Σ_a' π(a'|s') Q(s', a'), π ε-greedy   (S&B 6.6)
//!
//! Terminal transitions use target = r; time-limit truncations bootstrap from the final state.

use serde::{Deserialize, Serialize};

use crate::env::vector::VecEnvSnapshot;
use crate::rng::Rng;

use super::q_table::{GreedyTable, MeanAbsError, QTable, greedy_policy, state_index, table_size};
use crate::algo::Hyperparameters;
use crate::algo::schedule::{Decay, EpsilonSchedule};
use crate::config::Checker;
use crate::rng::Stream;
use crate::session::Session;

/// Hyperparameters of Q-learning, Sarsa and expected Sarsa.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TdConfig {
    pub learning_rate: f64,
    pub gamma: f64,
    pub exploration_initial_eps: f64,
    pub exploration_final_eps: f64,
    pub exploration_fraction: f64,
    pub exploration_decay: Decay,
    pub q_init: f64,
}

impl Default for TdConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.1,
            gamma: 0.99,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            exploration_fraction: 0.5,
            exploration_decay: Decay::Linear,
            q_init: 0.0,
        }
    }
}

/// Help lines of the ε-greedy keys shared by the TD methods.
pub const EXPLORATION_HELP: [(&str, &str); 4] = [
    ("exploration_initial_eps", "ε at step 0"),
    ("exploration_final_eps", "ε after the decay"),
    (
        "exploration_fraction",
        "fraction of total_steps over which ε decays",
    ),
    (
        "exploration_decay",
        "\"linear\" or \"exponential\" (geometric; both ε > 0)",
    ),
];

/// Checks the ε-greedy keys shared by the TD methods.
pub fn check_exploration(c: &mut Checker, initial: f64, last: f64, fraction: f64, decay: Decay) {
    c.in_closed("exploration_initial_eps", initial, 0.0, 1.0);
    c.in_closed("exploration_final_eps", last, 0.0, 1.0);
    c.in_closed("exploration_fraction", fraction, 0.0, 1.0);
    if decay == Decay::Exponential {
        c.require("exploration_final_eps", initial > 0.0 && last > 0.0, || {
            "exponential decay needs exploration_initial_eps and exploration_final_eps > 0".into()
        });
    }
}

impl Hyperparameters for TdConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "step size α ∈ (0, 1]"),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        EXPLORATION_HELP[0],
        EXPLORATION_HELP[1],
        EXPLORATION_HELP[2],
        EXPLORATION_HELP[3],
        (
            "q_init",
            "initial value of every Q(s, a) (optimism drives exploration)",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.in_half_open("learning_rate", self.learning_rate, 0.0, 1.0);
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        check_exploration(
            c,
            self.exploration_initial_eps,
            self.exploration_final_eps,
            self.exploration_fraction,
            self.exploration_decay,
        );
        c.finite("q_init", self.q_init);
    }
}

impl TdConfig {
    pub fn epsilon(&self, total_steps: u64) -> EpsilonSchedule {
        EpsilonSchedule {
            initial: self.exploration_initial_eps,
            last: self.exploration_final_eps,
            fraction: self.exploration_fraction,
            decay: self.exploration_decay,
            total_steps,
        }
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
    let epsilon = cfg.epsilon(session.total_steps());
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
