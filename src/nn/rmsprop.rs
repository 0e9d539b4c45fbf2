//! RMSprop (Tieleman & Hinton 2012; PyTorch's form, as A2C uses it) exactly as Burn's `RmsProp`
//! computes it without momentum, centring or weight decay, with the per-parameter update fused
//! into one host loop on the CPU backends:
//!
//! v ← αv + (1 − α)g²,  θ ← θ − lr · g / (√v + ε)   (first step: v = (1 − α)g²).
//!
//! Burn evaluates this as seven tensor operations, each a pass over the parameter with its own
//! allocation. The loop performs the same f32 operations in the same order (no fused
//! multiply-add), so parameters and the mean square are bit-identical to Burn's (tested), and the
//! state is Burn's `RmsPropState`: checkpoints are interchangeable. Other devices (wgpu) use
//! Burn's `RmsProp` itself. The sibling of [`super::adam`].

use burn::optim::{
    CenteredState, LearningRate, ModuleOptimizer, Optimizer, RmsProp, RmsPropConfig, RmsPropState,
    SquareAvgState,
};
use burn::prelude::*;

use super::device::computes_on_host;
use super::to_vec;

/// RMSprop with smoothing constant `alpha` and `epsilon`, no momentum, for a whole module.
pub fn rmsprop(alpha: f32, epsilon: f32) -> ModuleOptimizer {
    let burn = RmsPropConfig::new()
        .with_alpha(alpha)
        .with_epsilon(epsilon)
        .with_momentum(0.0)
        .build();
    ModuleOptimizer::from(FusedRmsProp {
        alpha,
        epsilon,
        burn,
    })
}

#[derive(Clone)]
struct FusedRmsProp {
    alpha: f32,
    epsilon: f32,
    /// Burn's RmsProp with the same constants, for devices whose memory the host cannot loop
    /// over.
    burn: RmsProp,
}

impl Optimizer for FusedRmsProp {
    type State<const D: usize> = RmsPropState<D>;

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
        let (alpha, c) = (self.alpha, 1.0 - self.alpha);
        let v = match state {
            Some(s) => {
                let mut v = to_vec(s.square_avg.square_avg);
                for (v, &g) in v.iter_mut().zip(&g) {
                    *v = *v * alpha + (g * g) * c;
                }
                v
            }
            None => g.iter().map(|&g| (g * g) * c).collect(),
        };
        let lr = lr as f32;
        for ((theta, &g), &v) in theta.iter_mut().zip(&g).zip(&v) {
            *theta -= (g / (v.sqrt() + self.epsilon)) * lr;
        }
        let tensor = |values: Vec<f32>| {
            Tensor::<D>::from_data(TensorData::new(values, shape.clone()), &device)
        };
        let square_avg = tensor(v);
        // Burn's uncentred state: the mean square, and again as the denominator's average.
        let centered = CenteredState::new(None, square_avg.clone());
        let state = RmsPropState::new(SquareAvgState::new(square_avg), centered, None);
        (tensor(theta), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RmsProp::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::fused_optimizer_check::{assert_bit_identical, assert_state_interchangeable};

    fn burns(alpha: f32, epsilon: f32) -> ModuleOptimizer {
        RmsPropConfig::new()
            .with_alpha(alpha)
            .with_epsilon(epsilon)
            .with_momentum(0.0)
            .init()
    }

    #[test]
    fn matches_burns_rmsprop_bit_for_bit() {
        assert_bit_identical(|| rmsprop(0.99, 1e-5), || burns(0.99, 1e-5), 7e-4);
    }

    #[test]
    fn state_is_interchangeable_with_burns() {
        assert_state_interchangeable(|| rmsprop(0.9, 1e-5), || burns(0.9, 1e-5));
    }
}
