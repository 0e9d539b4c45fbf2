//! The replay buffer of off-policy methods: a ring of `capacity` transitions in contiguous f32
//! storage, allocated once (Lin 1992; Mnih et al. 2015).
//!
//! A transition stores `terminated` and `truncated` apart: only termination stops the bootstrap,
//! so a time-limit truncation still bootstraps from its (final) next observation (Pardo et al.
//! 2018). It also stores the discount of its bootstrap term, γ^k for a k-step transition (see
//! [`super::NStep`]), so that every target reads y = r + discount · (1 − terminated) · V(s').

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::nn::vector;
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

/// A minibatch of transitions on the host, row-major: sampled from a replay buffer (and reused
/// between samples), or built by another method from its own data (model rollouts, relabelled
/// goals) for an off-policy update.
#[derive(Clone, Debug, Default)]
pub struct ReplayBatch {
    /// The buffer slots sampled (empty for a batch not drawn from a buffer).
    pub indices: Vec<usize>,
    pub observations: Vec<f32>,
    pub actions: Vec<f32>,
    pub rewards: Vec<f32>,
    pub next_observations: Vec<f32>,
    /// 1 where the episode terminated (no bootstrap), else 0.
    pub terminated: Vec<f32>,
    pub discounts: Vec<f32>,
    /// Importance weights of prioritised replay; empty for uniform replay (all 1).
    pub weights: Vec<f32>,
}

impl ReplayBatch {
    /// 24 transitions with 3-dimensional observations and `act_dim`-dimensional actions in
    /// [−0.9, 0.9], every fifth terminal, for the host paths' unit tests.
    #[cfg(test)]
    pub fn continuous_example(act_dim: usize) -> Self {
        let n = 24;
        Self {
            observations: (0..n * 3).map(|i| (i as f32 * 0.37).sin() * 2.0).collect(),
            actions: (0..n * act_dim)
                .map(|i| (i as f32 * 0.71).cos() * 0.9)
                .collect(),
            rewards: (0..n).map(|i| (i as f32 * 0.91).cos() * 3.0).collect(),
            next_observations: (0..n * 3).map(|i| (i as f32 * 0.53).cos()).collect(),
            terminated: (0..n).map(|i| f32::from(i % 5 == 0)).collect(),
            discounts: vec![0.99; n],
            ..Self::default()
        }
    }

    /// Four transitions with 3-dimensional observations and 1-dimensional actions, for the
    /// updates' unit tests.
    #[cfg(test)]
    pub fn example(terminated: f32) -> Self {
        Self {
            observations: (0..12).map(|i| (i as f32 * 0.37).sin()).collect(),
            actions: vec![-0.5, 0.0, 0.25, 0.9],
            rewards: vec![1.0, -2.0, 0.5, 3.0],
            next_observations: (0..12).map(|i| (i as f32 * 0.53).cos()).collect(),
            terminated: vec![terminated; 4],
            discounts: vec![0.99; 4],
            ..Self::default()
        }
    }

    /// Transitions in the batch.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Values per observation.
    pub fn obs_dim(&self) -> usize {
        self.observations.len() / self.len()
    }

    /// Values per action (1 for a discrete action, stored as its index).
    pub fn act_dim(&self) -> usize {
        self.actions.len() / self.len()
    }

    /// The one-step TD target y = r + discount · (1 − terminated) · V(s') of each transition,
    /// with V(s') = `next_values` (the discount is γ^k for a k-step transition).
    pub fn td_target(&self, next_values: Tensor<1>, device: &Device) -> Tensor<1> {
        let not_terminated = vector(&self.terminated, device).neg().add_scalar(1.0);
        vector(&self.rewards, device)
            + vector(&self.discounts, device) * not_terminated * next_values
    }
}

/// A ring of the last `capacity` transitions. A checkpoint stores only the filled slots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "Filled", from = "Filled")]
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

/// The filled slots of a [`ReplayBuffer`] (the first `len`: a ring fills from slot 0), as a
/// checkpoint stores them; the free ones are allocated again on loading.
#[derive(Serialize, Deserialize)]
struct Filled {
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
    pos: usize,
}

