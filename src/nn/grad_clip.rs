//! Global gradient-norm clipping as PyTorch's `clip_grad_norm_` defines it (Pascanu et al. 2013):
//! with ‖g‖ = √(Σ_params ‖g_p‖²), every gradient is scaled by min(1, max_norm / (‖g‖ + 10⁻⁶)).
//!
//! Burn's `GradientClippingConfig::Norm` clips each parameter tensor on its own, which is a
//! different (and for PPO/A2C, not the published) rule.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Clips the gradients of `module`'s parameters in place; returns the norm before clipping as
/// a one-element tensor (read it only when needed: on a GPU a read is a synchronisation).
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> Option<Tensor<1>> {
    let mut sum = SumOfSquares { grads, total: None };
    module.visit(&mut sum);
    let norm = sum.total?.sqrt();
    // min(1, max_norm / (‖g‖ + 1e-6)), kept on the device.
    let coef = norm
        .clone()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    module.visit(&mut Scale { grads, coef });
    Some(norm)
}

struct SumOfSquares<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SumOfSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    coef: Tensor<1>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            let coef = self.coef.clone().reshape([1; D]);
            self.grads.register(param.id, g * coef);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::orthogonal_linear;
    use crate::rng::{Stream, stream};
    use burn::nn::Linear;

    fn grads_of(layer: &Linear, device: &Device) -> GradientsParams {
        let x = Tensor::<2>::from_floats([[1.0f32, -2.0, 0.5]], device);
        let loss = layer.forward(x).sum().mul_scalar(3.0);
        GradientsParams::from_grads(loss.backward(), layer)
    }

    fn norm_of(layer: &Linear, grads: &GradientsParams) -> f64 {
        let w = grads.get::<2>(layer.weight.id).unwrap();
        let b = grads.get::<1>(layer.bias.as_ref().unwrap().id).unwrap();
        let sq = w.square().sum().into_scalar::<f32>() + b.square().sum().into_scalar::<f32>();
        f64::from(sq).sqrt()
    }

    fn read(norm: Option<Tensor<1>>) -> f64 {
        f64::from(norm.unwrap().into_scalar::<f32>())
    }

    /// d(3 Σ (xW + b))/dW = 3 xᵀ1, d/db = 3: ‖g‖² = 9 (|x|² + 1) per output.
    #[test]
    fn clips_the_global_norm_only_when_above_the_bound() {
        let device = Device::flex().autodiff();
        let layer = orthogonal_linear(3, 2, 1.0, &mut stream(0, Stream::Init), &device);
        let expected = (9.0f64 * (1.0 + 4.0 + 0.25 + 1.0) * 2.0).sqrt();

        let mut grads = grads_of(&layer, &device);
        let norm = read(clip_grad_norm(&layer, &mut grads, 1e3));
        assert!((norm - expected).abs() < 1e-4, "{norm} vs {expected}");
        assert!((norm_of(&layer, &grads) - expected).abs() < 1e-4);

        let mut grads = grads_of(&layer, &device);
        let norm = read(clip_grad_norm(&layer, &mut grads, 0.5));
        assert!((norm - expected).abs() < 1e-4);
        assert!((norm_of(&layer, &grads) - 0.5).abs() < 1e-5);
    }
}
