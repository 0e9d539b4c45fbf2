//! B networks evaluated as one (Chua et al. 2018, PETS): every layer holds the weights of all
//! members, W ∈ ℝ^{B×in×out}, so a layer is one batched matrix product
//! [B, n, in] × [B, in, out] for all members at once, not B separate ones. A probabilistic
//! ensemble outputs μ and a softly bounded log σ² ([`super::probabilistic`]) with the learned
//! limits max/min log σ² shared by the members; a deterministic one (Nagabandi et al. 2018, a
//! single member) outputs μ only.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::relu;
use rand::RngExt;

use super::probabilistic::{BoundedStd, soft_bounds};
use crate::nn::to_vec;
use crate::rng::Rng;

/// One fully connected layer of every member: y_b = x_b W_b + c_b.
#[derive(Module, Debug)]
pub struct EnsembleLinear {
    /// [B, in, out].
    pub weight: Param<Tensor<3>>,
    /// [B, 1, out].
    pub bias: Param<Tensor<3>>,
}

impl EnsembleLinear {
    /// PyTorch's default initialisation per member, U(−1/√in, 1/√in), drawn from `rng`.
    pub fn new(members: usize, d_in: usize, d_out: usize, rng: &mut Rng, device: &Device) -> Self {
        let bound = 1.0 / (d_in as f64).sqrt();
        let mut uniform = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| rng.random_range(-bound..bound) as f32)
                .collect()
        };
        let weight = uniform(members * d_in * d_out);
        let bias = uniform(members * d_out);
        Self {
            weight: Param::from_data(TensorData::new(weight, [members, d_in, d_out]), device),
            bias: Param::from_data(TensorData::new(bias, [members, 1, d_out]), device),
        }
    }

    /// [B, n, in] → [B, n, out], one batched matmul.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        x.matmul(self.weight.val()) + self.bias.val()
    }
}

/// The ensemble's prediction for [B, n, in] inputs: μ and, if probabilistic, log σ², each
/// [B, n, d].
pub struct Prediction {
    pub mean: Tensor<3>,
    pub logvar: Option<Tensor<3>>,
}

/// B multilayer perceptrons with ReLU hidden layers, batched layer by layer.
#[derive(Module, Debug)]
pub struct Ensemble {
    pub layers: Vec<EnsembleLinear>,
    /// Learned upper limit of log σ², [1, 1, d] (probabilistic ensembles).
    pub max_logvar: Option<Param<Tensor<3>>>,
    /// Learned lower limit of log σ², [1, 1, d].
    pub min_logvar: Option<Param<Tensor<3>>>,
    #[module(skip)]
    out_dim: usize,
}

/// PETS' initial limits of log σ² (its reference code's 0.5 and −10).
const INIT_MAX_LOGVAR: f32 = 0.5;
const INIT_MIN_LOGVAR: f32 = -10.0;

