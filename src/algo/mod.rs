//! Algorithms: one config struct and one `train` function each, and the registry that maps
//! `[algo] name = "..."` to them.
//!
//! Adding an algorithm = a config struct with documented defaults, a train function taking a
//! [`Session`], an [`AlgoConfig`] variant, an [`ALGOS`] entry, an experiment TOML and tests.

pub mod actor_critic;
pub mod control;
pub mod diagnostics;
pub mod off_policy;
pub mod planning;
pub mod policy_gradient;
pub mod schedule;
pub mod tabular;
pub mod value_based;

use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{Backend, Checker, EnvSection, Experiment, ExperimentSection};
use crate::env::{Env, Space};
use crate::rng::Rng;
use crate::run::{Policy, Session};

use actor_critic::sac::SacConfig;
use actor_critic::saved::ActorKind;
use actor_critic::td3::{DdpgConfig, Td3Config};
use control::{IlqrConfig, LqrConfig};
use planning::{CemConfig, MctsConfig, RandomShootingConfig};
use policy_gradient::a2c::A2cConfig;
use policy_gradient::ppo::PpoConfig;
use policy_gradient::reinforce::ReinforceConfig;
use tabular::{DpConfig, SarsaLambdaConfig, TdConfig, TdTarget};
use value_based::dqn::DqnConfig;

/// The `[algo]` table: the algorithm's name and its own typed hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum AlgoConfig {
    ValueIteration(DpConfig),
    PolicyIteration(DpConfig),
    QLearning(TdConfig),
    Sarsa(TdConfig),
    ExpectedSarsa(TdConfig),
    SarsaLambda(SarsaLambdaConfig),
    RandomShooting(RandomShootingConfig),
    Cem(CemConfig),
    Mcts(MctsConfig),
    Lqr(LqrConfig),
    Ilqr(IlqrConfig),
    Reinforce(ReinforceConfig),
    A2c(A2cConfig),
    Ppo(PpoConfig),
    Dqn(DqnConfig),
    Ddpg(DdpgConfig),
    Td3(Td3Config),
    Sac(SacConfig),
}

/// Hyperparameters of one algorithm: serde with defaults, per-key help and value checks.
pub trait Hyperparameters: Serialize + DeserializeOwned + Default {
    /// `(key, meaning)` for every key, in declaration order (shown by `rl algos`).
    const HELP: &'static [(&'static str, &'static str)];

    /// Records out-of-range values (keys relative to `[algo]`).
    fn check(&self, c: &mut Checker);
}

/// One registered algorithm.
pub struct AlgoEntry {
    pub name: &'static str,
    pub summary: &'static str,
    pub help: &'static [(&'static str, &'static str)],
    /// Parses a whole experiment whose `[algo]` table (without `name`) holds this algorithm's keys.
    pub(crate) parse: fn(&str) -> Result<Experiment, toml::de::Error>,
    /// This algorithm's default hyperparameters as a TOML table.
    pub defaults: fn() -> toml::Table,
}

