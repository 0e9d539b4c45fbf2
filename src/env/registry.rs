//! The environment registry: ids, per-env options, and construction (`gym.make`).

use serde::{Deserialize, Serialize};

use super::bandit::{BanditEnv, Rewards};
use super::bit_flipping::{BitFlipping, MAX_BITS};
use super::classic::{Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum};
use super::linear::LinearEnv;
use super::multi::{MULTI_AGENT_REGISTRY, is_multi_agent};
use super::toy_text::{DiscreteEnv, FourRooms, Maze, frozen_lake_map};
use super::{Env, EnvSpec};

/// Per-env options of `[env]` (gymnasium's `make` kwargs). Each applies to some envs only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvOptions {
    /// FrozenLake: `"4x4"` or `"8x8"` (default: 4x4 for FrozenLake-v1, 8x8 for FrozenLake8x8-v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_name: Option<String>,
    /// FrozenLake (default true) and CliffWalking (default false): intended move with
    /// probability 1/3, each perpendicular move with probability 1/3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_slippery: Option<bool>,
    /// FrozenLake: a custom map, one string per row of `S`, `F`, `H`, `G` (overrides map_name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<Vec<String>>,
    /// Pendulum: gravity (default 10.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub g: Option<f64>,
    /// simple_spread (agents and landmarks, default 3) and simple_adversary (good agents and
    /// landmarks, default 2): MPE2's `N`.
    #[serde(rename = "N", skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// simple_spread and simple_reference: weight of the agent's own reward against the
    /// shared one (default 0.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ratio: Option<f64>,
    /// Particle envs: steps per episode; every agent is truncated on this step (default 25).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cycles: Option<u32>,
    /// Particle envs: `Box(0, 1)` actions instead of `Discrete` (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuous_actions: Option<bool>,
    /// simple_tag: prey (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_good: Option<usize>,
    /// simple_tag: predators (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_adversaries: Option<usize>,
    /// simple_tag: obstacles (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_obstacles: Option<usize>,
    /// Bandits: the number of arms K ≥ 2 (default 10), their means drawn per run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arms: Option<usize>,
    /// Bandits: the arms' true means (fixes K; Bernoulli means in [0, 1]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub means: Option<Vec<f64>>,
    /// BitFlipping: the number of bits n (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_bits: Option<usize>,
    /// BitFlipping: a uniformly random goal each episode (default false: all ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_goal: Option<bool>,
    /// BitFlipping: actions in Box[−1, 1]^n, bit i flipped where a_i > 0 (default false:
    /// `Discrete(n)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
    /// Bandits without `means`: the seed their means are drawn from (the runner sets the run's
    /// seed; not a config key).
    #[serde(skip)]
    pub instance_seed: Option<u64>,
    /// BlockingMaze (default 1000) and ShortcutMaze (default 3000): env steps, counted across
    /// episodes, after which the walls change (S&B Examples 8.2 and 8.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_at: Option<u64>,
    /// FourRooms: the feature cells, [row, col] of the 11x11 interior (default the corners
    /// [0, 10], [10, 0], [10, 10]); entering one ends the episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<[usize; 2]>>,
    /// FourRooms: the task's reward weights w, one per feature cell (default all ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Vec<f64>>,
}

impl EnvOptions {
    /// Every option key with whether it is given.
    pub(crate) fn given(&self) -> [(&'static str, bool); 19] {
        [
            ("map_name", self.map_name.is_some()),
            ("is_slippery", self.is_slippery.is_some()),
            ("desc", self.desc.is_some()),
            ("g", self.g.is_some()),
            ("N", self.n.is_some()),
            ("local_ratio", self.local_ratio.is_some()),
            ("max_cycles", self.max_cycles.is_some()),
            ("continuous_actions", self.continuous_actions.is_some()),
            ("num_good", self.num_good.is_some()),
            ("num_adversaries", self.num_adversaries.is_some()),
            ("num_obstacles", self.num_obstacles.is_some()),
            ("arms", self.arms.is_some()),
            ("means", self.means.is_some()),
            ("n_bits", self.n_bits.is_some()),
            ("random_goal", self.random_goal.is_some()),
            ("continuous", self.continuous.is_some()),
            ("change_at", self.change_at.is_some()),
            ("features", self.features.is_some()),
            ("task", self.task.is_some()),
        ]
    }

    /// An error for the first given option that `entry` does not take.
    pub fn check_applicable(&self, entry: &Registered) -> Result<(), OptionError> {
        for (key, given) in self.given() {
            if given && !entry.options.contains(&key) {
                let takes = if entry.options.is_empty() {
                    "it takes no options".to_string()
                } else {
                    format!("it takes: {}", entry.options.join(", "))
                };
                return Err(OptionError {
                    key,
                    message: format!("option `{key}` does not apply to {}; {takes}", entry.id),
                });
            }
        }
        Ok(())
    }
}

/// An option that the chosen env does not accept or a value it rejects.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct OptionError {
    /// The offending key inside `[env]` (`id`, `map_name`, ...).
    pub key: &'static str,
    pub message: String,
}

