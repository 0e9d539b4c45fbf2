//! `FourRooms-v0`, rl's own (not gymnasium): the four-rooms gridworld of Sutton, Precup & Singh
//! (1999, "Between MDPs and semi-MDPs", Figure 2) with goal cells that carry reward features, as
//! in the transfer experiments of Barreto et al. (2017, "Successor Features for Transfer in
//! Reinforcement Learning").
//!
//! The 11×11 interior of the paper's 13×13 grid (its outer wall left out), (row, col) from the
//! top-left, `#` a wall:
//!
//! ```text
//!      col 0123456789A
//! row 0    S....#....1
//!     1    .....#.....
//!     2    ...........
//!     3    .....#.....
//!     4    .....#.....
//!     5    #.####.....
//!     6    .....###.##
//!     7    .....#.....
//!     8    .....#.....
//!     9    ...........
//!     A    2....#....3
//! ```
//!
//! Four rooms of 25, 30, 25 and 20 cells joined by four hallway cells: 104 open cells, numbered
//! row-major (the observation is that number). Actions 0 = up, 1 = right, 2 = down, 3 = left,
//! deterministic; a move into a wall or off the grid leaves the agent in place (the paper's
//! moves succeed with probability 2/3; rl's are deterministic). Every episode starts at S,
//! (0, 0).
//!
//! Reward features (option `features`, default the three goal cells 1 = (0, 10), 2 = (10, 0),
//! 3 = (10, 10) of the other rooms): φ(s, a, s') is the one-hot vector of the feature cell s'
//! entered (zero elsewhere), and entering any feature cell ends the episode. The reward is
//! φ·w with the task's weights w (option `task`, default all ones). The env exposes φ through
//! [`Env::reward_features`] and its transition model through [`Env::model`]. No time limit is
//! registered.

use std::sync::Arc;

use crate::env::features::RewardFeatures;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Step, TabularModel, Transition};
use crate::rng;
use crate::space::Space;

/// Interior side length.
pub const SIDE: usize = 11;

/// Actions: 0 = up, 1 = right, 2 = down, 3 = left.
const N_ACTIONS: usize = 4;

/// The start cell S.
pub const START: (usize, usize) = (0, 0);

/// The default feature cells: the far corners of the other three rooms.
pub const DEFAULT_FEATURES: [(usize, usize); 3] = [(0, 10), (10, 0), (10, 10)];

/// The wall cells of the interior: the vertical wall (col 5) with hallways at rows 2 and 9,
/// the left rooms' wall (row 5) with its hallway at col 1, the right rooms' wall (row 6) with
/// its hallway at col 8.
fn is_wall(row: usize, col: usize) -> bool {
    (col == 5 && row != 2 && row != 9)
        || (row == 5 && col < 5 && col != 1)
        || (row == 6 && col > 5 && col != 8)
}

/// The four-rooms grid with its feature cells and task.
#[derive(Clone)]
pub struct FourRooms {
    spec: EnvSpec,
    /// Open-cell number of each interior cell (row-major), None for walls.
    cell_index: Arc<Vec<Option<usize>>>,
    /// (row, col) of each open cell.
    cells: Arc<Vec<(usize, usize)>>,
    /// For each open cell, the feature it carries.
    feature_of: Arc<Vec<Option<usize>>>,
    task: Vec<f64>,
    model: Arc<TabularModel>,
    start: usize,
    s: usize,
}

