//! `[env]`: which environment a run makes and with which options (gymnasium's `make` kwargs).

use serde::{Deserialize, Serialize};

use super::bridge::{Bridge, BridgeEnv};
use super::registry::OptionError;
use super::{Env, EnvOptions, make_env};

fn default_num_envs() -> usize {
    1
}

/// `[env]`: the environment and its options (gymnasium's `make` kwargs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    /// A registered id (`rl envs` lists them), e.g. `CartPole-v1`.
    pub id: String,
    /// Copies stepped together by the vector env (default 1).
    #[serde(default = "default_num_envs")]
    pub num_envs: usize,
    /// Overrides the registered time limit (training and evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_episode_steps: Option<u32>,
    /// FrozenLake: `"4x4"` or `"8x8"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_name: Option<String>,
    /// FrozenLake (default true), CliffWalking (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_slippery: Option<bool>,
    /// FrozenLake: a custom map, one string per row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<Vec<String>>,
    /// Pendulum: gravity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g: Option<f64>,
    /// simple_spread, simple_adversary: MPE2's `N`.
    #[serde(rename = "N", default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// simple_spread, simple_reference: the local reward's weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ratio: Option<f64>,
    /// Particle envs: steps per episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cycles: Option<u32>,
    /// Particle envs: `Box(0, 1)` actions instead of `Discrete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous_actions: Option<bool>,
    /// simple_tag: prey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_good: Option<usize>,
    /// simple_tag: predators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_adversaries: Option<usize>,
    /// simple_tag: obstacles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_obstacles: Option<usize>,
    /// Bandits: the number of arms K (default 10; means drawn per run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arms: Option<usize>,
    /// Bandits: the arms' true means (fixes K).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<Vec<f64>>,
    /// BitFlipping: the number of bits (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_bits: Option<usize>,
    /// BitFlipping: a random goal per episode (default false: all ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_goal: Option<bool>,
    /// BitFlipping: continuous actions in [−1, 1]^n (default false: discrete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
    /// The run seed a bandit without `means` draws its means from: set per seed by
    /// [`EnvSection::for_run`], never read from a file.
    #[serde(skip)]
    pub instance_seed: Option<u64>,
    /// BlockingMaze, ShortcutMaze: env steps after which the walls change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_at: Option<u64>,
    /// FourRooms: the feature cells, [row, col] each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<[usize; 2]>>,
    /// FourRooms: the task's reward weights, one per feature cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Vec<f64>>,
    /// `"gymnasium"`: `id` is a gymnasium id, served by rl's Python bridge (default `"rl"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<EnvBackend>,
    /// Bridged envs: keyword arguments of `gymnasium.make`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<toml::Table>,
    /// Bridged envs: the Python interpreter (default `$RL_PYTHON`, else `python3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
}

/// Who implements the env: rl itself, or gymnasium through the bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvBackend {
    Rl,
    Gymnasium,
}

impl EnvSection {
    /// The per-env options handed to the registry.
    pub fn options(&self) -> EnvOptions {
        EnvOptions {
            map_name: self.map_name.clone(),
            is_slippery: self.is_slippery,
            desc: self.desc.clone(),
            g: self.g,
            n: self.n,
            local_ratio: self.local_ratio,
            max_cycles: self.max_cycles,
            continuous_actions: self.continuous_actions,
            num_good: self.num_good,
            num_adversaries: self.num_adversaries,
            num_obstacles: self.num_obstacles,
            arms: self.arms,
            means: self.means.clone(),
            n_bits: self.n_bits,
            random_goal: self.random_goal,
            continuous: self.continuous,
            instance_seed: self.instance_seed,
            change_at: self.change_at,
            features: self.features.clone(),
            task: self.task.clone(),
        }
    }

    /// The env of this section, not yet time-limited: rl's own, or a gymnasium env behind a
    /// worker of its own.
    pub fn make(&self) -> Result<Box<dyn Env>, OptionError> {
        match self.bridge()? {
            Some(bridge) => Ok(Box::new(BridgeEnv::start(&bridge)?)),
            None => make_env(&self.id, &self.options()),
        }
    }

    /// What a bridge worker of this section is started with (None for rl's own envs); the keys
    /// of the other backend are errors.
    pub fn bridge(&self) -> Result<Option<Bridge>, OptionError> {
        let given = |key| OptionError {
            key,
            message: match key {
                "kwargs" | "python" => {
                    format!("`{key}` applies to gymnasium envs only (backend = \"gymnasium\")")
                }
                _ => format!(
                    "`{key}` is an option of rl's own envs; pass gymnasium's in \
                     kwargs = {{ ... }}"
                ),
            },
        };
        if self.backend != Some(EnvBackend::Gymnasium) {
            for (key, is_given) in [
                ("kwargs", self.kwargs.is_some()),
                ("python", self.python.is_some()),
            ] {
                if is_given {
                    return Err(given(key));
                }
            }
            return Ok(None);
        }
        if let Some((key, _)) = self.options().given().into_iter().find(|(_, g)| *g) {
            return Err(given(key));
        }
        let kwargs = match self.kwargs.as_ref().map(serde_json::to_value) {
            Some(Ok(serde_json::Value::Object(map))) => map,
            Some(_) => {
                return Err(OptionError {
                    key: "kwargs",
                    message: "must be a table of plain values".into(),
                });
            }
            None => serde_json::Map::new(),
        };
        Ok(Some(Bridge {
            python: Bridge::interpreter(self.python.as_deref()),
            id: self.id.clone(),
            kwargs,
            max_episode_steps: self.max_episode_steps,
        }))
    }

    /// This section as run seed `seed` makes its envs: a problem drawn per run (a bandit's
    /// means) is drawn from that seed, the same in the training and evaluation envs.
    pub fn for_run(&self, seed: u64) -> Self {
        Self {
            instance_seed: Some(seed),
            ..self.clone()
        }
    }
}
