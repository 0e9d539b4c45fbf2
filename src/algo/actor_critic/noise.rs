//! Exploration noise of the deterministic actors (DDPG, TD3), added in the normalised action box:
//! Gaussian N(0, σ²), or the Ornstein–Uhlenbeck process of Lillicrap et al. (2016),
//! x ← x + θ(μ − x)dt + σ√dt ε with μ = 0, reset at the start of every episode.

use serde::{Deserialize, Serialize};

use crate::hyper::hyperparameters;
use crate::rng::{Rng, standard_normal};

/// Which noise process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseType {
    /// Independent N(0, σ²) draws.
    #[default]
    Normal,
    /// Temporally correlated Ornstein–Uhlenbeck noise (θ = 0.15, dt = 0.01).
    OrnsteinUhlenbeck,
    /// No noise: the actor's own actions.
    None,
}

hyperparameters! {
    /// The exploration-noise keys of DDPG and TD3.
    pub struct NoiseConfig {
        /// exploration noise: "normal", "ornstein_uhlenbeck" or "none"
        noise_type: NoiseType = NoiseType::Normal;
        /// σ of the exploration noise in the [−1, 1] box
        noise_std: f64 = 0.1, non_negative;
    }
}

/// θ and dt of Stable-Baselines3's `OrnsteinUhlenbeckActionNoise`.
const OU_THETA: f64 = 0.15;
const OU_DT: f64 = 1e-2;

/// The noise of `n_envs` envs with `dim` action components each.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActionNoise {
    kind: NoiseType,
    sigma: f64,
    dim: usize,
    /// The OU state per env, row-major.
    state: Vec<f64>,
}

impl ActionNoise {
    pub fn new(kind: NoiseType, sigma: f64, n_envs: usize, dim: usize) -> Self {
        Self {
            kind,
            sigma,
            dim,
            state: vec![0.0; n_envs * dim],
        }
    }

    /// Adds env `env`'s next noise draw to `action` (its `dim` components).
    pub fn perturb(&mut self, env: usize, action: &mut [f32], rng: &mut Rng) {
        let state = &mut self.state[env * self.dim..(env + 1) * self.dim];
        for (a, x) in action.iter_mut().zip(state) {
            let noise = match self.kind {
                NoiseType::None => 0.0,
                NoiseType::Normal => self.sigma * standard_normal(rng),
                NoiseType::OrnsteinUhlenbeck => {
                    *x += -OU_THETA * *x * OU_DT + self.sigma * OU_DT.sqrt() * standard_normal(rng);
                    *x
                }
            };
            *a += noise as f32;
        }
    }

    /// Starts env `env`'s process afresh (at an episode's start).
    pub fn reset(&mut self, env: usize) {
        self.state[env * self.dim..(env + 1) * self.dim].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    /// Each draw follows its closed form with the same standard normal ε: σε for Gaussian
    /// noise, x' = (1 − θ dt) x + σ √dt ε for OU; `None` adds nothing.
    #[test]
    fn draws_follow_their_update_rules() {
        let mut rng = stream(0, Stream::Explore);
        let mut gaussian = ActionNoise::new(NoiseType::Normal, 0.3, 1, 1);
        let mut ou = ActionNoise::new(NoiseType::OrnsteinUhlenbeck, 0.3, 1, 1);
        let mut x = 0.0f64;
        for _ in 0..50 {
            let eps = standard_normal(&mut rng.clone());
            let mut a = [0.5f32];
            gaussian.perturb(0, &mut a, &mut rng.clone());
            assert!((a[0] as f64 - (0.5 + 0.3 * eps)).abs() < 1e-6);
            x = (1.0 - OU_THETA * OU_DT) * x + 0.3 * OU_DT.sqrt() * eps;
            let mut a = [0.0f32];
            ou.perturb(0, &mut a, &mut rng);
            assert!((a[0] as f64 - x).abs() < 1e-6, "{} vs {x}", a[0]);
        }
        let mut a = [0.25f32];
        ActionNoise::new(NoiseType::None, 0.3, 1, 1).perturb(0, &mut a, &mut rng);
        assert_eq!(a, [0.25]);
    }

    #[test]
    fn reset_clears_one_env_only() {
        let mut rng = stream(1, Stream::Explore);
        let mut noise = ActionNoise::new(NoiseType::OrnsteinUhlenbeck, 1.0, 2, 1);
        for _ in 0..10 {
            for env in 0..2 {
                noise.perturb(env, &mut [0.0], &mut rng);
            }
        }
        noise.reset(0);
        assert_eq!(noise.state[0], 0.0);
        assert_ne!(noise.state[1], 0.0);
    }
}
