//! The gridworld mazes of Sutton & Barto (2nd ed.) chapter 8, rl's own (not gymnasium):
//! - `DynaMaze-v0`: Figure 8.2's 6×9 maze, start S at (2, 0), goal G at (0, 8), seven wall cells;
//!   the shortest path takes 14 steps.
//! - `BlockingMaze-v0` (Example 8.2, Figure 8.4): a wall across row 3 with a gap on the right;
//!   after 1000 env steps the gap moves to the left end and the learned path is blocked.
//! - `ShortcutMaze-v0` (Example 8.3, Figure 8.5): a wall across row 3 with a gap on the left;
//!   after 3000 env steps a shortcut opens on the right end.
//!
//! Four deterministic moves; a move into a wall or off the grid leaves the agent in place. The
//! reward is 1 on reaching the goal (the episode terminates) and 0 otherwise; no time limit. The
//! changing mazes count the env steps since construction, across episodes (as in the book, the
//! walls change after a number of time steps of the whole run); the count is part of the state
//! a snapshot keeps. Cells are numbered row-major from the top-left, the observation is the cell.

use std::sync::Arc;

use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Step, TabularModel, Transition};
use crate::rng;
use crate::space::Space;

const N_ROWS: usize = 6;
const N_COLS: usize = 9;
const N_STATES: usize = N_ROWS * N_COLS;

/// Actions: 0 = up, 1 = right, 2 = down, 3 = left (CliffWalking's order).
const N_ACTIONS: usize = 4;

/// The goal cell (0, 8) of all three mazes.
const GOAL: usize = cell(0, N_COLS - 1);
/// The goal reward.
const GOAL_REWARD: f64 = 1.0;

/// A maze of chapter 8: its walls, and for the changing mazes the walls after `change_at` steps.
#[derive(Clone)]
pub struct Maze {
    spec: EnvSpec,
    start: usize,
    /// The model before the change (the only one for DynaMaze).
    before: Arc<TabularModel>,
    /// The env step after which the walls change, and the model from then on.
    change: Option<(u64, Arc<TabularModel>)>,
    s: usize,
    /// Env steps since construction (not reset by `reset`).
    steps: u64,
}

/// Cell index of (row, col).
const fn cell(row: usize, col: usize) -> usize {
    row * N_COLS + col
}

/// The wall cells of row 3 from column `from` to `to` (exclusive).
fn wall_row(from: usize, to: usize) -> Vec<usize> {
    (from..to).map(|col| cell(3, col)).collect()
}

impl Maze {
    /// Figure 8.2's Dyna Maze.
    pub fn dyna_maze() -> Self {
        let walls =
            [(1, 2), (2, 2), (3, 2), (4, 5), (0, 7), (1, 7), (2, 7)].map(|(r, c)| cell(r, c));
        Self::new("DynaMaze-v0", cell(2, 0), &walls, None)
    }

    /// Example 8.2's blocking maze: the gap at the right end moves to the left end after
    /// `change_at` steps (the book: 1000).
    pub fn blocking_maze(change_at: u64) -> Self {
        Self::new(
            "BlockingMaze-v0",
            cell(5, 3),
            &wall_row(0, N_COLS - 1),
            Some((change_at, wall_row(1, N_COLS))),
        )
    }

    /// Example 8.3's shortcut maze: a gap opens at the right end after `change_at` steps
    /// (the book: 3000).
    pub fn shortcut_maze(change_at: u64) -> Self {
        Self::new(
            "ShortcutMaze-v0",
            cell(5, 3),
            &wall_row(1, N_COLS),
            Some((change_at, wall_row(1, N_COLS - 1))),
        )
    }

    fn new(id: &str, start: usize, walls: &[usize], change: Option<(u64, Vec<usize>)>) -> Self {
        let spec = EnvSpec {
            id: id.to_string(),
            observation_space: Space::Discrete(N_STATES),
            action_space: Space::Discrete(N_ACTIONS),
            max_episode_steps: None,
            reward_threshold: Some(GOAL_REWARD),
        };
        Self {
            spec,
            start,
            before: Arc::new(model(walls)),
            change: change.map(|(at, walls)| (at, Arc::new(model(&walls)))),
            s: start,
            steps: 0,
        }
    }

    /// The model in force now.
    fn current(&self) -> &TabularModel {
        match &self.change {
            Some((at, after)) if self.steps >= *at => after,
            _ => &self.before,
        }
    }
}

/// The deterministic model of a maze with `walls`.
fn model(walls: &[usize]) -> TabularModel {
    TabularModel::build(N_STATES, N_ACTIONS, |s, a| {
        let (row, col) = (s / N_COLS, s % N_COLS);
        let (row, col) = match a {
            0 => (row.saturating_sub(1), col),
            1 => (row, (col + 1).min(N_COLS - 1)),
            2 => ((row + 1).min(N_ROWS - 1), col),
            _ => (row, col.saturating_sub(1)),
        };
        let moved = cell(row, col);
        let next_state = if walls.contains(&moved) { s } else { moved };
        vec![Transition {
            prob: 1.0,
            next_state,
            reward: if next_state == GOAL { GOAL_REWARD } else { 0.0 },
            terminated: next_state == GOAL,
        }]
    })
}