impl Ensemble {
    /// `members` networks `d_in → hidden… → d_out` (doubled to μ, log σ² when
    /// `probabilistic`), initialised from `rng`.
    pub fn new(
        members: usize,
        d_in: usize,
        hidden: &[usize],
        d_out: usize,
        probabilistic: bool,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let heads = if probabilistic { 2 } else { 1 };
        let sizes: Vec<usize> = std::iter::once(d_in)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(heads * d_out))
            .collect();
        let layers = sizes
            .windows(2)
            .map(|w| EnsembleLinear::new(members, w[0], w[1], rng, device))
            .collect();
        let limit = |value: f32| {
            probabilistic.then(|| {
                Param::from_data(TensorData::new(vec![value; d_out], [1, 1, d_out]), device)
            })
        };
        Self {
            layers,
            max_logvar: limit(INIT_MAX_LOGVAR),
            min_logvar: limit(INIT_MIN_LOGVAR),
            out_dim: d_out,
        }
    }

    /// B, the number of members.
    pub fn members(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }

    /// The layer sizes in → hidden… → out of one member (out doubled when probabilistic).
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].weight.dims()[1]];
        sizes.extend(self.layers.iter().map(|l| l.weight.dims()[2]));
        sizes
    }

    pub fn is_probabilistic(&self) -> bool {
        self.max_logvar.is_some()
    }

    /// Member b's prediction for row block b of `x` ([B, n, in]).
    pub fn forward(&self, x: Tensor<3>) -> Prediction {
        let Prediction { mean, logvar } = self.forward_unbounded(x);
        match (logvar, &self.max_logvar, &self.min_logvar) {
            (Some(raw), Some(max), Some(min)) => Prediction {
                mean,
                logvar: Some(soft_bounds(raw, max.val(), min.val())),
            },
            _ => Prediction { mean, logvar: None },
        }
    }

    /// [`Self::forward`] with the log σ² head as the network outputs it, before the soft
    /// bounds: a planner that only needs σ applies them on the host ([`BoundedStd`]).
    pub fn forward_unbounded(&self, x: Tensor<3>) -> Prediction {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = relu(h);
            }
        }
        if self.is_probabilistic() {
            let d = self.out_dim;
            Prediction {
                mean: h.clone().narrow(2, 0, d),
                logvar: Some(h.narrow(2, d, d)),
            }
        } else {
            Prediction {
                mean: h,
                logvar: None,
            }
        }
    }

    /// The learned limits of log σ² on the host, for σ of the unbounded head.
    pub fn bounded_std(&self) -> Option<BoundedStd> {
        match (&self.max_logvar, &self.min_logvar) {
            (Some(max), Some(min)) => Some(BoundedStd::new(&to_vec(max.val()), &to_vec(min.val()))),
            _ => None,
        }
    }

    /// Σ max log σ² − Σ min log σ², the penalty PETS adds (× 0.01) to keep the limits tight.
    pub fn limit_spread(&self) -> Option<Tensor<1>> {
        match (&self.max_logvar, &self.min_logvar) {
            (Some(max), Some(min)) => Some(max.val().sum() - min.val().sum()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::from_seed;

    /// The batched forward of the ensemble equals each member's own forward, computed with
    /// that member's 2-D weight slices one at a time.
    #[test]
    fn batched_forward_equals_per_member_forwards() {
        let device = Device::flex();
        let (members, d_in, n, d_out) = (3, 4, 5, 2);
        let ensemble = Ensemble::new(
            members,
            d_in,
            &[8, 6],
            d_out,
            true,
            &mut from_seed(1),
            &device,
        );
        let x: Vec<f32> = (0..members * n * d_in)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let input = Tensor::<3>::from_data(TensorData::new(x.clone(), [members, n, d_in]), &device);
        let batched = ensemble.forward(input);
        let mean = to_vec(batched.mean);
        let logvar = to_vec(batched.logvar.unwrap());
        for b in 0..members {
            let mut h = Tensor::<2>::from_data(
                TensorData::new(x[b * n * d_in..(b + 1) * n * d_in].to_vec(), [n, d_in]),
                &device,
            );
            let last = ensemble.layers.len() - 1;
            for (i, layer) in ensemble.layers.iter().enumerate() {
                let [_, d_i, d_o] = layer.weight.dims();
                let w = layer.weight.val().narrow(0, b, 1).reshape([d_i, d_o]);
                let c = layer.bias.val().narrow(0, b, 1).reshape([1, d_o]);
                h = h.matmul(w) + c;
                if i < last {
                    h = relu(h);
                }
            }
            let raw = h.clone().narrow(1, d_out, d_out).reshape([1, n, d_out]);
            let want_logvar = to_vec(soft_bounds(
                raw,
                ensemble.max_logvar.as_ref().unwrap().val(),
                ensemble.min_logvar.as_ref().unwrap().val(),
            ));
            let want_mean = to_vec(h.narrow(1, 0, d_out));
            let got = |v: &[f32]| v[b * n * d_out..(b + 1) * n * d_out].to_vec();
            for (g, w) in got(&mean).iter().zip(&want_mean) {
                assert!((g - w).abs() < 1e-5, "member {b}: μ {g} vs {w}");
            }
            for (g, w) in got(&logvar).iter().zip(&want_logvar) {
                assert!((g - w).abs() < 1e-5, "member {b}: log σ² {g} vs {w}");
            }
        }
        assert_eq!(ensemble.sizes(), vec![4, 8, 6, 4]);
    }
}
