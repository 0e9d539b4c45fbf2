//! The gradient bandit (Sutton & Barto §2.8): a soft-max policy π(a) = e^{H(a)} / Σ_b e^{H(b)}
//! over preferences H, stochastic gradient ascent on the expected reward (S&B 2.12):
//! H(Aₜ) ← H(Aₜ) + α (Rₜ − R̄ₜ)(1 − π(Aₜ)) and H(a) ← H(a) − α (Rₜ − R̄ₜ) π(a) for a ≠ Aₜ,
//! with the baseline R̄ₜ the mean of the rewards before t (R̄₁ = R₁, the book's errata), or 0
//! without one.

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::Agent;
use crate::algo::tabular::q_table::argmax;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// The gradient bandit's hyperparameters.
    pub struct GradientBanditConfig {
        /// step size α of the preference update
        learning_rate: f64 = 0.1, positive;
        /// subtract the average reward R̄ₜ as a baseline (false: R̄ₜ = 0)
        baseline: bool = true;
    }
}

impl Algorithm for GradientBanditConfig {
    const NAME: &'static str = "gradient_bandit";
    const SUMMARY: &'static str = "bandit: soft-max preferences by stochastic gradient ascent, average-reward baseline (S&B 2.8)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        super::train(|arms| GradientBandit::new(self, arms), session)
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

/// The learner's state: preferences H, the policy π they give, the reward average R̄.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientBandit {
    learning_rate: f64,
    baseline: bool,
    h: Vec<f64>,
    pi: Vec<f64>,
    reward_mean: f64,
    rewards: u64,
}

impl GradientBandit {
    pub fn new(cfg: &GradientBanditConfig, arms: usize) -> Self {
        Self {
            learning_rate: cfg.learning_rate,
            baseline: cfg.baseline,
            h: vec![0.0; arms],
            pi: vec![1.0 / arms as f64; arms],
            reward_mean: 0.0,
            rewards: 0,
        }
    }

    /// π = softmax(H), shifted by max H for stability.
    fn refresh_policy(&mut self) {
        let max = self.h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut total = 0.0;
        for (p, h) in self.pi.iter_mut().zip(&self.h) {
            *p = (h - max).exp();
            total += *p;
        }
        for p in &mut self.pi {
            *p /= total;
        }
    }
}

impl Agent for GradientBandit {
    /// A draw from π.
    fn select(&mut self, _t: u64, rng: &mut Rng) -> usize {
        let mut u: f64 = rng.random();
        for (a, p) in self.pi.iter().enumerate() {
            u -= p;
            if u < 0.0 {
                return a;
            }
        }
        self.pi.len() - 1
    }

    fn update(&mut self, arm: usize, reward: f64) {
        let baseline = match (self.baseline, self.rewards) {
            (false, _) => 0.0,
            (true, 0) => reward,
            (true, _) => self.reward_mean,
        };
        let step = self.learning_rate * (reward - baseline);
        for (a, (h, p)) in self.h.iter_mut().zip(&self.pi).enumerate() {
            let indicator = if a == arm { 1.0 } else { 0.0 };
            *h += step * (indicator - p);
        }
        self.rewards += 1;
        self.reward_mean += (reward - self.reward_mean) / self.rewards as f64;
        self.refresh_policy();
    }

    /// The most preferred arm and its probability.
    fn greedy(&self) -> (usize, f64) {
        let arm = argmax(&self.h);
        (arm, self.pi[arm])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two updates against S&B 2.12 by hand: the first reward is its own baseline (no change),
    /// the second moves H by α (R₂ − R₁)(𝟙 − π).
    #[test]
    fn preference_update_closed_form() {
        let cfg = GradientBanditConfig {
            learning_rate: 0.5,
            baseline: true,
        };
        let mut g = GradientBandit::new(&cfg, 3);
        g.update(1, 2.0);
        assert_eq!(g.h, [0.0; 3]);
        g.update(2, 5.0);
        let step = 0.5 * (5.0 - 2.0);
        let want = [-step / 3.0, -step / 3.0, step * (2.0 / 3.0)];
        for (h, w) in g.h.iter().zip(want) {
            assert!((h - w).abs() < 1e-12);
        }
        let z: f64 = want.iter().map(|h| h.exp()).sum();
        assert!((g.pi[2] - want[2].exp() / z).abs() < 1e-12);
        assert_eq!(g.greedy().0, 2);
        assert!((g.reward_mean - 3.5).abs() < 1e-12);
        // Without a baseline the first reward moves H too.
        let mut plain = GradientBandit::new(
            &GradientBanditConfig {
                baseline: false,
                ..cfg
            },
            2,
        );
        plain.update(0, 1.0);
        assert!((plain.h[0] - 0.25).abs() < 1e-12 && (plain.h[1] + 0.25).abs() < 1e-12);
    }
}
