//! The replay buffer of off-policy methods: a ring of `capacity` transitions in contiguous f32
//! storage, allocated once (Lin 1992; Mnih et al. 2015).
//!
//! A transition stores `terminated` and `truncated` apart: only termination stops the bootstrap,
//! so a time-limit truncation still bootstraps from its (final) next observation (Pardo et al.
//! 2018). It also stores the discount of its bootstrap term, γ^k for a k-step transition (see
//! [`super::NStep`]), so that every target reads y = r + discount · (1 − terminated) · V(s').

use rand::RngExt;

use crate::rng::Rng;

/// One transition as it goes into the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Transition<'a> {
    pub obs: &'a [f32],
    pub action: &'a [f32],
    /// The (k-step discounted) reward.
    pub reward: f32,
    pub next_obs: &'a [f32],
    pub terminated: bool,
    pub truncated: bool,
    /// γ^k: the discount of the bootstrap term.
    pub discount: f32,
}

/// A sampled minibatch on the host, row-major, reused between samples.
#[derive(Clone, Debug, Default)]
pub struct ReplayBatch {
    pub indices: Vec<usize>,
    pub observations: Vec<f32>,
    pub actions: Vec<f32>,
    pub rewards: Vec<f32>,
    pub next_observations: Vec<f32>,
    /// 1 where the episode terminated (no bootstrap), else 0.
    pub terminated: Vec<f32>,
    pub discounts: Vec<f32>,
}

impl ReplayBatch {
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// A ring of the last `capacity` transitions.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    act_dim: usize,
    observations: Vec<f32>,
    next_observations: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    discounts: Vec<f32>,
    /// The slot the next transition goes to.
    pos: usize,
    len: usize,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` transitions with `obs_dim` observation values and `act_dim`
    /// action values each (1 for a discrete action, stored as its index).
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Self {
        assert!(
            capacity > 0,
            "a replay buffer needs room for one transition"
        );
        Self {
            capacity,
            obs_dim,
            act_dim,
            observations: vec![0.0; capacity * obs_dim],
            next_observations: vec![0.0; capacity * obs_dim],
            actions: vec![0.0; capacity * act_dim],
            rewards: vec![0.0; capacity],
            terminated: vec![false; capacity],
            truncated: vec![false; capacity],
            discounts: vec![0.0; capacity],
            pos: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores `t` over the oldest transition once full; returns its slot.
    pub fn add(&mut self, t: &Transition) -> usize {
        let (i, o, a) = (self.pos, self.obs_dim, self.act_dim);
        self.observations[i * o..(i + 1) * o].copy_from_slice(t.obs);
        self.next_observations[i * o..(i + 1) * o].copy_from_slice(t.next_obs);
        self.actions[i * a..(i + 1) * a].copy_from_slice(t.action);
        self.rewards[i] = t.reward;
        self.terminated[i] = t.terminated;
        self.truncated[i] = t.truncated;
        self.discounts[i] = t.discount;
        self.pos = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        i
    }

    /// Whether the transition in slot `i` ended its episode by the time limit.
    pub fn truncated(&self, i: usize) -> bool {
        self.truncated[i]
    }

    /// `batch_size` slots drawn uniformly with replacement.
    pub fn sample_uniform(&self, batch_size: usize, rng: &mut Rng, batch: &mut ReplayBatch) {
        assert!(!self.is_empty(), "sampling from an empty replay buffer");
        batch.indices.clear();
        batch
            .indices
            .extend((0..batch_size).map(|_| rng.random_range(0..self.len)));
        self.gather(batch);
    }

    /// Fills `batch` with the transitions of `batch.indices`.
    pub fn gather(&self, batch: &mut ReplayBatch) {
        let (o, a) = (self.obs_dim, self.act_dim);
        batch.observations.clear();
        batch.next_observations.clear();
        batch.actions.clear();
        batch.rewards.clear();
        batch.terminated.clear();
        batch.discounts.clear();
        for &i in &batch.indices {
            batch
                .observations
                .extend_from_slice(&self.observations[i * o..(i + 1) * o]);
            batch
                .next_observations
                .extend_from_slice(&self.next_observations[i * o..(i + 1) * o]);
            batch
                .actions
                .extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            batch.rewards.push(self.rewards[i]);
            batch
                .terminated
                .push(if self.terminated[i] { 1.0 } else { 0.0 });
            batch.discounts.push(self.discounts[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn transition<'a>(obs: &'a [f32], action: &'a [f32], next: &'a [f32]) -> Transition<'a> {
        Transition {
            obs,
            action,
            reward: obs[0] * 10.0,
            next_obs: next,
            terminated: obs[0] == 2.0,
            truncated: obs[0] == 3.0,
            discount: 0.99,
        }
    }

    #[test]
    fn ring_overwrites_the_oldest_and_gathers_rows() {
        let mut buf = ReplayBuffer::new(3, 2, 1);
        for k in 0..5 {
            let x = k as f32;
            let slot = buf.add(&transition(&[x, -x], &[x + 0.5], &[x + 1.0, 0.0]));
            assert_eq!(slot, k % 3);
        }
        assert_eq!(buf.len(), 3);
        // Slots now hold transitions 3, 4, 2.
        let mut batch = ReplayBatch {
            indices: vec![2, 0, 1],
            ..ReplayBatch::default()
        };
        buf.gather(&mut batch);
        assert_eq!(batch.observations, vec![2.0, -2.0, 3.0, -3.0, 4.0, -4.0]);
        assert_eq!(batch.next_observations, vec![3.0, 0.0, 4.0, 0.0, 5.0, 0.0]);
        assert_eq!(batch.actions, vec![2.5, 3.5, 4.5]);
        assert_eq!(batch.rewards, vec![20.0, 30.0, 40.0]);
        assert_eq!(batch.terminated, vec![1.0, 0.0, 0.0]);
        assert!(buf.truncated(0) && !buf.truncated(2));
        assert_eq!(batch.discounts, vec![0.99; 3]);
    }

    #[test]
    fn uniform_samples_only_filled_slots() {
        let mut buf = ReplayBuffer::new(100, 1, 1);
        for k in 0..7 {
            buf.add(&transition(&[k as f32], &[0.0], &[0.0]));
        }
        let mut batch = ReplayBatch::default();
        let mut rng = stream(0, Stream::Minibatch);
        buf.sample_uniform(500, &mut rng, &mut batch);
        assert_eq!(batch.len(), 500);
        assert!(batch.indices.iter().all(|&i| i < 7));
        for k in 0..7 {
            assert!(batch.indices.contains(&k), "slot {k} is drawn");
        }
    }
}
