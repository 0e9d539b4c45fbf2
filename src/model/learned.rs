//! A learned model of the dynamics: the ensemble (one deterministic member for Nagabandi et
//! al. 2018, B probabilistic ones for PETS) with the normalisation of its inputs (s, a) and
//! targets Δs = s' − s, fitted to the data in [`super::fit`]; [`Model`] is the copy a planner
//! simulates, on the plain (non-autodiff) device.

use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::ensemble::Ensemble;
use super::normalizer::Normalizer;
use super::transitions::Transitions;
use crate::nn::{adam, to_vec};
use crate::rng::Rng;

/// The model in training: the ensemble on the autodiff device, its optimiser and the
/// normalisers of the last fit.
pub struct LearnedModel {
    pub ensemble: Ensemble,
    pub optimizer: ModuleOptimizer,
    pub input: Normalizer,
    pub target: Normalizer,
}

/// What a planner simulates: the fitted ensemble on the plain device and its normalisers.
#[derive(Clone, Debug)]
pub struct Model {
    pub ensemble: Ensemble,
    pub input: Normalizer,
    pub target: Normalizer,
}

/// How well a model predicts transitions it was not fitted to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneStepError {
    /// Σ_j (μ̄_j − Δ̂_j)² averaged over the transitions: the squared error of the members'
    /// mean prediction of the normalised Δs.
    pub mse: f64,
    /// Ensemble disagreement: Σ_j Var_b(μ_bj) averaged over the transitions (0 for one member).
    pub disagreement: f64,
}

impl LearnedModel {
    /// An unfitted model of `members` networks `obs_dim + act_dim → hidden… → obs_dim`,
    /// initialised from `rng`, trained with Adam (ε = 1e-8).
    pub fn new(
        members: usize,
        (obs_dim, act_dim): (usize, usize),
        hidden: &[usize],
        probabilistic: bool,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let ensemble = Ensemble::new(
            members,
            obs_dim + act_dim,
            hidden,
            obs_dim,
            probabilistic,
            rng,
            device,
        );
        Self {
            ensemble,
            optimizer: adam(1e-8),
            input: Normalizer::identity(obs_dim + act_dim),
            target: Normalizer::identity(obs_dim),
        }
    }

    /// The plain-device copy a planner simulates.
    pub fn model(&self) -> Model {
        Model {
            ensemble: self.ensemble.valid(),
            input: self.input.clone(),
            target: self.target.clone(),
        }
    }
}

impl Model {
    /// Every member's μ of the normalised Δs for the same `rows` raw inputs (s, a),
    /// member-major: [B][rows][obs_dim].
    pub fn member_means(&self, inputs: &[f32]) -> Vec<f32> {
        let (members, d_in) = (self.ensemble.members(), self.input.dim());
        let rows = inputs.len() / d_in;
        let normalised: Vec<f32> = inputs
            .iter()
            .enumerate()
            .map(|(k, &x)| self.input.normalize(k % d_in, x))
            .collect();
        let replicated = normalised.repeat(members);
        let device = self.ensemble.layers[0].weight.device();
        let x = Tensor::<3>::from_data(TensorData::new(replicated, [members, rows, d_in]), &device);
        to_vec(self.ensemble.forward(x).mean)
    }

    /// The one-step error of the model on `data`'s transitions `range`.
    pub fn one_step_error(
        &self,
        data: &Transitions,
        range: std::ops::Range<usize>,
    ) -> OneStepError {
        let (d, d_in, members) = (data.obs_dim, self.input.dim(), self.ensemble.members());
        let n = range.len();
        let mut inputs = vec![0.0; n * d_in];
        let mut deltas = vec![0.0; n * d];
        for (k, i) in range.enumerate() {
            data.input(i, &mut inputs[k * d_in..(k + 1) * d_in]);
            data.delta(i, &mut deltas[k * d..(k + 1) * d]);
        }
        let means = self.member_means(&inputs);
        let (mut mse, mut disagreement) = (0.0, 0.0);
        for k in 0..n {
            for j in 0..d {
                let mu: Vec<f64> = (0..members)
                    .map(|b| f64::from(means[(b * n + k) * d + j]))
                    .collect();
                let mean = mu.iter().sum::<f64>() / members as f64;
                let target = f64::from(self.target.normalize(j, deltas[k * d + j]));
                mse += (mean - target).powi(2);
                disagreement += mu.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / members as f64;
            }
        }
        OneStepError {
            mse: mse / n as f64,
            disagreement: disagreement / n as f64,
        }
    }
}
