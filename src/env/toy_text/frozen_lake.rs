//! FrozenLake: cross a frozen lake from `S` to `G` without falling into a hole `H`.
//!
//! Reproduces gymnasium 1.1.1 `gymnasium/envs/toy_text/frozen_lake.py` (`FrozenLakeEnv`):
//! the model `P[s][a]` is built in gymnasium's order, and a step samples it with one uniform
//! draw as gymnasium's `categorical_sample` does.

use super::DiscreteEnv;
use crate::env::{EnvSpec, Space, TabularModel, Transition};

/// gymnasium's `MAPS["4x4"]`.
const MAP_4X4: &[&str] = &["SFFF", "FHFH", "FFFH", "HFFG"];

/// gymnasium's `MAPS["8x8"]`.
const MAP_8X8: &[&str] = &[
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG",
];

/// Actions: 0 = left, 1 = down, 2 = right, 3 = up.
const N_ACTIONS: usize = 4;
const LEFT: usize = 0;
const DOWN: usize = 1;
const RIGHT: usize = 2;
const UP: usize = 3;

/// Probability of each of the three directions a slippery move can take.
const SLIP_PROB: f64 = 1.0 / 3.0;

/// The id registered with the 8x8 map and its longer time limit.
const ID_8X8: &str = "FrozenLake8x8-v1";
const MAX_STEPS_4X4: u32 = 100;
const MAX_STEPS_8X8: u32 = 200;
const REWARD_THRESHOLD_4X4: f64 = 0.70;
const REWARD_THRESHOLD_8X8: f64 = 0.85;

/// gymnasium's named FrozenLake maps: `"4x4"` and `"8x8"`.
pub fn named_map(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "4x4" => Some(MAP_4X4),
        "8x8" => Some(MAP_8X8),
        _ => None,
    }
}

impl DiscreteEnv {
    /// Builds the env `id` on the map `desc` (rows of `S`, `F`, `H`, `G`).
    pub fn frozen_lake(id: &str, desc: &[String], is_slippery: bool) -> Result<Self, String> {
        let grid = parse_map(desc)?;
        let (nrow, ncol) = (grid.len(), grid[0].len());
        let start = grid
            .concat()
            .iter()
            .position(|&c| c == b'S')
            .expect("validated: one S");
        let model = TabularModel::build(nrow * ncol, N_ACTIONS, |s, a| {
            let (row, col) = (s / ncol, s % ncol);
            if matches!(grid[row][col], b'G' | b'H') {
                return vec![Transition {
                    prob: 1.0,
                    next_state: s,
                    reward: 0.0,
                    terminated: true,
                }];
            }
            let moves = if is_slippery {
                vec![(a + N_ACTIONS - 1) % N_ACTIONS, a, (a + 1) % N_ACTIONS]
            } else {
                vec![a]
            };
            let prob = if is_slippery { SLIP_PROB } else { 1.0 };
            moves
                .into_iter()
                .map(|b| {
                    let (r, c) = inc(row, col, b, nrow, ncol);
                    let letter = grid[r][c];
                    Transition {
                        prob,
                        next_state: r * ncol + c,
                        reward: if letter == b'G' { 1.0 } else { 0.0 },
                        terminated: matches!(letter, b'G' | b'H'),
                    }
                })
                .collect()
        });
        let (max_episode_steps, reward_threshold) = if id == ID_8X8 {
            (MAX_STEPS_8X8, REWARD_THRESHOLD_8X8)
        } else {
            (MAX_STEPS_4X4, REWARD_THRESHOLD_4X4)
        };
        let spec = EnvSpec {
            id: id.to_string(),
            observation_space: Space::Discrete(nrow * ncol),
            action_space: Space::Discrete(N_ACTIONS),
            max_episode_steps: Some(max_episode_steps),
            reward_threshold: Some(reward_threshold),
        };
        Ok(DiscreteEnv::new(spec, model, vec![start], None))
    }
}

/// Checks that `desc` is a non-empty rectangle of `S`, `F`, `H`, `G` with exactly one `S` and
/// at least one `G`, and returns its rows as bytes.
fn parse_map(desc: &[String]) -> Result<Vec<&[u8]>, String> {
    let Some(first) = desc.first() else {
        return Err("FrozenLake map is empty".to_string());
    };
    if first.is_empty() {
        return Err("FrozenLake map has an empty first row".to_string());
    }
    for (i, row) in desc.iter().enumerate() {
        if row.len() != first.len() {
            return Err(format!(
                "FrozenLake map is not rectangular: row {i} `{row}` has length {}, row 0 has {}",
                row.len(),
                first.len()
            ));
        }
        if let Some(bad) = row.chars().find(|c| !matches!(c, 'S' | 'F' | 'H' | 'G')) {
            return Err(format!(
                "FrozenLake map row {i} `{row}` contains `{bad}`; allowed: S, F, H, G"
            ));
        }
    }
    let count = |letter: char| {
        desc.iter()
            .flat_map(|row| row.chars())
            .filter(|&c| c == letter)
            .count()
    };
    match count('S') {
        1 => {}
        n => {
            return Err(format!(
                "FrozenLake map needs exactly one start `S`, found {n}"
            ));
        }
    }
    if count('G') == 0 {
        return Err("FrozenLake map needs at least one goal `G`".to_string());
    }
    Ok(desc.iter().map(|row| row.as_bytes()).collect())
}