/// One registered env: its id, the options it takes, and a one-line summary.
pub struct Registered {
    pub id: &'static str,
    pub options: &'static [&'static str],
    pub summary: &'static str,
}

/// Every env id `make_env` accepts.
pub const REGISTRY: &[Registered] = &[
    Registered {
        id: "CartPole-v1",
        options: &[],
        summary: "balance a pole on a cart",
    },
    Registered {
        id: "Pendulum-v1",
        options: &["g"],
        summary: "swing up and hold a pendulum",
    },
    Registered {
        id: "MountainCar-v0",
        options: &[],
        summary: "drive an underpowered car up a hill",
    },
    Registered {
        id: "MountainCarContinuous-v0",
        options: &[],
        summary: "MountainCar with a continuous force",
    },
    Registered {
        id: "Acrobot-v1",
        options: &[],
        summary: "swing a two-link arm above a bar",
    },
    Registered {
        id: "FrozenLake-v1",
        options: &["map_name", "is_slippery", "desc"],
        summary: "cross a frozen lake without falling in a hole (4x4)",
    },
    Registered {
        id: "FrozenLake8x8-v1",
        options: &["map_name", "is_slippery", "desc"],
        summary: "FrozenLake on the 8x8 map",
    },
    Registered {
        id: "CliffWalking-v0",
        options: &["is_slippery"],
        summary: "walk along a cliff to the goal (no time limit)",
    },
    Registered {
        id: "Taxi-v3",
        options: &[],
        summary: "pick up and drop off a passenger",
    },
    Registered {
        id: "BernoulliBandit-v0",
        options: &["arms", "means"],
        summary: "rl's own: K-armed bandit paying 1 with probability μᵢ (means given or drawn U(0, 1) per run)",
    },
    Registered {
        id: "GaussianBandit-v0",
        options: &["arms", "means"],
        summary: "rl's own: K-armed bandit paying N(μᵢ, 1); means drawn N(0, 1) per run is S&B's 10-armed testbed",
    },
    Registered {
        id: "BitFlipping-v0",
        options: &["n_bits", "random_goal", "continuous"],
        summary: "rl's own, as SB3's: flip n bits to a goal (fixed or random), reward 0 on success else -1; a goal env; continuous: flip bit i where a_i > 0",
    },
    Registered {
        id: "DynaMaze-v0",
        options: &[],
        summary: "rl's own, not gymnasium: S&B Figure 8.2's 6x9 maze, reward 1 at the goal (shortest path 14)",
    },
    Registered {
        id: "BlockingMaze-v0",
        options: &["change_at"],
        summary: "rl's own, not gymnasium: S&B Example 8.2, the path is blocked after change_at (1000) steps",
    },
    Registered {
        id: "ShortcutMaze-v0",
        options: &["change_at"],
        summary: "rl's own, not gymnasium: S&B Example 8.3, a shortcut opens after change_at (3000) steps",
    },
    Registered {
        id: "FourRooms-v0",
        options: &["features", "task"],
        summary: "rl's own, not gymnasium: Sutton, Precup & Singh's four rooms, reward phi.w at feature cells (successor features)",
    },
    Registered {
        id: "DoubleIntegrator-v0",
        options: &[],
        summary: "rl's own, not gymnasium: push a mass to rest at the origin; linear, quadratic cost",
    },
    Registered {
        id: "CartPoleLinear-v0",
        options: &[],
        summary: "rl's own, not gymnasium: CartPole linearised about upright, continuous force, quadratic cost",
    },
];