impl Env for Maze {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// The mazes draw nothing.
    fn reseed(&mut self, _: u64) {}

    fn reset(&mut self, _: Option<u64>, obs: &mut [f32]) {
        self.s = self.start;
        obs[0] = self.s as f32;
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let Action::Discrete(a) = action else {
            panic!("{} takes a discrete action, got {action:?}", self.spec.id);
        };
        assert!(
            a < N_ACTIONS,
            "{} has {N_ACTIONS} actions, got {a}",
            self.spec.id
        );
        let t = self.current().transitions(self.s, a)[0];
        self.steps += 1;
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
        assert!(s < N_STATES, "{} has no state {}", self.spec.id, state[0]);
        self.s = s;
        obs[0] = s as f32;
    }

    /// The walls in force now (they change with the step count in the changing mazes).
    fn model(&self) -> Option<&TabularModel> {
        Some(self.current())
    }

    /// `extra` = [env steps since construction].
    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: vec![self.s as f64],
            extra: vec![self.steps as f64],
            rng: rng::from_seed(0),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.s = snapshot.state[0] as usize;
        self.steps = snapshot.extra[0] as u64;
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shortest path lengths from the start by breadth-first search on `model`.
    fn shortest_path(model: &TabularModel, start: usize) -> Option<usize> {
        let mut dist = vec![usize::MAX; N_STATES];
        dist[start] = 0;
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            if s == GOAL {
                return Some(dist[s]);
            }
            for a in 0..N_ACTIONS {
                let next = model.transitions(s, a)[0].next_state;
                if dist[next] == usize::MAX {
                    dist[next] = dist[s] + 1;
                    queue.push_back(next);
                }
            }
        }
        None
    }

    #[test]
    fn dyna_maze_shortest_path_is_14_steps() {
        let maze = Maze::dyna_maze();
        assert_eq!(shortest_path(maze.model().unwrap(), maze.start), Some(14));
    }

    #[test]
    fn walls_and_borders_leave_the_agent_in_place() {
        let mut maze = Maze::dyna_maze();
        let mut obs = [0.0];
        maze.reset(None, &mut obs);
        assert_eq!(obs[0] as usize, cell(2, 0));
        // Left off the grid, then right into (2, 1), then right into the wall at (2, 2).
        for (a, expected) in [(3, cell(2, 0)), (1, cell(2, 1)), (1, cell(2, 1))] {
            let step = maze.step(Action::Discrete(a), &mut obs);
            assert_eq!((obs[0] as usize, step.reward), (expected, 0.0));
        }
    }

    #[test]
    fn reaching_the_goal_pays_one_and_terminates() {
        let mut maze = Maze::dyna_maze();
        let mut obs = [0.0];
        maze.set_state(&[cell(1, 8) as f64], &mut obs);
        let step = maze.step(Action::Discrete(0), &mut obs);
        assert_eq!(
            (obs[0] as usize, step.reward, step.terminated),
            (GOAL, 1.0, true)
        );
    }

    /// Blocking maze: the 10-step path through the gap at column 8 is blocked after the change
    /// and the new one through column 0 takes 16; the shortcut maze's 16-step path shortens to
    /// 10 when the gap at column 8 opens.
    #[test]
    fn changing_mazes_switch_walls_after_their_step_count() {
        let mut blocking = Maze::blocking_maze(3);
        let before = shortest_path(blocking.model().unwrap(), blocking.start);
        let mut obs = [0.0];
        blocking.reset(None, &mut obs);
        for _ in 0..3 {
            blocking.step(Action::Discrete(3), &mut obs);
        }
        blocking.reset(None, &mut obs);
        let after = shortest_path(blocking.model().unwrap(), blocking.start);
        assert_eq!((before, after), (Some(10), Some(16)));

        let mut shortcut = Maze::shortcut_maze(1);
        let before = shortest_path(shortcut.model().unwrap(), shortcut.start);
        shortcut.step(Action::Discrete(0), &mut obs);
        let after = shortest_path(shortcut.model().unwrap(), shortcut.start);
        assert_eq!((before, after), (Some(16), Some(10)));
    }

    #[test]
    fn snapshot_keeps_the_step_count() {
        let mut maze = Maze::blocking_maze(2);
        let mut obs = [0.0];
        maze.reset(None, &mut obs);
        maze.step(Action::Discrete(1), &mut obs);
        let snapshot = maze.snapshot();
        let mut copy = Maze::blocking_maze(2);
        copy.restore(&snapshot);
        maze.step(Action::Discrete(1), &mut obs);
        copy.step(Action::Discrete(1), &mut obs);
        assert_eq!(maze.snapshot(), copy.snapshot());
        let after: &TabularModel = &copy.change.as_ref().unwrap().1;
        assert!(std::ptr::eq(copy.current(), after));
    }
}
