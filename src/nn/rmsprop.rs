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
    use crate::nn::init::orthogonal_linear;
    use crate::rng::{Stream, stream};
    use burn::nn::Linear;
    use burn::optim::GradientsParams;

    fn params(layer: &Linear) -> Vec<u32> {
        let w = to_vec(layer.weight.val());
        let b = to_vec(layer.bias.as_ref().unwrap().val());
        w.iter().chain(&b).map(|x| x.to_bits()).collect()
    }

    fn burns(alpha: f32, epsilon: f32) -> ModuleOptimizer {
        RmsPropConfig::new()
            .with_alpha(alpha)
            .with_epsilon(epsilon)
            .with_momentum(0.0)
            .init()
    }

    /// Twenty steps on a changing loss (gradients of mixed sign and scale, some exactly zero):
    /// every parameter bit-identical to Burn's RmsProp, on both CPU backends.
    #[test]
    #[allow(deprecated)] // burn-ndarray is deprecated upstream but is the card's CPU backend
    fn matches_burns_rmsprop_bit_for_bit() {
        for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
            let start = orthogonal_linear(5, 3, 1.0, &mut stream(2, Stream::Init), &device);
            let (mut ours, mut theirs) = (start.clone(), start);
            let mut fused = rmsprop(0.99, 1e-5);
            let mut reference = burns(0.99, 1e-5);
            for i in 0..20 {
                let x = Tensor::<2>::from_floats(
                    [
                        [1.0, -2.0, 0.5 * i as f32, 0.0, 3.0],
                        [0.25, 0.0, -1.5, 2.0, -0.1 * i as f32],
                    ],
                    &device,
                );
                let loss = |l: &Linear| l.forward(x.clone()).square().sum().mul_scalar(0.3);
                let lr = 7e-4 / (1.0 + i as f64);
                let g = GradientsParams::from_grads(loss(&ours).backward(), &ours);
                ours = fused.step(lr, ours, g);
                let g = GradientsParams::from_grads(loss(&theirs).backward(), &theirs);
                theirs = reference.step(lr, theirs, g);
                assert_eq!(params(&ours), params(&theirs), "step {i} on {device:?}");
            }
        }
    }

    /// The state is Burn's: a record saved by Burn's RmsProp continues in ours, step for step,
    /// and ours continues in Burn's.
    #[test]
    fn state_is_interchangeable_with_burns() {
        let device = Device::flex().autodiff();
        let layer = orthogonal_linear(3, 2, 1.0, &mut stream(4, Stream::Init), &device);
        let x = Tensor::<2>::from_floats([[1.0, -1.0, 2.0]], &device);
        let grads = |l: &Linear| {
            GradientsParams::from_grads(l.forward(x.clone()).square().sum().backward(), l)
        };
        let mut first = burns(0.9, 1e-5);
        let layer = first.step(1e-3, layer.clone(), grads(&layer));
        let mut fused = rmsprop(0.9, 1e-5).load_record(first.to_record());
        let mut reference = burns(0.9, 1e-5).load_record(first.to_record());
        let ours = fused.step(1e-3, layer.clone(), grads(&layer));
        let theirs = reference.step(1e-3, layer.clone(), grads(&layer));
        assert_eq!(params(&ours), params(&theirs));
        assert_ne!(params(&ours), params(&layer));
        let mut back = burns(0.9, 1e-5).load_record(fused.to_record());
        let mut again = rmsprop(0.9, 1e-5).load_record(fused.to_record());
        let ours = again.step(1e-3, ours.clone(), grads(&ours));
        let theirs = back.step(1e-3, theirs.clone(), grads(&theirs));
        assert_eq!(params(&ours), params(&theirs));
    }
}