impl FourRooms {
    /// The grid with feature cells `features` ((row, col), distinct open cells other than the
    /// start) and task weights `task` (one per feature, finite).
    pub fn new(features: &[(usize, usize)], task: &[f64]) -> Result<Self, (&'static str, String)> {
        let mut cell_index = vec![None; SIDE * SIDE];
        let mut cells = Vec::new();
        for row in 0..SIDE {
            for col in 0..SIDE {
                if !is_wall(row, col) {
                    cell_index[row * SIDE + col] = Some(cells.len());
                    cells.push((row, col));
                }
            }
        }
        let open = |(row, col): (usize, usize)| {
            (row < SIDE && col < SIDE)
                .then(|| cell_index[row * SIDE + col])
                .flatten()
        };
        if features.is_empty() {
            return Err(("features", "features needs at least one cell".into()));
        }
        let mut feature_of = vec![None; cells.len()];
        for (i, &(row, col)) in features.iter().enumerate() {
            let Some(c) = open((row, col)) else {
                return Err((
                    "features",
                    format!("feature cell [{row}, {col}] is a wall or off the 11x11 grid"),
                ));
            };
            if (row, col) == START || feature_of[c].is_some() {
                return Err((
                    "features",
                    format!("feature cell [{row}, {col}] is the start or listed twice"),
                ));
            }
            feature_of[c] = Some(i);
        }
        if task.len() != features.len() || task.iter().any(|w| !w.is_finite()) {
            return Err((
                "task",
                format!(
                    "task needs one finite weight per feature cell ({}), got {task:?}",
                    features.len()
                ),
            ));
        }
        let n_states = cells.len();
        let model = TabularModel::build(n_states, N_ACTIONS, |s, a| {
            let (row, col) = cells[s];
            let (r, c) = match a {
                0 => (row.wrapping_sub(1), col),
                1 => (row, col + 1),
                2 => (row + 1, col),
                _ => (row, col.wrapping_sub(1)),
            };
            let next_state = open((r, c)).unwrap_or(s);
            let feature = feature_of[next_state];
            vec![Transition {
                prob: 1.0,
                next_state,
                reward: feature.map_or(0.0, |i| task[i]),
                terminated: feature.is_some(),
            }]
        });
        let start = open(START).expect("the start is open");
        Ok(Self {
            spec: EnvSpec {
                id: "FourRooms-v0".into(),
                observation_space: Space::Discrete(n_states),
                action_space: Space::Discrete(N_ACTIONS),
                max_episode_steps: None,
                reward_threshold: None,
            },
            cell_index: Arc::new(cell_index),
            cells: Arc::new(cells),
            feature_of: Arc::new(feature_of),
            task: task.to_vec(),
            model: Arc::new(model),
            start,
            s: start,
        })
    }

    /// The default grid: [`DEFAULT_FEATURES`] with task weights all ones.
    pub fn default_task() -> Self {
        Self::new(&DEFAULT_FEATURES, &[1.0; 3]).expect("the default features are valid")
    }

    /// The state number of interior cell (row, col), None for a wall.
    pub fn state_of(&self, row: usize, col: usize) -> Option<usize> {
        self.cell_index[row * SIDE + col]
    }

    /// The (row, col) of state `s`.
    pub fn cell_of(&self, s: usize) -> (usize, usize) {
        self.cells[s]
    }
}

impl RewardFeatures for FourRooms {
    fn n_features(&self) -> usize {
        self.task.len()
    }

    /// One-hot of the feature cell entered (`s` and `a` do not matter).
    fn features(&self, _s: usize, _a: usize, next: usize, phi: &mut [f64]) {
        phi.fill(0.0);
        if let Some(i) = self.feature_of[next] {
            phi[i] = 1.0;
        }
    }

    fn task(&self) -> &[f64] {
        &self.task
    }
}

impl Env for FourRooms {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Deterministic: nothing to draw.
    fn reseed(&mut self, _: u64) {}

