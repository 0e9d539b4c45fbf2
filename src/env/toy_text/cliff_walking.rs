//! CliffWalking: walk along a cliff from the start to the goal; falling costs -100.
//!
//! Reproduces gymnasium 1.1.1 `gymnasium/envs/toy_text/cliffwalking.py` (`CliffWalkingEnv`):
//! the model `P[s][a]` is built in gymnasium's order, and a step samples it with one uniform
//! draw as gymnasium's `categorical_sample` does. Falling into the cliff sends the agent back to
//! the start without ending the episode; gymnasium registers no time limit.

use super::DiscreteEnv;
use crate::env::{EnvSpec, Space, TabularModel, Transition};

const ID: &str = "CliffWalking-v0";
const N_ROWS: usize = 4;
const N_COLS: usize = 12;
const N_STATES: usize = N_ROWS * N_COLS;

/// Actions: 0 = up, 1 = right, 2 = down, 3 = left (not FrozenLake's order).
const N_ACTIONS: usize = 4;
const UP: usize = 0;
const RIGHT: usize = 1;
const DOWN: usize = 2;
const LEFT: usize = 3;

/// The start cell (3, 0).
const START: usize = 3 * N_COLS;
/// The goal cell (3, 11).
const GOAL: usize = N_STATES - 1;

const STEP_REWARD: f64 = -1.0;
const CLIFF_REWARD: f64 = -100.0;
/// The optimal return: 13 steps of -1 along the cliff edge.
const REWARD_THRESHOLD: f64 = -13.0;

impl DiscreteEnv {
    /// `is_slippery`: the intended and both perpendicular directions each with probability 1/3.
    /// CliffWalking-v0.
    pub fn cliff_walking(is_slippery: bool) -> Self {
        let model = TabularModel::build(N_STATES, N_ACTIONS, |s, a| {
            let moves = if is_slippery {
                vec![(a + N_ACTIONS - 1) % N_ACTIONS, a, (a + 1) % N_ACTIONS]
            } else {
                vec![a]
            };
            let prob = 1.0 / moves.len() as f64;
            moves.into_iter().map(|b| outcome(s, b, prob)).collect()
        });
        let spec = EnvSpec {
            id: ID.to_string(),
            observation_space: Space::Discrete(N_STATES),
            action_space: Space::Discrete(N_ACTIONS),
            max_episode_steps: None,
            reward_threshold: Some(REWARD_THRESHOLD),
        };
        DiscreteEnv::new(spec, model, vec![START], None)
    }
}

/// Whether cell (row, col) is part of the cliff: the bottom row between start and goal.
fn is_cliff(row: usize, col: usize) -> bool {
    row == N_ROWS - 1 && (1..N_COLS - 1).contains(&col)
}

/// gymnasium's `POSITION_MAPPING`: the (row, col) step of action `b`.
fn delta(b: usize) -> (isize, isize) {
    match b {
        UP => (-1, 0),
        RIGHT => (0, 1),
        DOWN => (1, 0),
        LEFT => (0, -1),
        _ => unreachable!("CliffWalking has {N_ACTIONS} actions"),
    }
}

/// gymnasium's `_calculate_transition_prob` for one direction `b`: move, clamp at the border,
/// and fall back to the start from the cliff.
fn outcome(s: usize, b: usize, prob: f64) -> Transition {
    let (dr, dc) = delta(b);
    let row = (s / N_COLS).saturating_add_signed(dr).min(N_ROWS - 1);
    let col = (s % N_COLS).saturating_add_signed(dc).min(N_COLS - 1);
    if is_cliff(row, col) {
        Transition {
            prob,
            next_state: START,
            reward: CLIFF_REWARD,
            terminated: false,
        }
    } else {
        let next_state = row * N_COLS + col;
        Transition {
            prob,
            next_state,
            reward: STEP_REWARD,
            terminated: next_state == GOAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    #[test]
    fn probabilities_sum_to_one() {
        for slippery in [false, true] {
            let env = DiscreteEnv::cliff_walking(slippery);
            let model = env.model().unwrap();
            for s in 0..N_STATES {
                for a in 0..N_ACTIONS {
                    let total: f64 = model.transitions(s, a).iter().map(|t| t.prob).sum();
                    assert!((total - 1.0).abs() < 1e-12, "s={s} a={a}: {total}");
                }
            }
        }
    }

    #[test]
    fn cliff_teleports_to_start_without_terminating() {
        let env = DiscreteEnv::cliff_walking(false);
        let model = env.model().unwrap();
        let fall = Transition {
            prob: 1.0,
            next_state: START,
            reward: CLIFF_REWARD,
            terminated: false,
        };
        assert_eq!(model.transitions(START, RIGHT), [fall]);
        // Down from (2, 5) lands in the cliff too.
        assert_eq!(model.transitions(2 * N_COLS + 5, DOWN), [fall]);
        // Down from (2, 11) reaches the goal.
        assert_eq!(
            model.transitions(2 * N_COLS + 11, DOWN),
            [Transition {
                prob: 1.0,
                next_state: GOAL,
                reward: STEP_REWARD,
                terminated: true
            }]
        );
        // Left at the start bumps the wall.
        assert_eq!(model.transitions(START, LEFT)[0].next_state, START);
    }

    #[test]
    fn slippery_lists_three_directions_in_gymnasium_order() {
        let env = DiscreteEnv::cliff_walking(true);
        // Up from the start: left (wall, stays), up (24), right (cliff, back to start).
        let outcomes: Vec<(usize, f64)> = env
            .model()
            .unwrap()
            .transitions(START, UP)
            .iter()
            .map(|t| (t.next_state, t.reward))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (START, STEP_REWARD),
                (24, STEP_REWARD),
                (START, CLIFF_REWARD)
            ]
        );
        assert!(
            env.model()
                .unwrap()
                .transitions(START, UP)
                .iter()
                .all(|t| t.prob == 1.0 / 3.0)
        );
    }

    #[test]
    fn reset_starts_at_the_start() {
        let mut env = DiscreteEnv::cliff_walking(false);
        let mut obs = [0.0];
        env.set_state(&[5.0], &mut obs);
        env.reset(Some(1), &mut obs);
        assert_eq!(
            (obs[0], env.state(), env.info().prob),
            (START as f32, vec![START as f64], Some(1.0))
        );
    }
}
