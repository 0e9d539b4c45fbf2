//! The trained policy of an on-policy agent, as evaluation and `rl eval` use it: the network,
//! acting deterministically, behind the observation statistics frozen at the end of training.
//! Saved in the run folder as `model.bpk` (Burn's burnpack) and `obs_normalization.json`.

use std::path::Path;

use anyhow::Context;

use crate::env::normalize::ObsNormalizer;
use crate::env::{Action, Env, EnvSpec, Space};
use crate::nn::Backend;
use crate::nn::{Acting, ActionKind, ActorCritic, PolicyConfig, plain_device};
use crate::rng::{Stream, stream};
use crate::session::{Policy, Session};

pub const MODEL_FILE: &str = "model.bpk";
pub const NORMALIZATION_FILE: &str = "obs_normalization.json";

/// Greedy (discrete) or mean (continuous, clipped to the bounds) actions of a network.
pub struct DeterministicPolicy {
    acting: Acting,
    normalizer: Option<ObsNormalizer>,
    bounds: Option<(Vec<f32>, Vec<f32>)>,
    obs: Vec<f32>,
    action: Vec<f32>,
}

impl DeterministicPolicy {
    pub fn new(acting: Acting, normalizer: Option<ObsNormalizer>, spec: &EnvSpec) -> Self {
        let bounds = match &spec.action_space {
            Space::Box { low, high } => Some((low.clone(), high.clone())),
            Space::Discrete(_) => None,
        };
        Self {
            acting,
            normalizer,
            bounds,
            obs: vec![0.0; spec.observation_space.flat_dim()],
            action: vec![0.0; ActionKind::of(&spec.action_space).stored_dim()],
        }
    }
}

impl Policy for DeterministicPolicy {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        match &self.normalizer {
            Some(n) => n.normalize(obs, &mut self.obs),
            None => self.obs.copy_from_slice(obs),
        }
        self.acting.deterministic(&self.obs, &mut self.action);
        match &self.bounds {
            None => Action::Discrete(self.action[0] as usize),
            Some((low, high)) => {
                clip_to_bounds(&mut self.action, low, high);
                Action::Continuous(&self.action)
            }
        }
    }
}

/// Clips each component of `action` to `[low, high]` (as SB3 does before stepping the env).
pub fn clip_to_bounds(action: &mut [f32], low: &[f32], high: &[f32]) {
    for ((a, &lo), &hi) in action.iter_mut().zip(low).zip(high) {
        *a = a.clamp(lo, hi);
    }
}

/// Saves the trained network and the observation statistics as the run's artifacts.
pub fn save(
    session: &mut Session,
    model: &ActorCritic,
    normalizer: Option<&ObsNormalizer>,
) -> anyhow::Result<()> {
    session.save_artifact(MODEL_FILE, &model.to_bytes()?)?;
    if let Some(n) = normalizer {
        session.save_json(NORMALIZATION_FILE, n)?;
    }
    Ok(())
}

/// The policy saved in `run_dir` by a run of the given network config on `env`.
pub fn load(
    policy: &PolicyConfig,
    normalize_obs: bool,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
) -> anyhow::Result<DeterministicPolicy> {
    let spec = env.spec();
    let device = plain_device(backend)?;
    let action = ActionKind::of(&spec.action_space);
    let obs_dim = spec.observation_space.flat_dim();
    // The initial weights are overwritten by the saved ones.
    let mut rng = stream(0, Stream::Init);
    let model = ActorCritic::new(obs_dim, action, policy, &mut rng, &device)
        .load(&run_dir.join(MODEL_FILE))?;
    let normalizer = if normalize_obs {
        let path = run_dir.join(NORMALIZATION_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Some(
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not saved observation statistics", path.display()))?,
        )
    } else {
        None
    };
    let acting = Acting::new(&model, action, obs_dim, &device);
    Ok(DeterministicPolicy::new(acting, normalizer, spec))
}