/// Every algorithm `[algo] name` accepts.
pub const ALGOS: &[AlgoEntry] = &[
    AlgoEntry {
        name: "value_iteration",
        summary: "value iteration on the env's known model (Sutton & Barto 4.4); steps count sweeps",
        help: DpConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::ValueIteration),
        defaults: defaults::<DpConfig>,
    },
    AlgoEntry {
        name: "policy_iteration",
        summary: "policy iteration on the env's known model (Sutton & Barto 4.3); steps count sweeps",
        help: DpConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::PolicyIteration),
        defaults: defaults::<DpConfig>,
    },
    AlgoEntry {
        name: "q_learning",
        summary: "off-policy TD control, target r + γ max_a' Q(s',a') (Watkins 1989; S&B 6.5)",
        help: TdConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::QLearning),
        defaults: defaults::<TdConfig>,
    },
    AlgoEntry {
        name: "sarsa",
        summary: "on-policy TD control, target r + γ Q(s',a'), a' ~ ε-greedy (S&B 6.4)",
        help: TdConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Sarsa),
        defaults: defaults::<TdConfig>,
    },
    AlgoEntry {
        name: "expected_sarsa",
        summary: "TD control, target r + γ Σ_a' π(a'|s') Q(s',a') under ε-greedy π (S&B 6.6)",
        help: TdConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::ExpectedSarsa),
        defaults: defaults::<TdConfig>,
    },
    AlgoEntry {
        name: "sarsa_lambda",
        summary: "Sarsa(λ) with accumulating or replacing eligibility traces (S&B 12.7)",
        help: SarsaLambdaConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::SarsaLambda),
        defaults: defaults::<SarsaLambdaConfig>,
    },
    AlgoEntry {
        name: "random_shooting",
        summary: "MPC: execute the first action of the best of N uniformly random sequences (CS285 L10)",
        help: RandomShootingConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::RandomShooting),
        defaults: defaults::<RandomShootingConfig>,
    },
    AlgoEntry {
        name: "cem",
        summary: "MPC with the cross-entropy method: Gaussian or categorical p(A) refit to elites (Rubinstein 1999)",
        help: CemConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Cem),
        defaults: defaults::<CemConfig>,
    },
    AlgoEntry {
        name: "mcts",
        summary: "Monte Carlo tree search with UCT and random rollouts (Kocsis & Szepesvári 2006)",
        help: MctsConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Mcts),
        defaults: defaults::<MctsConfig>,
    },
    AlgoEntry {
        name: "lqr",
        summary: "LQR about an equilibrium: DARE or finite-horizon Riccati gains on the env's linearisation (planner)",
        help: LqrConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Lqr),
        defaults: defaults::<LqrConfig>,
    },
    AlgoEntry {
        name: "ilqr",
        summary: "iLQR model-predictive control on the true dynamics (Tassa et al. 2012; planner)",
        help: IlqrConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Ilqr),
        defaults: defaults::<IlqrConfig>,
    },
    AlgoEntry {
        name: "reinforce",
        summary: "Monte Carlo policy gradient with reward-to-go and a learned baseline (Williams 1992)",
        help: ReinforceConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Reinforce),
        defaults: defaults::<ReinforceConfig>,
    },
    AlgoEntry {
        name: "a2c",
        summary: "advantage actor-critic, n-step returns or GAE, one step per rollout (Mnih et al. 2016)",
        help: A2cConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::A2c),
        defaults: defaults::<A2cConfig>,
    },
    AlgoEntry {
        name: "ppo",
        summary: "proximal policy optimisation, clipped surrogate + GAE + minibatch epochs (Schulman et al. 2017)",
        help: PpoConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Ppo),
        defaults: defaults::<PpoConfig>,
    },
    AlgoEntry {
        name: "dqn",
        summary: "deep Q-network with replay and a target net; double, dueling, prioritised, n-step as flags (Mnih et al. 2015)",
        help: DqnConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Dqn),
        defaults: defaults::<DqnConfig>,
    },
    AlgoEntry {
        name: "ddpg",
        summary: "deep deterministic policy gradient: replay, target nets, exploration noise (Lillicrap et al. 2016)",
        help: DdpgConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Ddpg),
        defaults: defaults::<DdpgConfig>,
    },
    AlgoEntry {
        name: "td3",
        summary: "twin delayed DDPG: clipped double Q, target policy smoothing, delayed actor (Fujimoto et al. 2018)",
        help: Td3Config::HELP,
        parse: |text| parse_as(text, AlgoConfig::Td3),
        defaults: defaults::<Td3Config>,
    },
    AlgoEntry {
        name: "sac",
        summary: "soft actor-critic: twin critics, tanh-squashed Gaussian, learned temperature (Haarnoja et al. 2018)",
        help: SacConfig::HELP,
        parse: |text| parse_as(text, AlgoConfig::Sac),
        defaults: defaults::<SacConfig>,
    },
];

/// The registered algorithm called `name`.
pub fn find(name: &str) -> Option<&'static AlgoEntry> {
    ALGOS.iter().find(|a| a.name == name)
}

fn parse_as<C: DeserializeOwned + Default>(
    text: &str,
    wrap: fn(C) -> AlgoConfig,
) -> Result<Experiment, toml::de::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File<C> {
        experiment: ExperimentSection,
        env: EnvSection,
        /// Its `name` was taken out by the loader; an `[algo]` left empty means all defaults.
        #[serde(default)]
        algo: C,
    }
    let file: File<C> = toml::from_str(text)?;
    Ok(Experiment {
        experiment: file.experiment,
        env: file.env,
        algo: wrap(file.algo),
    })
}

fn defaults<C: Hyperparameters>() -> toml::Table {
    toml::Table::try_from(C::default()).expect("defaults serialise to a TOML table")
}

