//! Experts: the policy of a finished run's seed folder, rebuilt through the registry as `rl eval`
//! rebuilds it (`config.toml`'s `[algo]` parsed by [`registry::find`], then
//! [`Algorithm::policy`](crate::algo::Algorithm::policy)), and the episodes it plays.

use std::path::{Path, PathBuf};

use rand::RngExt;

use crate::algo::registry::{self, AlgoConfig};
use crate::env::{Action, Env, EnvSection, Space};
use crate::nn::Backend;
use crate::record::dataset::{ActionSpace, Dataset, DatasetMeta, PolicySource};
use crate::record::{Meta, Status};
use crate::rng::Rng;
use crate::session::Policy;

/// How to make the experts the shipped imitation experiments name.
pub const MAKE_EXPERTS: &str =
    "make the experts first with `make experts` (see README, \"Imitation\")";

/// A finished run: its folder, `[env]` table, `[algo]` config and `meta.json`.
pub struct ExpertRun {
    pub dir: PathBuf,
    pub env: EnvSection,
    pub algo: AlgoConfig,
    pub meta: Meta,
    pub backend: Backend,
    pub experiment: String,
    pub eval_max_episode_steps: u32,
}

impl ExpertRun {
    /// Reads the seed folder `dir`; `Err(reason)` unless it holds a run that completed.
    pub fn open(dir: &Path) -> Result<Self, String> {
        let shown = dir.display();
        let config = dir.join("config.toml");
        let text = std::fs::read_to_string(&config).map_err(|_| {
            format!("{shown}: no finished run there (no config.toml); {MAKE_EXPERTS}")
        })?;
        let meta = Meta::read(&dir.join("meta.json"))
            .map_err(|e| format!("{shown}: not a finished run ({e:#}); {MAKE_EXPERTS}"))?;
        if meta.status != Status::Complete {
            return Err(format!(
                "{shown}: not a finished run (its meta.json says {}); {MAKE_EXPERTS}",
                meta.status.name()
            ));
        }
        let mut document: toml::Table = text
            .parse()
            .map_err(|e| format!("{}: {e}", config.display()))?;
        let env: EnvSection = document
            .get("env")
            .cloned()
            .ok_or_else(|| format!("{}: no [env] table", config.display()))?
            .try_into()
            .map_err(|e| format!("{}: [env]: {e}", config.display()))?;
        let experiment = document.get("experiment").and_then(toml::Value::as_table);
        let get = |key: &str| experiment.and_then(|t| t.get(key));
        let backend = get("backend")
            .cloned()
            .and_then(|v| v.try_into().ok())
            .unwrap_or_default();
        let eval_max_episode_steps = get("eval_max_episode_steps")
            .and_then(toml::Value::as_integer)
            .map_or(1000, |v| v as u32);
        let experiment = get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_string();
        let algo = document
            .get_mut("algo")
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| format!("{}: no [algo] table", config.display()))?;
        let name = algo
            .remove("name")
            .and_then(|n| n.as_str().map(str::to_string))
            .ok_or_else(|| format!("{}: no algo.name", config.display()))?;
        let entry = registry::find(&name)
            .ok_or_else(|| format!("{}: unknown algorithm {name}", config.display()))?;
        let algo_only = toml::to_string(&toml::Table::from_iter([(
            "algo".to_string(),
            toml::Value::Table(algo.clone()),
        )]))
        .map_err(|e| e.to_string())?;
        let algo = (entry.parse)(&algo_only).map_err(|e| format!("{}: {e}", config.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            env: env.for_run(meta.seed),
            algo,
            meta,
            backend,
            experiment,
            eval_max_episode_steps,
        })
    }

    /// `Err(reason)` unless the expert ran on `env_id`.
    pub fn check_env_id(&self, env_id: &str) -> Result<(), String> {
        if self.env.id != env_id {
            return Err(format!(
                "{} is an expert on {}; this run is on {env_id}",
                self.dir.display(),
                self.env.id
            ));
        }
        Ok(())
    }

    /// The expert's policy for `env`, sampling (planners) from `rng`.
    pub fn policy(&self, env: &dyn Env, rng: Rng) -> anyhow::Result<Box<dyn Policy>> {
        self.algo.policy(env, rng, &self.dir, self.backend)
    }

    /// The dataset metadata of episodes of this expert (counts and returns left empty).
    pub fn dataset_meta(&self, env: &dyn Env, seed: u64, noise: f64) -> DatasetMeta {
        let spec = env.spec();
        DatasetMeta {
            format: String::new(),
            env_id: self.env.id.clone(),
            env: serde_json::to_value(&self.env).unwrap_or_default(),
            observation_space: spec.observation_space.describe(),
            observation_dim: spec.observation_space.flat_dim(),
            action_space: ActionSpace::of(&spec.action_space),
            policy: PolicySource {
                run_dir: self.dir.clone(),
                algo: self.algo.name().to_string(),
                experiment: self.experiment.clone(),
            },
            seed,
            noise,
            episodes: 0,
            transitions: 0,
            returns: Vec::new(),
        }
    }
}

