//! One gradient step of DQN (Mnih et al. 2015) on a minibatch of transitions:
//!
//! y = R + discount · (1 − terminated) Q'(s', a*),  L = E_w[ℓ(Q(s, a) − y)]
//!
//! with a* = argmax_a Q'(s', a), or argmax_a Q(s', a) with `double` (van Hasselt et al. 2016),
//! ℓ Huber or squared error, w the batch's importance weights when it comes from prioritised
//! replay (Schaul et al. 2016; all 1 otherwise), and the gradient clipped to a global norm.
//! The target network Q' is the caller's to update.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::dqn::TdLoss;
use crate::buffer::ReplayBatch;
use crate::nn::q_network::QNetwork;
use crate::nn::{clip_grad_norm, matrix, vector};

/// Adam's ε of DQN's optimiser (PyTorch's default, which Stable-Baselines3 keeps).
pub const ADAM_EPSILON: f32 = 1e-8;

/// The hyperparameters of one DQN step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DqnUpdate {
    /// Adam step size of this step (annealed or not by the caller).
    pub learning_rate: f64,
    /// Double DQN: the online network picks a*, the target network values it.
    pub double: bool,
    pub loss: TdLoss,
    /// Global gradient-norm bound.
    pub max_grad_norm: f64,
}

/// What one DQN step measured (tensors, detached, on the training device).
pub struct DqnStats {
    /// L (one element).
    pub loss: Tensor<1>,
    /// E[Q(s, a)] on the batch (one element).
    pub q_mean: Tensor<1>,
    /// The TD errors δ, when the batch has importance weights (for the new priorities).
    pub td_errors: Option<Tensor<1>>,
}

/// One gradient step of `q` on `batch` (its rows on `device`, the networks' device) against
/// the target network `q_target`.
pub fn update(
    q: QNetwork,
    q_target: &QNetwork,
    optimizer: &mut ModuleOptimizer,
    batch: &ReplayBatch,
    hp: &DqnUpdate,
    device: &Device,
) -> (QNetwork, DqnStats) {
    let b = batch.len();
    let obs_dim = batch.obs_dim();
    let matrix = |v: &[f32]| matrix(v, obs_dim, device);
    let actions: Vec<i64> = batch.actions.iter().map(|&a| a as i64).collect();
    let actions = Tensor::<1, Int>::from_data(TensorData::new(actions, [b]), device);

    let next_obs = matrix(&batch.next_observations);
    let target_q = q_target.forward(next_obs.clone());
    let next_q = if hp.double {
        let best = q.forward(next_obs).detach().argmax(1);
        target_q.gather(1, best)
    } else {
        target_q.max_dim(1)
    }
    .squeeze_dim::<1>(1);
    let y = batch.td_target(next_q, device).detach();

    let q_taken = q
        .forward(matrix(&batch.observations))
        .gather(1, actions.unsqueeze_dim::<2>(1))
        .squeeze_dim::<1>(1);
    let td = q_taken.clone() - y;
    let per_sample = match hp.loss {
        TdLoss::Huber => huber(td.clone()),
        TdLoss::Mse => td.clone().square(),
    };
    let weighted = !batch.weights.is_empty();
    let loss = if weighted {
        (per_sample * vector(&batch.weights, device)).mean()
    } else {
        per_sample.mean()
    };
    let mut grads = GradientsParams::from_grads(loss.backward(), &q);
    clip_grad_norm(&q, &mut grads, hp.max_grad_norm);
    let stats = DqnStats {
        loss: loss.detach(),
        q_mean: q_taken.detach().mean(),
        td_errors: weighted.then(|| td.detach()),
    };
    (optimizer.step(hp.learning_rate, q, grads), stats)
}

/// The Huber loss with δ = 1 elementwise: ½x² for |x| ≤ 1, |x| − ½ beyond (Huber 1964).
pub fn huber(x: Tensor<1>) -> Tensor<1> {
    let abs = x.abs();
    let quadratic = abs.clone().clamp_max(1.0);
    let linear = abs - quadratic.clone();
    quadratic.square().mul_scalar(0.5) + linear
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::q_network::QNetworkConfig;
    use crate::nn::{adam, to_vec};
    use crate::rng::{Stream, stream};

    #[test]
    fn huber_is_quadratic_inside_and_linear_outside() {
        let x = Tensor::<1>::from_floats([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0], &Device::flex());
        let got = to_vec(huber(x));
        let expected = [2.5, 0.5, 0.125, 0.0, 0.125, 1.5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
    }

    /// Three terminal transitions (y = r) with 2-dimensional observations and 3 actions.
    fn batch(weights: Vec<f32>) -> ReplayBatch {
        ReplayBatch {
            observations: vec![0.1, -0.4, 0.7, 0.2, -0.3, 0.9],
            actions: vec![2.0, 0.0, 1.0],
            rewards: vec![1.0, -0.5, 0.25],
            next_observations: vec![0.0; 6],
            terminated: vec![1.0; 3],
            discounts: vec![0.99; 3],
            weights,
            ..ReplayBatch::default()
        }
    }

    /// The TD errors δ = Q(s, a) − r of the network before the step.
    fn td_errors(q: &QNetwork, b: &ReplayBatch, device: &Device) -> Vec<f32> {
        let values = to_vec(q.forward(matrix(&b.observations, 2, device)));
        (0..3)
            .map(|i| values[i * 3 + b.actions[i] as usize] - b.rewards[i])
            .collect()
    }

    /// Terminal transitions: L = E_w[δ²] with the squared error, weights or none, and the TD
    /// errors come back for prioritised (weighted) batches only.
    #[test]
    fn the_loss_is_the_weighted_squared_td_error() {
        let device = Device::flex().autodiff();
        let cfg = QNetworkConfig {
            net_arch: vec![8],
            ..QNetworkConfig::default()
        };
        let q = QNetwork::new(2, 3, &cfg, false, &mut stream(0, Stream::Init), &device);
        let hp = DqnUpdate {
            learning_rate: 1e-3,
            double: false,
            loss: TdLoss::Mse,
            max_grad_norm: 10.0,
        };
        for weights in [vec![], vec![1.0, 0.0, 2.0]] {
            let b = batch(weights.clone());
            let delta = td_errors(&q, &b, &device);
            let w = |i: usize| weights.get(i).copied().unwrap_or(1.0);
            let expected = (0..3).map(|i| w(i) * delta[i] * delta[i]).sum::<f32>() / 3.0;
            let (_, stats) = update(q.clone(), &q.clone(), &mut adam(1e-8), &b, &hp, &device);
            let loss = stats.loss.into_scalar::<f32>();
            assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
            match stats.td_errors {
                Some(td) => {
                    assert!(!weights.is_empty());
                    assert_eq!(to_vec(td), delta);
                }
                None => assert!(weights.is_empty()),
            }
        }
    }
}
