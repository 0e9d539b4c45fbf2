//! MBPO's branched rollouts (Janner et al. 2019, Algorithm 2 lines 7–9): from states sampled
//! from the env's transitions, k steps of the current policy on the learned model, each step of
//! each rollout from a uniformly drawn elite member; every simulated transition goes into the
//! model's buffer D_model with the env's known reward r(s, a) (the model learns only the
//! dynamics). The envs MBPO runs on never terminate (checked), so a rollout runs its k steps
//! and its transitions bootstrap.

use rand::RngExt;

use crate::algo::actor_critic::ActionBox;
use crate::buffer::{ReplayBuffer, Transition};
use crate::env::known_reward::KnownReward;
use crate::model::learned::Model;
use crate::rng::Rng;

/// What a branched rollout simulates with.
pub struct Branch<'a> {
    pub model: &'a Model,
    /// The members a step may be drawn from.
    pub elites: &'a [usize],
    pub reward: &'a dyn KnownReward,
    /// The policy's actions in [−1, 1]^d (as stored) mapped to the env's (as modelled).
    pub action_box: &'a ActionBox,
    /// γ, the discount stored with each transition.
    pub gamma: f32,
}

impl Branch<'_> {
    /// Rolls out `length` steps from each row of `starts` (row-major observations) with
    /// `policy` (observations → actions in [−1, 1]^d, row-major), the members and the model's
    /// noise drawn from `rng`; adds the transitions to `buffer` step by step and returns how
    /// many.
    pub fn rollout(
        &self,
        starts: &[f32],
        length: usize,
        mut policy: impl FnMut(&[f32]) -> Vec<f32>,
        rng: &mut Rng,
        buffer: &mut ReplayBuffer,
    ) -> usize {
        let (d, k) = (self.model.target.dim(), self.action_box.dim());
        let n = starts.len() / d;
        let mut obs = starts.to_vec();
        let mut env_actions = vec![0.0f32; n * k];
        let mut inputs = vec![0.0f32; n * (d + k)];
        for _ in 0..length {
            let actions = policy(&obs);
            self.action_box.to_env(&actions, &mut env_actions);
            for (i, row) in inputs.chunks_exact_mut(d + k).enumerate() {
                row[..d].copy_from_slice(&obs[i * d..(i + 1) * d]);
                row[d..].copy_from_slice(&env_actions[i * k..(i + 1) * k]);
            }
            let members: Vec<usize> = (0..n)
                .map(|_| self.elites[rng.random_range(0..self.elites.len())])
                .collect();
            let next = self.model.sample_next(&inputs, &members, rng);
            for i in 0..n {
                let (s, a) = (&obs[i * d..(i + 1) * d], &env_actions[i * k..(i + 1) * k]);
                buffer.add(&Transition {
                    obs: s,
                    action: &actions[i * k..(i + 1) * k],
                    reward: self.reward.reward(s, a) as f32,
                    next_obs: &next[i * d..(i + 1) * d],
                    terminated: false,
                    truncated: false,
                    discount: self.gamma,
                });
            }
            obs = next;
        }
        n * length
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::Device;

    use super::*;
    use crate::buffer::ReplayBatch;
    use crate::env::{EnvOptions, make_env};
    use crate::model::learned::LearnedModel;
    use crate::rng::from_seed;

    /// Three rollouts of four steps from given real states: 12 transitions, the first three
    /// from the real states themselves, each later one from its rollout's previous next state,
    /// with the env's reward r(s, a) of the stored state and the env action.
    #[test]
    fn rollouts_branch_from_the_real_states_for_k_steps() {
        let env = make_env("Pendulum-v1", &EnvOptions::default()).unwrap();
        let learned = LearnedModel::new(
            2,
            (3, 1),
            &[8],
            true,
            &mut from_seed(3),
            &Device::flex().autodiff(),
        );
        let model = learned.model();
        let action_box = ActionBox::of(&env.spec().action_space).unwrap();
        let branch = Branch {
            model: &model,
            elites: &[1],
            reward: env.known_reward().unwrap(),
            action_box: &action_box,
            gamma: 0.99,
        };
        let starts = [1.0f32, 0.0, 0.5, 0.0, 1.0, -0.5, -1.0, 0.0, 2.0];
        let mut buffer = ReplayBuffer::new(100, 3, 1);
        let policy = |obs: &[f32]| vec![0.5f32; obs.len() / 3];
        let added = branch.rollout(&starts, 4, policy, &mut from_seed(0), &mut buffer);
        assert_eq!((added, buffer.len()), (12, 12));
        let mut batch = ReplayBatch {
            indices: (0..12).collect(),
            ..ReplayBatch::default()
        };
        buffer.gather(&mut batch);
        assert_eq!(&batch.observations[..9], &starts);
        for t in 1..4 {
            for i in 0..3 {
                let (now, before) = ((t * 3 + i) * 3, ((t - 1) * 3 + i) * 3);
                assert_eq!(
                    batch.observations[now..now + 3],
                    batch.next_observations[before..before + 3],
                    "step {t} of rollout {i}"
                );
            }
        }
        for (j, s) in batch.observations.chunks_exact(3).enumerate() {
            // Action 0.5 in [−1, 1] is a torque of 1 in [−2, 2].
            let want = env.known_reward().unwrap().reward(s, &[1.0]) as f32;
            assert_eq!(batch.rewards[j], want);
            assert_eq!(batch.actions[j], 0.5);
            assert_eq!(batch.terminated[j], 0.0);
        }
    }
}
