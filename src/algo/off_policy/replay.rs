//! The replay an off-policy learner draws its minibatches from: uniform (Lin 1992; Mnih et al.
//! 2015) or proportional prioritised (Schaul et al. 2016), behind one interface.

use serde::{Deserialize, Serialize};

use crate::buffer::{
    PrioritizedReplay, ReplayBatch, ReplayBuffer, SumTree, Transition, annealed_beta,
};
use crate::rng::Rng;

/// Proportional prioritisation: priority exponent α, importance exponent β₀ (annealed to 1 over
/// training) and the ε that keeps every priority positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prioritization {
    pub alpha: f64,
    pub beta0: f64,
    pub epsilon: f64,
}

/// Uniform or prioritised replay.
#[derive(Clone, Serialize, Deserialize)]
pub enum Replay {
    Uniform(ReplayBuffer),
    Prioritized {
        replay: PrioritizedReplay,
        /// β at the start of training.
        beta0: f64,
    },
}

impl Replay {
    /// The bytes [`Replay::new`] allocates for `capacity` transitions (with the sum tree when
    /// `prioritized`).
    pub fn bytes(capacity: usize, obs_dim: usize, act_dim: usize, prioritized: bool) -> u64 {
        let tree = if prioritized {
            SumTree::bytes(capacity)
        } else {
            0
        };
        ReplayBuffer::bytes(capacity, obs_dim, act_dim).saturating_add(tree)
    }

    /// An empty replay of `capacity` transitions (`act_dim` 1 for a discrete action), uniform
    /// unless `prioritization` is given.
    pub fn new(
        capacity: usize,
        obs_dim: usize,
        act_dim: usize,
        prioritization: Option<Prioritization>,
    ) -> Self {
        let storage = ReplayBuffer::new(capacity, obs_dim, act_dim);
        match prioritization {
            None => Replay::Uniform(storage),
            Some(p) => Replay::Prioritized {
                replay: PrioritizedReplay::new(storage, p.alpha, p.epsilon),
                beta0: p.beta0,
            },
        }
    }

    pub fn add(&mut self, t: &Transition) {
        match self {
            Replay::Uniform(r) => {
                r.add(t);
            }
            Replay::Prioritized { replay, .. } => replay.add(t),
        }
    }

    /// Fills `batch` with `batch_size` transitions; prioritised replay adds the importance
    /// weights for β annealed from β₀ to 1 by `progress` ∈ [0, 1] of training.
    pub fn sample(&self, batch_size: usize, progress: f64, rng: &mut Rng, batch: &mut ReplayBatch) {
        match self {
            Replay::Uniform(r) => r.sample_uniform(batch_size, rng, batch),
            Replay::Prioritized { replay, beta0 } => {
                replay.sample(batch_size, annealed_beta(*beta0, progress), rng, batch)
            }
        }
    }

    /// Sets the priorities of the transitions of `batch` (just trained on) from their TD errors
    /// δ; uniform replay keeps none.
    pub fn update_priorities(&mut self, batch: &ReplayBatch, td_errors: &[f32]) {
        if let Replay::Prioritized { replay, .. } = self {
            replay.update_priorities(&batch.indices, td_errors);
        }
    }
}