/// Builds the base env `id` (no time limit; see [`super::TimeLimit`]) with `options`.
pub fn make_env(id: &str, options: &EnvOptions) -> Result<Box<dyn Env>, OptionError> {
    if is_multi_agent(id) {
        return Err(OptionError {
            key: "id",
            message: format!(
                "`{id}` is a multi-agent env (PettingZoo's parallel API); it needs a \
                 multi-agent algorithm (`rl algos` lists them)"
            ),
        });
    }
    let Some(entry) = REGISTRY.iter().find(|r| r.id == id) else {
        let ids: Vec<&str> = REGISTRY
            .iter()
            .chain(MULTI_AGENT_REGISTRY)
            .map(|r| r.id)
            .collect();
        return Err(OptionError {
            key: "id",
            message: format!(
                "unknown env id `{id}`{}; allowed: {}",
                crate::suggest::did_you_mean(id, ids.iter().copied()),
                ids.join(", ")
            ),
        });
    };
    options.check_applicable(entry)?;
    Ok(match id {
        "CartPole-v1" => Box::new(CartPole::new()),
        "Pendulum-v1" => {
            let g = options.g.unwrap_or(10.0);
            if !(g.is_finite() && g > 0.0) {
                return Err(OptionError {
                    key: "g",
                    message: format!("g must be > 0, got {g}"),
                });
            }
            Box::new(Pendulum::new(g))
        }
        "MountainCar-v0" => Box::new(MountainCar::new()),
        "MountainCarContinuous-v0" => Box::new(MountainCarContinuous::new()),
        "Acrobot-v1" => Box::new(Acrobot::new()),
        "FrozenLake-v1" | "FrozenLake8x8-v1" => {
            let default_map = if id == "FrozenLake-v1" { "4x4" } else { "8x8" };
            let desc = match (
                &options.desc,
                options.map_name.as_deref().unwrap_or(default_map),
            ) {
                (Some(desc), _) => desc.clone(),
                (None, name) => frozen_lake_map(name)
                    .ok_or_else(|| OptionError {
                        key: "map_name",
                        message: format!("unknown map_name `{name}`; allowed: 4x4, 8x8"),
                    })?
                    .iter()
                    .map(|row| row.to_string())
                    .collect(),
            };
            let lake = DiscreteEnv::frozen_lake(id, &desc, options.is_slippery.unwrap_or(true))
                .map_err(|message| OptionError {
                    key: "desc",
                    message,
                })?;
            Box::new(lake)
        }
        "CliffWalking-v0" => Box::new(DiscreteEnv::cliff_walking(
            options.is_slippery.unwrap_or(false),
        )),
        "Taxi-v3" => Box::new(DiscreteEnv::taxi()),
        "BernoulliBandit-v0" | "GaussianBandit-v0" => {
            let rewards = if id == "BernoulliBandit-v0" {
                Rewards::Bernoulli
            } else {
                Rewards::Gaussian
            };
            let means = BanditEnv::means_for(
                rewards,
                options.arms,
                options.means.as_deref(),
                options.instance_seed.unwrap_or(0),
            )
            .map_err(|(key, message)| OptionError { key, message })?;
            Box::new(BanditEnv::new(id, rewards, means))
        }
        "BitFlipping-v0" => {
            let n = options.n_bits.unwrap_or(10);
            if !(2..=MAX_BITS).contains(&n) {
                return Err(OptionError {
                    key: "n_bits",
                    message: format!("n_bits must lie in 2..={MAX_BITS}, got {n}"),
                });
            }
            let bits = BitFlipping::new(n, options.random_goal.unwrap_or(false));
            Box::new(if options.continuous.unwrap_or(false) {
                bits.continuous()
            } else {
                bits
            })
        }
        "DynaMaze-v0" => Box::new(Maze::dyna_maze()),
        "BlockingMaze-v0" => Box::new(Maze::blocking_maze(options.change_at.unwrap_or(1000))),
        "ShortcutMaze-v0" => Box::new(Maze::shortcut_maze(options.change_at.unwrap_or(3000))),
        "FourRooms-v0" => {
            let features: Vec<(usize, usize)> = match &options.features {
                Some(cells) => cells.iter().map(|&[r, c]| (r, c)).collect(),
                None => super::toy_text::four_rooms::DEFAULT_FEATURES.to_vec(),
            };
            let task = options
                .task
                .clone()
                .unwrap_or_else(|| vec![1.0; features.len()]);
            Box::new(
                FourRooms::new(&features, &task)
                    .map_err(|(key, message)| OptionError { key, message })?,
            )
        }
        "DoubleIntegrator-v0" => Box::new(LinearEnv::double_integrator()),
        "CartPoleLinear-v0" => Box::new(LinearEnv::cartpole_linear()),
        _ => unreachable!("every registered id has a constructor"),
    })
}

/// The spec of `id` with default options (for `rl envs`).
pub fn spec_of(id: &str) -> Option<EnvSpec> {
    make_env(id, &EnvOptions::default())
        .ok()
        .map(|env| env.spec().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Space, TimeLimit};

    /// An action for step `t` (deterministic, covering the space).
    fn action<'a>(space: &Space, t: usize, buf: &'a mut [f32]) -> Action<'a> {
        match space {
            Space::Discrete(n) => Action::Discrete((t * 7 + t / 3) % n),
            Space::Box { .. } => {
                buf[0] = ((t % 5) as f32 - 2.0) * 0.4;
                Action::Continuous(buf)
            }
        }
    }

    /// A snapshot restored into a fresh env continues exactly like the original, stochastic
    /// transitions (slippery FrozenLake) and time-limit counts included.
    #[test]
    fn snapshots_continue_exactly_on_every_env() {
        for entry in REGISTRY {
            let limit = Some(25);
            let mut env =
                TimeLimit::new(make_env(entry.id, &EnvOptions::default()).unwrap(), limit);
            let space = env.spec().action_space.clone();
            let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
            let mut buf = [0.0f32];
            env.reset(Some(11), &mut obs);
            for t in 0..7 {
                env.step(action(&space, t, &mut buf), &mut obs);
            }
            let snapshot = env.snapshot();
            let mut copy =
                TimeLimit::new(make_env(entry.id, &EnvOptions::default()).unwrap(), limit);
            copy.restore(&snapshot);
            let mut obs2 = obs.clone();
            for t in 7..40 {
                let a = env.step(action(&space, t, &mut buf), &mut obs);
                let b = copy.step(action(&space, t, &mut buf), &mut obs2);
                assert_eq!((a, &obs), (b, &obs2), "{} at step {t}", entry.id);
                if a.terminated || a.truncated {
                    break;
                }
            }
            assert_eq!(env.snapshot(), copy.snapshot(), "{}", entry.id);
        }
    }
}
