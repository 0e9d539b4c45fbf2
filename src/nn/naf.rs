//! The normalized advantage function network of Gu et al. (2016, eq. 2–4): a Q-function whose
//! maximum over a continuous action is known in closed form,
//!
//! Q(s, a) = V(s) + A(s, a),  A(s, a) = −½ (a − μ(s))ᵀ P(s) (a − μ(s)),  P(s) = L(s) L(s)ᵀ,
//!
//! L(s) lower-triangular with an exponentiated diagonal (so P is positive definite), and
//! argmax_a Q(s, a) = μ(s). μ is tanh-bounded to the normalised action box [−1, 1]^d.

use burn::prelude::*;

use super::mlp::{Activation, Init, Mlp};
use crate::rng::Rng;

/// V(s), μ(s) and L(s) for a batch of observations.
pub struct NafHeads {
    /// V(s) `[batch]`.
    pub value: Tensor<1>,
    /// μ(s) `[batch, d]`.
    pub mu: Tensor<2>,
    /// L(s) `[batch, d, d]`.
    pub l: Tensor<3>,
}

/// A shared trunk with three linear heads: V, μ and the d(d+1)/2 entries of L.
#[derive(Module, Debug)]
pub struct NafNetwork {
    trunk: Mlp,
    value: Mlp,
    mu: Mlp,
    l: Mlp,
    #[module(skip)]
    act_dim: usize,
}

impl NafNetwork {
    /// `hidden` layers (at least one) of `activation`, PyTorch's default initialisation.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        activation: Activation,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(obs_dim)
            .chain(hidden.iter().copied())
            .collect();
        let trunk = Mlp::new(&sizes, activation, true, Init::Default, rng, device);
        let last = *sizes.last().expect("the observation size");
        let mut head = |out| Mlp::new(&[last, out], activation, false, Init::Default, rng, device);
        let value = head(1);
        let mu = head(act_dim);
        let l = head(act_dim * (act_dim + 1) / 2);
        Self {
            trunk,
            value,
            mu,
            l,
            act_dim,
        }
    }

    pub fn forward(&self, obs: Tensor<2>) -> NafHeads {
        let h = self.trunk.forward(obs);
        NafHeads {
            value: self.value.forward(h.clone()).squeeze_dim::<1>(1),
            mu: super::tanh::tanh(self.mu.forward(h.clone())),
            l: lower_triangular(self.l.forward(h), self.act_dim),
        }
    }

    /// The greedy action μ(s) `[batch, d]` alone.
    pub fn greedy(&self, obs: Tensor<2>) -> Tensor<2> {
        super::tanh::tanh(self.mu.forward(self.trunk.forward(obs)))
    }

    /// V(s) `[batch]` alone (= max_a Q(s, a)).
    pub fn value(&self, obs: Tensor<2>) -> Tensor<1> {
        self.value
            .forward(self.trunk.forward(obs))
            .squeeze_dim::<1>(1)
    }
}

/// L `[batch, d, d]` from `entries` `[batch, d(d+1)/2]`, the rows of the lower triangle in
/// order (L₀₀, L₁₀, L₁₁, L₂₀, ...), with exp applied to the diagonal entries.
pub fn lower_triangular(entries: Tensor<2>, d: usize) -> Tensor<3> {
    let device = entries.device();
    let [b, k] = entries.dims();
    let mut place = vec![0f32; k * d * d];
    let mut diagonal = vec![0f32; k];
    let mut idx = 0;
    for i in 0..d {
        for j in 0..=i {
            place[idx * d * d + i * d + j] = 1.0;
            if i == j {
                diagonal[idx] = 1.0;
            }
            idx += 1;
        }
    }
    let place = Tensor::<2>::from_data(TensorData::new(place, [k, d * d]), &device);
    let diagonal = Tensor::<2>::from_data(TensorData::new(diagonal, [1, k]), &device);
    let off_diagonal = diagonal.clone().neg().add_scalar(1.0);
    // exp only where the mask is 1 (exp(0) · 0 elsewhere), the raw entries elsewhere.
    let shaped = (entries.clone() * diagonal.clone()).exp() * diagonal + entries * off_diagonal;
    shaped.matmul(place).reshape([b, d, d])
}

