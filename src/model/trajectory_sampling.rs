//! A learned model as a planner's [`Dynamics`], by trajectory sampling TS-∞ (Chua et al. 2018,
//! §5): each candidate action sequence is simulated by P particles from the current
//! observation; particle p follows ensemble member b = p mod B for the whole horizon (P a
//! multiple of B: every member carries P/B particles of every sequence, so one batched forward
//! per step serves all members) and, for a probabilistic ensemble, samples its next state
//! s' = s + Δs, Δs ~ N(μ_b, σ_b²) (denormalised; σ_b from the unbounded head by
//! [`BoundedStd`], the normal draws by the ziggurat method). A sequence's reward is the mean over
//! its particles of the env's known reward r(s, a).

use burn::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use super::learned::Model;
use super::probabilistic::BoundedStd;
use crate::env::Action;
use crate::env::known_reward::KnownReward;
use crate::nn::to_vec;
use crate::plan::dynamics::Dynamics;
use crate::rng::Rng;

/// A model bound to the observation planning starts from.
pub struct TrajectorySampling<'a> {
    model: &'a Model,
    reward: &'a dyn KnownReward,
    obs: &'a [f32],
    particles: usize,
    std: Option<BoundedStd>,
}

/// One sequence's particles (P × obs_dim, particle-major) and the randomness of their
/// sampled transitions.
pub struct Particles {
    obs: Vec<f32>,
    rng: Rng,
}

impl<'a> TrajectorySampling<'a> {
    /// `particles` must be a multiple of the number of members.
    pub fn new(
        model: &'a Model,
        reward: &'a dyn KnownReward,
        obs: &'a [f32],
        particles: usize,
    ) -> Self {
        debug_assert!(particles.is_multiple_of(model.ensemble.members()));
        Self {
            model,
            reward,
            obs,
            particles,
            std: model.ensemble.bounded_std(),
        }
    }
}

impl Dynamics for TrajectorySampling<'_> {
    type State = Particles;

    /// The whole population in one forward pass per step.
    fn batch_size(&self) -> usize {
        usize::MAX
    }

    fn start(&self, n: usize, rng: &mut Rng) -> Vec<Particles> {
        (0..n)
            .map(|_| Particles {
                obs: self.obs.repeat(self.particles),
                rng: Rng::seed_from_u64(rng.random()),
            })
            .collect()
    }

    fn step(
        &self,
        states: &mut [Particles],
        actions: &[Option<Action<'_>>],
        rewards: &mut [f64],
        dones: &mut [bool],
    ) {
        let model = self.model;
        let (d, d_in) = (self.obs.len(), model.input.dim());
        let members = model.ensemble.members();
        let per_member = self.particles / members;
        let live: Vec<(usize, &[f32])> = actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Some(Action::Continuous(a)) => Some((i, *a)),
                _ => None,
            })
            .collect();
        if live.is_empty() {
            return;
        }
        // Member b's rows: for each live sequence, its particles b, b + B, b + 2B, ...
        let rows = live.len() * per_member;
        let mut x = vec![0.0f32; members * rows * d_in];
        for b in 0..members {
            for (r, &(i, action)) in live.iter().enumerate() {
                for j in 0..per_member {
                    let p = j * members + b;
                    let row = &mut x[((b * rows) + r * per_member + j) * d_in..][..d_in];
                    let s = &states[i].obs[p * d..(p + 1) * d];
                    for (k, v) in s.iter().chain(action).enumerate() {
                        row[k] = model.input.normalize(k, *v);
                    }
                }
            }
        }
        let device = model.ensemble.layers[0].weight.device();
        let x = Tensor::<3>::from_data(TensorData::new(x, [members, rows, d_in]), &device);
        let prediction = model.ensemble.forward_unbounded(x);
        let mean = to_vec(prediction.mean);
        let raw_logvar = prediction.logvar.map(to_vec);
        for (r, &(i, action)) in live.iter().enumerate() {
            let state = &mut states[i];
            let mut reward = 0.0;
            for p in 0..self.particles {
                let s = &mut state.obs[p * d..(p + 1) * d];
                reward += self.reward.reward(s, action);
                let (b, j) = (p % members, p / members);
                let at = ((b * rows) + r * per_member + j) * d;
                for k in 0..d {
                    let mut delta = mean[at + k];
                    if let (Some(raw), Some(std)) = (&raw_logvar, &self.std) {
                        let z: f32 = state.rng.sample(StandardNormal);
                        delta += std.std(k, raw[at + k]) * z;
                    }
                    s[k] += model.target.denormalize(k, delta);
                }
            }
            rewards[i] = reward / self.particles as f64;
            dones[i] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, make_env};
    use crate::model::learned::LearnedModel;
    use crate::model::normalizer::Normalizer;
    use crate::rng::from_seed;

    /// With one deterministic member and one particle, a step is s' = s + denormalised μ(ŝ, â)
    /// and the reward is r(s, a), checked against the network evaluated by hand.
    #[test]
    fn one_particle_steps_by_the_denormalised_mean() {
        let env = make_env("Pendulum-v1", &EnvOptions::default()).unwrap();
        let mut learned = LearnedModel::new(
            1,
            (3, 1),
            &[16],
            false,
            &mut from_seed(2),
            &Device::flex().autodiff(),
        );
        learned.input = Normalizer::fit(&[0.5, -0.5, 1.0, 0.0, -0.5, 0.5, -1.0, 2.0], 4);
        learned.target = Normalizer::fit(&[0.1, 0.2, -0.3, 0.3, -0.2, 0.5], 3);
        let model = learned.model();
        let obs = [0.6f32, 0.8, -0.4];
        let reward = env.known_reward().unwrap();
        let dynamics = TrajectorySampling::new(&model, reward, &obs, 1);
        let mut states = dynamics.start(2, &mut from_seed(0));
        let (u0, u1) = ([1.5f32], [-0.5f32]);
        let actions = [Some(Action::Continuous(&u0)), Some(Action::Continuous(&u1))];
        let (mut rewards, mut dones) = ([0.0; 2], [true; 2]);
        dynamics.step(&mut states, &actions, &mut rewards, &mut dones);
        for (i, u) in [u0, u1].iter().enumerate() {
            let input: Vec<f32> = obs.iter().chain(u).copied().collect();
            let mu = model.member_means(&input);
            for k in 0..3 {
                let want = obs[k] + model.target.denormalize(k, mu[k]);
                assert!((states[i].obs[k] - want).abs() < 1e-6, "{i} {k}");
            }
            assert_eq!(rewards[i], reward.reward(&obs, u));
            assert!(!dones[i]);
        }
    }
}
