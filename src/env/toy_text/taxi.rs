//! Taxi: drive to the passenger, pick them up and drop them off at their destination.
//!
//! Reproduces gymnasium 1.1.1 `gymnasium/envs/toy_text/taxi.py` (`TaxiEnv`, registered as
//! `Taxi-v3`): the model `P[s][a]`, `initial_state_distrib`, `encode`/`decode` and
//! `action_mask` follow gymnasium's code, and a step samples the model with one uniform draw as
//! gymnasium's `categorical_sample` does.

use super::DiscreteEnv;
use crate::env::{EnvSpec, Space, TabularModel, Transition};

const ID: &str = "Taxi-v3";

/// gymnasium's `MAP`: cell (row, col) is at line `1 + row`, character `2 * col + 1`;
/// `|` between cells is a wall, `:` is open.
const MAP: [&[u8]; 7] = [
    b"+---------+",
    b"|R: | : :G|",
    b"| : | : : |",
    b"| : : : : |",
    b"| | : | : |",
    b"|Y| : |B: |",
    b"+---------+",
];

const N_ROWS: usize = 5;
const N_COLS: usize = 5;
/// The four depots R, G, Y, B as (row, col); indices 0..3.
const DEPOTS: [(usize, usize); 4] = [(0, 0), (0, 4), (4, 0), (4, 3)];
/// Passenger locations: a depot index 0..3, or `IN_TAXI`.
const N_PASSENGER_LOCS: usize = DEPOTS.len() + 1;
const IN_TAXI: usize = DEPOTS.len();
const N_STATES: usize = N_ROWS * N_COLS * N_PASSENGER_LOCS * DEPOTS.len();

/// Actions: 0 = south, 1 = north, 2 = east, 3 = west, 4 = pickup, 5 = drop-off.
const N_ACTIONS: usize = 6;
const SOUTH: usize = 0;
const NORTH: usize = 1;
const EAST: usize = 2;
const WEST: usize = 3;
const PICKUP: usize = 4;
const DROPOFF: usize = 5;

const STEP_REWARD: f64 = -1.0;
const ILLEGAL_REWARD: f64 = -10.0;
const DELIVERY_REWARD: f64 = 20.0;

const MAX_EPISODE_STEPS: u32 = 200;
const REWARD_THRESHOLD: f64 = 8.0;

impl DiscreteEnv {
    /// Taxi-v3 on gymnasium's map (`reset` draws the start state).
    pub fn taxi() -> Self {
        let model = TabularModel::build(N_STATES, N_ACTIONS, |s, a| vec![transition(s, a)]);
        let start_states: Vec<usize> = (0..N_STATES)
            .filter(|&s| {
                let (_, _, passenger, destination) = decode(s);
                passenger != IN_TAXI && passenger != destination
            })
            .collect();
        let spec = EnvSpec {
            id: ID.to_string(),
            observation_space: Space::Discrete(N_STATES),
            action_space: Space::Discrete(N_ACTIONS),
            max_episode_steps: Some(MAX_EPISODE_STEPS),
            reward_threshold: Some(REWARD_THRESHOLD),
        };
        DiscreteEnv::new(spec, model, start_states, Some(action_mask))
    }
}

/// gymnasium's `encode`: `((row * 5 + col) * 5 + passenger) * 4 + destination`.
fn encode(row: usize, col: usize, passenger: usize, destination: usize) -> usize {
    ((row * N_COLS + col) * N_PASSENGER_LOCS + passenger) * DEPOTS.len() + destination
}

/// gymnasium's `decode`: `(row, col, passenger, destination)`.
fn decode(s: usize) -> (usize, usize, usize, usize) {
    let destination = s % DEPOTS.len();
    let s = s / DEPOTS.len();
    let passenger = s % N_PASSENGER_LOCS;
    let s = s / N_PASSENGER_LOCS;
    (s / N_COLS, s % N_COLS, passenger, destination)
}

/// Whether the map has no wall east of cell (row, col).
fn east_open(row: usize, col: usize) -> bool {
    MAP[1 + row][2 * col + 2] == b':'
}

/// Whether the map has no wall west of cell (row, col).
fn west_open(row: usize, col: usize) -> bool {
    MAP[1 + row][2 * col] == b':'
}

/// The single outcome of action `a` in state `s`, as gymnasium's constructor computes it.
fn transition(s: usize, a: usize) -> Transition {
    let (row, col, passenger, destination) = decode(s);
    let taxi = (row, col);
    let (mut new_row, mut new_col, mut new_passenger) = (row, col, passenger);
    let mut reward = STEP_REWARD;
    let mut terminated = false;
    match a {
        SOUTH => new_row = (row + 1).min(N_ROWS - 1),
        NORTH => new_row = row.saturating_sub(1),
        EAST if east_open(row, col) => new_col = (col + 1).min(N_COLS - 1),
        WEST if west_open(row, col) => new_col = col.saturating_sub(1),
        EAST | WEST => {}
        PICKUP => {
            if passenger != IN_TAXI && taxi == DEPOTS[passenger] {
                new_passenger = IN_TAXI;
            } else {
                reward = ILLEGAL_REWARD;
            }
        }
        DROPOFF => {
            if passenger == IN_TAXI && taxi == DEPOTS[destination] {
                new_passenger = destination;
                terminated = true;
                reward = DELIVERY_REWARD;
            } else if let Some(depot) = DEPOTS.iter().position(|&d| d == taxi)
                && passenger == IN_TAXI
            {
                new_passenger = depot;
            } else {
                reward = ILLEGAL_REWARD;
            }
        }
        _ => unreachable!("Taxi has {N_ACTIONS} actions"),
    }
    let next_state = encode(new_row, new_col, new_passenger, destination);
    Transition {
        prob: 1.0,
        next_state,
        reward,
        terminated,
    }
}

