//! The deterministic tabular model of Dyna-Q (Sutton & Barto 8.2): Model(S, A) ← R, S' for every
//! pair tried in the real env, and the pairs planning samples from. For Dyna-Q+ (S&B 8.3) each
//! entry also remembers the step it was last tried, so that planning can add the bonus κ√τ, and
//! (the book's footnote to Figure 8.4) the actions never tried from a visited state join the
//! model as leading back to the same state with reward 0, untried since step 0.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// What the model predicts for one pair.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub reward: f64,
    pub next_state: usize,
    pub terminated: bool,
    /// The real env step at which the pair was last tried (0: never).
    pub last_tried: u64,
}

impl Outcome {
    /// Dyna-Q+'s exploration bonus κ√τ, τ the real steps since the pair was last tried.
    pub fn bonus(&self, kappa: f64, now: u64) -> f64 {
        kappa * ((now - self.last_tried) as f64).sqrt()
    }
}

/// Model(s, a) for `n_states × n_actions` pairs, row-major by state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DynaModel {
    n_actions: usize,
    entries: Vec<Option<Outcome>>,
    /// Flat indices of the known pairs, in the order they joined (planning draws from these).
    known: Vec<usize>,
    /// Dyna-Q+: a visited state's untried actions join as self-loops with reward 0.
    untried_as_self_loops: bool,
}

impl DynaModel {
    pub fn new(n_states: usize, n_actions: usize, untried_as_self_loops: bool) -> Self {
        Self {
            n_actions,
            entries: vec![None; n_states * n_actions],
            known: Vec::new(),
            untried_as_self_loops,
        }
    }

    /// Records the real transition (s, a) → (reward, s') tried at `step`; a deterministic env's
    /// last outcome replaces the previous one (the walls of a changing maze move).
    pub fn update(
        &mut self,
        s: usize,
        a: usize,
        reward: f64,
        next: usize,
        terminated: bool,
        step: u64,
    ) {
        let row = s * self.n_actions..(s + 1) * self.n_actions;
        if self.untried_as_self_loops && self.entries[row.clone()].iter().all(Option::is_none) {
            for i in row {
                self.insert(
                    i,
                    Outcome {
                        reward: 0.0,
                        next_state: s,
                        terminated: false,
                        last_tried: 0,
                    },
                );
            }
        }
        self.insert(
            s * self.n_actions + a,
            Outcome {
                reward,
                next_state: next,
                terminated,
                last_tried: step,
            },
        );
    }

    fn insert(&mut self, i: usize, outcome: Outcome) {
        if self.entries[i].is_none() {
            self.known.push(i);
        }
        self.entries[i] = Some(outcome);
    }

    /// Model(s, a), if known.
    pub fn get(&self, s: usize, a: usize) -> Option<&Outcome> {
        self.entries[s * self.n_actions + a].as_ref()
    }

    /// The fewest steps from `start` to a terminating transition through the model's known
    /// pairs (breadth-first search), or `None` when the model knows no such route. With a
    /// deterministic env this bounds what planning on the model can find: Q-learning on the
    /// model converges to the optimal values of the model's own graph (S&B 8.2).
    pub fn shortest_path(&self, start: usize) -> Option<usize> {
        let n_states = self.entries.len() / self.n_actions;
        let mut depth = vec![None; n_states];
        depth[start] = Some(0);
        let mut frontier = std::collections::VecDeque::from([start]);
        while let Some(s) = frontier.pop_front() {
            let d = depth[s].expect("queued states have a depth");
            for outcome in self.entries[s * self.n_actions..(s + 1) * self.n_actions]
                .iter()
                .flatten()
            {
                if outcome.terminated {
                    // States leave the queue in order of depth, so the first end is the nearest.
                    return Some(d + 1);
                }
                if depth[outcome.next_state].is_none() {
                    depth[outcome.next_state] = Some(d + 1);
                    frontier.push_back(outcome.next_state);
                }
            }
        }
        None
    }