/// The action `policy` takes, as stored values (a discrete index as one f32).
pub fn act_values(policy: &mut dyn Policy, obs: &[f32], env: &dyn Env, out: &mut [f32]) {
    match policy.act(obs, env) {
        Action::Discrete(a) => out[0] = a as f32,
        Action::Continuous(a) => out.copy_from_slice(a),
    }
}

/// Stored action values as an [`Action`].
pub fn as_action<'a>(space: &Space, values: &'a [f32]) -> Action<'a> {
    match space {
        Space::Discrete(_) => Action::Discrete(values[0] as usize),
        Space::Box { .. } => Action::Continuous(values),
    }
}

/// Plays `episodes` episodes of `policy` in `env` (which carries its time limit) into `data`,
/// exactly as the evaluator does (`rl eval --seed S`): the first episode resets with the first
/// draw of `eval_rng`, the later ones continue the env's own stream. With `noise` ε > 0 each
/// action is replaced, with probability ε, by a uniform random one (drawn from `noise_rng`).
pub fn collect_episodes(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    episodes: usize,
    eval_rng: &mut Rng,
    noise: f64,
    noise_rng: &mut Rng,
    data: &mut Dataset,
) {
    let spec = env.spec().clone();
    let d = spec.observation_space.flat_dim();
    let k = ActionSpace::of(&spec.action_space).dim();
    let (mut obs, mut next) = (vec![0.0f32; d], vec![0.0f32; d]);
    let mut action = vec![0.0f32; k];
    let seed = eval_rng.random::<u64>();
    for episode in 0..episodes {
        env.reset((episode == 0).then_some(seed), &mut obs);
        policy.start_episode();
        let mut total = 0.0;
        let mut t = 0u32;
        loop {
            act_values(policy, &obs, &*env, &mut action);
            if noise > 0.0 && noise_rng.random::<f64>() < noise {
                random_action(&spec.action_space, noise_rng, &mut action);
            }
            let step = env.step(as_action(&spec.action_space, &action), &mut next);
            total += step.reward;
            data.push(
                t,
                &obs,
                &action,
                step.reward,
                &next,
                step.terminated,
                step.truncated,
            );
            t += 1;
            if step.terminated || step.truncated {
                break;
            }
            obs.copy_from_slice(&next);
        }
        data.end_episode(total);
    }
}

/// A uniform random action of `space` (a box's bounds are finite for actions).
pub fn random_action(space: &Space, rng: &mut Rng, out: &mut [f32]) {
    match space {
        Space::Discrete(n) => out[0] = rng.random_range(0..*n) as f32,
        Space::Box { low, high } => {
            for ((o, &lo), &hi) in out.iter_mut().zip(low).zip(high) {
                *o = lo + (hi - lo) * rng.random::<f32>();
            }
        }
    }
}
