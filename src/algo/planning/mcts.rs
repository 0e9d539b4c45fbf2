//! UCT (see [`crate::plan::mcts`]).

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::DIAGNOSTICS;
use crate::algo::Hyperparameters;
use crate::config::Checker;
use crate::env::{Env, Space};
use crate::plan::heuristics::{self, Heuristic};
use crate::plan::mcts::{Mcts, Options};
use crate::rng::{Rng, Stream};
use crate::run::Session;

/// Hyperparameters of Monte Carlo tree search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MctsConfig {
    pub simulations: usize,
    pub exploration_constant: f64,
    pub rollout_depth: usize,
    pub default_policy: DefaultPolicy,
    pub gamma: f64,
    pub trees: usize,
}

impl Default for MctsConfig {
    fn default() -> Self {
        Self {
            simulations: 1000,
            exploration_constant: std::f64::consts::SQRT_2,
            rollout_depth: 50,
            default_policy: DefaultPolicy::Random,
            gamma: 1.0,
            trees: 4,
        }
    }
}

impl Hyperparameters for MctsConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        (
            "simulations",
            "simulations per real step, split among the trees",
        ),
        (
            "exploration_constant",
            "C of UCB1, Q + C √(ln N(s) / N(s,a)); √2 suits returns in [0, 1], scale it with the returns",
        ),
        (
            "rollout_depth",
            "steps of the default policy from a new leaf (0: leaf value 0)",
        ),
        (
            "default_policy",
            "\"random\" (uniform actions) or \"heuristic\" (the env's hand-made rule: CartPole-v1, Acrobot-v1, MountainCar-v0)",
        ),
        ("gamma", "discount γ ∈ [0, 1] of the simulated returns"),
        (
            "trees",
            "independent trees searched in parallel (root parallelism); their root counts are summed",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.require("simulations", self.simulations > 0, || "must be > 0".into());
        c.require(
            "exploration_constant",
            self.exploration_constant.is_finite() && self.exploration_constant >= 0.0,
            || {
                format!(
                    "must be a finite number ≥ 0, got {}",
                    self.exploration_constant
                )
            },
        );
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.require(
            "trees",
            self.trees > 0 && self.trees <= self.simulations,
            || {
                format!(
                    "must be in [1, simulations = {}], got {}",
                    self.simulations, self.trees
                )
            },
        );
    }
}

/// The rollout policy of MCTS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultPolicy {
    /// Uniformly random (useful) actions.
    #[default]
    Random,
    /// The env's hand-made rule ([`crate::plan::heuristics`]).
    Heuristic,
}

/// The env's heuristic when `cfg` asks for one: `Err` names the envs that have one.
pub fn heuristic(cfg: &MctsConfig, env_id: &str) -> Result<Option<Heuristic>, String> {
    match cfg.default_policy {
        DefaultPolicy::Random => Ok(None),
        DefaultPolicy::Heuristic => heuristics::for_env(env_id).map(Some).ok_or_else(|| {
            format!(
                "{env_id} has no heuristic default policy (those with one: {}); use default_policy = \"random\"",
                heuristics::ENVS.join(", ")
            )
        }),
    }
}

impl From<&MctsConfig> for Options {
    fn from(cfg: &MctsConfig) -> Self {
        Self {
            simulations: cfg.simulations,
            exploration_constant: cfg.exploration_constant,
            rollout_depth: cfg.rollout_depth,
            gamma: cfg.gamma,
            trees: cfg.trees,
        }
    }
}

/// The planner of `cfg` for `env`'s (discrete) actions, drawing from `rng`.
pub fn planner(cfg: &MctsConfig, env: &dyn Env, rng: Rng) -> anyhow::Result<Mcts> {
    let Space::Discrete(n_actions) = env.spec().action_space else {
        bail!("mcts needs discrete actions");
    };
    let rule = heuristic(cfg, &env.spec().id).map_err(anyhow::Error::msg)?;
    Ok(Mcts::new(&cfg.into(), n_actions, rule, rng))
}

pub fn train(cfg: &MctsConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut planner = planner(cfg, &session.make_env()?, session.rng(Stream::Explore))?;
    session.set_diagnostics(&DIAGNOSTICS)?;
    session.evaluate_with(0, &mut planner, |p| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
