//! Action-value networks Q(s, ·) for discrete actions: an MLP with one output per action, or the
//! dueling architecture Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a') (Wang et al. 2016, eq. 9).

use burn::prelude::*;

use super::host_mlp::HostMlp;
use super::mlp::{Activation, Init, Mlp};
use crate::hyper::hyperparameters;
use crate::rng::Rng;

hyperparameters! {
    /// `[algo.policy]` of value-based methods (SB3's `policy_kwargs`).
    pub struct QNetworkConfig {
        /// hidden layer sizes
        net_arch: Vec<usize> = vec![64, 64], all_nonzero;
        /// "relu" or "tanh"
        activation: Activation = Activation::Relu;
    }
}

/// The two streams of a dueling network.
#[derive(Module, Debug)]
pub struct DuelingStreams {
    value: Mlp,
    advantage: Mlp,
}

/// Q(s, ·) for a batch of observations.
#[derive(Module, Debug)]
pub struct QNetwork {
    /// obs → … → n_actions, or, when dueling, obs → … → last hidden layer (activated).
    body: Mlp,
    dueling: Option<DuelingStreams>,
}

impl QNetwork {
    /// PyTorch's default initialisation, as Stable-Baselines3's DQN uses.
    pub fn new(
        obs_dim: usize,
        n_actions: usize,
        cfg: &QNetworkConfig,
        dueling: bool,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let mut sizes: Vec<usize> = std::iter::once(obs_dim)
            .chain(cfg.net_arch.iter().copied())
            .collect();
        if !dueling {
            sizes.push(n_actions);
            let body = Mlp::new(&sizes, cfg.activation, false, Init::Default, rng, device);
            return Self {
                body,
                dueling: None,
            };
        }
        let body = Mlp::new(&sizes, cfg.activation, true, Init::Default, rng, device);
        let hidden = *sizes.last().expect("checked: dueling needs a hidden layer");
        let mut head = |out| {
            Mlp::new(
                &[hidden, out],
                cfg.activation,
                false,
                Init::Default,
                rng,
                device,
            )
        };
        let value = head(1);
        let advantage = head(n_actions);
        Self {
            body,
            dueling: Some(DuelingStreams { value, advantage }),
        }
    }

    /// Q-values `[batch, n_actions]`.
    pub fn forward(&self, obs: Tensor<2>) -> Tensor<2> {
        let features = self.body.forward(obs);
        match &self.dueling {
            None => features,
            Some(streams) => {
                let value = streams.value.forward(features.clone());
                let advantage = streams.advantage.forward(features);
                let mean = advantage.clone().mean_dim(1);
                value + advantage - mean
            }
        }
    }

    /// The network on the host ([`HostMlp`], parameters in Burn's visiting order); `None` for
    /// dueling streams, which the host pass does not have.
    pub fn to_host(&self) -> Option<HostMlp> {
        match self.dueling {
            None => self.body.to_host(),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    /// The dueling aggregation makes the advantages average to zero: mean_a Q(s, a) = V(s).
    #[test]
    fn dueling_q_averages_to_the_value_stream() {
        let device = Device::flex();
        let cfg = QNetworkConfig {
            net_arch: vec![8],
            activation: Activation::Relu,
        };
        let net = QNetwork::new(3, 4, &cfg, true, &mut stream(0, Stream::Init), &device);
        let obs = Tensor::<2>::from_floats([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], &device);
        let q = net.forward(obs.clone());
        assert_eq!(q.dims(), [2, 4]);
        let streams = net.dueling.as_ref().unwrap();
        let v = to_vec(streams.value.forward(net.body.forward(obs)));
        let q = to_vec(q);
        for (row, v) in q.chunks(4).zip(v) {
            let mean = row.iter().sum::<f32>() / 4.0;
            assert!((mean - v).abs() < 1e-5, "{mean} vs {v}");
        }
    }

    #[test]
    fn plain_q_network_has_one_output_per_action() {
        let device = Device::flex();
        let net = QNetwork::new(
            4,
            2,
            &QNetworkConfig::default(),
            false,
            &mut stream(0, Stream::Init),
            &device,
        );
        let q = net.forward(Tensor::<2>::zeros([5, 4], &device));
        assert_eq!(q.dims(), [5, 2]);
    }
}
