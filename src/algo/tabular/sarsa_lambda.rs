//! Sarsa(λ) with eligibility traces (Sutton & Barto 12.7, backward view):
//! δ = r + γ Q(s', a') − Q(s, a);  e(s, a) ← e(s, a) + 1 (accumulating) or 1 (replacing);
//! Q ← Q + α δ e;  e ← γ λ e;  traces are cleared when an episode ends.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::env::vector::VecEnvSnapshot;
use crate::rng::Rng;

use super::q_table::{GreedyTable, MeanAbsError, QTable, greedy_policy, state_index, table_size};
use super::td::TdConfig;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Stream;
use crate::session::{Policy, Session};

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

hyperparameters! {
    /// Hyperparameters of Sarsa(λ).
    pub struct SarsaLambdaConfig {
        ..td: TdConfig;
        /// trace decay λ ∈ [0, 1] (0 is one-step Sarsa)
        lambda: f64 = 0.9, in_closed(0.0, 1.0);
        /// "accumulating" or "replacing"
        traces: Traces = Traces::Accumulating;
    }
}

impl Algorithm for SarsaLambdaConfig {
    const NAME: &'static str = "sarsa_lambda";
    const SUMMARY: &'static str =
        "Sarsa(λ) with accumulating or replacing eligibility traces (S&B 12.7)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
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
    let epsilon = cfg.td.exploration.schedule(session.total_steps());
    session.set_diagnostics(&["epsilon", "td_error"])?;
    let (first, state) = match session.resumed::<SarsaLambdaState>()? {
        Some((step, state)) => {
            env.restore(&state.envs);
            (step + 1, state)
        }
        None => {
            let q = QTable::new(n_states, n_actions, cfg.td.q_init);
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
            r + cfg.td.gamma * q.get(s_next, a_next)
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
            q.add_at(j, cfg.td.learning_rate * delta * e[j]);
            e[j] *= cfg.td.gamma * cfg.lambda;
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
