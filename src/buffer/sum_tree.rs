//! A sum tree (with a min tree beside it) over `capacity` non-negative priorities, for
//! proportional prioritised replay (Schaul et al. 2016, appendix B.2.1): O(log n) updates,
//! prefix-sum search and the minimum priority (for the importance-weight bound).
//!
//! Layout: a complete binary tree in an array, node `i` has children `2i` and `2i + 1`, the
//! leaves are nodes `leaves .. 2 · leaves` (`leaves` is `capacity` rounded up to a power of two).

use serde::{Deserialize, Serialize};

/// Sums and minima of the priorities of `capacity` slots.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SumTree {
    leaves: usize,
    capacity: usize,
    sum: Vec<f64>,
    min: Vec<f64>,
}

impl SumTree {
    /// A tree of `capacity` slots, all of priority 0 (never sampled).
    /// The bytes [`SumTree::new`] allocates: sums and minima (f64) of `2 × leaves` nodes.
    pub fn bytes(capacity: usize) -> u64 {
        let leaves = capacity
            .checked_next_power_of_two()
            .map_or(u64::MAX, |l| l as u64);
        leaves.saturating_mul(2 * 2 * 8)
    }

    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a sum tree needs at least one slot");
        let leaves = capacity.next_power_of_two();
        Self {
            leaves,
            capacity,
            sum: vec![0.0; 2 * leaves],
            min: vec![f64::INFINITY; 2 * leaves],
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets the priority of slot `i` and updates its ancestors.
    pub fn set(&mut self, i: usize, priority: f64) {
        assert!(i < self.capacity, "slot {i} out of {}", self.capacity);
        debug_assert!(priority >= 0.0 && priority.is_finite());
        let mut node = i + self.leaves;
        self.sum[node] = priority;
        self.min[node] = priority;
        while node > 1 {
            node /= 2;
            self.sum[node] = self.sum[2 * node] + self.sum[2 * node + 1];
            self.min[node] = self.min[2 * node].min(self.min[2 * node + 1]);
        }
    }

    /// The priority of slot `i`.
    pub fn get(&self, i: usize) -> f64 {
        self.sum[i + self.leaves]
    }

    /// Σ of all priorities.
    pub fn total(&self) -> f64 {
        self.sum[1]
    }

    /// The smallest priority of the slots set so far (∞ when none is).
    pub fn min(&self) -> f64 {
        self.min[1]
    }

    /// The slot `i` whose prefix-sum interval [Σ_{j<i} p_j, Σ_{j≤i} p_j) holds `mass`, for
    /// `mass` in [0, total). Slots of priority 0 are never returned while the total is positive,
    /// even when rounding puts `mass` at or past the total.
    pub fn find(&self, mut mass: f64) -> usize {
        let mut node = 1;
        while node < self.leaves {
            let left = 2 * node;
            if mass < self.sum[left] || self.sum[left + 1] <= 0.0 {
                node = left;
            } else {
                mass -= self.sum[left];
                node = left + 1;
            }
        }
        node - self.leaves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_minima_and_prefix_search() {
        let mut tree = SumTree::new(5);
        for (i, p) in [1.0, 2.0, 3.0, 4.0, 0.5].into_iter().enumerate() {
            tree.set(i, p);
        }
        assert_eq!(tree.total(), 10.5);
        assert_eq!(tree.min(), 0.5);
        // Intervals: [0,1) [1,3) [3,6) [6,10) [10,10.5).
        let cases = [
            (0.0, 0),
            (0.999, 0),
            (1.0, 1),
            (2.5, 1),
            (3.0, 2),
            (5.99, 2),
            (6.0, 3),
            (9.9, 3),
            (10.2, 4),
        ];
        for (mass, slot) in cases {
            assert_eq!(tree.find(mass), slot, "mass {mass}");
        }
        tree.set(2, 0.0);
        assert_eq!(tree.total(), 7.5);
        assert_eq!(tree.min(), 0.0);
        assert_eq!(tree.find(3.5), 3, "a zero-priority slot is skipped");
        assert_eq!(tree.get(3), 4.0);
    }

    /// Rounding at the top end never lands on an empty slot past the filled ones.
    #[test]
    fn masses_at_the_total_stay_on_filled_slots() {
        let mut tree = SumTree::new(6);
        tree.set(0, 0.1);
        tree.set(1, 0.2);
        assert_eq!(tree.find(tree.total()), 1);
        assert_eq!(tree.find(tree.total() * 2.0), 1);
        assert_eq!(SumTree::new(3).min(), f64::INFINITY);
    }

    /// Sampling by `find(u · total)` draws slot i with probability p_i / Σp.
    #[test]
    fn prefix_search_samples_proportionally() {
        let mut tree = SumTree::new(4);
        let p = [1.0, 0.0, 3.0, 4.0];
        for (i, &x) in p.iter().enumerate() {
            tree.set(i, x);
        }
        let n = 8000;
        let mut counts = [0usize; 4];
        for k in 0..n {
            // A uniform grid over [0, total): exact proportions.
            counts[tree.find((k as f64 + 0.5) / n as f64 * tree.total())] += 1;
        }
        assert_eq!(counts, [1000, 0, 3000, 4000]);
    }
}
