//! Sarsa(λ) with eligibility traces (Sutton & Barto 12.7, backward view):
//! δ = r + γ Q(s', a') − Q(s, a);  e(s, a) ← e(s, a) + 1 (accumulating) or 1 (replacing);
//! Q ← Q + α δ e;  e ← γ λ e;  traces are cleared when an episode ends.

use serde::{Deserialize, Serialize};

use crate::env::vector::VecEnvSnapshot;
use crate::rng::Rng;

use super::q_table::{GreedyTable, MeanAbsError, QTable, greedy_policy, state_index, table_size};
use super::td::{EXPLORATION_HELP, check_exploration};
use crate::algo::Hyperparameters;
use crate::algo::schedule::{Decay, EpsilonSchedule};
use crate::config::Checker;
use crate::rng::Stream;
use crate::session::Session;

/// How a visit bumps the trace of (s, a).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Traces {
    /// e(s, a) ← e(s, a) + 1.
    #[default]
    Accumulating,
    /// e(s, a) ← 1 (Singh & Sutton 1996).
    Replacing,
}

/// Hyperparameters of Sarsa(λ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SarsaLambdaConfig {
    pub learning_rate: f64,
    pub gamma: f64,
    pub lambda: f64,
    pub traces: Traces,
    pub exploration_initial_eps: f64,
    pub exploration_final_eps: f64,
    pub exploration_fraction: f64,
    pub exploration_decay: Decay,
    pub q_init: f64,
}

impl Default for SarsaLambdaConfig {
    fn default() -> Self {
        Self {
            learning_rate: 0.1,
            gamma: 0.99,
            lambda: 0.9,
            traces: Traces::Accumulating,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            exploration_fraction: 0.5,
            exploration_decay: Decay::Linear,
            q_init: 0.0,
        }
    }
}

impl Hyperparameters for SarsaLambdaConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("learning_rate", "step size α ∈ (0, 1]"),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("lambda", "trace decay λ ∈ [0, 1] (0 is one-step Sarsa)"),
        ("traces", "\"accumulating\" or \"replacing\""),
        EXPLORATION_HELP[0],
        EXPLORATION_HELP[1],
        EXPLORATION_HELP[2],
        EXPLORATION_HELP[3],
        ("q_init", "initial value of every Q(s, a)"),
    ];

    fn check(&self, c: &mut Checker) {
        c.in_half_open("learning_rate", self.learning_rate, 0.0, 1.0);
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.in_closed("lambda", self.lambda, 0.0, 1.0);
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

/// Everything a checkpoint needs to continue Sarsa(λ) exactly.
#[derive(Serialize, Deserialize)]
struct SarsaLambdaState {
    q: QTable,
    /// Eligibility traces; zero outside `visited` (the pairs seen this episode).
    e: Vec<f64>,
    visited: Vec<usize>,
    rng: Rng,
    envs: VecEnvSnapshot,
    s: usize,
    a: usize,
    td_error: MeanAbsError,
}

pub fn train(cfg: &SarsaLambdaConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_vec_env()?;
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let epsilon = EpsilonSchedule {
        initial: cfg.exploration_initial_eps,
        last: cfg.exploration_final_eps,
        fraction: cfg.exploration_fraction,
        decay: cfg.exploration_decay,
        total_steps: session.total_steps(),
    };
    session.set_diagnostics(&["epsilon", "td_error"])?;
    let (first, state) = match session.resumed::<SarsaLambdaState>()? {
        Some((step, state)) => {
            env.restore(&state.envs);
            (step + 1, state)
        }
        None => {
            let q = QTable::new(n_states, n_actions, cfg.q_init);
            session.evaluate(0, &mut greedy_policy(&q), &[epsilon.value(0), f64::NAN])?;
            let mut rng = session.rng(Stream::Explore);
            let s = state_index(env.observation(0));
            let a = q.epsilon_greedy(s, epsilon.value(0), &mut rng);
            let state = SarsaLambdaState {
                q,
                e: vec![0.0; n_states * n_actions],
                visited: Vec::new(),
                rng,
                envs: env.snapshot(),
                s,
                a,
                td_error: MeanAbsError::default(),
            };
            (1, state)
        }
    };
    let SarsaLambdaState {
        mut q,
        mut e,
        mut visited,
        mut rng,
        mut s,
        mut a,
        mut td_error,
        ..
    } = state;
    let mut is_visited = vec![false; n_states * n_actions];
    for &i in &visited {
        is_visited[i] = true;
    }
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
        let a_next = q.epsilon_greedy(s_next, eps, &mut rng);
        let td_target = if terminated {
            r
        } else {
            r + cfg.gamma * q.get(s_next, a_next)
        };
        let delta = td_target - q.get(s, a);

        let i = q.index(s, a);
        if !is_visited[i] {
            is_visited[i] = true;
            visited.push(i);
        }
        e[i] = match cfg.traces {
            Traces::Accumulating => e[i] + 1.0,
            Traces::Replacing => 1.0,
        };
        for &j in &visited {
            q.add_at(j, cfg.learning_rate * delta * e[j]);
            e[j] *= cfg.gamma * cfg.lambda;
        }
        td_error.push(delta);

        if ended {
            for &j in &visited {
                e[j] = 0.0;
                is_visited[j] = false;
            }
            visited.clear();
            s = state_index(env.observation(0));
            a = q.epsilon_greedy(s, eps, &mut rng);
        } else {
            s = s_next;
            a = a_next;
        }
        session.record_episodes(step, env.ended())?;
        if session.eval_due(step) {
            session.evaluate(step, &mut greedy_policy(&q), &[eps, td_error.take()])?;
        }
        session.checkpoint(step, || {
            Ok(SarsaLambdaState {
                q: q.clone(),
                e: e.clone(),
                visited: visited.clone(),
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