/// gymnasium's `inc`: the cell reached by moving in direction `a`, clamped at the border.
fn inc(row: usize, col: usize, a: usize, nrow: usize, ncol: usize) -> (usize, usize) {
    match a {
        LEFT => (row, col.saturating_sub(1)),
        DOWN => ((row + 1).min(nrow - 1), col),
        RIGHT => (row, (col + 1).min(ncol - 1)),
        UP => (row.saturating_sub(1), col),
        _ => unreachable!("FrozenLake has {N_ACTIONS} actions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Env};

    fn lake(name: &str, is_slippery: bool) -> DiscreteEnv {
        let desc: Vec<String> = named_map(name)
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        DiscreteEnv::frozen_lake("FrozenLake-v1", &desc, is_slippery).unwrap()
    }

    #[test]
    fn probabilities_sum_to_one() {
        for name in ["4x4", "8x8"] {
            for slippery in [false, true] {
                let env = lake(name, slippery);
                let model = env.model().unwrap();
                for s in 0..model.n_states {
                    for a in 0..model.n_actions {
                        let total: f64 = model.transitions(s, a).iter().map(|t| t.prob).sum();
                        assert!((total - 1.0).abs() < 1e-12, "{name} s={s} a={a}: {total}");
                    }
                }
            }
        }
    }

    #[test]
    fn slippery_outcomes_follow_gymnasium_order() {
        let env = lake("4x4", true);
        // Down (1) from the start: left (0) bumps the wall, down reaches 4, right reaches 1.
        let outcomes: Vec<(usize, f64)> = env
            .model()
            .unwrap()
            .transitions(0, DOWN)
            .iter()
            .map(|t| (t.next_state, t.prob))
            .collect();
        assert_eq!(
            outcomes,
            vec![(0, SLIP_PROB), (4, SLIP_PROB), (1, SLIP_PROB)]
        );
    }

    #[test]
    fn holes_and_goal_terminate_and_absorb() {
        let env = lake("4x4", false);
        let model = env.model().unwrap();
        // Right from 4 falls into the hole at 5: reward 0, terminated.
        assert_eq!(
            model.transitions(4, RIGHT),
            [Transition {
                prob: 1.0,
                next_state: 5,
                reward: 0.0,
                terminated: true
            }]
        );
        // Right from 14 reaches the goal 15: reward 1.
        assert_eq!(
            model.transitions(14, RIGHT),
            [Transition {
                prob: 1.0,
                next_state: 15,
                reward: 1.0,
                terminated: true
            }]
        );
        // From the goal any action stays put with reward 0.
        assert_eq!(
            model.transitions(15, LEFT),
            [Transition {
                prob: 1.0,
                next_state: 15,
                reward: 0.0,
                terminated: true
            }]
        );
    }

    #[test]
    fn step_and_reset_report_gymnasium_info() {
        let mut env = lake("4x4", false);
        let mut obs = [0.0];
        env.reset(Some(3), &mut obs);
        assert_eq!((obs[0], env.info().prob), (0.0, Some(1.0)));
        let step = env.step(Action::Discrete(RIGHT), &mut obs);
        assert_eq!((obs[0], step.reward, step.terminated), (1.0, 0.0, false));
        assert_eq!(env.state(), vec![1.0]);
    }

    #[test]
    fn invalid_maps_are_rejected() {
        let map = |rows: &[&str]| rows.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let err = |rows: &[&str]| {
            DiscreteEnv::frozen_lake("FrozenLake-v1", &map(rows), true)
                .err()
                .unwrap()
        };
        assert!(err(&[]).contains("empty"));
        assert!(err(&["SF", "FFG"]).contains("rectangular"));
        assert!(err(&["SX", "FG"]).contains("`X`"));
        assert!(err(&["SS", "FG"]).contains("exactly one start"));
        assert!(err(&["FF", "FG"]).contains("exactly one start"));
        assert!(err(&["SF", "FH"]).contains("goal"));
    }
}
