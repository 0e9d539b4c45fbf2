//! CEM-MPC (see [`crate::plan::cem`]).

use serde::{Deserialize, Serialize};

use super::DIAGNOSTICS;
use crate::algo::Hyperparameters;
use crate::config::Checker;
use crate::env::Env;
use crate::plan::cem::{CemMpc, Options};
use crate::rng::{Rng, Stream};
use crate::run::Session;

/// Hyperparameters of the cross-entropy method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CemConfig {
    pub horizon: usize,
    pub population: usize,
    pub elites: usize,
    pub iterations: usize,
    pub alpha: f64,
    pub init_std: f64,
    pub gamma: f64,
}

impl Default for CemConfig {
    fn default() -> Self {
        Self {
            horizon: 30,
            population: 200,
            elites: 20,
            iterations: 5,
            alpha: 0.1,
            init_std: 0.5,
            gamma: 1.0,
        }
    }
}

impl Hyperparameters for CemConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("horizon", "H, steps of each simulated action sequence"),
        ("population", "N, sequences sampled per iteration"),
        (
            "elites",
            "K ≤ N, best sequences the distribution is refit to",
        ),
        ("iterations", "I, sample-and-refit rounds per real step"),
        (
            "alpha",
            "smoothing ∈ [0, 1), weight of the old parameters: μ ← α μ + (1−α) μ_elite (same for σ, p)",
        ),
        (
            "init_std",
            "initial σ in units of half the action range (continuous actions)",
        ),
        (
            "gamma",
            "discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.require("horizon", self.horizon > 0, || "must be > 0".into());
        c.require("population", self.population > 0, || "must be > 0".into());
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
        c.require("iterations", self.iterations > 0, || "must be > 0".into());
        c.require("alpha", (0.0..1.0).contains(&self.alpha), || {
            format!("must be in [0, 1), got {}", self.alpha)
        });
        c.positive("init_std", self.init_std);
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
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
    session.evaluate_with(0, &mut planner, |p| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
