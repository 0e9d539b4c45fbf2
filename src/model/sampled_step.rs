//! One sampled step of a learned model with a chosen member per row (MBPO, Janner et al. 2019,
//! appendix C: each transition of a model rollout comes from one randomly chosen elite):
//! s' = s + Δs with Δs ~ N(μ_b, σ_b²) denormalised (μ_b alone for a deterministic ensemble).

use burn::prelude::*;

use super::learned::Model;
use crate::nn::to_vec;
use crate::rng::{Rng, standard_normal};

impl Model {
    /// The next observations of the raw inputs (s, a) `inputs` (row-major), row i from member
    /// `members[i]`, the Gaussian noise drawn from `rng` row by row. Every member evaluates
    /// every row in one batched forward.
    pub fn sample_next(&self, inputs: &[f32], members: &[usize], rng: &mut Rng) -> Vec<f32> {
        let (b, d_in, d) = (self.ensemble.members(), self.input.dim(), self.target.dim());
        let rows = inputs.len() / d_in;
        let normalised: Vec<f32> = inputs
            .iter()
            .enumerate()
            .map(|(k, &x)| self.input.normalize(k % d_in, x))
            .collect();
        let device = self.ensemble.layers[0].weight.device();
        let x = Tensor::<3>::from_data(
            TensorData::new(normalised.repeat(b), [b, rows, d_in]),
            &device,
        );
        let prediction = self.ensemble.forward(x);
        let mean = to_vec(prediction.mean);
        let logvar = prediction.logvar.map(to_vec);
        let mut next = Vec::with_capacity(rows * d);
        for (i, &member) in members.iter().enumerate() {
            let at = (member * rows + i) * d;
            for k in 0..d {
                let mut delta = mean[at + k];
                if let Some(logvar) = &logvar {
                    delta += (0.5 * logvar[at + k]).exp() * standard_normal(rng) as f32;
                }
                next.push(inputs[i * d_in + k] + self.target.denormalize(k, delta));
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use crate::model::learned::LearnedModel;
    use crate::model::normalizer::Normalizer;
    use crate::rng::from_seed;
    use burn::prelude::Device;

    /// Deterministic members: row i steps by member members[i]'s denormalised μ.
    #[test]
    fn each_row_steps_by_its_member() {
        let mut learned = LearnedModel::new(
            3,
            (3, 1),
            &[16],
            false,
            &mut from_seed(4),
            &Device::flex().autodiff(),
        );
        learned.input = Normalizer::fit(&[0.5, -0.5, 1.0, 0.0, -0.5, 0.5, -1.0, 2.0], 4);
        learned.target = Normalizer::fit(&[0.1, 0.2, -0.3, 0.3, -0.2, 0.5], 3);
        let model = learned.model();
        let inputs = [0.6f32, 0.8, -0.4, 1.5, -0.2, 0.9, 0.3, -1.0];
        let members = [2, 0];
        let next = model.sample_next(&inputs, &members, &mut from_seed(0));
        let means = model.member_means(&inputs);
        for (i, &b) in members.iter().enumerate() {
            for k in 0..3 {
                let mu = means[(b * 2 + i) * 3 + k];
                let want = inputs[i * 4 + k] + model.target.denormalize(k, mu);
                assert!((next[i * 3 + k] - want).abs() < 1e-6, "row {i} {k}");
            }
        }
    }
}
