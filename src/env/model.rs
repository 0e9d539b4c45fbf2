//! The explicit transition model of a toy-text env: gymnasium's `env.unwrapped.P`.

/// One outcome of taking action `a` in state `s`: gymnasium's `(prob, next_state, reward, terminated)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    pub prob: f64,
    pub next_state: usize,
    pub reward: f64,
    pub terminated: bool,
}

/// `P[s][a]`: the list of outcomes of each state-action pair, in gymnasium's order
/// (the order matters: sampling walks the list with one uniform draw, as gymnasium does).
#[derive(Clone, Debug, PartialEq)]
pub struct TabularModel {
    pub n_states: usize,
    pub n_actions: usize,
    outcomes: Vec<Vec<Transition>>,
}

impl TabularModel {
    /// Builds the model by calling `outcomes(s, a)` for every state-action pair.
    pub fn build(
        n_states: usize,
        n_actions: usize,
        mut outcomes: impl FnMut(usize, usize) -> Vec<Transition>,
    ) -> Self {
        let mut all = Vec::with_capacity(n_states * n_actions);
        for s in 0..n_states {
            for a in 0..n_actions {
                all.push(outcomes(s, a));
            }
        }
        Self {
            n_states,
            n_actions,
            outcomes: all,
        }
    }

    /// The outcomes of action `a` in state `s`.
    pub fn transitions(&self, s: usize, a: usize) -> &[Transition] {
        &self.outcomes[s * self.n_actions + a]
    }

    /// Picks an outcome with one uniform draw `u ∈ [0, 1)`, as gymnasium's `categorical_sample`:
    /// the first outcome whose cumulative probability exceeds `u`.
    pub fn sample(&self, s: usize, a: usize, u: f64) -> &Transition {
        let outcomes = self.transitions(s, a);
        let mut cumulative = 0.0;
        for t in outcomes {
            cumulative += t.prob;
            if cumulative > u {
                return t;
            }
        }
        outcomes
            .last()
            .expect("every state-action pair has an outcome")
    }
}
