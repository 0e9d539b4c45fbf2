//! Random network distillation (Burda et al. 2019): a fixed, randomly initialised target
//! network f and a predictor f̂ trained to match it on the states the agent visits; the
//! prediction error ‖f̂(s′) − f(s′)‖² is large on states unlike those seen, and is the
//! intrinsic reward. As in the paper (§2.4):
//! - observations are whitened by running statistics and clipped to ±5 before both networks;
//! - the reward is divided by a running standard deviation of the intrinsic return, the
//!   non-episodic discounted sum R ← γ_I R + i of each env's rewards (never reset);
//! - f̂ takes one Adam step on the squared error per training round of the learner, on that
//!   round's minibatch of observations.
//!
//! The networks are MLPs with orthogonal initialisation of gain √2 (the paper's conv nets'
//! scheme) and ReLU; `output_dim` outputs.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::BonusConfig;
use crate::env::normalize::{ObsNormalizer, RewardScaler};
use crate::nn::mlp::{Init, Mlp};
use crate::nn::{Activation, SavedModule, SavedOptimizer, adam, matrix, to_vec};
use crate::rng::Rng;

/// Whitened observations are clipped to ±this (the paper's 5).
const OBS_CLIP: f64 = 5.0;

/// The target, the predictor and the running statistics of one run.
pub struct Rnd {
    /// f, on the plain device: it is never trained, so it never enters an autodiff graph.
    target: Mlp,
    /// f̂, on the autodiff device.
    predictor: Mlp,
    /// A snapshot of f̂ on the plain device, for the rewards of every env step.
    acting: Mlp,
    optimizer: ModuleOptimizer,
    observations: ObsNormalizer,
    /// Divides i by the running spread of R; the return is never reset, nor clipped.
    scale: RewardScaler,
    coef: f64,
    learning_rate: f64,
    device: Device,
    plain: Device,
    /// Whitened observations, reused between calls.
    whitened: Vec<f32>,
}

/// An [`Rnd`]'s part of a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct RndState {
    target: SavedModule,
    predictor: SavedModule,
    optimizer: SavedOptimizer,
    observations: ObsNormalizer,
    scale: RewardScaler,
}

impl Rnd {
    /// Both networks drawn from `rng` (target first), the predictor trained on the autodiff
    /// `device`; the rewards computed on its plain inner device.
    pub fn new(
        cfg: &BonusConfig,
        obs_dim: usize,
        num_envs: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(obs_dim)
            .chain(cfg.net_arch.iter().copied())
            .chain(std::iter::once(cfg.output_dim))
            .collect();
        let init = Init::Orthogonal {
            output_gain: std::f64::consts::SQRT_2,
        };
        let net = |rng: &mut Rng| Mlp::new(&sizes, Activation::Relu, false, init, rng, device);
        let target = net(rng).valid();
        let predictor = net(rng);
        Self {
            acting: predictor.valid(),
            target,
            predictor,
            optimizer: adam(1e-8),
            observations: ObsNormalizer::new(obs_dim, OBS_CLIP),
            scale: RewardScaler::new(num_envs, cfg.gamma, f64::INFINITY),
            coef: cfg.coef,
            learning_rate: cfg.learning_rate,
            device: device.clone(),
            plain: device.clone().inner(),
            whitened: Vec::new(),
        }
    }

    /// `rows` whitened, clipped and placed on `device`.
    fn whiten(&mut self, rows: &[f32], device: &Device) -> Tensor<2> {
        self.whitened.resize(rows.len(), 0.0);
        self.observations.normalize(rows, &mut self.whitened);
        matrix(&self.whitened, self.observations.stats.mean.len(), device)
    }

