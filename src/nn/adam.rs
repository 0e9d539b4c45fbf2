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
        let (c1, c2) = (1.0 - BETA_1, 1.0 - BETA_2);
        let (time, m, v) = match state {
            Some(s) => {
                let (mut m, mut v) = (to_vec(s.momentum.moment_1), to_vec(s.momentum.moment_2));
                for ((m, v), &g) in m.iter_mut().zip(v.iter_mut()).zip(&g) {
                    *m = *m * BETA_1 + g * c1;
                    *v = *v * BETA_2 + (g * g) * c2;
                }
                (s.momentum.time + 1, m, v)
            }
            // Burn's first step: m = (1 − β₁)g, v = (1 − β₂)g².
            None => (
                1,
                g.iter().map(|&g| g * c1).collect(),
                g.iter().map(|&g| (g * g) * c2).collect(),
            ),
        };
        let t = time as i32;
        let bias_correction_2 = (1.0 - BETA_2.powi(t)).sqrt();
        let step_factor = bias_correction_2 / (1.0 - BETA_1.powi(t));
        let epsilon = self.epsilon * bias_correction_2;
        let lr = lr as f32;
        for ((theta, &m), &v) in theta.iter_mut().zip(&m).zip(&v) {
            *theta -= ((m * step_factor) / (v.sqrt() + epsilon)) * lr;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::orthogonal_linear;
    use crate::rng::{Stream, stream};
    use burn::nn::Linear;
    use burn::optim::GradientsParams;

    fn params(layer: &Linear) -> Vec<u32> {
        let w = to_vec(layer.weight.val());
        let b = to_vec(layer.bias.as_ref().unwrap().val());
        w.iter().chain(&b).map(|x| x.to_bits()).collect()
    }

    /// Twenty steps on a changing loss (gradients of mixed sign and scale, some exactly zero):
    /// every parameter bit-identical to Burn's Adam, on both CPU backends.
    #[test]
    #[allow(deprecated)] // burn-ndarray is deprecated upstream but is the card's CPU backend
    fn matches_burns_adam_bit_for_bit() {
        for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
            let start = orthogonal_linear(5, 3, 1.0, &mut stream(2, Stream::Init), &device);
            let (mut ours, mut burns) = (start.clone(), start);
            let mut fused = adam(1e-8);
            let mut reference = AdamConfig::new().with_epsilon(1e-8).init();
            for i in 0..20 {
                let x = Tensor::<2>::from_floats(
                    [
                        [1.0, -2.0, 0.5 * i as f32, 0.0, 3.0],
                        [0.25, 0.0, -1.5, 2.0, -0.1 * i as f32],
                    ],
                    &device,
                );
                let loss = |l: &Linear| l.forward(x.clone()).square().sum().mul_scalar(0.3);
                let lr = 1e-2 / (1.0 + i as f64);
                let g = GradientsParams::from_grads(loss(&ours).backward(), &ours);
                ours = fused.step(lr, ours, g);
                let g = GradientsParams::from_grads(loss(&burns).backward(), &burns);
                burns = reference.step(lr, burns, g);
                assert_eq!(params(&ours), params(&burns), "step {i} on {device:?}");
            }
        }
    }

    /// The state is Burn's: a record saved by Burn's Adam continues in ours, step for step.
    #[test]
    fn state_is_interchangeable_with_burns() {
        let device = Device::flex().autodiff();
        let layer = orthogonal_linear(3, 2, 1.0, &mut stream(4, Stream::Init), &device);
        let x = Tensor::<2>::from_floats([[1.0, -1.0, 2.0]], &device);
        let grads = |l: &Linear| {
            GradientsParams::from_grads(l.forward(x.clone()).square().sum().backward(), l)
        };
        let mut first = AdamConfig::new().with_epsilon(1e-8).init();
        let layer = first.step(1e-3, layer.clone(), grads(&layer));
        let mut fused = adam(1e-8).load_record(first.to_record());
        let mut reference = AdamConfig::new()
            .with_epsilon(1e-8)
            .init()
            .load_record(first.to_record());
        let ours = fused.step(1e-3, layer.clone(), grads(&layer));
        let burns = reference.step(1e-3, layer.clone(), grads(&layer));
        assert_eq!(params(&ours), params(&burns));
        assert_ne!(params(&ours), params(&layer));
    }
}
