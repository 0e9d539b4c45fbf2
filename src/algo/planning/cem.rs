//! CEM-MPC (see [`crate::plan::cem`]).

use std::path::Path;

use super::DIAGNOSTICS;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::plan::cem::{CemMpc, Options};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of the cross-entropy method.
    pub struct CemConfig {
        /// H, steps of each simulated action sequence
        horizon: usize = 30, nonzero;
        /// N, sequences sampled per iteration
        population: usize = 200, nonzero;
        /// K ≤ N, best sequences the distribution is refit to
        elites: usize = 20;
        /// I, sample-and-refit rounds per real step
        iterations: usize = 5, nonzero;
        /// smoothing ∈ [0, 1), weight of the old parameters: μ ← α μ + (1−α) μ_elite (same for
        /// σ, p)
        alpha: f64 = 0.1, in_closed_open(0.0, 1.0);
        /// initial σ in units of half the action range (continuous actions)
        init_std: f64 = 0.5, positive;
        /// discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t
        gamma: f64 = 1.0, in_closed(0.0, 1.0);
    }
    check: Self::check_elites;
}

impl CemConfig {
    fn check_elites(&self, c: &mut Checker) {
        c.require(
            "elites",
            self.elites > 0 && self.elites <= self.population,
            || {
                format!(
                    "must be in [1, population = {}], got {}",
                    self.population, self.elites
                )
            },
        );
    }
}

impl Algorithm for CemConfig {
    const NAME: &'static str = "cem";
    const SUMMARY: &'static str = "MPC with the cross-entropy method: Gaussian or categorical p(A) refit to elites (Rubinstein 1999)";
    const KIND: Kind = Kind::Planner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_sampled_actions(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        rng: Rng,
        _: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        Ok(Box::new(planner(self, env, rng)))
    }
}

impl From<&CemConfig> for Options {
    fn from(cfg: &CemConfig) -> Self {
        Self {
            horizon: cfg.horizon,
            population: cfg.population,
            elites: cfg.elites,
            iterations: cfg.iterations,
            alpha: cfg.alpha,
            init_std: cfg.init_std,
            gamma: cfg.gamma,
        }
    }
}

/// The planner of `cfg` for `env`'s action space, drawing from `rng`.
pub fn planner(cfg: &CemConfig, env: &dyn Env, rng: Rng) -> CemMpc {
    CemMpc::new(&cfg.into(), &env.spec().action_space, rng)
}

pub fn train(cfg: &CemConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut planner = planner(cfg, &session.make_env()?, session.rng(Stream::Explore));
    session.set_diagnostics(&DIAGNOSTICS)?;
    session.evaluate_with(0, &mut planner, |p, _| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
