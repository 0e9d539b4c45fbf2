//! The greedy policy of a trained Q-network, as evaluation and `rl eval` use it; saved in the run
//! folder as `model.bpk` (Burn's burnpack).

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;

use crate::env::{Action, Env, Space};
use crate::nn::Backend;
use crate::nn::device::computes_on_host;
use crate::nn::distributions::argmax;
use crate::nn::host_mlp::{HostMlp, Tape};
use crate::nn::q_network::{QNetwork, QNetworkConfig};
use crate::nn::{burnpack, matrix, plain_device, to_vec};
use crate::rng::{Stream, stream};
use crate::session::Policy;

pub const MODEL_FILE: &str = "model.bpk";

/// argmax_a Q(s, a) of a network on a plain (non-autodiff) device.
#[derive(Clone)]
pub struct GreedyPolicy {
    net: QNetwork,
    device: Device,
    obs_dim: usize,
    /// The network on the host, where `device` is a CPU backend and the host pass covers it:
    /// its forward pass is flex's to the bit ([`HostMlp`]), without a tensor per operation.
    host: Option<HostMlp>,
}

impl GreedyPolicy {
    /// Snapshots `net` (possibly trained on an autodiff device) for acting on `device`.
    pub fn new(net: &QNetwork, obs_dim: usize, device: &Device) -> Self {
        Self {
            net: net.valid(),
            device: device.clone(),
            obs_dim,
            host: computes_on_host(device).then(|| net.to_host()).flatten(),
        }
    }

    /// Q-values `[rows × n_actions]` of the `rows` observations in `obs`, on the host.
    pub fn q_values(&self, obs: &[f32]) -> Vec<f32> {
        match &self.host {
            Some(host) => {
                let rows = obs.len() / self.obs_dim;
                host.forward(obs, rows, &mut Tape::default()).to_vec()
            }
            None => to_vec(self.net.forward(matrix(obs, self.obs_dim, &self.device))),
        }
    }

    /// The network as burnpack bytes (the `model.bpk` artifact).
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        burnpack(self.net.clone())
    }
}

impl Policy for GreedyPolicy {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        Action::Discrete(argmax(&self.q_values(obs)))
    }
}

/// The greedy policy saved in `run_dir` by a run with this network config on `env`.
pub fn load(
    cfg: &QNetworkConfig,
    dueling: bool,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
) -> anyhow::Result<GreedyPolicy> {
    let spec = env.spec();
    let Space::Discrete(n_actions) = spec.action_space else {
        anyhow::bail!(
            "{} has continuous actions; a Q-network needs discrete ones",
            spec.id
        );
    };
    let device = plain_device(backend)?;
    let obs_dim = spec.observation_space.flat_dim();
    // The initial weights are overwritten by the saved ones.
    let path = run_dir.join(MODEL_FILE);
    let net = QNetwork::new(
        obs_dim,
        n_actions,
        cfg,
        dueling,
        &mut stream(0, Stream::Init),
        &device,
    )
    .try_load_file(&path)
    .map_err(|e| anyhow::anyhow!("{e:?}"))
    .with_context(|| format!("cannot load the network from {}", path.display()))?;
    Ok(GreedyPolicy::new(&net, obs_dim, &device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;

    /// Acting on the host changes no curve: its Q-values are Burn's on flex to the bit, and a
    /// dueling network keeps Burn's forward pass.
    #[test]
    fn host_q_values_are_flex_to_the_bit() {
        let device = Device::flex();
        let obs: Vec<f32> = (0..7 * 4).map(|i| (i as f32 * 0.77).sin() * 2.0).collect();
        for (activation, dueling) in [
            (Activation::Relu, false),
            (Activation::Tanh, false),
            (Activation::Relu, true),
        ] {
            let cfg = QNetworkConfig {
                net_arch: vec![64, 64],
                activation,
            };
            let net = QNetwork::new(4, 3, &cfg, dueling, &mut stream(1, Stream::Init), &device);
            let policy = GreedyPolicy::new(&net, 4, &device);
            assert_eq!(policy.host.is_some(), !dueling);
            let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            let burn = to_vec(net.forward(matrix(&obs, 4, &device)));
            assert_eq!(bits(policy.q_values(&obs)), bits(burn), "{activation:?}");
        }
    }
}
