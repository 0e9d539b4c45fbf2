//! tanh for hidden layers, computed on the host for the CPU backends.
//!
//! The CPU backends evaluate elementwise transcendental functions one scalar libm call at a
//! time (`tanhf`, `expf`: 10–20 ns an element), and Burn's autodiff evaluates the activation
//! again from its input in the backward pass. Hidden-layer tanh was most of PPO's training time
//! on CartPole. Here the value and the slope are computed once, in one vectorised pass over
//! host memory, and the graph gets the slope through a detached product:
//!
//! tanh(x) = y + (x − x̄)·s, with y = tanh x̄, s = 1 − y², x̄ = stop_gradient(x).
//!
//! The forward value is exactly `y` (x − x̄ = 0), and ∂/∂x = s = tanh′(x), so autodiff multiplies
//! the incoming gradient by the stored slope instead of recomputing tanh. On a GPU the data stays
//! on the device and Burn's own `tanh` is used.

use burn::prelude::*;
use burn::tensor::activation;

use super::device::computes_on_host;
use super::simd::widest;

/// tanh x, elementwise; the same function on every backend (|error| below 1.5·10⁻⁷).
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !computes_on_host(&device) {
        return activation::tanh(x);
    }
    let shape = x.shape();
    let x_bar = x.clone().detach();
    let mut value = x_bar
        .clone()
        .into_data()
        .try_into_vec::<f32>()
        .expect("hidden activations are f32");
    let mut slope = vec![0.0; value.len()];
    tanh_and_slope(&mut value, &mut slope);
    let y = Tensor::<D>::from_data(TensorData::new(value, shape.clone()), &device);
    if !device.is_autodiff() {
        return y;
    }
    let slope = Tensor::<D>::from_data(TensorData::new(slope, shape), &device);
    y + (x - x_bar) * slope
}

widest!(
    /// `x[i] ← tanh x[i]` and `slope[i] ← 1 − tanh² x[i]`, sixteen or eight lanes at a time
    /// where the CPU has AVX-512 or AVX2 (bit-identical results on every CPU: [`super::simd`]).
    pub fn tanh_and_slope = tanh_and_slope_portable(x: &mut [f32], slope: &mut [f32])
);

/// The loop every variant compiles: branch-free, so that the compiler vectorises it.
#[inline(always)]
fn tanh_and_slope_portable(x: &mut [f32], slope: &mut [f32]) {
    for (x, slope) in x.iter_mut().zip(slope.iter_mut()) {
        let y = tanh_scalar(*x);
        *x = y;
        *slope = 1.0 - y * y;
    }
}

