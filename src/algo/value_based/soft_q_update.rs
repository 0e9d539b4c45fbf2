//! One gradient step of soft Q-learning (Haarnoja et al. 2017, eq. 4–6, discrete actions) on a
//! minibatch of transitions:
//!
//! V'(s') = α log Σ_a' exp(Q'(s', a')/α),  y = R + discount · (1 − terminated) V'(s'),
//! L = E[ℓ(Q(s, a) − y)]
//!
//! with Q' the target network (the caller's to update), ℓ Huber or squared error and the
//! gradient clipped to a global norm. As α → 0, V' is max_a' Q'(s', a') and this is DQN's step.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::dqn::TdLoss;
use super::dqn_update::huber;
use crate::buffer::ReplayBatch;
use crate::nn::q_network::QNetwork;
use crate::nn::{clip_grad_norm, matrix};

/// The hyperparameters of one soft Q step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftQUpdate {
    /// Adam step size.
    pub learning_rate: f64,
    /// Temperature α > 0 of this step (annealed or not by the caller).
    pub alpha: f64,
    pub loss: TdLoss,
    /// Global gradient-norm bound.
    pub max_grad_norm: f64,
}

/// What one soft Q step measured (tensors of one element, detached, on the training device).
pub struct SoftQStats {
    /// L.
    pub loss: Tensor<1>,
    /// E[Q(s, a)] on the batch.
    pub q_mean: Tensor<1>,
}

/// The soft state value α log Σ_a exp(Q(s, a)/α) of each row of `q` `[batch, n_actions]`,
/// computed around the row maximum.
pub fn soft_value(q: Tensor<2>, alpha: f64) -> Tensor<1> {
    let max = q.clone().max_dim(1);
    let sum = (q - max.clone()).div_scalar(alpha).exp().sum_dim(1);
    (max + sum.log().mul_scalar(alpha)).squeeze_dim::<1>(1)
}

/// One gradient step of `q` on `batch` (its rows on `device`) against `q_target`.
pub fn update(
    q: QNetwork,
    q_target: &QNetwork,
    optimizer: &mut ModuleOptimizer,
    batch: &ReplayBatch,
    hp: &SoftQUpdate,
    device: &Device,
) -> (QNetwork, SoftQStats) {
    let b = batch.len();
    let obs_dim = batch.obs_dim();
    let actions: Vec<i64> = batch.actions.iter().map(|&a| a as i64).collect();
    let actions = Tensor::<2, Int>::from_data(TensorData::new(actions, [b, 1]), device);
    let next_v = soft_value(
        q_target.forward(matrix(&batch.next_observations, obs_dim, device)),
        hp.alpha,
    );
    let y = batch.td_target(next_v, device).detach();
    let q_taken = q
        .forward(matrix(&batch.observations, obs_dim, device))
        .gather(1, actions)
        .squeeze_dim::<1>(1);
    let td = q_taken.clone() - y;
    let loss = match hp.loss {
        TdLoss::Huber => huber(td),
        TdLoss::Mse => td.square(),
    }
    .mean();
    let mut grads = GradientsParams::from_grads(loss.backward(), &q);
    clip_grad_norm(&q, &mut grads, hp.max_grad_norm);
    let stats = SoftQStats {
        loss: loss.detach(),
        q_mean: q_taken.detach().mean(),
    };
    (optimizer.step(hp.learning_rate, q, grads), stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;

    /// α log Σ exp(Q/α) against its closed form, and the maximum as α → 0.
    #[test]
    fn soft_value_closed_form() {
        let device = Device::flex();
        let q = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [50.0, 50.0, -50.0]], &device);
        let v = to_vec(soft_value(q.clone(), 1.0));
        let expected = (1f32.exp() + 2f32.exp() + 3f32.exp()).ln();
        assert!((v[0] - expected).abs() < 1e-5, "{v:?}");
        assert!((v[1] - (50.0 + 2f32.ln())).abs() < 1e-5, "{v:?}");
        let v = to_vec(soft_value(q, 1e-4));
        assert!(
            (v[0] - 3.0).abs() < 1e-5 && (v[1] - 50.0).abs() < 1e-3,
            "{v:?}"
        );
    }
}
