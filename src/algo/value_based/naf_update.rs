//! One gradient step of NAF (Gu et al. 2016, alg. 1) on a minibatch of transitions:
//!
//! y = r + discount · (1 − terminated) V'(s'),  L = E[(Q(s, a) − y)²],
//! Q(s, a) = V(s) − ½ (a − μ(s))ᵀ L(s)L(s)ᵀ (a − μ(s)),
//!
//! with V' the target network's value head (max_a Q'(s', a), in closed form). The target
//! network is the caller's to update.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::buffer::ReplayBatch;
use crate::nn::matrix;
use crate::nn::naf::{NafNetwork, advantage};

/// What one NAF step measured (tensors of one element, detached, on the training device).
pub struct NafStats {
    /// L.
    pub loss: Tensor<1>,
    /// E[Q(s, a)] on the batch.
    pub q_mean: Tensor<1>,
}

/// One gradient step of `net` on `batch` (actions in the normalised box, rows on `device`)
/// against `target`, with step size `learning_rate`.
pub fn update(
    net: NafNetwork,
    target: &NafNetwork,
    optimizer: &mut ModuleOptimizer,
    batch: &ReplayBatch,
    learning_rate: f64,
    device: &Device,
) -> (NafNetwork, NafStats) {
    let obs_dim = batch.obs_dim();
    let next_v = target.value(matrix(&batch.next_observations, obs_dim, device));
    let y = batch.td_target(next_v, device).detach();
    let heads = net.forward(matrix(&batch.observations, obs_dim, device));
    let actions = matrix(&batch.actions, batch.act_dim(), device);
    let q = heads.value + advantage(heads.mu, heads.l, actions);
    let loss = (q.clone() - y).square().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    let stats = NafStats {
        loss: loss.detach(),
        q_mean: q.detach().mean(),
    };
    (optimizer.step(learning_rate, net, grads), stats)
}
