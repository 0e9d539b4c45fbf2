//! ACER's network (Wang et al. 2017, §3): one torso with a policy head π(·|s) (logits) and a Q
//! head Q(s, ·) over the discrete actions; V(s) = Σ_a π(a|s) Q(s, a). The layout of
//! [`PolicyConfig`]: a shared trunk of `net_arch` (the paper's) or, unshared, `net_arch` hidden
//! layers in each head; orthogonal gains √2 hidden, 0.01 for the logits, 1 for Q.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::PolicyConfig;
use super::mlp::{Init, Mlp};
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct AcerNetwork {
    /// The shared torso (no layers when the heads are separate nets).
    trunk: Mlp,
    pi: Mlp,
    q: Mlp,
}

impl AcerNetwork {
    pub fn new(
        obs_dim: usize,
        actions: usize,
        cfg: &PolicyConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let init = |gain| {
            if cfg.ortho_init {
                Init::Orthogonal { output_gain: gain }
            } else {
                Init::Default
            }
        };
        let (trunk, head_in, head_hidden): (Mlp, usize, &[usize]) = if cfg.share_features_extractor
        {
            let sizes: Vec<usize> = std::iter::once(obs_dim)
                .chain(cfg.net_arch.iter().copied())
                .collect();
            let trunk = Mlp::new(&sizes, cfg.activation, true, init(1.0), rng, device);
            let features = *cfg
                .net_arch
                .last()
                .expect("checked: a shared trunk has layers");
            (trunk, features, &[])
        } else {
            (Mlp::identity(), obs_dim, &cfg.net_arch)
        };
        let sizes: Vec<usize> = std::iter::once(head_in)
            .chain(head_hidden.iter().copied())
            .chain(std::iter::once(actions))
            .collect();
        let pi = Mlp::new(&sizes, cfg.activation, false, init(0.01), rng, device);
        let q = Mlp::new(&sizes, cfg.activation, false, init(1.0), rng, device);
        Self { trunk, pi, q }
    }

    /// π(·|s) (probabilities) and Q(s, ·) for a batch of observations, both `[batch, actions]`.
    pub fn forward(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let features = self.trunk.forward(obs);
        let probs = softmax(self.pi.forward(features.clone()), 1);
        (probs, self.q.forward(features))
    }

    /// The logits of π(·|s) alone (acting).
    pub fn logits(&self, obs: Tensor<2>) -> Tensor<2> {
        self.pi.forward(self.trunk.forward(obs))
    }
}