/// tanh a = −m / (2 + m) with m = e^{−2a} − 1 (a = |x|), then the sign of x.
///
/// e^z − 1 for z = −2a ≤ 0 by Cody–Waite range reduction: z = n ln 2 + r, |r| ≤ ½ ln 2, and
/// e^z − 1 = 2ⁿ(e^r − 1) + (2ⁿ − 1), with e^r − 1 = r(1 + r/2! + … + r⁶/7!) (truncation error
/// below |r|⁸/8! ≈ 5·10⁻⁹). Written through e^z − 1 rather than e^z so that small |x| keeps its
/// relative precision (for n = 0, r = z exactly). |x| is clamped at 9, where tanh rounds to 1 in
/// f32; NaN propagates.
#[inline(always)]
fn tanh_scalar(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75; // ln 2 to 15 significant bits: n·LN2_HI is exact
    const LN2_LO: f32 = 1.428_606_8e-6; // ln 2 − LN2_HI
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer
    let a = x.abs();
    let a = if a > 9.0 { 9.0 } else { a };
    let z = -2.0 * a;
    let shifted = z * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let k = shifted.to_bits() as i32 - ROUND.to_bits() as i32; // n as an integer, in [−26, 0]
    let r = z - n * LN2_HI - n * LN2_LO;
    let poly = 1.0
        + r * (1.0 / 2.0
            + r * (1.0 / 6.0
                + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0))))));
    let scale = f32::from_bits(((k + 127) as u32) << 23); // 2ⁿ
    let m = scale * (r * poly) + (scale - 1.0);
    (-m / (2.0 + m)).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;

    #[test]
    fn host_tanh_matches_the_closed_form_in_value_and_relative_precision() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 5e-5; // [−10, 10]
            let exact = f64::from(x).tanh();
            let got = f64::from(tanh_scalar(x));
            worst = worst.max((got - exact).abs());
            if x != 0.0 && x.abs() < 0.5 {
                assert!(((got - exact) / exact).abs() < 5e-7, "tanh({x}) = {got}");
            }
        }
        assert!(worst < 1.5e-7, "worst absolute error {worst}");
        for x in [1e-30f32, 1e-8, 1e-3] {
            assert!((f64::from(tanh_scalar(x)) / f64::from(x) - 1.0).abs() < 5e-7);
        }
        assert_eq!(tanh_scalar(0.0), 0.0);
        assert!(tanh_scalar(-0.0).is_sign_negative());
        assert_eq!(tanh_scalar(f32::INFINITY), 1.0);
        assert_eq!(tanh_scalar(f32::NEG_INFINITY), -1.0);
        assert!(tanh_scalar(f32::NAN).is_nan());
    }

    #[test]
    fn gradient_is_the_slope_one_minus_tanh_squared_on_every_backend() {
        #[allow(deprecated)] // burn-ndarray is the card's second CPU backend
        let devices = [Device::flex().autodiff(), Device::ndarray().autodiff()];
        let xs: Vec<f32> = (-80..=80).map(|i| i as f32 * 0.125).collect();
        for device in devices {
            let x = Tensor::<1>::from_floats(xs.as_slice(), &device).require_grad();
            // A weight after the activation, so the incoming gradient is not all ones.
            let w = Tensor::<1>::from_floats(
                xs.iter().map(|x| 1.0 + x).collect::<Vec<_>>().as_slice(),
                &device,
            );
            let y = tanh(x.clone());
            let grads = (y.clone() * w).sum().backward();
            let dy = to_vec(x.grad(&grads).expect("x is tracked"));
            for ((&x, y), dy) in xs.iter().zip(to_vec(y)).zip(dy) {
                let exact = f64::from(x).tanh();
                assert!((f64::from(y) - exact).abs() < 1.5e-7, "tanh({x}) = {y}");
                let slope = (1.0 - exact * exact) * (1.0 + f64::from(x));
                assert!((f64::from(dy) - slope).abs() < 1e-5, "d/dx at {x}: {dy}");
            }
        }
    }

    #[test]
    fn the_vectorised_loop_is_bit_identical_to_the_scalar_function() {
        let xs: Vec<f32> = (-5000..5000).map(|i| i as f32 * 1.37e-3).collect();
        let (mut y, mut slope) = (xs.clone(), vec![0.0; xs.len()]);
        tanh_and_slope(&mut y, &mut slope);
        let (mut y2, mut slope2) = (xs.clone(), vec![0.0; xs.len()]);
        tanh_and_slope_portable(&mut y2, &mut slope2);
        assert_eq!(y, y2);
        assert_eq!(slope, slope2);
        for ((&x, y), slope) in xs.iter().zip(y).zip(slope) {
            assert_eq!(y.to_bits(), tanh_scalar(x).to_bits());
            assert_eq!(slope.to_bits(), (1.0 - y * y).to_bits());
        }
    }

    #[test]
    fn plain_devices_get_the_value_only() {
        let x = Tensor::<2>::from_floats([[0.5, -1.0], [2.0, 0.0]], &Device::flex());
        let y = to_vec(tanh(x).reshape([4]));
        for (y, x) in y.iter().zip([0.5f64, -1.0, 2.0, 0.0]) {
            assert!((f64::from(*y) - x.tanh()).abs() < 1.5e-7);
        }
    }
}
