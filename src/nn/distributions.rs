//! Action distributions: log-probabilities and entropies on tensors (for the losses) and
//! sampling on the CPU with the run's RNG (for acting).
//!
//! - categorical over logits: log π(a|s) = logits_a − logsumexp(logits); H = −Σ p log p
//! - diagonal Gaussian with state-independent log σ: log π(a|s) = Σ_i −½ zᵢ² − log σᵢ − ½ log 2π,
//!   zᵢ = (aᵢ − μᵢ)/σᵢ; H = Σ_i ½ + ½ log 2π + log σᵢ
//! - tanh-squashed Gaussian (SAC, Haarnoja et al. 2018, appendix C): a = tanh(u),
//!   log π(a|s) = log N(u; μ, σ) − Σ_i log(1 − tanh²uᵢ), with
//!   log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u)) for numerical stability.

use burn::prelude::*;
use burn::tensor::activation;
use rand::RngExt;

use crate::rng::{Rng, standard_normal};

/// ½ log 2π.
pub const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_8;

/// log π(a|s) of a categorical policy: `logits` [batch, n], `actions` [batch] indices.
pub fn categorical_log_prob(logits: Tensor<2>, actions: Tensor<1, Int>) -> Tensor<1> {
    let log_p = activation::log_softmax(logits, 1);
    let index = actions.unsqueeze_dim::<2>(1);
    log_p.gather(1, index).squeeze_dim::<1>(1)
}

/// Entropy of categorical policies, one per row of `logits`.
pub fn categorical_entropy(logits: Tensor<2>) -> Tensor<1> {
    let log_p = activation::log_softmax(logits, 1);
    let p = log_p.clone().exp();
    (p * log_p).sum_dim(1).squeeze_dim::<1>(1).neg()
}

/// log N(a; μ, diag σ²) per row: `mean`, `actions` [batch, d]; `log_std` [d] (broadcast).
pub fn gaussian_log_prob(mean: Tensor<2>, log_std: Tensor<1>, actions: Tensor<2>) -> Tensor<1> {
    let log_std = log_std.unsqueeze_dim::<2>(0);
    let z = (actions - mean) * log_std.clone().neg().exp();
    let d = z.dims()[1] as f64;
    let per_dim = z.square().mul_scalar(-0.5) - log_std;
    per_dim
        .sum_dim(1)
        .squeeze_dim::<1>(1)
        .sub_scalar(d * HALF_LOG_TWO_PI)
}

/// Entropy of a diagonal Gaussian with log σ = `log_std` [d] (the same for every state).
pub fn gaussian_entropy(log_std: Tensor<1>) -> Tensor<1> {
    let d = log_std.dims()[0] as f64;
    log_std.sum().add_scalar(d * (0.5 + HALF_LOG_TWO_PI))
}

/// log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u)), elementwise and stable for large |u|.
pub fn log_one_minus_tanh_squared<const D: usize>(u: Tensor<D>) -> Tensor<D> {
    let softplus = activation::softplus(u.clone().mul_scalar(-2.0), 1.0);
    (u.neg() - softplus)
        .add_scalar(std::f64::consts::LN_2)
        .mul_scalar(2.0)
}

/// log π(tanh u) of a tanh-squashed Gaussian per row: the Gaussian log-density of the
/// pre-squash sample `u` [batch, d] minus the log-Jacobian of tanh. `log_std` is [batch, d].
pub fn squashed_gaussian_log_prob(mean: Tensor<2>, log_std: Tensor<2>, u: Tensor<2>) -> Tensor<1> {
    let z = (u.clone() - mean) * log_std.clone().neg().exp();
    let d = z.dims()[1] as f64;
    let gaussian = (z.square().mul_scalar(-0.5) - log_std)
        .sum_dim(1)
        .squeeze_dim::<1>(1)
        .sub_scalar(d * HALF_LOG_TWO_PI);
    let jacobian = log_one_minus_tanh_squared(u).sum_dim(1).squeeze_dim::<1>(1);
    gaussian - jacobian
}

/// Samples an action from softmax(`logits`); returns it and its log-probability.
pub fn sample_categorical(logits: &[f32], rng: &mut Rng) -> (usize, f32) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let u: f64 = rng.random::<f64>() * sum;
    let mut acc = 0.0;
    let mut chosen = logits.len() - 1;
    for (a, &l) in logits.iter().enumerate() {
        acc += (l as f64 - max).exp();
        if u < acc {
            chosen = a;
            break;
        }
    }
    let log_p = logits[chosen] as f64 - max - sum.ln();
    (chosen, log_p as f32)
}