/// A(s, a) = −½ (a − μ)ᵀ L Lᵀ (a − μ) = −½ ‖Lᵀ (a − μ)‖² `[batch]`.
pub fn advantage(mu: Tensor<2>, l: Tensor<3>, actions: Tensor<2>) -> Tensor<1> {
    let u = (actions - mu).unsqueeze_dim::<3>(2);
    let y = l.swap_dims(1, 2).matmul(u);
    y.square().sum_dim(1).reshape([-1]).mul_scalar(-0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    /// A against −½ uᵀ L Lᵀ u with L built by hand, for d = 3.
    #[test]
    fn quadratic_advantage_matches_the_closed_form() {
        let device = Device::flex();
        let d = 3;
        let entries = [
            [0.3f32, -0.7, 0.2, 1.1, -0.4, -0.9],
            [-1.0, 0.5, 0.8, 0.0, 0.3, 0.4],
        ];
        let mu = [[0.1f32, -0.5, 0.9], [0.0, 0.2, -0.3]];
        let a = [[0.7f32, 0.4, -0.2], [-1.0, 0.9, 0.6]];
        let l = lower_triangular(Tensor::<2>::from_floats(entries, &device), d);
        let got = to_vec(advantage(
            Tensor::<2>::from_floats(mu, &device),
            l.clone(),
            Tensor::<2>::from_floats(a, &device),
        ));
        let l = to_vec(l.reshape([-1]));
        for row in 0..2 {
            let e = entries[row].map(f64::from);
            let lh = [
                [e[0].exp(), 0.0, 0.0],
                [e[1], e[2].exp(), 0.0],
                [e[3], e[4], e[5].exp()],
            ];
            for i in 0..d {
                for j in 0..d {
                    let built = l[row * 9 + i * 3 + j] as f64;
                    assert!((built - lh[i][j]).abs() < 1e-5, "L[{i}][{j}]");
                }
            }
            let u: Vec<f64> = (0..d).map(|i| (a[row][i] - mu[row][i]) as f64).collect();
            let mut quadratic = 0.0;
            for i in 0..d {
                for j in 0..d {
                    let p: f64 = (0..d).map(|k| lh[i][k] * lh[j][k]).sum();
                    quadratic += u[i] * p * u[j];
                }
            }
            let expected = -0.5 * quadratic;
            assert!(
                (got[row] as f64 - expected).abs() < 1e-4 * expected.abs().max(1.0),
                "{} vs {expected}",
                got[row]
            );
        }
    }

    /// Q is maximal at μ(s), where it equals V(s): A(μ) = 0 and A ≤ 0 elsewhere.
    #[test]
    fn the_greedy_action_is_mu() {
        let device = Device::flex();
        let net = NafNetwork::new(
            3,
            2,
            &[16],
            Activation::Relu,
            &mut stream(0, Stream::Init),
            &device,
        );
        let obs = Tensor::<2>::from_floats([[0.2, -0.1, 0.5]], &device);
        let heads = net.forward(obs.clone());
        assert_eq!(to_vec(net.greedy(obs.clone())), to_vec(heads.mu.clone()));
        assert_eq!(to_vec(net.value(obs)), to_vec(heads.value.clone()));
        let at_mu = advantage(heads.mu.clone(), heads.l.clone(), heads.mu.clone());
        assert_eq!(to_vec(at_mu), vec![0.0]);
        for shift in [[0.1f32, 0.0], [-0.3, 0.2], [0.0, 0.5]] {
            let a = heads.mu.clone() + Tensor::<2>::from_floats([shift], &device);
            let adv = to_vec(advantage(heads.mu.clone(), heads.l.clone(), a))[0];
            assert!(adv < 0.0, "{adv}");
        }
    }
}