    /// β · i/σ_R of each row of `next_obs` (one per env), after merging them into the
    /// observation statistics and the intrinsic returns into theirs.
    pub fn rewards(&mut self, next_obs: &[f32]) -> Vec<f64> {
        self.observations.stats.update(next_obs);
        let plain = self.plain.clone();
        let whitened = self.whiten(next_obs, &plain);
        let target = self.target.forward(whitened.clone());
        let mut rewards: Vec<f64> = to_vec(squared_errors(&self.acting, whitened, target))
            .into_iter()
            .map(f64::from)
            .collect();
        let never_reset = vec![false; rewards.len()];
        self.scale.scale(&mut rewards, &never_reset);
        rewards.iter_mut().for_each(|r| *r *= self.coef);
        rewards
    }

    /// One Adam step of the predictor on the mean squared error over `observations` (rows of
    /// raw observations); the loss before the step.
    pub fn train(&mut self, observations: &[f32]) -> f64 {
        let plain = self.plain.clone();
        let whitened = self.whiten(observations, &plain);
        let target = to_vec(self.target.forward(whitened));
        let (cols, device) = (self.observations.stats.mean.len(), self.device.clone());
        let whitened = matrix(&self.whitened, cols, &device);
        let outputs = target.len() / (self.whitened.len() / cols);
        let target = matrix(&target, outputs, &device);
        let loss = squared_errors(&self.predictor, whitened, target).mean();
        let value = f64::from(loss.clone().detach().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &self.predictor);
        self.predictor = self
            .optimizer
            .step(self.learning_rate, self.predictor.clone(), grads);
        self.acting = self.predictor.valid();
        value
    }

    pub fn state(&self) -> anyhow::Result<RndState> {
        Ok(RndState {
            target: SavedModule::of(&self.target)?,
            predictor: SavedModule::of(&self.predictor)?,
            optimizer: SavedOptimizer::of(&self.optimizer)?,
            observations: self.observations.clone(),
            scale: self.scale.clone(),
        })
    }

    pub fn restore(mut self, state: RndState) -> anyhow::Result<Self> {
        self.target = state.target.restore(self.target)?;
        self.predictor = state.predictor.restore(self.predictor)?;
        self.optimizer = state.optimizer.restore(self.optimizer)?;
        self.observations = state.observations;
        self.scale = state.scale;
        self.acting = self.predictor.valid();
        Ok(self)
    }
}

/// ‖f̂(s) − f(s)‖² / output_dim of each whitened row, `[n]`, given the target's outputs f(s).
fn squared_errors(predictor: &Mlp, whitened: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (predictor.forward(whitened) - target)
        .powi_scalar(2)
        .mean_dim(1)
        .squeeze_dim::<1>(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    /// After the predictor has been trained on one region of the state space, states there pay
    /// far less than states it has never seen (the paper's Figure 2, in miniature).
    #[test]
    fn a_trained_region_pays_less_than_an_unseen_one() {
        let device = Device::flex().autodiff();
        let cfg = BonusConfig {
            net_arch: vec![32, 32],
            output_dim: 16,
            learning_rate: 3e-3,
            ..BonusConfig::default()
        };
        let mut rnd = Rnd::new(&cfg, 2, 2, &mut stream(0, Stream::Bonus), &device);
        // Observation statistics of the whole square [−1, 1]².
        let square: Vec<f32> = (0..64)
            .flat_map(|i| [(i % 8) as f32 / 3.5 - 1.0, (i / 8) as f32 / 3.5 - 1.0])
            .collect();
        rnd.observations.stats.update(&square);
        let visited: Vec<f32> = (0..32)
            .flat_map(|i| [0.5 + 0.01 * (i % 4) as f32, 0.5 + 0.01 * (i / 4) as f32])
            .collect();
        let first = rnd.train(&visited);
        let mut last = first;
        for _ in 0..300 {
            last = rnd.train(&visited);
        }
        assert!(last < 0.05 * first, "the predictor fits: {first} → {last}");
        let r = rnd.rewards(&[0.52, 0.52, -0.8, -0.7]);
        assert!(r[1] > 5.0 * r[0], "unseen {} vs visited {}", r[1], r[0]);
    }
}
