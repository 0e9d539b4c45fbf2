//! The Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017) through which MADDPG's actors
//! act in discrete action spaces (Lowe et al. 2017, §4 and appendix): with g_k ~ Gumbel(0, 1),
//! argmax_k (l_k + g_k) is a draw from softmax(l), and y = softmax((l + g)/τ) a relaxed one-hot
//! sample differentiable in the logits l. The straight-through variant used here sends the
//! hard one-hot argmax forward and the relaxed sample's gradient back:
//! y = onehot(argmax(l + g)) − sg(y_soft) + y_soft.

use burn::prelude::*;
use burn::tensor::activation;
use rand::RngExt;

use crate::rng::Rng;

/// `n` draws of g = −ln(−ln u), u ~ U(0, 1), as f32.
pub fn gumbel_noise(n: usize, rng: &mut Rng) -> Vec<f32> {
    (0..n)
        .map(|_| {
            // u in (0, 1): both logarithms are finite.
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            -(-u.ln()).ln() as f32
        })
        .collect()
}

/// A draw from softmax(`logits`) by the Gumbel-max trick: argmax_k (l_k + g_k).
pub fn gumbel_max(logits: &[f32], rng: &mut Rng) -> usize {
    let noise = gumbel_noise(logits.len(), rng);
    let perturbed: Vec<f32> = logits.iter().zip(&noise).map(|(l, g)| l + g).collect();
    crate::nn::distributions::argmax(&perturbed)
}

/// The straight-through Gumbel-softmax sample of each row of `logits` (`[batch, k]`) for the
/// Gumbel draws `noise` (same shape) at temperature `temperature`: one-hot rows forward, the
/// gradient of softmax((l + g)/τ) backward.
pub fn gumbel_softmax(logits: Tensor<2>, noise: Tensor<2>, temperature: f64) -> Tensor<2> {
    let k = logits.dims()[1];
    let soft = activation::softmax((logits + noise).div_scalar(temperature), 1);
    let hard = soft
        .clone()
        .argmax(1)
        .float()
        .squeeze_dim::<1>(1)
        .one_hot::<2>(k);
    hard - soft.clone().detach() + soft
}

/// onehot(argmax l) of each row of `logits`: the deterministic action of a discrete actor
/// (its target action, μ'(o')).
pub fn greedy_one_hot(logits: Tensor<2>) -> Tensor<2> {
    let k = logits.dims()[1];
    logits.argmax(1).float().squeeze_dim::<1>(1).one_hot::<2>(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{matrix, to_vec};
    use crate::rng::{Stream, stream};

    /// Gumbel-max draws follow softmax(l): frequencies of 20,000 draws within 0.01.
    #[test]
    fn gumbel_max_samples_the_softmax() {
        let logits = [0.5f32, -1.0, 2.0, 0.0];
        let z: f32 = logits.iter().map(|l| l.exp()).sum();
        let mut rng = stream(0, Stream::Explore);
        let mut counts = [0usize; 4];
        let n = 20_000;
        for _ in 0..n {
            counts[gumbel_max(&logits, &mut rng)] += 1;
        }
        for (c, l) in counts.iter().zip(logits) {
            let p = l.exp() / z;
            let f = *c as f32 / n as f32;
            assert!((f - p).abs() < 0.01, "{f} vs {p}");
        }
    }

    /// Forward: exact one-hot rows at argmax(l + g). Backward: the gradient of
    /// Σ w ⊙ softmax((l + g)/τ), i.e. (1/τ) y_soft ⊙ (w − ⟨w, y_soft⟩) per row.
    #[test]
    fn straight_through_rows_are_one_hot_with_the_relaxed_gradient() {
        let device = Device::flex().autodiff();
        let (b, k, tau) = (3, 4, 0.5);
        let l: Vec<f32> = (0..b * k).map(|i| (i as f32 * 0.7).sin()).collect();
        let g = gumbel_noise(b * k, &mut stream(1, Stream::Minibatch));
        let w: Vec<f32> = (0..b * k).map(|i| (i as f32 * 0.3).cos()).collect();
        let logits = matrix(&l, k, &device).require_grad();
        let y = gumbel_softmax(logits.clone(), matrix(&g, k, &device), tau);
        let values = to_vec(y.clone());
        let grads = (y * matrix(&w, k, &device)).sum().backward();
        let grad = to_vec(logits.grad(&grads).expect("logits get a gradient"));
        for r in 0..b {
            let row = &values[r * k..][..k];
            let perturbed: Vec<f32> = (0..k).map(|j| l[r * k + j] + g[r * k + j]).collect();
            let best = crate::nn::distributions::argmax(&perturbed);
            for (j, v) in row.iter().enumerate() {
                assert_eq!(*v, if j == best { 1.0 } else { 0.0 });
            }
            let z: Vec<f64> = perturbed.iter().map(|p| f64::from(*p) / tau).collect();
            let m = z.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = z.iter().map(|z| (z - m).exp()).collect();
            let total: f64 = e.iter().sum();
            let s: Vec<f64> = e.iter().map(|x| x / total).collect();
            let mean: f64 = (0..k).map(|j| f64::from(w[r * k + j]) * s[j]).sum();
            for j in 0..k {
                let expected = s[j] * (f64::from(w[r * k + j]) - mean) / tau;
                let got = f64::from(grad[r * k + j]);
                assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
            }
        }
    }

    #[test]
    fn the_greedy_action_is_the_argmax_one_hot() {
        let device = Device::flex();
        let logits = matrix(&[0.1, 3.0, -1.0, 2.0, 0.0, 1.0], 3, &device);
        assert_eq!(
            to_vec(greedy_one_hot(logits)),
            [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
        );
    }
}
