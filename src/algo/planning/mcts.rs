//! UCT (see [`crate::plan::mcts`]).

use std::path::Path;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::DIAGNOSTICS;
use crate::algo::algorithm::check_planner_envs;
use crate::algo::{Algorithm, Kind};
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::plan::heuristics::{self, Heuristic};
use crate::plan::mcts::{Mcts, Options};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of Monte Carlo tree search.
    pub struct MctsConfig {
        /// simulations per real step, split among the trees
        simulations: usize = 1000, nonzero;
        /// C of UCB1, Q + C √(ln N(s) / N(s,a)); √2 suits returns in [0, 1], scale it with the
        /// returns
        exploration_constant: f64 = std::f64::consts::SQRT_2, non_negative;
        /// steps of the default policy from a new leaf (0: leaf value 0)
        rollout_depth: usize = 50;
        /// "random" (uniform actions) or "heuristic" (the env's hand-made rule: CartPole-v1,
        /// Acrobot-v1, MountainCar-v0)
        default_policy: DefaultPolicy = DefaultPolicy::Random;
        /// discount γ ∈ [0, 1] of the simulated returns
        gamma: f64 = 1.0, in_closed(0.0, 1.0);
        /// independent trees searched in parallel (root parallelism); their root counts are
        /// summed
        trees: usize = 4;
    }
    check: Self::check_trees;
}

impl MctsConfig {
    fn check_trees(&self, c: &mut Checker) {
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

impl Algorithm for MctsConfig {
    const NAME: &'static str = "mcts";
    const SUMMARY: &'static str =
        "Monte Carlo tree search with UCT and random rollouts (Kocsis & Szepesvári 2006)";
    const KIND: Kind = Kind::Planner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        check_planner_envs(Self::NAME, num_envs)?;
        heuristic(self, &env.spec().id).map_err(|e| ("algo.default_policy", e))?;
        let spec = env.spec();
        if !matches!(spec.action_space, Space::Discrete(_)) {
            return Err((
                "env.id",
                format!(
                    "{} branches on discrete actions (CartPole-v1, Acrobot-v1, Taxi-v3, \
                     FrozenLake-v1, ...); {} has continuous actions {}",
                    Self::NAME,
                    spec.id,
                    spec.action_space.describe()
                ),
            ));
        }
        Ok(())
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
        Ok(Box::new(planner(self, env, rng)?))
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
    session.evaluate_with(0, &mut planner, |p, _| {
        vec![p.stats().mean_plan_ms(), p.stats().mean_sim_steps()]
    })
}
