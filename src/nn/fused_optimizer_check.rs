//! The checks every fused host optimiser ([`super::adam`], [`super::rmsprop`]) passes against
//! the Burn optimiser it replaces: the same parameters bit for bit, and interchangeable state.

use burn::nn::Linear;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::init::orthogonal_linear;
use super::to_vec;
use crate::rng::{Stream, stream};

/// The bits of a layer's weight and bias.
fn params(layer: &Linear) -> Vec<u32> {
    let w = to_vec(layer.weight.val());
    let b = to_vec(layer.bias.as_ref().unwrap().val());
    w.iter().chain(&b).map(|x| x.to_bits()).collect()
}

/// Twenty steps with step sizes `lr / (1 + i)` on a changing loss (gradients of mixed sign and
/// scale, some exactly zero): `fused` and `burns` leave every parameter bit-identical, on both
/// CPU backends.
#[allow(deprecated)] // burn-ndarray is deprecated upstream but is the card's CPU backend
pub fn assert_bit_identical(
    fused: impl Fn() -> ModuleOptimizer,
    burns: impl Fn() -> ModuleOptimizer,
    lr: f64,
) {
    for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
        let start = orthogonal_linear(5, 3, 1.0, &mut stream(2, Stream::Init), &device);
        let (mut ours, mut theirs) = (start.clone(), start);
        let (mut fused, mut reference) = (fused(), burns());
        for i in 0..20 {
            let x = Tensor::<2>::from_floats(
                [
                    [1.0, -2.0, 0.5 * i as f32, 0.0, 3.0],
                    [0.25, 0.0, -1.5, 2.0, -0.1 * i as f32],
                ],
                &device,
            );
            let loss = |l: &Linear| l.forward(x.clone()).square().sum().mul_scalar(0.3);
            let lr = lr / (1.0 + i as f64);
            let g = GradientsParams::from_grads(loss(&ours).backward(), &ours);
            ours = fused.step(lr, ours, g);
            let g = GradientsParams::from_grads(loss(&theirs).backward(), &theirs);
            theirs = reference.step(lr, theirs, g);
            assert_eq!(params(&ours), params(&theirs), "step {i} on {device:?}");
        }
    }
}

/// The state is Burn's: a record saved by `burns` continues in `fused` as in `burns`, and one
/// saved by `fused` continues in both alike.
pub fn assert_state_interchangeable(
    fused: impl Fn() -> ModuleOptimizer,
    burns: impl Fn() -> ModuleOptimizer,
) {
    let device = Device::flex().autodiff();
    let layer = orthogonal_linear(3, 2, 1.0, &mut stream(4, Stream::Init), &device);
    let x = Tensor::<2>::from_floats([[1.0, -1.0, 2.0]], &device);
    let grads =
        |l: &Linear| GradientsParams::from_grads(l.forward(x.clone()).square().sum().backward(), l);
    let mut first = burns();
    let layer = first.step(1e-3, layer.clone(), grads(&layer));
    let mut ours = fused().load_record(first.to_record());
    let mut theirs = burns().load_record(first.to_record());
    let a = ours.step(1e-3, layer.clone(), grads(&layer));
    let b = theirs.step(1e-3, layer.clone(), grads(&layer));
    assert_eq!(params(&a), params(&b));
    assert_ne!(params(&a), params(&layer));
    let mut again = fused().load_record(ours.to_record());
    let mut back = burns().load_record(ours.to_record());
    let a = again.step(1e-3, a.clone(), grads(&a));
    let b = back.step(1e-3, b.clone(), grads(&b));
    assert_eq!(params(&a), params(&b));
}
