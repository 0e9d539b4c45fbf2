//! The Gaussian output of a probabilistic network (Chua et al. 2018, §4.1 and appendix A.1):
//! a mean μ and a log-variance log σ² per component, the latter softly bounded between learned
//! limits, trained by the Gaussian negative log-likelihood.

use burn::prelude::*;
use burn::tensor::activation::softplus;

/// log σ² kept softly inside [min, max] (PETS appendix A.1):
/// l ← max − softplus(max − l), then l ← min + softplus(l − min).
/// `max` and `min` broadcast against `raw` ([1, 1, d] against [B, n, d]).
pub fn soft_bounds(raw: Tensor<3>, max: Tensor<3>, min: Tensor<3>) -> Tensor<3> {
    let upper = max.clone() - softplus(max - raw, 1.0);
    min.clone() + softplus(upper - min, 1.0)
}

/// σ = exp(½ l) of the soft-bounded l = [`soft_bounds`](raw), evaluated without the two
/// softplus: with u = max − softplus(max − raw), e^u = e^max / (1 + e^{max − raw}) and
/// e^l = e^min (1 + e^{u − min}), so σ = e^{min/2} √(1 + e^{max − min} / (1 + e^{max − raw})),
/// one exponential per element. Computed in f64, where e^{max − min} cannot overflow.
#[derive(Clone, Debug)]
pub struct BoundedStd {
    max: Vec<f64>,
    /// e^{min/2} per component.
    floor: Vec<f64>,
    /// e^{max − min} per component.
    spread: Vec<f64>,
}

impl BoundedStd {
    /// The limits max and min log σ², one per component.
    pub fn new(max: &[f32], min: &[f32]) -> Self {
        let pairs = || {
            max.iter()
                .zip(min)
                .map(|(&a, &b)| (f64::from(a), f64::from(b)))
        };
        Self {
            max: max.iter().map(|&a| f64::from(a)).collect(),
            floor: pairs().map(|(_, b)| (0.5 * b).exp()).collect(),
            spread: pairs().map(|(a, b)| (a - b).exp()).collect(),
        }
    }

    /// σ of component k for the unbounded head value `raw`.
    pub fn std(&self, k: usize, raw: f32) -> f32 {
        let share = self.spread[k] / (1.0 + (self.max[k] - f64::from(raw)).exp());
        (self.floor[k] * (1.0 + share).sqrt()) as f32
    }
}

/// The Gaussian negative log-likelihood up to its constant, per member and row summed over the
/// components and averaged over rows and members:
/// mean over (b, i) of Σ_j [(μ − y)² e^{−log σ²} + log σ²].
pub fn gaussian_nll(mean: Tensor<3>, logvar: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let [b, n, _] = mean.dims();
    let per_element = (mean - target).square() * logvar.clone().neg().exp() + logvar;
    per_element.sum().div_scalar((b * n) as f64)
}

/// The squared error of a deterministic network, Σ_j (μ − y)² averaged over rows and members.
pub fn squared_error(mean: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let [b, n, _] = mean.dims();
    (mean - target).square().sum().div_scalar((b * n) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;

    fn tensor(values: &[f32], device: &Device) -> Tensor<3> {
        Tensor::<3>::from_data(
            TensorData::new(values.to_vec(), [1, values.len(), 1]),
            device,
        )
    }

    /// softplus(x) = ln(1 + eˣ): inside the limits the bounds barely move log σ², far outside
    /// they saturate at the limits, and they are monotone.
    #[test]
    fn soft_bounds_match_their_closed_form() {
        let device = Device::flex();
        let raw = [-30.0f32, -10.0, -3.0, 0.0, 0.4, 0.5, 3.0, 30.0];
        let (max, min) = (0.5f64, -10.0f64);
        let got = to_vec(soft_bounds(
            tensor(&raw, &device),
            tensor(&[max as f32], &device),
            tensor(&[min as f32], &device),
        ));
        let softplus = |x: f64| x.exp().ln_1p();
        for (&l, g) in raw.iter().zip(&got) {
            let upper = max - softplus(max - f64::from(l));
            let want = min + softplus(upper - min);
            assert!((f64::from(*g) - want).abs() < 1e-5, "{l}: {g} vs {want}");
            // The upper limit may be passed by ln(1 + e^{min − max}) ≈ 2.8e-5.
            assert!(
                f64::from(*g) >= min && f64::from(*g) <= max + 1e-4,
                "{l} → {g}"
            );
        }
        assert!((got[0] - min as f32).abs() < 1e-4 && (got[7] - max as f32).abs() < 1e-4);
        assert!((got[3] - (0.5 - (1.0f64 + 0.5f64.exp()).ln()) as f32).abs() < 1e-4);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    }

    /// The one-exponential σ equals exp(½ soft_bounds(raw)) across and far beyond the limits.
    #[test]
    fn bounded_std_is_the_square_root_of_the_bounded_variance() {
        let device = Device::flex();
        let raw = [-80.0f32, -30.0, -10.0, -3.0, 0.0, 0.4, 0.5, 3.0, 30.0, 80.0];
        let (max, min) = ([0.5f32, 2.0], [-10.0f32, -4.0]);
        let std = BoundedStd::new(&max, &min);
        for k in 0..2 {
            let bounded = to_vec(soft_bounds(
                tensor(&raw, &device),
                tensor(&[max[k]], &device),
                tensor(&[min[k]], &device),
            ));
            for (&l, b) in raw.iter().zip(&bounded) {
                let want = (0.5 * f64::from(*b)).exp();
                let got = f64::from(std.std(k, l));
                assert!((got / want - 1.0).abs() < 1e-5, "{k} {l}: {got} vs {want}");
            }
        }
    }

    /// ∂/∂μ = 2(μ − y)e^{−l} / n and ∂/∂l = (1 − (μ − y)² e^{−l}) / n.
    #[test]
    fn nll_value_and_gradient_match_their_closed_form() {
        let device = Device::flex().autodiff();
        let (mu, l, y) = (
            [0.3f32, -1.0, 2.0],
            [0.0f32, -1.5, 0.7],
            [1.0f32, -0.5, 2.0],
        );
        let mean = tensor(&mu, &device).require_grad();
        let logvar = tensor(&l, &device).require_grad();
        let loss = gaussian_nll(mean.clone(), logvar.clone(), tensor(&y, &device));
        let n = mu.len() as f64;
        let terms = (0..3).map(|i| {
            let (m, lv, t) = (f64::from(mu[i]), f64::from(l[i]), f64::from(y[i]));
            (
                (m - t).powi(2) * (-lv).exp() + lv,
                2.0 * (m - t) * (-lv).exp() / n,
                (1.0 - (m - t).powi(2) * (-lv).exp()) / n,
            )
        });
        let want: f64 = terms.clone().map(|t| t.0).sum::<f64>() / n;
        let grads = loss.backward();
        let got = f64::from(loss.clone().into_scalar::<f32>());
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        let d_mean = to_vec(mean.grad(&grads).unwrap());
        let d_logvar = to_vec(logvar.grad(&grads).unwrap());
        for (i, (_, dm, dl)) in terms.enumerate() {
            assert!((f64::from(d_mean[i]) - dm).abs() < 1e-5, "∂μ {i}");
            assert!((f64::from(d_logvar[i]) - dl).abs() < 1e-5, "∂l {i}");
        }
    }
}
