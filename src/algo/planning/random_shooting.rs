//! Random-shooting MPC (see [`crate::plan::shooting`]).

use std::path::Path;

use super::DIAGNOSTICS;
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::plan::shooting::{Options, RandomShooting};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of random shooting.
    pub struct RandomShootingConfig {
        /// H, steps of each simulated action sequence
        horizon: usize = 30, nonzero;
        /// N, uniformly random sequences scored per real step
        population: usize = 1000, nonzero;
        /// discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t
        gamma: f64 = 1.0, in_closed(0.0, 1.0);
    }
}

impl Algorithm for RandomShootingConfig {
    const NAME: &'static str = "random_shooting";
    const SUMMARY: &'static str =
        "MPC: execute the first action of the best of N uniformly random sequences (CS285 L10)";
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

impl From<&RandomShootingConfig> for Options {
    fn from(cfg: &RandomShootingConfig) -> Self {
        Self {
            horizon: cfg.horizon,
            population: cfg.population,
            gamma: cfg.gamma,
        }
    }
}

/// The planner of `cfg` for `env`'s action space, drawing from `rng`.
pub fn planner(cfg: &RandomShootingConfig, env: &dyn Env, rng: Rng) -> RandomShooting {
    RandomShooting::new(&cfg.into(), &env.spec().action_space, rng)
}

pub fn train(cfg: &RandomShootingConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut planner = planner(cfg, &session.make_env()?, session.rng(Stream::Explore));
    session.set_diagnostics(&DIAGNOSTICS)?;
    session.evaluate_with(0, &mut planner, |p, _| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
