//! MADDPG's decentralised actors acting: each agent's μ_i reads its own observation only
//! (Lowe et al. 2017, §4). Evaluated, a discrete actor takes its most probable move and a
//! continuous one μ_i(o_i) mapped into the env's box; the saved file holds the actors alone.

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;

use super::maddpg_update::{MaddpgNets, action_dim};
use crate::algo::actor_critic::{ActionBox, ActorCriticNets};
use crate::env::Action;
use crate::env::multi::MultiAgentSpec;
use crate::nn::mlp::{Init, Mlp};
use crate::nn::{ActionKind, Backend, burnpack, distributions, matrix, plain_device, to_vec};
use crate::rng::{Stream, stream};
use crate::session::MultiPolicy;

/// The file a run saves its actors in.
pub const MODEL_FILE: &str = "actors.bpk";

/// The agents' actors, as saved.
#[derive(Module, Debug)]
pub struct Actors {
    nets: Vec<Mlp>,
}

/// The actors on a plain device: raw outputs for the training loop's exploration, greedy
/// actions for evaluation.
pub struct MaddpgPolicy {
    actors: Vec<Mlp>,
    obs_dims: Vec<usize>,
    kinds: Vec<ActionKind>,
    boxes: Vec<Option<ActionBox>>,
    device: Device,
    /// Each agent's action in the env's box (continuous agents).
    env_actions: Vec<Vec<f32>>,
}

impl MaddpgPolicy {
    /// Acts with copies of `nets`' actors on the plain `device`, agents as in `env`.
    pub fn new(nets: &MaddpgNets, env: &MultiAgentSpec, device: &Device) -> Self {
        let actors = nets.agents.iter().map(|a| a.actor.valid()).collect();
        Self::of(actors, env, device)
    }

    fn of(actors: Vec<Mlp>, env: &MultiAgentSpec, device: &Device) -> Self {
        Self {
            actors,
            obs_dims: env
                .observation_spaces
                .iter()
                .map(|s| s.flat_dim())
                .collect(),
            kinds: env.action_spaces.iter().map(ActionKind::of).collect(),
            boxes: env.action_spaces.iter().map(ActionBox::of).collect(),
            device: device.clone(),
            env_actions: env
                .action_spaces
                .iter()
                .map(|s| vec![0.0; s.flat_dim()])
                .collect(),
        }
    }

    /// The actors a run saved in `run_dir`, on `backend`.
    pub fn load(
        env: &MultiAgentSpec,
        nets: &ActorCriticNets,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Self> {
        let device = plain_device(backend)?;
        // The initial weights are overwritten by the saved ones.
        let mut rng = stream(0, Stream::Init);
        let blank = env
            .observation_spaces
            .iter()
            .zip(&env.action_spaces)
            .map(|(o, a)| {
                let sizes: Vec<usize> = std::iter::once(o.flat_dim())
                    .chain(nets.net_arch.iter().copied())
                    .chain(std::iter::once(action_dim(ActionKind::of(a))))
                    .collect();
                Mlp::new(
                    &sizes,
                    nets.activation,
                    false,
                    Init::Default,
                    &mut rng,
                    &device,
                )
            })
            .collect();
        let path = run_dir.join(MODEL_FILE);
        let actors = Actors { nets: blank }
            .try_load_file(&path)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .with_context(|| format!("cannot load the actors from {}", path.display()))?;
        Ok(Self::of(actors.nets, env, &device))
    }

    /// The actors as a burnpack file's bytes.
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        burnpack(Actors {
            nets: self.actors.clone(),
        })
    }

    /// Agent `agent`'s actions for the observation rows `rows`: logits over its moves, or
    /// μ(o) = tanh(·) in the normalised box [−1, 1].
    pub fn outputs(&self, agent: usize, rows: &[f32]) -> Vec<f32> {
        let out = self.actors[agent].forward(matrix(rows, self.obs_dims[agent], &self.device));
        match self.kinds[agent] {
            ActionKind::Discrete(_) => to_vec(out),
            ActionKind::Continuous(_) => to_vec(out.tanh()),
        }
    }
}

impl MultiPolicy for MaddpgPolicy {
    fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
        for (agent, o) in observations.iter().enumerate() {
            let out = self.outputs(agent, o);
            if let Some(b) = &self.boxes[agent] {
                b.to_env(&out, &mut self.env_actions[agent]);
            } else {
                self.env_actions[agent][0] = distributions::argmax(&out) as f32;
            }
        }
        self.kinds
            .iter()
            .zip(&self.env_actions)
            .map(|(kind, values)| match kind {
                ActionKind::Discrete(_) => Action::Discrete(values[0] as usize),
                ActionKind::Continuous(_) => Action::Continuous(values),
            })
            .collect()
    }
}
