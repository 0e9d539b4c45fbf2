//! MBPO's minibatches (Janner et al. 2019, Algorithm 2 line 10, and its reference code): a share
//! `real_ratio` of each policy minibatch drawn from the env's transitions D_env, ⌊real_ratio ×
//! batch⌋ rows, the rest from the model's D_model.

use crate::algo::off_policy::Replay;
use crate::buffer::{ReplayBatch, ReplayBuffer};
use crate::rng::Rng;

/// (rows from D_env, rows from D_model) of a minibatch of `batch_size`.
pub fn split(batch_size: usize, real_ratio: f64) -> (usize, usize) {
    let real = ((batch_size as f64 * real_ratio) as usize).min(batch_size);
    (real, batch_size - real)
}

/// Draws a minibatch of `real` + `model` rows uniformly from `env` and `model_buffer` into
/// `out` (env rows first); `scratch` holds the model rows on the way.
pub fn sample_mixture(
    env: &Replay,
    model_buffer: &ReplayBuffer,
    (real, model): (usize, usize),
    rng: &mut Rng,
    scratch: &mut ReplayBatch,
    out: &mut ReplayBatch,
) {
    *out = ReplayBatch::default();
    if real > 0 {
        env.sample(real, 0.0, rng, out);
    }
    if model > 0 {
        model_buffer.sample_uniform(model, rng, scratch);
        out.observations.extend_from_slice(&scratch.observations);
        out.actions.extend_from_slice(&scratch.actions);
        out.rewards.extend_from_slice(&scratch.rewards);
        out.next_observations
            .extend_from_slice(&scratch.next_observations);
        out.terminated.extend_from_slice(&scratch.terminated);
        out.discounts.extend_from_slice(&scratch.discounts);
    }
    out.indices.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::Transition;
    use crate::rng::from_seed;

    #[test]
    fn the_split_takes_the_floor_of_the_real_share() {
        assert_eq!(split(256, 0.05), (12, 244));
        assert_eq!(split(256, 0.0), (0, 256));
        assert_eq!(split(256, 1.0), (256, 0));
        assert_eq!(split(100, 0.5), (50, 50));
    }

    /// Env transitions carry reward 1 and model ones −1: the minibatch has exactly the split's
    /// counts of each, env rows first.
    #[test]
    fn a_mixed_minibatch_has_the_split_counts() {
        let mut env = Replay::new(50, 2, 1, None);
        let mut model = ReplayBuffer::new(80, 2, 1);
        let add = |reward: f32| Transition {
            obs: &[0.0, 1.0],
            action: &[0.5],
            reward,
            next_obs: &[1.0, 0.0],
            terminated: false,
            truncated: false,
            discount: 0.99,
        };
        (0..30).for_each(|_| env.add(&add(1.0)));
        (0..60).for_each(|_| {
            model.add(&add(-1.0));
        });
        let (mut scratch, mut out) = (ReplayBatch::default(), ReplayBatch::default());
        let counts = split(64, 0.25);
        sample_mixture(
            &env,
            &model,
            counts,
            &mut from_seed(1),
            &mut scratch,
            &mut out,
        );
        assert_eq!(out.len(), 64);
        assert_eq!((out.obs_dim(), out.act_dim()), (2, 1));
        assert!(out.rewards[..16].iter().all(|&r| r == 1.0));
        assert!(out.rewards[16..].iter().all(|&r| r == -1.0));
        assert!(out.weights.is_empty());
    }
}
