//! ACER's replay (Wang et al. 2017, alg. 1): whole trajectory segments of `n_steps` steps of
//! every env, each step with the behaviour policy's full distribution μ(·|s) (the importance
//! weights of every action need it), in a ring of `buffer_size / n_steps` segments (OpenAI
//! Baselines' and Stable-Baselines' layout: `buffer_size` counts steps per env). A replayed
//! batch takes, for each env column, that column of a segment drawn uniformly, so it is again
//! `n_steps × num_envs` steps of `num_envs` trajectories.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// `n_steps` steps of `n_envs` envs, row `t·n_envs + e` for step `t` of env `e`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub n_steps: usize,
    pub n_envs: usize,
    pub obs_dim: usize,
    pub n_actions: usize,
    /// s_t, `obs_dim` per row.
    pub obs: Vec<f32>,
    /// The observation after the step (the final one when the episode ended), `obs_dim` per
    /// row: the bootstrap of a truncated step and of the segment's last step.
    pub next_obs: Vec<f32>,
    pub actions: Vec<usize>,
    /// μ(·|s_t), `n_actions` per row.
    pub mu: Vec<f32>,
    pub rewards: Vec<f64>,
    /// The episode ended in a terminal state (no bootstrap).
    pub terminated: Vec<bool>,
    /// The episode was cut by the time limit (bootstrap from `next_obs`).
    pub truncated: Vec<bool>,
}

impl Segment {
    pub fn new(n_steps: usize, n_envs: usize, obs_dim: usize, n_actions: usize) -> Self {
        let rows = n_steps * n_envs;
        Self {
            n_steps,
            n_envs,
            obs_dim,
            n_actions,
            obs: vec![0.0; rows * obs_dim],
            next_obs: vec![0.0; rows * obs_dim],
            actions: vec![0; rows],
            mu: vec![0.0; rows * n_actions],
            rewards: vec![0.0; rows],
            terminated: vec![false; rows],
            truncated: vec![false; rows],
        }
    }

    pub fn rows(&self) -> usize {
        self.n_steps * self.n_envs
    }

    /// Copies row `from` of `other` into row `to`.
    fn copy_row(&mut self, to: usize, other: &Segment, from: usize) {
        let (d, a) = (self.obs_dim, self.n_actions);
        self.obs[to * d..(to + 1) * d].copy_from_slice(&other.obs[from * d..(from + 1) * d]);
        self.next_obs[to * d..(to + 1) * d]
            .copy_from_slice(&other.next_obs[from * d..(from + 1) * d]);
        self.mu[to * a..(to + 1) * a].copy_from_slice(&other.mu[from * a..(from + 1) * a]);
        self.actions[to] = other.actions[from];
        self.rewards[to] = other.rewards[from];
        self.terminated[to] = other.terminated[from];
        self.truncated[to] = other.truncated[from];
    }
}

/// The ring of the last `capacity` segments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentReplay {
    segments: Vec<Segment>,
    capacity: usize,
    /// Where the next segment goes once the ring is full.
    next: usize,
}

impl SegmentReplay {
    pub fn new(capacity: usize) -> Self {
        Self {
            segments: Vec::with_capacity(capacity),
            capacity,
            next: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Stores `segment`, replacing the oldest once full.
    pub fn push(&mut self, segment: &Segment) {
        if self.segments.len() < self.capacity {
            self.segments.push(segment.clone());
        } else {
            self.segments[self.next].clone_from(segment);
        }
        self.next = (self.next + 1) % self.capacity;
    }

    /// A replayed batch into `batch` (of the segments' shape): column `e` is column `e` of a
    /// segment drawn uniformly from `rng`.
    pub fn sample(&self, rng: &mut Rng, batch: &mut Segment) {
        for e in 0..batch.n_envs {
            let source = &self.segments[rng.random_range(0..self.segments.len())];
            for t in 0..batch.n_steps {
                let row = t * batch.n_envs + e;
                batch.copy_row(row, source, row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn segment(tag: f32) -> Segment {
        let mut s = Segment::new(2, 3, 1, 2);
        for row in 0..6 {
            s.obs[row] = tag + row as f32;
            s.actions[row] = row;
        }
        s
    }

    /// The ring keeps the last `capacity` segments; a replayed column is a whole column of one
    /// stored segment, its steps in order.
    #[test]
    fn the_ring_keeps_the_newest_and_replays_whole_columns() {
        let mut replay = SegmentReplay::new(2);
        for tag in [100.0, 200.0, 300.0] {
            replay.push(&segment(tag));
        }
        assert_eq!(replay.len(), 2);
        let mut batch = Segment::new(2, 3, 1, 2);
        let mut rng = stream(0, Stream::Minibatch);
        let mut tags = Vec::new();
        for _ in 0..20 {
            replay.sample(&mut rng, &mut batch);
            for e in 0..3 {
                let tag = batch.obs[e] - e as f32;
                assert!(tag == 200.0 || tag == 300.0, "{tag}");
                assert_eq!(batch.obs[3 + e], tag + 3.0 + e as f32);
                assert_eq!(batch.actions[3 + e], 3 + e);
                tags.push(tag);
            }
        }
        assert!(tags.contains(&200.0) && tags.contains(&300.0));
    }
}
