//! Action-value critics Q_i(s, a) of the continuous-control methods: `n` independent MLPs over the
//! concatenated [s, a]; twin critics and the clipped double-Q minimum (Fujimoto et al. 2018).

use burn::prelude::*;

use super::host_mlp::HostMlp;
use super::mlp::{Activation, Init, Mlp};
use crate::rng::Rng;

/// Q_1 … Q_n.
#[derive(Module, Debug)]
pub struct Critics {
    nets: Vec<Mlp>,
}

impl Critics {
    /// `n` critics `obs_dim + act_dim → hidden… → 1`, PyTorch's default initialisation.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        activation: Activation,
        n: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(obs_dim + act_dim)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(1))
            .collect();
        let nets = (0..n)
            .map(|_| Mlp::new(&sizes, activation, false, Init::Default, rng, device))
            .collect();
        Self { nets }
    }

    /// Q_i(s, a) for every critic, each `[batch]`.
    pub fn forward(&self, obs: Tensor<2>, actions: Tensor<2>) -> Vec<Tensor<1>> {
        let input = Tensor::cat(vec![obs, actions], 1);
        self.nets
            .iter()
            .map(|net| net.forward(input.clone()).squeeze_dim::<1>(1))
            .collect()
    }

    /// Q_1(s, a) alone (the critic the TD3/DDPG actor ascends).
    pub fn first(&self, obs: Tensor<2>, actions: Tensor<2>) -> Tensor<1> {
        let input = Tensor::cat(vec![obs, actions], 1);
        self.nets[0].forward(input).squeeze_dim::<1>(1)
    }

    /// The critics on the host ([`Mlp::to_host`]); their parameters in Burn's visiting order are
    /// each critic's in turn. `None` where the host pass does not cover a critic.
    pub fn to_host(&self) -> Option<Vec<HostMlp>> {
        self.nets.iter().map(Mlp::to_host).collect()
    }

    /// min_i Q_i(s, a).
    pub fn min(&self, obs: Tensor<2>, actions: Tensor<2>) -> Tensor<1> {
        self.forward(obs, actions)
            .into_iter()
            .reduce(|a, b| a.min_pair(b))
            .expect("at least one critic")
    }
}

/// The critics' input rows [s_j, a_j] on the host into `into`: the rows of `obs` (`obs_dim`
/// each) beside those of `actions` (as many rows).
pub fn critic_input(into: &mut Vec<f32>, obs: &[f32], obs_dim: usize, actions: &[f32]) {
    let rows = obs.len() / obs_dim;
    let act_dim = actions.len() / rows;
    into.clear();
    for (s, a) in obs.chunks_exact(obs_dim).zip(actions.chunks_exact(act_dim)) {
        into.extend_from_slice(s);
        into.extend_from_slice(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    #[test]
    fn the_minimum_is_taken_per_sample() {
        let device = Device::flex();
        let critics = Critics::new(
            2,
            1,
            &[8],
            Activation::Relu,
            2,
            &mut stream(3, Stream::Init),
            &device,
        );
        let obs = Tensor::<2>::from_floats([[0.5, -1.0], [2.0, 1.0], [-1.0, 0.0]], &device);
        let act = Tensor::<2>::from_floats([[0.1], [-0.7], [1.0]], &device);
        let qs: Vec<Vec<f32>> = critics
            .forward(obs.clone(), act.clone())
            .into_iter()
            .map(to_vec)
            .collect();
        let min = to_vec(critics.min(obs.clone(), act.clone()));
        for (i, m) in min.iter().enumerate() {
            assert_eq!(*m, qs[0][i].min(qs[1][i]));
        }
        assert_eq!(to_vec(critics.first(obs, act)), qs[0]);
    }
}