impl AlgoConfig {
    /// The registered name (`q_learning`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            AlgoConfig::ValueIteration(_) => "value_iteration",
            AlgoConfig::PolicyIteration(_) => "policy_iteration",
            AlgoConfig::QLearning(_) => "q_learning",
            AlgoConfig::Sarsa(_) => "sarsa",
            AlgoConfig::ExpectedSarsa(_) => "expected_sarsa",
            AlgoConfig::SarsaLambda(_) => "sarsa_lambda",
            AlgoConfig::RandomShooting(_) => "random_shooting",
            AlgoConfig::Cem(_) => "cem",
            AlgoConfig::Mcts(_) => "mcts",
            AlgoConfig::Lqr(_) => "lqr",
            AlgoConfig::Ilqr(_) => "ilqr",
            AlgoConfig::Reinforce(_) => "reinforce",
            AlgoConfig::A2c(_) => "a2c",
            AlgoConfig::Ppo(_) => "ppo",
            AlgoConfig::Dqn(_) => "dqn",
            AlgoConfig::Ddpg(_) => "ddpg",
            AlgoConfig::Td3(_) => "td3",
            AlgoConfig::Sac(_) => "sac",
        }
    }

    /// Planners act by planning from the current state and do not train (no `total_steps`).
    pub fn is_planner(&self) -> bool {
        matches!(
            self,
            AlgoConfig::RandomShooting(_)
                | AlgoConfig::Cem(_)
                | AlgoConfig::Mcts(_)
                | AlgoConfig::Lqr(_)
                | AlgoConfig::Ilqr(_)
        )
    }

    /// Range checks of the hyperparameters.
    pub fn check(&self, c: &mut Checker) {
        match self {
            AlgoConfig::ValueIteration(cfg) => cfg.check(c),
            AlgoConfig::PolicyIteration(cfg) => {
                cfg.check(c);
                c.require("gamma", cfg.gamma < 1.0, || {
                    format!(
                        "policy iteration needs gamma < 1 so that every policy has a finite value, got {}",
                        cfg.gamma
                    )
                });
            }
            AlgoConfig::QLearning(cfg)
            | AlgoConfig::Sarsa(cfg)
            | AlgoConfig::ExpectedSarsa(cfg) => cfg.check(c),
            AlgoConfig::SarsaLambda(cfg) => cfg.check(c),
            AlgoConfig::RandomShooting(cfg) => cfg.check(c),
            AlgoConfig::Cem(cfg) => cfg.check(c),
            AlgoConfig::Mcts(cfg) => cfg.check(c),
            AlgoConfig::Lqr(cfg) => cfg.check(c),
            AlgoConfig::Ilqr(cfg) => cfg.check(c),
            AlgoConfig::Reinforce(cfg) => cfg.check(c),
            AlgoConfig::A2c(cfg) => cfg.check(c),
            AlgoConfig::Ppo(cfg) => cfg.check(c),
            AlgoConfig::Dqn(cfg) => cfg.check(c),
            AlgoConfig::Ddpg(cfg) => cfg.check(c),
            AlgoConfig::Td3(cfg) => cfg.check(c),
            AlgoConfig::Sac(cfg) => cfg.check(c),
        }
    }

    /// Whether the algorithm can run on `env` with `num_envs` copies: `Err((key, message))`.
    pub fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        match self {
            AlgoConfig::ValueIteration(_) | AlgoConfig::PolicyIteration(_) => {
                self.check_tabular(env, num_envs)?;
                if env.model().is_none() {
                    return Err((
                        "env.id",
                        format!("{} needs the env's transition model", self.name()),
                    ));
                }
                Ok(())
            }
            AlgoConfig::QLearning(_)
            | AlgoConfig::Sarsa(_)
            | AlgoConfig::ExpectedSarsa(_)
            | AlgoConfig::SarsaLambda(_) => self.check_tabular(env, num_envs),
            AlgoConfig::RandomShooting(_) | AlgoConfig::Cem(_) => {
                self.check_planner_envs(num_envs)?;
                match &env.spec().action_space {
                    Space::Box { low, high } if low.iter().chain(high).any(|x| !x.is_finite()) => {
                        Err((
                            "env.id",
                            format!(
                                "{} samples actions within the action bounds; {} has unbounded actions {}",
                                self.name(),
                                env.spec().id,
                                env.spec().action_space.describe()
                            ),
                        ))
                    }
                    _ => Ok(()),
                }
            }
            AlgoConfig::Lqr(_) | AlgoConfig::Ilqr(_) => {
                self.check_planner_envs(num_envs)?;
                control::check_env(self.name(), env)
            }
            AlgoConfig::Reinforce(_) | AlgoConfig::A2c(_) | AlgoConfig::Ppo(_) => {
                policy_gradient::check_env(self.name(), env)
            }
            AlgoConfig::Dqn(_) => value_based::check_env(self.name(), env),
            AlgoConfig::Ddpg(_) | AlgoConfig::Td3(_) | AlgoConfig::Sac(_) => {
                actor_critic::check_env(self.name(), env)
            }
            AlgoConfig::Mcts(cfg) => {
                self.check_planner_envs(num_envs)?;
                planning::mcts::heuristic(cfg, &env.spec().id)
                    .map_err(|e| ("algo.default_policy", e))?;
                let spec = env.spec();
                if !matches!(spec.action_space, Space::Discrete(_)) {
                    return Err((
                        "env.id",
                        format!(
                            "{} branches on discrete actions (CartPole-v1, Acrobot-v1, Taxi-v3, \
                             FrozenLake-v1, ...); {} has continuous actions {}",
                            self.name(),
                            spec.id,
                            spec.action_space.describe()
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Tabular methods: discrete observations and actions, one env.
    fn check_tabular(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        let spec = env.spec();
        let tabular = matches!(spec.observation_space, Space::Discrete(_))
            && matches!(spec.action_space, Space::Discrete(_));
        if !tabular {
            return Err((
                "env.id",
                format!(
                    "{} needs discrete observations and actions (a toy-text env such as FrozenLake-v1, \
                     CliffWalking-v0 or Taxi-v3); {} has {} observations and {} actions",
                    self.name(),
                    spec.id,
                    spec.observation_space.describe(),
                    spec.action_space.describe()
                ),
            ));
        }
        if num_envs != 1 {
            return Err((
                "env.num_envs",
                format!(
                    "{} learns from one env at a time; set env.num_envs = 1",
                    self.name()
                ),
            ));
        }
        Ok(())
    }

    /// Planners act in the evaluation env only: no training envs.
    fn check_planner_envs(&self, num_envs: usize) -> Result<(), (&'static str, String)> {
        if num_envs != 1 {
            return Err((
                "env.num_envs",
                format!(
                    "does not apply to {}: a planner acts in one env and simulates clones of it",
                    self.name()
                ),
            ));
        }
        Ok(())
    }

    /// The policy of a finished run: a planner rebuilt from its config (it learns nothing), or the
    /// learned policy saved in `run_dir` (`policy.json`, or a network on `backend`). `rng` drives
    /// a planner's sampling.
    pub fn policy(
        &self,
        env: &dyn Env,
        rng: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let network = |policy, normalize_obs| -> anyhow::Result<Box<dyn Policy>> {
            Ok(Box::new(policy_gradient::saved::load(
                policy,
                normalize_obs,
                backend,
                env,
                run_dir,
            )?))
        };
        Ok(match self {
            AlgoConfig::RandomShooting(cfg) => {
                Box::new(planning::random_shooting::planner(cfg, env, rng))
            }
            AlgoConfig::Cem(cfg) => Box::new(planning::cem::planner(cfg, env, rng)),
            AlgoConfig::Mcts(cfg) => Box::new(planning::mcts::planner(cfg, env, rng)?),
            AlgoConfig::Lqr(cfg) => Box::new(control::lqr::planner(cfg, env)?),
            AlgoConfig::Ilqr(cfg) => Box::new(control::ilqr::planner(cfg, env)),
            AlgoConfig::Reinforce(cfg) => network(&cfg.policy, cfg.normalize_obs)?,
            AlgoConfig::A2c(cfg) => network(&cfg.policy, cfg.normalize_obs)?,
            AlgoConfig::Ppo(cfg) => network(&cfg.policy, cfg.normalize_obs)?,
            AlgoConfig::Dqn(cfg) => Box::new(value_based::greedy::load(
                &cfg.policy,
                cfg.dueling,
                backend,
                env,
                run_dir,
            )?),
            AlgoConfig::Ddpg(cfg) => Box::new(actor_critic::saved::load(
                &cfg.policy,
                ActorKind::Deterministic,
                backend,
                env,
                run_dir,
            )?),
            AlgoConfig::Td3(cfg) => Box::new(actor_critic::saved::load(
                &cfg.policy,
                ActorKind::Deterministic,
                backend,
                env,
                run_dir,
            )?),
            AlgoConfig::Sac(cfg) => Box::new(actor_critic::saved::load(
                &cfg.policy,
                ActorKind::Squashed { sde: cfg.use_sde },
                backend,
                env,
                run_dir,
            )?),
            AlgoConfig::ValueIteration(_)
            | AlgoConfig::PolicyIteration(_)
            | AlgoConfig::QLearning(_)
            | AlgoConfig::Sarsa(_)
            | AlgoConfig::ExpectedSarsa(_)
            | AlgoConfig::SarsaLambda(_) => {
                let path = run_dir.join("policy.json");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("no saved policy: cannot read {}", path.display()))?;
                let table: tabular::q_table::GreedyTable = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a saved tabular policy", path.display()))?;
                Box::new(table)
            }
        })
    }

    /// Trains on `session` until its step budget is spent.
    pub fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        match self {
            AlgoConfig::ValueIteration(cfg) => tabular::value_iteration::train(cfg, session),
            AlgoConfig::PolicyIteration(cfg) => tabular::policy_iteration::train(cfg, session),
            AlgoConfig::QLearning(cfg) => tabular::td::train(cfg, TdTarget::MaxQ, session),
            AlgoConfig::Sarsa(cfg) => tabular::td::train(cfg, TdTarget::Sarsa, session),
            AlgoConfig::ExpectedSarsa(cfg) => tabular::td::train(cfg, TdTarget::Expected, session),
            AlgoConfig::SarsaLambda(cfg) => tabular::sarsa_lambda::train(cfg, session),
            AlgoConfig::RandomShooting(cfg) => planning::random_shooting::train(cfg, session),
            AlgoConfig::Cem(cfg) => planning::cem::train(cfg, session),
            AlgoConfig::Mcts(cfg) => planning::mcts::train(cfg, session),
            AlgoConfig::Lqr(cfg) => control::lqr::train(cfg, session),
            AlgoConfig::Ilqr(cfg) => control::ilqr::train(cfg, session),
            AlgoConfig::Reinforce(cfg) => policy_gradient::reinforce::train(cfg, session),
            AlgoConfig::A2c(cfg) => policy_gradient::a2c::train(cfg, session),
            AlgoConfig::Ppo(cfg) => policy_gradient::ppo::train(cfg, session),
            AlgoConfig::Dqn(cfg) => value_based::dqn::train(cfg, session),
            AlgoConfig::Ddpg(cfg) => actor_critic::td3::train(&cfg.as_td3(), 1, session),
            AlgoConfig::Td3(cfg) => actor_critic::td3::train(cfg, 2, session),
            AlgoConfig::Sac(cfg) => actor_critic::sac::train(cfg, session),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rl algos` documents exactly the keys each config has; keys that are unset by default
    /// (absent from the defaults table) say so, and setting them parses.
    #[test]
    fn help_covers_every_key() {
        for entry in ALGOS {
            let defaults = (entry.defaults)();
            let help: Vec<&str> = entry.help.iter().map(|(k, _)| *k).collect();
            for key in defaults.keys() {
                assert!(
                    help.contains(&key.as_str()),
                    "{}: {key} has no help",
                    entry.name
                );
            }
            for (key, text) in entry.help {
                if defaults.contains_key(*key) {
                    continue;
                }
                assert!(
                    text.contains("unset"),
                    "{}: {key} is not in the defaults",
                    entry.name
                );
                let file = format!(
                    "[experiment]\nname = \"x\"\n[env]\nid = \"CartPole-v1\"\n[algo]\n{key} = 0.5\n"
                );
                assert!(
                    (entry.parse)(&file).is_ok(),
                    "{}: {key} = 0.5 parses",
                    entry.name
                );
            }
        }
    }

    #[test]
    fn planners_check_their_action_spaces() {
        use crate::env::{EnvOptions, make_env};
        let env = |id| make_env(id, &EnvOptions::default()).unwrap();
        let mcts = AlgoConfig::Mcts(MctsConfig::default());
        let cem = AlgoConfig::Cem(CemConfig::default());
        let (key, message) = mcts.check_env(env("Pendulum-v1").as_ref(), 1).unwrap_err();
        assert_eq!(key, "env.id");
        assert!(
            message.contains("Pendulum-v1") && message.contains("discrete"),
            "{message}"
        );
        for id in ["CartPole-v1", "Acrobot-v1", "Taxi-v3", "FrozenLake-v1"] {
            assert_eq!(mcts.check_env(env(id).as_ref(), 1), Ok(()), "{id}");
        }
        for id in ["Pendulum-v1", "MountainCarContinuous-v0", "CartPole-v1"] {
            assert_eq!(cem.check_env(env(id).as_ref(), 1), Ok(()), "{id}");
        }
        let (key, _) = cem.check_env(env("Pendulum-v1").as_ref(), 4).unwrap_err();
        assert_eq!(key, "env.num_envs");
        assert!(cem.is_planner() && mcts.is_planner());
    }
}
