//! Parameter sharing across agents (Yu et al. 2022, MAPPO and IPPO): one network acts for
//! every agent, agent i reading its own observation with a one-hot agent id appended. A
//! centralised critic reads the global state instead: every agent's observation concatenated,
//! with the same id appended (the value of agent i's own reward).

use std::path::Path;

use burn::prelude::*;

use crate::env::Action;
use crate::env::multi::MultiAgentSpec;
use crate::nn::{
    ActionKind, ActorCritic, Backend, PolicyConfig, distributions, plain_device, to_vec,
};
use crate::rng::{Stream, stream};
use crate::session::MultiPolicy;

/// The file a run saves its network in.
pub const MODEL_FILE: &str = "model.bpk";

/// How an agent's input row is laid out: `[o_i, onehot(i)]`, then for a centralised critic
/// `[o_0, ..., o_{N−1}, onehot(i)]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharedInputs {
    pub agents: usize,
    pub obs_dim: usize,
    pub centralised: bool,
}

impl SharedInputs {
    /// The layout for `env` (whose agents share one observation space).
    pub fn new(env: &MultiAgentSpec, centralised: bool) -> Self {
        Self {
            agents: env.num_agents(),
            obs_dim: env.observation_spaces[0].flat_dim(),
            centralised,
        }
    }

    /// Values the policy reads.
    pub fn policy_dim(&self) -> usize {
        self.obs_dim + self.agents
    }

    /// Values a row holds (the policy's, then a centralised critic's).
    pub fn row_dim(&self) -> usize {
        match self.centralised {
            true => self.policy_dim() + self.agents * self.obs_dim + self.agents,
            false => self.policy_dim(),
        }
    }

    /// The shared network for this layout: a centralised critic, or one on the policy's row;
    /// with `layer_norm`, layer normalisation in both nets ([`ActorCritic::with_layer_norm`]).
    pub fn model(
        &self,
        action: ActionKind,
        cfg: &PolicyConfig,
        layer_norm: bool,
        rng: &mut crate::rng::Rng,
        device: &Device,
    ) -> ActorCritic {
        let model = match self.centralised {
            true => ActorCritic::centralised(
                self.policy_dim(),
                self.row_dim() - self.policy_dim(),
                action,
                cfg,
                rng,
                device,
            ),
            false => ActorCritic::new(self.policy_dim(), action, cfg, rng, device),
        };
        match layer_norm {
            true => model.with_layer_norm(device),
            false => model,
        }
    }

    /// Writes the rows of `envs` envs' agents (row `e · N + i`) from `observation(e, i)`.
    pub fn write_rows<'a>(
        &self,
        envs: usize,
        observation: impl Fn(usize, usize) -> &'a [f32],
        out: &mut [f32],
    ) {
        let width = self.row_dim();
        for e in 0..envs {
            for i in 0..self.agents {
                let row = &mut out[(e * self.agents + i) * width..][..width];
                self.write_row(i, |j| observation(e, j), row);
            }
        }
    }

    /// Agent `agent`'s row, the agents' observations given by `observation(j)`.
    fn write_row<'a>(
        &self,
        agent: usize,
        observation: impl Fn(usize) -> &'a [f32],
        row: &mut [f32],
    ) {
        let (own, rest) = row.split_at_mut(self.policy_dim());
        own[..self.obs_dim].copy_from_slice(observation(agent));
        one_hot(agent, &mut own[self.obs_dim..]);
        if self.centralised {
            let (state, id) = rest.split_at_mut(self.agents * self.obs_dim);
            for (j, chunk) in state.chunks_exact_mut(self.obs_dim).enumerate() {
                chunk.copy_from_slice(observation(j));
            }
            one_hot(agent, id);
        }
    }
}

/// e_i: 1 at `i`, 0 elsewhere.
fn one_hot(i: usize, out: &mut [f32]) {
    out.fill(0.0);
    out[i] = 1.0;
}

