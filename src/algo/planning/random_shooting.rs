//! Random-shooting MPC (see [`crate::plan::shooting`]).

use serde::{Deserialize, Serialize};

use super::DIAGNOSTICS;
use crate::algo::Hyperparameters;
use crate::config::Checker;
use crate::env::Env;
use crate::plan::shooting::{Options, RandomShooting};
use crate::rng::{Rng, Stream};
use crate::run::Session;

/// Hyperparameters of random shooting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomShootingConfig {
    pub horizon: usize,
    pub population: usize,
    pub gamma: f64,
}

impl Default for RandomShootingConfig {
    fn default() -> Self {
        Self {
            horizon: 30,
            population: 1000,
            gamma: 1.0,
        }
    }
}

impl Hyperparameters for RandomShootingConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("horizon", "H, steps of each simulated action sequence"),
        (
            "population",
            "N, uniformly random sequences scored per real step",
        ),
        (
            "gamma",
            "discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.require("horizon", self.horizon > 0, || "must be > 0".into());
        c.require("population", self.population > 0, || "must be > 0".into());
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
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
    session.evaluate_with(0, &mut planner, |p| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
