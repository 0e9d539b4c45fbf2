//! Fitting a learned model to the aggregated data by minibatch regression (Nagabandi et al.
//! 2018, §IV.A; Chua et al. 2018, §4.1): inputs and targets normalised with the data's
//! statistics, each member trained on its own bootstrap of the data (one member: on the data
//! itself), every member's minibatch in one batched forward, Adam on the summed loss —
//! the squared error of μ (deterministic), or the Gaussian NLL plus 0.01 (Σ max log σ² −
//! Σ min log σ²) (probabilistic, PETS).

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::seq::SliceRandom;

use super::bootstrap::bootstrap;
use super::learned::LearnedModel;
use super::normalizer::Normalizer;
use super::probabilistic::{gaussian_nll, squared_error};
use super::transitions::Transitions;
use crate::rng::Rng;

/// Weight of the log-variance limits' spread in the loss (PETS' reference code).
const LIMIT_SPREAD_WEIGHT: f64 = 0.01;

/// The regression's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    /// Passes over each member's dataset.
    pub epochs: usize,
    /// Rows per member per gradient step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
}

/// Refits the normalisers to `data` and trains the model on it; returns the mean loss of the
/// last epoch. Bootstraps and minibatch order are drawn from `rng`.
pub fn fit(
    model: &mut LearnedModel,
    data: &Transitions,
    options: &FitOptions,
    rng: &mut Rng,
) -> f64 {
    let (n, d) = (data.len(), data.obs_dim);
    let d_in = d + data.act_dim;
    let inputs = data.inputs();
    let deltas = data.deltas();
    model.input = Normalizer::fit(&inputs, d_in);
    model.target = Normalizer::fit(&deltas, d);
    let x_all: Vec<f32> = inputs
        .iter()
        .enumerate()
        .map(|(k, &x)| model.input.normalize(k % d_in, x))
        .collect();
    let y_all: Vec<f32> = deltas
        .iter()
        .enumerate()
        .map(|(k, &y)| model.target.normalize(k % d, y))
        .collect();
    let members = model.ensemble.members();
    let mut sets = if members > 1 {
        bootstrap(n, members, rng)
    } else {
        vec![(0..n).collect()]
    };
    let device = model.ensemble.layers[0].weight.device();
    let mut last_epoch = 0.0;
    for _ in 0..options.epochs {
        sets.iter_mut().for_each(|s| s.shuffle(rng));
        let (mut total, mut batches) = (0.0, 0);
        for start in (0..n).step_by(options.batch_size) {
            let m = options.batch_size.min(n - start);
            let mut x = Vec::with_capacity(members * m * d_in);
            let mut y = Vec::with_capacity(members * m * d);
            for set in &sets {
                for &i in &set[start..start + m] {
                    x.extend_from_slice(&x_all[i * d_in..(i + 1) * d_in]);
                    y.extend_from_slice(&y_all[i * d..(i + 1) * d]);
                }
            }
            let x = Tensor::<3>::from_data(TensorData::new(x, [members, m, d_in]), &device);
            let y = Tensor::<3>::from_data(TensorData::new(y, [members, m, d]), &device);
            let prediction = model.ensemble.forward(x);
            let loss = match (prediction.logvar, model.ensemble.limit_spread()) {
                (Some(logvar), Some(spread)) => {
                    gaussian_nll(prediction.mean, logvar, y)
                        + spread.mul_scalar(LIMIT_SPREAD_WEIGHT)
                }
                _ => squared_error(prediction.mean, y),
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model.ensemble);
            total += f64::from(loss.into_scalar::<f32>());
            batches += 1;
            let ensemble = model.ensemble.clone();
            model.ensemble = model.optimizer.step(options.learning_rate, ensemble, grads);
        }
        last_epoch = total / f64::from(batches.max(1));
    }
    last_epoch
}
