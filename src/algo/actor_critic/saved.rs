//! The deterministic policy of a trained off-policy actor (μ(s) for DDPG/TD3, tanh μ(s) for
//! SAC), mapped to the env's action bounds; saved in the run folder as `model.bpk`.

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;

use super::{ActionBox, ActorCriticNets};
use crate::env::{Action, Env};
use crate::nn::Backend;
use crate::nn::actors::{DeterministicActor, SquashedGaussianActor};
use crate::nn::{burnpack, matrix, plain_device, to_vec};
use crate::rng::{Stream, stream};
use crate::session::Policy;

pub const MODEL_FILE: &str = "model.bpk";

/// Which actor a method trains.
#[derive(Clone, Debug)]
pub enum Actor {
    Deterministic(DeterministicActor),
    Squashed(SquashedGaussianActor),
}

/// The architecture of a saved actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// DDPG's and TD3's μ(s).
    Deterministic,
    /// SAC's squashed Gaussian, with gSDE weights or a log σ head.
    Squashed { sde: bool },
}

impl Actor {
    /// A freshly initialised actor of `kind` (its weights are to be loaded).
    fn blank(
        kind: ActorKind,
        obs_dim: usize,
        act_dim: usize,
        nets: &ActorCriticNets,
        device: &Device,
    ) -> Self {
        let mut rng = stream(0, Stream::Init);
        let (hidden, act) = (&nets.net_arch, nets.activation);
        match kind {
            ActorKind::Squashed { sde } => Actor::Squashed(SquashedGaussianActor::new(
                obs_dim,
                act_dim,
                hidden,
                act,
                sde.then_some(0.0),
                &mut rng,
                device,
            )),
            ActorKind::Deterministic => Actor::Deterministic(DeterministicActor::new(
                obs_dim, act_dim, hidden, act, &mut rng, device,
            )),
        }
    }
}

/// The actor's deterministic action, on a plain (non-autodiff) device.
#[derive(Clone)]
pub struct ActorPolicy {
    actor: Actor,
    device: Device,
    obs_dim: usize,
    action_box: ActionBox,
    action: Vec<f32>,
}

impl ActorPolicy {
    /// Snapshots `actor` (possibly on an autodiff device) for acting on `device`.
    pub fn new(actor: &Actor, obs_dim: usize, action_box: ActionBox, device: &Device) -> Self {
        let actor = match actor {
            Actor::Deterministic(a) => Actor::Deterministic(a.valid()),
            Actor::Squashed(a) => Actor::Squashed(a.valid()),
        };
        Self {
            actor,
            device: device.clone(),
            obs_dim,
            action: vec![0.0; action_box.dim()],
            action_box,
        }
    }

    /// The deterministic actions in [−1, 1]^d of the observations `obs` (row-major).
    pub fn scaled_actions(&self, obs: &[f32]) -> Vec<f32> {
        let input = matrix(obs, self.obs_dim, &self.device);
        to_vec(match &self.actor {
            Actor::Deterministic(a) => a.forward(input),
            Actor::Squashed(a) => a.deterministic(input),
        })
    }

    /// The actor as burnpack bytes (the `model.bpk` artifact).
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        match &self.actor {
            Actor::Deterministic(a) => burnpack(a.clone()),
            Actor::Squashed(a) => burnpack(a.clone()),
        }
    }
}

impl Policy for ActorPolicy {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        let scaled = self.scaled_actions(obs);
        self.action_box.to_env(&scaled, &mut self.action);
        Action::Continuous(&self.action)
    }
}

/// The policy saved in `run_dir` by a run with these networks on `env`.
pub fn load(
    nets: &ActorCriticNets,
    kind: ActorKind,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
) -> anyhow::Result<ActorPolicy> {
    load_conditioned(nets, kind, backend, env, run_dir, 0)
}

/// As [`load`], for an actor whose input is the observation with `condition` more values
/// appended (DIAYN's one-hot skill).
pub fn load_conditioned(
    nets: &ActorCriticNets,
    kind: ActorKind,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
    condition: usize,
) -> anyhow::Result<ActorPolicy> {
    let spec = env.spec();
    let action_box = ActionBox::of(&spec.action_space).with_context(|| {
        format!(
            "{} has discrete actions; an actor needs continuous ones",
            spec.id
        )
    })?;
    let device = plain_device(backend)?;
    let obs_dim = spec.observation_space.flat_dim() + condition;
    let path = run_dir.join(MODEL_FILE);
    let actor = match Actor::blank(kind, obs_dim, action_box.dim(), nets, &device) {
        Actor::Deterministic(a) => a.try_load_file(&path).map(Actor::Deterministic),
        Actor::Squashed(a) => a.try_load_file(&path).map(Actor::Squashed),
    }
    .map_err(|e| anyhow::anyhow!("{e:?}"))
    .with_context(|| format!("cannot load the actor from {}", path.display()))?;
    Ok(ActorPolicy::new(&actor, obs_dim, action_box, &device))
}