    fn reset(&mut self, _: Option<u64>, obs: &mut [f32]) {
        self.s = self.start;
        obs[0] = self.s as f32;
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let Action::Discrete(a) = action else {
            panic!("FourRooms-v0 takes a discrete action, got {action:?}");
        };
        assert!(
            a < N_ACTIONS,
            "FourRooms-v0 has {N_ACTIONS} actions, got {a}"
        );
        let t = self.model.transitions(self.s, a)[0];
        self.s = t.next_state;
        obs[0] = self.s as f32;
        Step {
            reward: t.reward,
            terminated: t.terminated,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        vec![self.s as f64]
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        let s = state[0] as usize;
        assert!(
            s < self.cells.len(),
            "FourRooms-v0 has no state {}",
            state[0]
        );
        self.s = s;
        obs[0] = s as f32;
    }

    fn model(&self) -> Option<&TabularModel> {
        Some(&self.model)
    }

    fn reward_features(&self) -> Option<&dyn RewardFeatures> {
        Some(self)
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: vec![self.s as f64],
            extra: Vec::new(),
            rng: rng::from_seed(0),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.s = snapshot.state[0] as usize;
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shortest path lengths from `start` to every state (breadth-first, through feature cells
    /// as if they did not end the episode).
    fn distances(env: &FourRooms, start: usize) -> Vec<usize> {
        let model = env.model().unwrap();
        let mut dist = vec![usize::MAX; model.n_states];
        dist[start] = 0;
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for a in 0..N_ACTIONS {
                let next = model.transitions(s, a)[0].next_state;
                if dist[next] == usize::MAX {
                    dist[next] = dist[s] + 1;
                    queue.push_back(next);
                }
            }
        }
        dist
    }

    #[test]
    fn layout_has_104_cells_four_rooms_and_connected_hallways() {
        let env = FourRooms::default_task();
        assert_eq!(env.spec().observation_space, Space::Discrete(104));
        let hallways = [(2, 5), (9, 5), (5, 1), (6, 8)];
        assert!(hallways.iter().all(|&(r, c)| env.state_of(r, c).is_some()));
        let dist = distances(&env, env.start);
        assert!(
            dist.iter().all(|&d| d != usize::MAX),
            "every cell reachable"
        );
        let goal = |(r, c)| dist[env.state_of(r, c).unwrap()];
        assert_eq!(DEFAULT_FEATURES.map(goal), [14, 12, 20]);
    }

    #[test]
    fn features_are_one_hot_and_the_reward_is_their_weighted_sum() {
        let env = FourRooms::new(&DEFAULT_FEATURES, &[-1.0, 0.5, 2.0]).unwrap();
        let mut obs = [0.0];
        let mut e = env.clone();
        e.set_state(&[env.state_of(9, 0).unwrap() as f64], &mut obs);
        let s = obs[0] as usize;
        let step = e.step(Action::Discrete(2), &mut obs);
        let next = obs[0] as usize;
        assert_eq!(env.cell_of(next), (10, 0));
        assert_eq!((step.reward, step.terminated), (0.5, true));
        let mut phi = [9.0; 3];
        env.features(s, 2, next, &mut phi);
        assert_eq!(phi, [0.0, 1.0, 0.0]);
        let w = env.task();
        assert_eq!(
            phi.iter().zip(w).map(|(p, w)| p * w).sum::<f64>(),
            step.reward
        );
        env.features(s, 0, s, &mut phi);
        assert_eq!(phi, [0.0; 3]);
    }

    #[test]
    fn walls_and_borders_leave_the_agent_in_place() {
        let mut env = FourRooms::default_task();
        let mut obs = [0.0];
        env.reset(None, &mut obs);
        let start = obs[0] as usize;
        env.step(Action::Discrete(0), &mut obs);
        assert_eq!(obs[0] as usize, start);
        env.set_state(&[env.state_of(0, 4).unwrap() as f64], &mut obs);
        env.step(Action::Discrete(1), &mut obs);
        assert_eq!(env.cell_of(obs[0] as usize), (0, 4));
    }

    #[test]
    fn bad_options_are_refused() {
        let bad = [
            (vec![(0, 5)], vec![1.0]),
            (vec![(0, 0)], vec![1.0]),
            (vec![(1, 1), (1, 1)], vec![1.0, 1.0]),
            (vec![(1, 1)], vec![1.0, 2.0]),
            (vec![(11, 0)], vec![1.0]),
            (vec![], vec![]),
        ];
        for (features, task) in bad {
            assert!(FourRooms::new(&features, &task).is_err(), "{features:?}");
        }
    }
}
