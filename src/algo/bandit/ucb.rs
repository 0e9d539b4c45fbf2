//! Upper confidence bounds: UCB1 (Auer, Cesa-Bianchi & Fischer 2002, Figure 1) pulls each arm
//! once, then argmax_j x̄ⱼ + c √(ln n / nⱼ) with n the pulls so far and c = √2, which keeps
//! the expected regret below Σ_{i: Δᵢ>0} 8 ln n / Δᵢ + (1 + π²/3) Σⱼ Δⱼ (their Theorem 1).
//! Other c give Sutton & Barto's UCB (S&B 2.10).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Agent, argmax_random_tie};
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// UCB's hyperparameters.
    pub struct UcbConfig {
        /// exploration weight c of the bonus c √(ln n / nⱼ) (√2: UCB1)
        c: f64 = std::f64::consts::SQRT_2, non_negative;
    }
}

impl Algorithm for UcbConfig {
    const NAME: &'static str = "ucb";
    const SUMMARY: &'static str =
        "bandit: upper confidence bounds, UCB1 at c = √2 (Auer et al. 2002; S&B 2.7)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        super::train(|arms| Ucb::new(self.c, arms), session)
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

/// The learner's state: sample means x̄ⱼ, pulls nⱼ (and 1/√nⱼ, so that a choice takes one
/// square root), and the indices of the last choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ucb {
    c: f64,
    mean: Vec<f64>,
    n: Vec<u64>,
    inv_sqrt_n: Vec<f64>,
    pulls: u64,
    #[serde(skip)]
    index: Vec<f64>,
}

impl Ucb {
    pub fn new(c: f64, arms: usize) -> Self {
        Self {
            c,
            mean: vec![0.0; arms],
            n: vec![0; arms],
            inv_sqrt_n: vec![0.0; arms],
            pulls: 0,
            index: vec![0.0; arms],
        }
    }

    /// x̄ⱼ + c √(ln n / nⱼ) of a pulled arm j.
    pub fn index_of(&self, j: usize) -> f64 {
        self.mean[j] + self.bonus_scale() * self.inv_sqrt_n[j]
    }

    /// c √(ln n).
    fn bonus_scale(&self) -> f64 {
        self.c * (self.pulls as f64).ln().sqrt()
    }
}

impl Agent for Ucb {
    fn select(&mut self, _t: u64, rng: &mut Rng) -> usize {
        // Each arm once first (in order, as Auer et al.'s initialisation).
        if let Some(j) = self.n.iter().position(|&n| n == 0) {
            return j;
        }
        let scale = self.bonus_scale();
        self.index.resize(self.mean.len(), 0.0);
        for (i, (m, s)) in self
            .index
            .iter_mut()
            .zip(self.mean.iter().zip(&self.inv_sqrt_n))
        {
            *i = m + scale * s;
        }
        argmax_random_tie(&self.index, rng)
    }

    fn update(&mut self, arm: usize, reward: f64) {
        self.pulls += 1;
        self.n[arm] += 1;
        let n = self.n[arm] as f64;
        self.mean[arm] += (reward - self.mean[arm]) / n;
        self.inv_sqrt_n[arm] = 1.0 / n.sqrt();
    }

    fn greedy(&self) -> (usize, f64) {
        let arm = crate::algo::tabular::q_table::argmax(&self.mean);
        (arm, self.mean[arm])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// The index against its closed form, and the choice it makes.
    #[test]
    fn index_closed_form() {
        let mut ucb = Ucb::new(std::f64::consts::SQRT_2, 3);
        let mut rng = rng::from_seed(0);
        for (arm, r) in [(0, 1.0), (1, 0.0), (2, 1.0), (0, 0.0), (0, 1.0), (2, 0.0)] {
            assert!(ucb.n.iter().all(|&n| n > 0) || ucb.select(0, &mut rng) == arm);
            ucb.update(arm, r);
        }
        // n = 6; arm 0: 2/3 + √(2 ln 6 / 3), arm 1: 0 + √(2 ln 6), arm 2: 1/2 + √(ln 6).
        let ln6 = 6f64.ln();
        let want = [
            2.0 / 3.0 + (2.0 * ln6 / 3.0).sqrt(),
            (2.0 * ln6).sqrt(),
            0.5 + ln6.sqrt(),
        ];
        for (j, w) in want.iter().enumerate() {
            assert!((ucb.index_of(j) - w).abs() < 1e-12, "{j}");
        }
        assert_eq!(ucb.select(7, &mut rng), 1);
        assert_eq!(ucb.greedy(), (0, 2.0 / 3.0));
    }
}