/// The most probable action (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Samples a ~ N(`mean`, diag exp(`log_std`)²) into `out`; returns log N(a).
pub fn sample_gaussian(mean: &[f32], log_std: &[f32], rng: &mut Rng, out: &mut [f32]) -> f32 {
    let mut log_p = 0.0;
    for ((a, &m), &ls) in out.iter_mut().zip(mean).zip(log_std) {
        let z = standard_normal(rng);
        *a = (m as f64 + (ls as f64).exp() * z) as f32;
        // Recompute z from the stored f32 action so that training sees the same log-probability.
        let z = (*a as f64 - m as f64) / (ls as f64).exp();
        log_p += -0.5 * z * z - ls as f64 - HALF_LOG_TWO_PI;
    }
    log_p as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn device() -> Device {
        Device::flex()
    }

    fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn categorical_matches_closed_form() {
        let logits = [[1.0f32, 2.0, 0.5], [0.0, 0.0, 0.0]];
        let t = Tensor::<2>::from_floats(logits, &device());
        let actions = Tensor::<1, Int>::from_ints([1, 2], &device());
        let log_p = to_vec(categorical_log_prob(t.clone(), actions));
        let entropy = to_vec(categorical_entropy(t));
        for (row, (&lp, &h)) in logits.iter().zip(log_p.iter().zip(&entropy)) {
            let z: f64 = row.iter().map(|&l| (l as f64).exp()).sum();
            let p: Vec<f64> = row.iter().map(|&l| (l as f64).exp() / z).collect();
            let a = if row[0] == 1.0 { 1 } else { 2 };
            close(lp as f64, p[a].ln(), 1e-6);
            close(h as f64, -p.iter().map(|q| q * q.ln()).sum::<f64>(), 1e-6);
        }
        // Uniform over 3 actions: H = log 3.
        close(entropy[1] as f64, 3f64.ln(), 1e-6);
    }

    #[test]
    fn gaussian_matches_closed_form() {
        let mean = Tensor::<2>::from_floats([[0.5f32, -1.0]], &device());
        let log_std = Tensor::<1>::from_floats([0.3f32, -0.7], &device());
        let action = Tensor::<2>::from_floats([[1.25f32, -0.5]], &device());
        let lp = to_vec(gaussian_log_prob(mean, log_std.clone(), action))[0] as f64;
        let density = |x: f64, m: f64, s: f64| {
            (-(x - m).powi(2) / (2.0 * s * s)).exp() / (s * std::f64::consts::TAU.sqrt())
        };
        let expected =
            (density(1.25, 0.5, 0.3f64.exp()) * density(-0.5, -1.0, (-0.7f64).exp())).ln();
        close(lp, expected, 1e-5);
        // H = Σ ½ log(2πe σ²).
        let h = to_vec(gaussian_entropy(log_std))[0] as f64;
        let expected: f64 = [0.3f64, -0.7]
            .iter()
            .map(|ls| 0.5 * (std::f64::consts::TAU * std::f64::consts::E * (2.0 * ls).exp()).ln())
            .sum();
        close(h, expected, 1e-5);
    }

    #[test]
    fn squashed_gaussian_applies_the_tanh_jacobian() {
        let (m, ls, u) = (0.2f64, -0.4f64, 1.3f64);
        let t = |x: f64| Tensor::<2>::from_floats([[x as f32]], &device());
        let lp = to_vec(squashed_gaussian_log_prob(t(m), t(ls), t(u)))[0] as f64;
        let s = ls.exp();
        let gaussian = -(u - m).powi(2) / (2.0 * s * s) - s.ln() - HALF_LOG_TWO_PI;
        close(lp, gaussian - (1.0 - u.tanh().powi(2)).ln(), 1e-5);
        // The stable form stays finite where 1 − tanh²u underflows in f32.
        let far = to_vec(log_one_minus_tanh_squared(Tensor::<1>::from_floats(
            [30.0f32],
            &device(),
        )))[0];
        close(far as f64, 2.0 * (2f64.ln() - 30.0), 1e-3);
    }

    #[test]
    fn cpu_sampling_matches_probabilities_and_log_probs() {
        let mut rng = stream(0, Stream::Explore);
        let logits = [0.0f32, 1.0, 2.0];
        let mut counts = [0usize; 3];
        let n = 60_000;
        for _ in 0..n {
            let (a, lp) = sample_categorical(&logits, &mut rng);
            counts[a] += 1;
            let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
            close(lp as f64, logits[a] as f64 - z.ln(), 1e-6);
        }
        let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
        for (a, &c) in counts.iter().enumerate() {
            close(c as f64 / n as f64, (logits[a] as f64).exp() / z, 0.01);
        }

        let (mean, log_std) = ([1.0f32, -2.0], [0.0f32, 1.0]);
        let mut out = [0.0f32; 2];
        let mut sum = [0.0f64; 2];
        let mut sum_sq = [0.0f64; 2];
        for k in 0..n {
            let lp = sample_gaussian(&mean, &log_std, &mut rng, &mut out);
            if k < 50 {
                let dev = Tensor::<2>::from_floats([mean], &device());
                let expected = to_vec(gaussian_log_prob(
                    dev,
                    Tensor::<1>::from_floats(log_std, &device()),
                    Tensor::<2>::from_floats([out], &device()),
                ))[0];
                close(lp as f64, expected as f64, 1e-4);
            }
            for i in 0..2 {
                sum[i] += out[i] as f64;
                sum_sq[i] += (out[i] as f64).powi(2);
            }
        }
        for i in 0..2 {
            let m = sum[i] / n as f64;
            let var = sum_sq[i] / n as f64 - m * m;
            close(m, mean[i] as f64, 0.05);
            close(var.sqrt(), (log_std[i] as f64).exp(), 0.05);
        }
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.0, 3.0, 3.0, 1.0]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
    }
}
