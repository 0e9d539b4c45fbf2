//! Observation and action spaces, as gymnasium's `Discrete` and `Box`: the shape of what an env
//! exchanges, shared by envs, networks and planners (below all of them).

/// An observation or action space, as gymnasium's `Discrete(n)` and `Box(low, high)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Space {
    /// `n` integer values `0..n`; an observation of it is one f32 holding the index.
    Discrete(usize),
    /// A float32 box with per-component bounds (possibly infinite).
    Box { low: Vec<f32>, high: Vec<f32> },
}

impl Space {
    /// Number of f32 values an element of this space occupies (1 for `Discrete`).
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete(_) => 1,
            Space::Box { low, .. } => low.len(),
        }
    }

    /// gymnasium's `str()` of the space, e.g. `Discrete(4)` or `Box(-2.0, 2.0, (1,), float32)`.
    pub fn describe(&self) -> String {
        match self {
            Space::Discrete(n) => format!("Discrete({n})"),
            Space::Box { low, high } => {
                let same = |v: &[f32]| v.iter().all(|x| *x == v[0]);
                if same(low) && same(high) {
                    format!(
                        "Box({:?}, {:?}, ({},), float32)",
                        low[0],
                        high[0],
                        low.len()
                    )
                } else {
                    format!("Box({low:?}, {high:?}, ({},), float32)", low.len())
                }
            }
        }
    }
}
