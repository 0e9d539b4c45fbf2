//! MADDPG's shared replay (Lowe et al. 2017, alg. 1: the joint transition
//! (x, a_1 … a_N, r_1 … r_N, x') in one buffer D): one [`ReplayBuffer`] per agent, filled in
//! lockstep so that slot k of every agent's buffer holds the same joint transition, and sampled
//! with one set of slots for all agents.

use serde::{Deserialize, Serialize};

use super::replay::{ReplayBatch, ReplayBuffer, Transition};
use crate::rng::Rng;

/// The agents' buffers, one joint transition per slot (a checkpoint stores the filled slots).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MultiReplay {
    buffers: Vec<ReplayBuffer>,
}

impl MultiReplay {
    /// `capacity` joint transitions of agents with these observation and action sizes.
    pub fn new(capacity: usize, obs_dims: &[usize], act_dims: &[usize]) -> Self {
        let buffers = obs_dims
            .iter()
            .zip(act_dims)
            .map(|(&o, &a)| ReplayBuffer::new(capacity, o, a))
            .collect();
        Self { buffers }
    }

    pub fn len(&self) -> usize {
        self.buffers[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.buffers[0].is_empty()
    }

    /// Stores one joint transition, agent i's part in `agents[i]`.
    pub fn add(&mut self, agents: &[Transition]) {
        debug_assert_eq!(agents.len(), self.buffers.len());
        for (buffer, t) in self.buffers.iter_mut().zip(agents) {
            buffer.add(t);
        }
    }

    /// `batch_size` joint transitions drawn uniformly with replacement: agent i's parts in
    /// `batches[i]`, the same slots for every agent.
    pub fn sample(&self, batch_size: usize, rng: &mut Rng, batches: &mut [ReplayBatch]) {
        let (first, rest) = batches.split_first_mut().expect("at least one agent");
        self.buffers[0].sample_uniform(batch_size, rng, first);
        for (buffer, batch) in self.buffers[1..].iter().zip(rest) {
            batch.weights.clear();
            batch.indices.clone_from(&first.indices);
            buffer.gather(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    /// Agent parts stored together come back together: agent 1's reward is ten times agent
    /// 0's in every stored transition, and so in every sampled row.
    #[test]
    fn agents_are_sampled_at_the_same_slots() {
        let mut replay = MultiReplay::new(8, &[2, 3], &[1, 5]);
        for k in 0..12 {
            let x = k as f32;
            let (o0, o1) = ([x; 2], [x; 3]);
            let (a0, a1) = ([x; 1], [x; 5]);
            replay.add(&[
                Transition {
                    obs: &o0,
                    action: &a0,
                    reward: x,
                    next_obs: &o0,
                    terminated: false,
                    truncated: false,
                    discount: 0.9,
                },
                Transition {
                    obs: &o1,
                    action: &a1,
                    reward: 10.0 * x,
                    next_obs: &o1,
                    terminated: false,
                    truncated: false,
                    discount: 0.9,
                },
            ]);
        }
        assert_eq!(replay.len(), 8);
        let mut batches = vec![ReplayBatch::default(), ReplayBatch::default()];
        replay.sample(16, &mut stream(0, Stream::Minibatch), &mut batches);
        assert_eq!(batches[0].indices, batches[1].indices);
        for (r0, r1) in batches[0].rewards.iter().zip(&batches[1].rewards) {
            assert_eq!(10.0 * r0, *r1);
            assert!(*r0 >= 4.0, "the oldest four were overwritten");
        }
        assert_eq!((batches[0].obs_dim(), batches[1].act_dim()), (2, 5));
    }
}
