//! Proportional prioritised experience replay (Schaul et al. 2016): slot i is drawn with
//! probability P(i) = p_i^α / Σ_k p_k^α, with p_i = |δ_i| + ε after it was last trained on and
//! the largest priority seen so far for new transitions (so each is replayed at least once
//! soon). The bias is corrected by importance weights w_i = (N · P(i))^−β / max_j w_j, with β
//! annealed to 1 over training.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::replay::{ReplayBatch, ReplayBuffer, Transition};
use super::sum_tree::SumTree;
use crate::rng::Rng;

/// A replay buffer with a priority per slot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrioritizedReplay {
    pub buffer: ReplayBuffer,
    tree: SumTree,
    alpha: f64,
    epsilon: f64,
    /// The largest p (before the exponent α) seen so far.
    max_priority: f64,
}

impl PrioritizedReplay {
    /// `alpha` = 0 is uniform replay; `epsilon` keeps every priority positive.
    pub fn new(buffer: ReplayBuffer, alpha: f64, epsilon: f64) -> Self {
        let tree = SumTree::new(buffer.capacity());
        Self {
            buffer,
            tree,
            alpha,
            epsilon,
            max_priority: 1.0,
        }
    }

    /// Stores `t` at the largest priority so far.
    pub fn add(&mut self, t: &Transition) {
        let slot = self.buffer.add(t);
        self.tree.set(slot, self.max_priority.powf(self.alpha));
    }

    /// `batch_size` slots drawn ∝ p^α, one from each of `batch_size` equal segments of the
    /// total mass (stratified, as in the paper's appendix B.2.1), and their importance weights
    /// (in `batch.weights`) for exponent `beta`.
    pub fn sample(&self, batch_size: usize, beta: f64, rng: &mut Rng, batch: &mut ReplayBatch) {
        assert!(
            !self.buffer.is_empty(),
            "sampling from an empty replay buffer"
        );
        let total = self.tree.total();
        let segment = total / batch_size as f64;
        batch.indices.clear();
        batch.indices.extend((0..batch_size).map(|k| {
            let mass = segment * (k as f64 + rng.random::<f64>());
            self.tree.find(mass.min(total))
        }));
        self.buffer.gather(batch);
        // w_i / max_j w_j = (p_i / p_min)^−β: N and Σp cancel.
        let p_min = self.tree.min();
        batch.weights.clear();
        batch.weights.extend(
            batch
                .indices
                .iter()
                .map(|&i| (self.tree.get(i) / p_min).powf(-beta) as f32),
        );
    }

    /// Sets the priorities of the slots just trained on from their TD errors δ.
    pub fn update_priorities(&mut self, indices: &[usize], td_errors: &[f32]) {
        for (&i, &delta) in indices.iter().zip(td_errors) {
            let p = f64::from(delta.abs()) + self.epsilon;
            self.max_priority = self.max_priority.max(p);
            self.tree.set(i, p.powf(self.alpha));
        }
    }
}

/// β after `progress` ∈ [0, 1] of training: linear from `beta0` to 1.
pub fn annealed_beta(beta0: f64, progress: f64) -> f64 {
    beta0 + (1.0 - beta0) * progress.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn filled(n: usize, alpha: f64) -> PrioritizedReplay {
        let mut per = PrioritizedReplay::new(ReplayBuffer::new(8, 1, 1), alpha, 0.0);
        for k in 0..n {
            let x = [k as f32];
            per.add(&Transition {
                obs: &x,
                action: &[0.0],
                reward: 0.0,
                next_obs: &x,
                terminated: false,
                truncated: false,
                discount: 1.0,
            });
        }
        per
    }

    #[test]
    fn new_transitions_get_the_largest_priority_so_far() {
        let mut per = filled(2, 1.0);
        per.update_priorities(&[0, 1], &[-3.0, 0.5]);
        per.add(&Transition {
            obs: &[9.0],
            action: &[0.0],
            reward: 0.0,
            next_obs: &[9.0],
            terminated: false,
            truncated: false,
            discount: 1.0,
        });
        assert_eq!(per.tree.get(2), 3.0);
        assert_eq!(per.tree.total(), 6.5);
    }

    /// Priorities 1, 2, 4, 8 with α = ½: P ∝ 1, √2, 2, 2√2; weights (p_i/p_min)^−β.
    #[test]
    fn sampling_frequencies_and_importance_weights() {
        let mut per = filled(4, 0.5);
        per.update_priorities(&[0, 1, 2, 3], &[1.0, 2.0, 4.0, 8.0]);
        let mut rng = stream(1, Stream::Minibatch);
        let mut batch = ReplayBatch::default();
        let mut counts = [0f64; 4];
        let draws = 400;
        for _ in 0..draws {
            per.sample(100, 1.0, &mut rng, &mut batch);
            for (&i, &w) in batch.indices.iter().zip(&batch.weights) {
                counts[i] += 1.0;
                let expected = (2f64.powi(i as i32)).sqrt().recip();
                assert!((f64::from(w) - expected).abs() < 1e-6, "w[{i}] = {w}");
            }
        }
        let z = 1.0 + 2f64.sqrt() + 2.0 + 2.0 * 2f64.sqrt();
        for (i, c) in counts.iter().enumerate() {
            let p = 2f64.powi(i as i32).sqrt() / z;
            let freq = c / (draws * 100) as f64;
            assert!((freq - p).abs() < 0.01, "P({i}) = {freq}, expected {p}");
        }
        assert!(batch.weights.iter().all(|&w| w <= 1.0));
    }

    #[test]
    fn beta_anneals_linearly_to_one() {
        assert_eq!(annealed_beta(0.4, 0.0), 0.4);
        assert!((annealed_beta(0.4, 0.5) - 0.7).abs() < 1e-12);
        assert_eq!(annealed_beta(0.4, 2.0), 1.0);
    }
}
