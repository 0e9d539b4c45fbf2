//! One gradient step of NAF (Gu et al. 2016, alg. 1) on a minibatch of transitions:
//!
//! y = r + discount · (1 − terminated) V'(s'),  L = E[ℓ(Q(s, a) − y)],
//! Q(s, a) = V(s) − ½ (a − μ(s))ᵀ L(s)L(s)ᵀ (a − μ(s)),
//!
//! with V' the target network's value head (max_a Q'(s', a), in closed form), ℓ Huber or
//! squared error and the gradient optionally clipped to a global norm. The target network is
//! the caller's to update.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::dqn::TdLoss;
use super::dqn_update::huber;
use crate::buffer::ReplayBatch;
use crate::nn::naf::{NafNetwork, advantage};
use crate::nn::{clip_grad_norm, matrix};

/// The hyperparameters of one NAF step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NafUpdate {
    /// Adam step size.
    pub learning_rate: f64,
    pub loss: TdLoss,
    /// Global gradient-norm bound (none: no clipping).
    pub max_grad_norm: Option<f64>,
}

/// What one NAF step measured (tensors of one element, detached, on the training device).
pub struct NafStats {
    /// L.
    pub loss: Tensor<1>,
    /// E[Q(s, a)] on the batch.
    pub q_mean: Tensor<1>,
}

/// One gradient step of `net` on `batch` (actions in the normalised box, rows on `device`)
/// against `target`.
pub fn update(
    net: NafNetwork,
    target: &NafNetwork,
    optimizer: &mut ModuleOptimizer,
    batch: &ReplayBatch,
    hp: &NafUpdate,
    device: &Device,
) -> (NafNetwork, NafStats) {
    let obs_dim = batch.obs_dim();
    let next_v = target.value(matrix(&batch.next_observations, obs_dim, device));
    let y = batch.td_target(next_v, device).detach();
    let heads = net.forward(matrix(&batch.observations, obs_dim, device));
    let actions = matrix(&batch.actions, batch.act_dim(), device);
    let q = heads.value + advantage(heads.mu, heads.l, actions);
    let td = q.clone() - y;
    let loss = match hp.loss {
        TdLoss::Huber => huber(td),
        TdLoss::Mse => td.square(),
    }
    .mean();
    let mut grads = GradientsParams::from_grads(loss.backward(), &net);
    if let Some(bound) = hp.max_grad_norm {
        clip_grad_norm(&net, &mut grads, bound);
    }
    let stats = NafStats {
        loss: loss.detach(),
        q_mean: q.detach().mean(),
    };
    (optimizer.step(hp.learning_rate, net, grads), stats)
}