/// V of `rows` (laid out by `inputs`) under `model`.
pub fn values(
    model: &ActorCritic,
    inputs: &SharedInputs,
    rows: &[f32],
    device: &Device,
) -> Vec<f32> {
    let width = inputs.row_dim();
    let x = Tensor::<2>::from_data(
        TensorData::new(rows.to_vec(), [rows.len() / width, width]),
        device,
    );
    to_vec(model.forward(x).1)
}

/// The shared network's deterministic policy: every agent's most probable move (or Gaussian
/// mean; the env clips it to the box), one forward pass for all agents.
pub struct SharedPolicy {
    model: ActorCritic,
    inputs: SharedInputs,
    action: ActionKind,
    device: Device,
    rows: Vec<f32>,
    out: Vec<f32>,
}

impl SharedPolicy {
    /// Acts with a copy of `model` (trained or not) on the plain `device`.
    pub fn new(
        model: &ActorCritic,
        inputs: SharedInputs,
        action: ActionKind,
        device: &Device,
    ) -> Self {
        Self {
            model: model.valid(),
            inputs,
            action,
            device: device.clone(),
            rows: vec![0.0; inputs.agents * inputs.policy_dim()],
            out: Vec::new(),
        }
    }

    /// The policy a run saved in `run_dir`, on `backend`.
    pub fn load(
        env: &MultiAgentSpec,
        cfg: &PolicyConfig,
        layer_norm: bool,
        centralised: bool,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Self> {
        let device = plain_device(backend)?;
        let inputs = SharedInputs::new(env, centralised);
        let action = ActionKind::of(&env.action_spaces[0]);
        // The initial weights are overwritten by the saved ones.
        let model = inputs
            .model(
                action,
                cfg,
                layer_norm,
                &mut stream(0, Stream::Init),
                &device,
            )
            .load(&run_dir.join(MODEL_FILE))?;
        Ok(Self::new(&model, inputs, action, &device))
    }
}

impl MultiPolicy for SharedPolicy {
    fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
        let (n, width) = (self.inputs.agents, self.inputs.policy_dim());
        let policy_only = SharedInputs {
            centralised: false,
            ..self.inputs
        };
        policy_only.write_rows(1, |_, j| observations[j].as_slice(), &mut self.rows);
        let x =
            Tensor::<2>::from_data(TensorData::new(self.rows.clone(), [n, width]), &self.device);
        self.out = to_vec(self.model.actor(x));
        match self.action {
            ActionKind::Discrete(k) => self
                .out
                .chunks_exact(k)
                .map(|logits| Action::Discrete(distributions::argmax(logits)))
                .collect(),
            ActionKind::Continuous(d) => self.out.chunks_exact(d).map(Action::Continuous).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two agents with 2-value observations: the policy's row is [o_i, e_i], the centralised
    /// critic's [o_0, o_1, e_i].
    #[test]
    fn rows_append_the_agent_id_and_the_global_state() {
        let obs = [vec![1.0, 2.0], vec![3.0, 4.0]];
        let inputs = SharedInputs {
            agents: 2,
            obs_dim: 2,
            centralised: true,
        };
        assert_eq!((inputs.policy_dim(), inputs.row_dim()), (4, 10));
        let mut rows = vec![0.0; 20];
        inputs.write_rows(1, |_, j| obs[j].as_slice(), &mut rows);
        assert_eq!(
            rows,
            [
                1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 1.0, 0.0, //
                3.0, 4.0, 0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0
            ]
        );
        let local = SharedInputs {
            centralised: false,
            ..inputs
        };
        let mut rows = vec![0.0; 8];
        local.write_rows(1, |_, j| obs[j].as_slice(), &mut rows);
        assert_eq!(rows, [1.0, 2.0, 1.0, 0.0, 3.0, 4.0, 0.0, 1.0]);
    }
}
