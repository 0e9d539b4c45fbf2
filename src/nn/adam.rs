//! Adam (Kingma & Ba 2015, alg. 1) exactly as Burn's `Adam` computes it, with the per-parameter
//! update fused into one host loop on the CPU backends:
//!
//! m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
//! θ ← θ − lr · (m · √(1 − β₂ᵗ)/(1 − β₁ᵗ)) / (√v + ε√(1 − β₂ᵗ)).
//!
//! Burn evaluates this as ten tensor operations, each a pass over the parameter with its own
//! allocation; on flex/ndarray that was a sixth of DQN's time. The loop performs the same f32
//! operations in the same order (no fused multiply-add), so parameters and moments are
//! bit-identical to Burn's (tested), and the state is Burn's `AdamState`: checkpoints are
//! interchangeable. Other devices (wgpu) use Burn's `Adam` itself.

use burn::optim::{
    AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::prelude::*;

use super::device::computes_on_host;
use super::simd::widest;
use super::to_vec;

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;

/// Adam with β = (0.9, 0.999) and this ε, for a whole module.
pub fn adam(epsilon: f32) -> ModuleOptimizer {
    let burn = AdamConfig::new()
        .with_beta_1(BETA_1)
        .with_beta_2(BETA_2)
        .with_epsilon(epsilon)
        .build();
    ModuleOptimizer::from(FusedAdam { epsilon, burn })
}

#[derive(Clone)]
struct FusedAdam {
    epsilon: f32,
    /// Burn's Adam with the same constants, for devices whose memory the host cannot loop over.
    burn: burn::optim::Adam,
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        if !computes_on_host(&device) {
            return self.burn.step(lr, tensor, grad, state);
        }
        let shape = tensor.shape();
        let mut theta = to_vec(tensor);
        let g = to_vec(grad);
        let (time, m, v) = match state {
            Some(s) => {
                let (mut m, mut v) = (to_vec(s.momentum.moment_1), to_vec(s.momentum.moment_2));
                let time = s.momentum.time + 1;
                step(
                    &mut theta,
                    &mut m,
                    &mut v,
                    &g,
                    time,
                    lr as f32,
                    self.epsilon,
                );
                (time, m, v)
            }
            None => {
                let (m, v) = first_moments(&g);
                apply(&mut theta, &m, &v, 1, lr as f32, self.epsilon);
                (1, m, v)
            }
        };
        let tensor = |values: Vec<f32>| {
            Tensor::<D>::from_data(TensorData::new(values, shape.clone()), &device)
        };
        let momentum = AdaptiveMomentumState::new(time, tensor(m), tensor(v));
        (tensor(theta), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::Adam::to_device(state, device)
    }
}

/// Burn's first step: m = (1 − β₁)g, v = (1 − β₂)g².
pub(super) fn first_moments(g: &[f32]) -> (Vec<f32>, Vec<f32>) {
    (
        g.iter().map(|&g| g * (1.0 - BETA_1)).collect(),
        g.iter().map(|&g| (g * g) * (1.0 - BETA_2)).collect(),
    )
}

/// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², for one element.
#[inline(always)]
fn update_moment(m: &mut f32, v: &mut f32, g: f32) {
    *m = *m * BETA_1 + g * (1.0 - BETA_1);
    *v = *v * BETA_2 + (g * g) * (1.0 - BETA_2);
}

/// The update's factors at step t: lr, √(1 − β₂ᵗ)/(1 − β₁ᵗ) and ε√(1 − β₂ᵗ).
#[derive(Clone, Copy)]
struct Correction {
    lr: f32,
    step_factor: f32,
    epsilon: f32,
}

impl Correction {
    fn at(time: usize, lr: f32, epsilon: f32) -> Self {
        let t = time as i32;
        let bias_correction_2 = (1.0 - BETA_2.powi(t)).sqrt();
        Self {
            lr,
            step_factor: bias_correction_2 / (1.0 - BETA_1.powi(t)),
            epsilon: epsilon * bias_correction_2,
        }
    }

    /// θ ← θ − lr · (m · √(1 − β₂ᵗ)/(1 − β₁ᵗ)) / (√v + ε√(1 − β₂ᵗ)), for one element.
    #[inline(always)]
    fn descend(self, theta: &mut f32, m: f32, v: f32) {
        *theta -= ((m * self.step_factor) / (v.sqrt() + self.epsilon)) * self.lr;
    }
}

widest!(
    /// θ ← θ − lr · (m · √(1 − β₂ᵗ)/(1 − β₁ᵗ)) / (√v + ε√(1 − β₂ᵗ)), in place, at step `time`
    /// (the first step's, after [`first_moments`]).
    pub(super) fn apply = apply_portable(
        theta: &mut [f32],
        m: &[f32],
        v: &[f32],
        time: usize,
        lr: f32,
        epsilon: f32,
    )
);

#[inline(always)]
fn apply_portable(theta: &mut [f32], m: &[f32], v: &[f32], time: usize, lr: f32, epsilon: f32) {
    let correction = Correction::at(time, lr, epsilon);
    for ((theta, &m), &v) in theta.iter_mut().zip(m).zip(v) {
        correction.descend(theta, m, v);
    }
}

widest!(
    /// A step after the first, at step `time`, in one pass: the moments updated by `g`
    /// (m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²), then θ moved as [`apply`] moves it.
    pub(super) fn step = step_portable(
        theta: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        g: &[f32],
        time: usize,
        lr: f32,
        epsilon: f32,
    )
);

#[inline(always)]
fn step_portable(
    theta: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    time: usize,
    lr: f32,
    epsilon: f32,
) {
    let correction = Correction::at(time, lr, epsilon);
    let moments = m.iter_mut().zip(v.iter_mut()).zip(g);
    for (theta, ((m, v), &g)) in theta.iter_mut().zip(moments) {
        update_moment(m, v, g);
        correction.descend(theta, *m, *v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::fused_optimizer_check::{assert_bit_identical, assert_state_interchangeable};

    #[test]
    fn matches_burns_adam_bit_for_bit() {
        assert_bit_identical(
            || adam(1e-8),
            || AdamConfig::new().with_epsilon(1e-8).init(),
            1e-2,
        );
    }

    #[test]
    fn state_is_interchangeable_with_burns() {
        assert_state_interchangeable(
            || adam(1e-8),
            || AdamConfig::new().with_epsilon(1e-8).init(),
        );
    }
}
