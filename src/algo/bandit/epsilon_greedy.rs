//! ε-greedy action values (Sutton & Barto §2.2–2.6): with probability ε a uniformly random
//! arm, else argmax_a Q(a) (ties at random). Q(a) ← Q(a) + α (R − Q(a)) with α = 1/N(a)
//! (sample averages, S&B 2.3) or a constant α (S&B 2.5); Q₁(a) = `q_init` (optimistic initial
//! values when high, S&B §2.6).

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{Agent, argmax_random_tie};
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// ε-greedy's hyperparameters.
    pub struct EpsilonGreedyConfig {
        /// probability ε of pulling a uniformly random arm
        epsilon: f64 = 0.1, in_closed(0.0, 1.0);
        /// constant step size α ∈ (0, 1] (unset: sample averages, α = 1/N(a))
        step_size: Option<f64> = None, in_half_open(0.0, 1.0);
        /// initial estimate Q₁(a) of every arm (optimistic when high)
        q_init: f64 = 0.0, finite;
    }
}

impl Algorithm for EpsilonGreedyConfig {
    const NAME: &'static str = "epsilon_greedy";
    const SUMMARY: &'static str = "bandit: ε-greedy action values, sample averages or constant step, \
         optimistic initial values (S&B 2.2-2.6)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        super::train(|arms| EpsilonGreedy::new(self, arms), session)
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

/// The learner's state: Q(a) and N(a).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpsilonGreedy {
    epsilon: f64,
    step_size: Option<f64>,
    q: Vec<f64>,
    n: Vec<u64>,
}

impl EpsilonGreedy {
    pub fn new(cfg: &EpsilonGreedyConfig, arms: usize) -> Self {
        Self {
            epsilon: cfg.epsilon,
            step_size: cfg.step_size,
            q: vec![cfg.q_init; arms],
            n: vec![0; arms],
        }
    }
}

impl Agent for EpsilonGreedy {
    fn select(&mut self, _t: u64, rng: &mut Rng) -> usize {
        if self.epsilon > 0.0 && rng.random::<f64>() < self.epsilon {
            rng.random_range(0..self.q.len())
        } else {
            argmax_random_tie(&self.q, rng)
        }
    }

    fn update(&mut self, arm: usize, reward: f64) {
        self.n[arm] += 1;
        let alpha = self.step_size.unwrap_or(1.0 / self.n[arm] as f64);
        self.q[arm] += alpha * (reward - self.q[arm]);
    }

    fn greedy(&self) -> (usize, f64) {
        let arm = crate::algo::tabular::q_table::argmax(&self.q);
        (arm, self.q[arm])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(step_size: Option<f64>, q_init: f64) -> EpsilonGreedy {
        let cfg = EpsilonGreedyConfig {
            epsilon: 0.0,
            step_size,
            q_init,
        };
        EpsilonGreedy::new(&cfg, 2)
    }

    /// Sample averages are the mean of the rewards (the initial value forgotten at once);
    /// a constant α weighs them exponentially, (1 − α)ⁿ Q₁ + Σ α (1 − α)^{n−i} Rᵢ (S&B 2.6).
    #[test]
    fn updates_match_their_closed_forms() {
        let rewards = [1.0, 0.0, 2.0, 5.0];
        let mut averages = agent(None, 5.0);
        let mut constant = agent(Some(0.1), 5.0);
        for r in rewards {
            averages.update(1, r);
            constant.update(1, r);
        }
        assert!((averages.q[1] - 2.0).abs() < 1e-12);
        let n = rewards.len() as i32;
        let want = 0.9f64.powi(n) * 5.0
            + rewards
                .iter()
                .enumerate()
                .map(|(i, r)| 0.1 * 0.9f64.powi(n - 1 - i as i32) * r)
                .sum::<f64>();
        assert!((constant.q[1] - want).abs() < 1e-12);
        assert_eq!((averages.q[0], averages.greedy().0), (5.0, 0));
    }
}
