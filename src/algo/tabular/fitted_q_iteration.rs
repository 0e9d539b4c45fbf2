//! Fitted Q iteration, tabular form (Ernst, Geurts & Wehenkel 2005): batch RL from a fixed
//! dataset of transitions, K rounds of regressing Q onto the targets of the previous round,
//!
//! Q_{k+1} = argmin_Q Σ_i (Q(s_i, a_i) − r_i − γ (1 − terminated_i) max_a' Q_k(s'_i, a'))²,
//!
//! whose exact least-squares solution in a table is the mean target of every (s, a). The
//! dataset is gathered before training, and no env interaction happens after: `samples_per_pair`
//! transitions from every (s, a), the env set to s and stepped with a (a uniform design that
//! covers every pair). A "step" of the run is one round; it stops when max |ΔQ| < θ.

use std::path::Path;

use rand::RngExt;

use super::q_table::{GreedyTable, argmax, state_index, table_size};
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Tabular fitted Q iteration's hyperparameters.
    pub struct FittedQIterationConfig {
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// transitions gathered from every (s, a) before training
        samples_per_pair: usize = 1, nonzero;
        /// stop when max_{s,a} |ΔQ(s, a)| < theta
        theta: f64 = 1e-10, positive;
    }
}

impl Algorithm for FittedQIterationConfig {
    const NAME: &'static str = "fitted_q_iteration";
    const SUMMARY: &'static str = "tabular fitted Q iteration on a fixed dataset covering every (s, a) (Ernst et al. 2005); steps count regression rounds";
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

/// One transition (s, a, r, s', terminated) of a tabular dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub state: usize,
    pub action: usize,
    pub reward: f64,
    pub next_state: usize,
    pub terminated: bool,
}

/// `samples_per_pair` transitions from every (s, a) of `env`: set to s, stepped with a.
pub fn uniform_dataset(env: &mut dyn Env, samples_per_pair: usize, seed: u64) -> Vec<Sample> {
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let mut obs = [0.0f32];
    env.reset(Some(seed), &mut obs);
    let mut data = Vec::with_capacity(n_states * n_actions * samples_per_pair);
    for state in 0..n_states {
        for action in 0..n_actions {
            for _ in 0..samples_per_pair {
                env.set_state(&[state as f64], &mut obs);
                let step = env.step(Action::Discrete(action), &mut obs);
                data.push(Sample {
                    state,
                    action,
                    reward: step.reward,
                    next_state: state_index(&obs),
                    terminated: step.terminated,
                });
            }
        }
    }
    data
}

/// One round: the mean target r + γ (1 − terminated) max_a' Q(s', a') of every (s, a) in
/// `data` (pairs without data keep their value), as a flat `n_states × n_actions` table.
pub fn regress(data: &[Sample], q: &[f64], n_actions: usize, gamma: f64) -> Vec<f64> {
    let max = |s: usize| {
        q[s * n_actions..(s + 1) * n_actions]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let mut sums = vec![0.0; q.len()];
    let mut counts = vec![0u32; q.len()];
    for t in data {
        let i = t.state * n_actions + t.action;
        let bootstrap = if t.terminated { 0.0 } else { max(t.next_state) };
        sums[i] += t.reward + gamma * bootstrap;
        counts[i] += 1;
    }
    sums.iter()
        .zip(&counts)
        .zip(q)
        .map(|((sum, &n), old)| if n == 0 { *old } else { sum / f64::from(n) })
        .collect()
}

/// The greedy table of a flat Q.
fn greedy_table(q: &[f64], n_actions: usize) -> GreedyTable {
    let rows = q.chunks_exact(n_actions);
    GreedyTable {
        actions: rows.clone().map(argmax).collect(),
        values: rows
            .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect(),
    }
}

pub fn train(cfg: &FittedQIterationConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_env()?;
    let spec = env.spec().clone();
    let (n_states, n_actions) = table_size(&spec.observation_space, &spec.action_space);
    let seed = session.rng(Stream::Env).random::<u64>();
    let data = uniform_dataset(&mut env, cfg.samples_per_pair, seed);
    let mut q = vec![0.0; n_states * n_actions];
    session.set_diagnostics(&["delta"])?;
    let mut table = greedy_table(&q, n_actions);
    session.evaluate(0, &mut table, &[f64::NAN])?;

    let mut round = 0;
    while round < session.total_steps() {
        round += 1;
        let next = regress(&data, &q, n_actions, cfg.gamma);
        let delta = next
            .iter()
            .zip(&q)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        q = next;
        session.tick(round)?;
        let converged = delta < cfg.theta;
        if session.eval_due(round) || converged {
            table = greedy_table(&q, n_actions);
            session.evaluate(round, &mut table, &[delta])?;
        }
        if converged {
            break;
        }
    }
    session.save_policy(&greedy_table(&q, n_actions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::tabular::dp::lookahead;
    use crate::env::{EnvOptions, make_env};

    /// On the deterministic toy-text envs, FQI from one sample of every (s, a) converges to
    /// value iteration's Q*(s, a) = Σ P [r + γ V*(s')] to 1e-6.
    #[test]
    fn fqi_on_uniform_data_equals_value_iterations_q_star() {
        let gamma = 0.99;
        for (id, slippery) in [
            ("Taxi-v3", None),
            ("FrozenLake-v1", Some(false)),
            ("CliffWalking-v0", None),
        ] {
            let options = EnvOptions {
                is_slippery: slippery,
                ..EnvOptions::default()
            };
            let mut env = make_env(id, &options).unwrap();
            let model = env.model().unwrap().clone();
            let n_actions = model.n_actions;
            let mut v = vec![0.0; model.n_states];
            for _ in 0..20_000 {
                v = (0..model.n_states)
                    .map(|s| {
                        (0..n_actions)
                            .map(|a| lookahead(&model, &v, gamma, s, a))
                            .fold(f64::NEG_INFINITY, f64::max)
                    })
                    .collect();
            }
            let data = uniform_dataset(env.as_mut(), 1, 7);
            assert_eq!(data.len(), model.n_states * n_actions);
            let mut q = vec![0.0; model.n_states * n_actions];
            for _ in 0..20_000 {
                q = regress(&data, &q, n_actions, gamma);
            }
            for s in 0..model.n_states {
                for a in 0..n_actions {
                    let q_star = lookahead(&model, &v, gamma, s, a);
                    let got = q[s * n_actions + a];
                    assert!(
                        (got - q_star).abs() < 1e-6,
                        "{id} ({s}, {a}): {got} vs {q_star}"
                    );
                }
            }
        }
    }

    /// Each round is the exact least-squares fit: the mean of the targets of a pair.
    #[test]
    fn a_round_averages_the_targets_of_each_pair() {
        let t = |state, action, reward, next_state, terminated| Sample {
            state,
            action,
            reward,
            next_state,
            terminated,
        };
        let data = [
            t(0, 0, 1.0, 1, false),
            t(0, 0, 3.0, 1, true),
            t(1, 1, -1.0, 0, false),
        ];
        let q = [0.5, 0.0, 2.0, 4.0];
        let next = regress(&data, &q, 2, 0.5);
        // (1 + 0.5·4 + 3)/2 = 3, (−1 + 0.5·0.5) = −0.75; unsampled pairs keep their value.
        assert_eq!(next, vec![3.0, 0.0, 2.0, -0.75]);
    }
}