/// gymnasium's `action_mask`: 1 for each action that changes the state.
fn action_mask(s: usize) -> Vec<i8> {
    let (row, col, passenger, _) = decode(s);
    let taxi = (row, col);
    let allowed = [
        row < N_ROWS - 1,
        row > 0,
        col < N_COLS - 1 && east_open(row, col),
        col > 0 && west_open(row, col),
        passenger != IN_TAXI && taxi == DEPOTS[passenger],
        passenger == IN_TAXI && DEPOTS.contains(&taxi),
    ];
    allowed.iter().map(|&ok| i8::from(ok)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::env::Env;

    fn only(s: usize, a: usize) -> Transition {
        let env = DiscreteEnv::taxi();
        let outcomes = env.model().unwrap().transitions(s, a);
        assert_eq!(outcomes.len(), 1);
        outcomes[0]
    }

    #[test]
    fn probabilities_sum_to_one() {
        let env = DiscreteEnv::taxi();
        let model = env.model().unwrap();
        for s in 0..N_STATES {
            for a in 0..N_ACTIONS {
                let total: f64 = model.transitions(s, a).iter().map(|t| t.prob).sum();
                assert_eq!(total, 1.0, "s={s} a={a}");
            }
        }
    }

    #[test]
    fn encode_and_decode_are_inverse() {
        for s in 0..N_STATES {
            let (r, c, p, d) = decode(s);
            assert_eq!(encode(r, c, p, d), s);
        }
        // The first fixture trajectory's start: row 3, col 0, passenger at Y, destination G.
        assert_eq!(decode(313), (3, 0, 3, 1));
    }

    #[test]
    fn illegal_pickup_and_dropoff_cost_ten() {
        // Taxi at (1, 1), passenger waiting at R, destination G.
        let s = encode(1, 1, 0, 1);
        assert_eq!(
            only(s, PICKUP),
            Transition {
                prob: 1.0,
                next_state: s,
                reward: -10.0,
                terminated: false
            }
        );
        assert_eq!(
            only(s, DROPOFF),
            Transition {
                prob: 1.0,
                next_state: s,
                reward: -10.0,
                terminated: false
            }
        );
        // Passenger in the taxi, but the taxi is not on a depot.
        let aboard = encode(1, 1, IN_TAXI, 1);
        assert_eq!(only(aboard, DROPOFF).reward, -10.0);
    }

    #[test]
    fn pickup_and_delivery() {
        let waiting = encode(0, 0, 0, 1);
        assert_eq!(
            only(waiting, PICKUP),
            Transition {
                prob: 1.0,
                next_state: encode(0, 0, IN_TAXI, 1),
                reward: -1.0,
                terminated: false
            }
        );
        assert_eq!(
            only(encode(0, 4, IN_TAXI, 1), DROPOFF),
            Transition {
                prob: 1.0,
                next_state: encode(0, 4, 1, 1),
                reward: 20.0,
                terminated: true
            }
        );
    }

    #[test]
    fn dropoff_at_wrong_depot_leaves_passenger_there() {
        // At Y (depot 2) with the passenger aboard, destination B (3).
        assert_eq!(
            only(encode(4, 0, IN_TAXI, 3), DROPOFF),
            Transition {
                prob: 1.0,
                next_state: encode(4, 0, 2, 3),
                reward: -1.0,
                terminated: false
            }
        );
    }

    #[test]
    fn walls_block_moves() {
        // East from (0, 1) hits the wall `|` after it; west from (0, 2) hits the same wall.
        let s = encode(0, 1, 0, 1);
        assert_eq!(
            only(s, EAST),
            Transition {
                prob: 1.0,
                next_state: s,
                reward: -1.0,
                terminated: false
            }
        );
        assert_eq!(
            only(encode(0, 2, 0, 1), WEST).next_state,
            encode(0, 2, 0, 1)
        );
        // East from (0, 0) is open; north at row 0 stays put.
        assert_eq!(
            only(encode(0, 0, 0, 1), EAST).next_state,
            encode(0, 1, 0, 1)
        );
        assert_eq!(only(s, NORTH).next_state, s);
        assert_eq!(action_mask(s), vec![1, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn action_mask_marks_pickup_and_any_depot_dropoff() {
        assert_eq!(action_mask(encode(0, 0, 0, 1)), vec![1, 0, 1, 0, 1, 0]);
        assert_eq!(
            action_mask(encode(4, 3, IN_TAXI, 0)),
            vec![0, 1, 1, 0, 0, 1]
        );
    }

    #[test]
    fn reset_covers_exactly_the_300_start_states() {
        let env = DiscreteEnv::taxi();
        assert_eq!(env.initial_states().len(), 300);
        let mut env = env;
        let mut obs = [0.0];
        env.reset(Some(7), &mut obs);
        let mut seen = BTreeSet::new();
        for _ in 0..20_000 {
            env.reset(None, &mut obs);
            seen.insert(obs[0] as usize);
            assert_eq!(env.info().prob, Some(1.0));
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            env.initial_states().to_vec()
        );
    }
}