    /// A known pair drawn uniformly, `(s, a, outcome)`; `None` before the first update.
    pub fn sample(&self, rng: &mut Rng) -> Option<(usize, usize, Outcome)> {
        if self.known.is_empty() {
            return None;
        }
        let i = self.known[rng.random_range(0..self.known.len())];
        let outcome = self.entries[i].expect("known pairs have entries");
        Some((i / self.n_actions, i % self.n_actions, outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn update_records_and_replaces_the_last_outcome() {
        let mut m = DynaModel::new(3, 2, false);
        assert!(m.sample(&mut rng::from_seed(0)).is_none());
        m.update(0, 1, 0.0, 2, false, 5);
        m.update(0, 1, 1.0, 1, true, 9);
        assert_eq!(
            m.get(0, 1),
            Some(&Outcome {
                reward: 1.0,
                next_state: 1,
                terminated: true,
                last_tried: 9
            })
        );
        assert_eq!(m.get(0, 0), None);
        assert_eq!(m.known, vec![1]);
    }

    #[test]
    fn dyna_q_plus_adds_untried_actions_as_self_loops() {
        let mut m = DynaModel::new(2, 3, true);
        m.update(1, 2, 0.5, 0, false, 4);
        let self_loop = Outcome {
            reward: 0.0,
            next_state: 1,
            terminated: false,
            last_tried: 0,
        };
        assert_eq!(m.get(1, 0), Some(&self_loop));
        assert_eq!(m.get(1, 1), Some(&self_loop));
        assert_eq!(m.get(1, 2).unwrap().last_tried, 4);
        assert_eq!(m.get(0, 0), None);
        // A second visit adds nothing, and a tried action replaces its self-loop.
        m.update(1, 0, 0.0, 0, false, 7);
        assert_eq!(m.known.len(), 3);
        assert_eq!(m.get(1, 0).unwrap().next_state, 0);
    }

    /// A 2×2 grid 0 1 / 2 3, terminal step out of 3; known: 0→1, 1→3, 0→2, 2→3, 3→end, and a
    /// self-loop at 1. The shortest route from 0 is three steps; from a state with no known pair
    /// none.
    #[test]
    fn shortest_path_is_breadth_first_over_known_pairs() {
        let mut m = DynaModel::new(5, 2, false);
        m.update(0, 0, 0.0, 1, false, 1);
        m.update(1, 0, 0.0, 1, false, 2);
        m.update(1, 1, 0.0, 3, false, 3);
        m.update(0, 1, 0.0, 2, false, 4);
        m.update(2, 0, 0.0, 3, false, 5);
        assert_eq!(m.shortest_path(0), None);
        m.update(3, 1, 1.0, 4, true, 6);
        assert_eq!(m.shortest_path(0), Some(3));
        assert_eq!(m.shortest_path(3), Some(1));
        assert_eq!(m.shortest_path(4), None);
    }

    #[test]
    fn bonus_is_kappa_sqrt_tau() {
        let o = Outcome {
            reward: 0.0,
            next_state: 0,
            terminated: false,
            last_tried: 10,
        };
        assert!((o.bonus(1e-3, 110) - 1e-2).abs() < 1e-15);
        assert_eq!(o.bonus(0.5, 10), 0.0);
    }

    #[test]
    fn sample_draws_known_pairs_uniformly() {
        let mut m = DynaModel::new(4, 2, false);
        for (s, a) in [(0, 0), (1, 1), (3, 0)] {
            m.update(s, a, 0.0, s, false, 1);
        }
        let mut rng = rng::from_seed(1);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..30_000 {
            let (s, a, _) = m.sample(&mut rng).unwrap();
            *counts.entry((s, a)).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 3);
        assert!(
            counts
                .values()
                .all(|c| (*c as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.01)
        );
    }
}
