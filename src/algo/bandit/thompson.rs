//! Thompson sampling (Thompson 1933; Agrawal & Goyal 2012; Russo et al. 2018): draw each arm's
//! mean from its posterior, pull the arm with the largest draw. Beta–Bernoulli for 0/1
//! rewards, asymptotically optimal: regret / ln n → Σᵢ Δᵢ / KL(μᵢ ‖ μ*) (Lai & Robbins 1985;
//! Kaufmann et al. 2012); Gaussian with known reward variance for real-valued rewards.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::posterior::{BetaPosterior, GaussianPosterior};
use super::{Agent, argmax_random_tie};
use crate::algo::tabular::q_table::argmax;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

/// The reward model whose conjugate posterior is sampled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Likelihood {
    /// Rewards in {0, 1}, a Beta prior (BernoulliBandit-v0).
    #[default]
    Bernoulli,
    /// Rewards N(μ, reward_std²), a Gaussian prior.
    Gaussian,
}

hyperparameters! {
    /// Thompson sampling's hyperparameters.
    pub struct ThompsonConfig {
        /// "bernoulli" (Beta posterior; 0/1 rewards) or "gaussian" (known reward_std)
        likelihood: Likelihood = Likelihood::Bernoulli;
        /// Beta prior α₀ (bernoulli; 1, 1 is uniform)
        prior_alpha: f64 = 1.0, positive;
        /// Beta prior β₀ (bernoulli)
        prior_beta: f64 = 1.0, positive;
        /// Gaussian prior mean μ₀ (gaussian)
        prior_mean: f64 = 0.0, finite;
        /// Gaussian prior standard deviation σ₀ (gaussian)
        prior_std: f64 = 1.0, positive;
        /// the rewards' known standard deviation σ (gaussian)
        reward_std: f64 = 1.0, positive;
    }
}

impl Algorithm for ThompsonConfig {
    const NAME: &'static str = "thompson";
    const SUMMARY: &'static str = "bandit: Thompson sampling, Beta-Bernoulli or Gaussian posteriors \
         (Thompson 1933; Agrawal & Goyal 2012)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)?;
        if self.likelihood == Likelihood::Bernoulli && env.spec().id != "BernoulliBandit-v0" {
            return Err((
                "algo.likelihood",
                format!(
                    "\"bernoulli\" needs 0/1 rewards (BernoulliBandit-v0); {} pays real \
                     rewards: set likelihood = \"gaussian\"",
                    env.spec().id
                ),
            ));
        }
        Ok(())
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        super::train(|arms| Thompson::new(self, arms), session)
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

/// One posterior per arm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Posteriors {
    Beta(Vec<BetaPosterior>),
    /// The posteriors and the reward variance σ².
    Gaussian(Vec<GaussianPosterior>, f64),
}

/// The learner's state: the posteriors, and the draws of the last choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thompson {
    posteriors: Posteriors,
    #[serde(skip)]
    draws: Vec<f64>,
}

impl Thompson {
    pub fn new(cfg: &ThompsonConfig, arms: usize) -> Self {
        let posteriors = match cfg.likelihood {
            Likelihood::Bernoulli => Posteriors::Beta(vec![
                BetaPosterior {
                    alpha: cfg.prior_alpha,
                    beta: cfg.prior_beta,
                };
                arms
            ]),
            Likelihood::Gaussian => Posteriors::Gaussian(
                vec![GaussianPosterior::prior(cfg.prior_mean, cfg.prior_std); arms],
                cfg.reward_std * cfg.reward_std,
            ),
        };
        Self {
            posteriors,
            draws: Vec::with_capacity(arms),
        }
    }

    /// Each arm's posterior mean.
    fn means(&self) -> Vec<f64> {
        match &self.posteriors {
            Posteriors::Beta(p) => p.iter().map(BetaPosterior::mean).collect(),
            Posteriors::Gaussian(p, _) => p.iter().map(GaussianPosterior::mean).collect(),
        }
    }
}

impl Agent for Thompson {
    fn select(&mut self, _t: u64, rng: &mut Rng) -> usize {
        self.draws.clear();
        match &self.posteriors {
            Posteriors::Beta(p) => self.draws.extend(p.iter().map(|p| p.sample(rng))),
            Posteriors::Gaussian(p, _) => self.draws.extend(p.iter().map(|p| p.sample(rng))),
        }
        argmax_random_tie(&self.draws, rng)
    }

    fn update(&mut self, arm: usize, reward: f64) {
        match &mut self.posteriors {
            Posteriors::Beta(p) => p[arm].update(reward),
            Posteriors::Gaussian(p, noise_var) => p[arm].update(reward, *noise_var),
        }
    }

    /// The arm with the largest posterior mean.
    fn greedy(&self) -> (usize, f64) {
        let means = self.means();
        let arm = argmax(&means);
        (arm, means[arm])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// With sharp posteriors the draws pick the better arm almost always; with flat ones,
    /// each arm about half the time.
    #[test]
    fn choices_follow_the_posteriors() {
        let cfg = ThompsonConfig::default();
        let mut rng = rng::from_seed(5);
        let mut flat = Thompson::new(&cfg, 2);
        let ones = (0..10_000)
            .filter(|_| flat.select(0, &mut rng) == 1)
            .count();
        assert!((ones as f64 / 10_000.0 - 0.5).abs() < 0.02, "{ones}");
        let mut sharp = flat.clone();
        for _ in 0..200 {
            sharp.update(0, 0.0);
            sharp.update(1, 1.0);
        }
        assert!((0..1000).all(|_| sharp.select(0, &mut rng) == 1));
        assert_eq!(sharp.greedy(), (1, 201.0 / 202.0));
    }
}
