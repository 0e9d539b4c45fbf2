//! The action-value table Q(s, a) and the ε-greedy policy over it.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::env::{Action, Space};
use crate::rng::Rng;

/// Q(s, a) for `n_states × n_actions` pairs, row-major by state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QTable {
    n_actions: usize,
    values: Vec<f64>,
}

impl QTable {
    /// A table with every entry `init` (optimistic initial values when `init` is high).
    pub fn new(n_states: usize, n_actions: usize, init: f64) -> Self {
        Self {
            n_actions,
            values: vec![init; n_states * n_actions],
        }
    }

    /// Index of (s, a) in the flat table (also the index of its eligibility trace).
    pub fn index(&self, s: usize, a: usize) -> usize {
        s * self.n_actions + a
    }

    pub fn get(&self, s: usize, a: usize) -> f64 {
        self.values[self.index(s, a)]
    }

    /// Q(s, ·).
    pub fn row(&self, s: usize) -> &[f64] {
        &self.values[s * self.n_actions..(s + 1) * self.n_actions]
    }

    /// Adds `delta` to the entry at flat index `i`.
    pub fn add_at(&mut self, i: usize, delta: f64) {
        self.values[i] += delta;
    }

    /// argmax_a Q(s, a); ties go to the lowest action (numpy's `argmax`).
    pub fn greedy(&self, s: usize) -> usize {
        argmax(self.row(s))
    }

    /// max_a Q(s, a).
    pub fn max(&self, s: usize) -> f64 {
        self.row(s)
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// With probability ε a uniformly random action, otherwise the greedy one.
    pub fn epsilon_greedy(&self, s: usize, epsilon: f64, rng: &mut Rng) -> usize {
        if rng.random::<f64>() < epsilon {
            rng.random_range(0..self.n_actions)
        } else {
            self.greedy(s)
        }
    }

    /// argmax_a Q(s, a) with ties broken uniformly at random (one draw only when tied), as in
    /// Sutton & Barto's maze experiments (ch. 8), where Q starts at 0 everywhere.
    pub fn greedy_random_ties(&self, s: usize, rng: &mut Rng) -> usize {
        let row = self.row(s);
        let best = self.max(s);
        let ties: Vec<usize> = (0..row.len()).filter(|&a| row[a] == best).collect();
        match ties[..] {
            [only] => only,
            _ => ties[rng.random_range(0..ties.len())],
        }
    }

    /// With probability ε a uniformly random action, otherwise [`QTable::greedy_random_ties`].
    pub fn epsilon_greedy_random_ties(&self, s: usize, epsilon: f64, rng: &mut Rng) -> usize {
        if rng.random::<f64>() < epsilon {
            rng.random_range(0..self.n_actions)
        } else {
            self.greedy_random_ties(s, rng)
        }
    }

    /// Σ_a π(a|s) Q(s, a) under the ε-greedy policy: ε·mean_a Q(s, a) + (1 − ε)·max_a Q(s, a).
    pub fn expected(&self, s: usize, epsilon: f64) -> f64 {
        let row = self.row(s);
        let mean = row.iter().sum::<f64>() / row.len() as f64;
        epsilon * mean + (1.0 - epsilon) * self.max(s)
    }
}

/// The mean |TD error| since it was last taken (the `td_error` diagnostic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanAbsError {
    sum: f64,
    count: u32,
}

impl MeanAbsError {
    pub fn push(&mut self, delta: f64) {
        self.sum += delta.abs();
        self.count += 1;
    }

    /// The mean so far (NaN when empty), starting afresh.
    pub fn take(&mut self) -> f64 {
        let mean = self.sum / f64::from(self.count);
        *self = Self::default();
        mean
    }
}

/// Index of the first maximum.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// The state index a toy-text env writes as its one-f32 observation.
pub fn state_index(obs: &[f32]) -> usize {
    obs[0] as usize
}

/// `(n_states, n_actions)` of a discrete env (checked by the config loader beforehand).
pub fn table_size(observation_space: &Space, action_space: &Space) -> (usize, usize) {
    match (observation_space, action_space) {
        (Space::Discrete(s), Space::Discrete(a)) => (*s, *a),
        _ => panic!("tabular methods need discrete spaces (the config loader checks this)"),
    }
}

/// A learned tabular policy as saved in a run folder (`policy.json`): the greedy action and the
/// value of every state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GreedyTable {
    pub actions: Vec<usize>,
    /// max_a Q(s, a), or V(s) for dynamic programming.
    pub values: Vec<f64>,
}

impl GreedyTable {
    pub fn of_q(q: &QTable) -> Self {
        let n_states = q.values.len() / q.n_actions;
        Self {
            actions: (0..n_states).map(|s| q.greedy(s)).collect(),
            values: (0..n_states).map(|s| q.max(s)).collect(),
        }
    }
}

impl crate::session::Policy for GreedyTable {
    fn act(&mut self, obs: &[f32], _env: &dyn crate::env::Env) -> Action<'_> {
        Action::Discrete(self.actions[state_index(obs)])
    }
}

/// The greedy policy of `q` for evaluation.
pub fn greedy_policy(q: &QTable) -> impl FnMut(&[f32]) -> Action<'static> + '_ {
    move |obs| Action::Discrete(q.greedy(state_index(obs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn greedy_ties_and_expectation() {
        let mut q = QTable::new(2, 3, 0.0);
        assert_eq!(q.greedy(0), 0);
        q.add_at(q.index(1, 2), 3.0);
        q.add_at(q.index(1, 0), 1.0);
        assert_eq!(q.greedy(1), 2);
        assert_eq!(q.max(1), 3.0);
        // ε = 0.3: 0.3 · (4/3) + 0.7 · 3 = 2.5
        assert!((q.expected(1, 0.3) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn random_ties_are_uniform_and_a_unique_max_wins() {
        let mut q = QTable::new(2, 4, 0.0);
        q.add_at(q.index(0, 3), -1.0);
        q.add_at(q.index(1, 2), 0.5);
        let mut rng = rng::from_seed(3);
        let n = 30_000;
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[q.greedy_random_ties(0, &mut rng)] += 1;
            assert_eq!(q.greedy_random_ties(1, &mut rng), 2);
        }
        assert_eq!(counts[3], 0);
        for c in &counts[..3] {
            assert!(
                (*c as f64 / n as f64 - 1.0 / 3.0).abs() < 0.01,
                "{counts:?}"
            );
        }
    }

    #[test]
    fn epsilon_greedy_frequencies() {
        let mut q = QTable::new(1, 4, 0.0);
        q.add_at(q.index(0, 1), 1.0);
        let mut rng = rng::from_seed(7);
        let n = 40_000;
        let greedy = (0..n)
            .filter(|_| q.epsilon_greedy(0, 0.2, &mut rng) == 1)
            .count();
        // P(greedy) = 1 − ε + ε/4 = 0.85
        let p = greedy as f64 / n as f64;
        assert!((p - 0.85).abs() < 0.01, "{p}");
    }
}