impl From<ReplayBuffer> for Filled {
    fn from(mut b: ReplayBuffer) -> Self {
        let n = b.len;
        b.observations.truncate(n * b.obs_dim);
        b.next_observations.truncate(n * b.obs_dim);
        b.actions.truncate(n * b.act_dim);
        b.rewards.truncate(n);
        b.terminated.truncate(n);
        b.truncated.truncate(n);
        b.discounts.truncate(n);
        Self {
            capacity: b.capacity,
            obs_dim: b.obs_dim,
            act_dim: b.act_dim,
            observations: b.observations,
            next_observations: b.next_observations,
            actions: b.actions,
            rewards: b.rewards,
            terminated: b.terminated,
            truncated: b.truncated,
            discounts: b.discounts,
            pos: b.pos,
        }
    }
}

impl From<Filled> for ReplayBuffer {
    fn from(mut f: Filled) -> Self {
        let (c, len) = (f.capacity, f.rewards.len());
        f.observations.resize(c * f.obs_dim, 0.0);
        f.next_observations.resize(c * f.obs_dim, 0.0);
        f.actions.resize(c * f.act_dim, 0.0);
        f.rewards.resize(c, 0.0);
        f.terminated.resize(c, false);
        f.truncated.resize(c, false);
        f.discounts.resize(c, 0.0);
        Self {
            capacity: c,
            obs_dim: f.obs_dim,
            act_dim: f.act_dim,
            observations: f.observations,
            next_observations: f.next_observations,
            actions: f.actions,
            rewards: f.rewards,
            terminated: f.terminated,
            truncated: f.truncated,
            discounts: f.discounts,
            pos: f.pos,
            len,
        }
    }
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` transitions with `obs_dim` observation values and `act_dim`
    /// action values each (1 for a discrete action, stored as its index).
    /// The bytes [`ReplayBuffer::new`] allocates: per transition two observations, the
    /// action, reward and discount (f32) and two flags.
    pub fn bytes(capacity: usize, obs_dim: usize, act_dim: usize) -> u64 {
        let per_transition = 4 * (2 * obs_dim + act_dim + 2) as u64 + 2;
        (capacity as u64).saturating_mul(per_transition)
    }

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
        batch.weights.clear();
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

    /// y = r + discount · (1 − terminated) · V(s') on a hand-made batch: a 2-step discount,
    /// a termination (no bootstrap) and a 1-step discount.
    #[test]
    fn the_td_target_bootstraps_unless_terminated() {
        let batch = ReplayBatch {
            observations: vec![0.0; 6],
            actions: vec![0.0; 3],
            rewards: vec![1.0, 2.0, -1.0],
            terminated: vec![0.0, 1.0, 0.0],
            discounts: vec![0.25, 0.5, 0.5],
            ..ReplayBatch::default()
        };
        assert_eq!((batch.len(), batch.obs_dim(), batch.act_dim()), (3, 2, 1));
        let device = Device::flex();
        let y = batch.td_target(vector(&[8.0, 10.0, 4.0], &device), &device);
        assert_eq!(crate::nn::to_vec(y), vec![3.0, 2.0, 1.0]);
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

    #[test]
    fn a_checkpoint_stores_the_filled_slots_and_restores_the_whole_ring() {
        use crate::session::checkpoint::{decode, encode};
        for added in [2, 5] {
            let mut buf = ReplayBuffer::new(3, 2, 1);
            for k in 0..added {
                let x = k as f32;
                buf.add(&transition(&[x, -x], &[x + 0.5], &[x + 1.0, 0.0]));
            }
            let bytes = encode(&buf).unwrap();
            let mut back: ReplayBuffer = decode(&bytes).unwrap();
            assert_eq!(back, buf, "after {added} transitions");
            // The restored ring goes on where the original does.
            let next = transition(&[9.0, -9.0], &[0.0], &[0.0, 0.0]);
            assert_eq!(back.add(&next), buf.add(&next));
            assert_eq!(back, buf);
        }
    }
}
