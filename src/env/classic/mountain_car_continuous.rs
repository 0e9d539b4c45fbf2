//! MountainCarContinuous-v0: MountainCar with a continuous force and an energy penalty.
//!
//! gymnasium 1.1.1 `classic_control/continuous_mountain_car.py`; see the MountainCarContinuous
//! section of `shared/fixtures/gymnasium/ENV_SPEC.md`. `reset()` produces a float64 state, and
//! every step stores the state as float32, so the first step after a reset runs in float64 and
//! later steps in float32 (numpy 2 rounds the Python-float constants to float32 there).

use super::uniform;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

const MIN_ACTION: f32 = -1.0;
const MAX_ACTION: f32 = 1.0;
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const GOAL_VELOCITY: f64 = 0.0;
const POWER: f64 = 0.0015;
const GRAVITY: f64 = 0.0025;
/// Reward for reaching the goal.
const GOAL_REWARD: f64 = 100.0;
/// Weight of the squared (unclipped) action in the reward.
const ACTION_COST: f64 = 0.1;
/// Reset draws the position from `U(RESET_LOW, RESET_HIGH)`; the velocity starts at 0.
const RESET_LOW: f64 = -0.6;
const RESET_HIGH: f64 = -0.4;

/// `[position, velocity]` in the precision gymnasium holds it in.
#[derive(Clone, Copy, Debug)]
enum State {
    /// As `reset()` (or `set_state`) produced it.
    F64([f64; 2]),
    /// After any step.
    F32([f32; 2]),
}

/// gymnasium's `MountainCarContinuous-v0`. The force is the action clipped to [-1, 1]; reward is
/// 100 on reaching the goal minus `0.1 a²` of the unclipped action.
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    spec: EnvSpec,
    rng: Rng,
    state: State,
}

impl MountainCarContinuous {
    pub fn new() -> Self {
        let spec = EnvSpec {
            id: "MountainCarContinuous-v0".into(),
            observation_space: Space::Box {
                low: vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                high: vec![MAX_POSITION as f32, MAX_SPEED as f32],
            },
            action_space: Space::Box {
                low: vec![MIN_ACTION],
                high: vec![MAX_ACTION],
            },
            max_episode_steps: Some(999),
            reward_threshold: Some(90.0),
        };
        Self {
            spec,
            rng: rng::from_seed(0),
            state: State::F64([0.0; 2]),
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        obs.copy_from_slice(&match self.state {
            State::F64(s) => s.map(|x| x as f32),
            State::F32(s) => s,
        });
    }
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

/// `force * power - gravity * cos(3 p)` in gymnasium's precision, given `cos(3 p)`.
///
/// Inside [-1, 1] the force is the float32 action, so the whole increment is float32 (each
/// Python-float operand rounded to float32). Outside, the force is the Python float ±1.0 and
/// the increment is float64.
fn velocity_increment(action: f32, cos_3p: f64) -> f64 {
    let gravity_term = GRAVITY * cos_3p;
    if action > MAX_ACTION {
        f64::from(MAX_ACTION) * POWER - gravity_term
    } else if action < MIN_ACTION {
        f64::from(MIN_ACTION) * POWER - gravity_term
    } else {
        f64::from(action * POWER as f32 - gravity_term as f32)
    }
}

impl Env for MountainCarContinuous {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        self.state = State::F64([uniform(&mut self.rng, RESET_LOW, RESET_HIGH), 0.0]);
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let action = match action {
            Action::Continuous(&[a]) => a,
            other => panic!(
                "MountainCarContinuous-v0 takes a one-element Action::Continuous, got {other:?}"
            ),
        };
        let (next, terminated) = match self.state {
            State::F64([position, velocity]) => {
                let inc = velocity_increment(action, (3.0 * position).cos());
                let mut velocity = (velocity + inc).clamp(-MAX_SPEED, MAX_SPEED);
                let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
                if position == MIN_POSITION && velocity < 0.0 {
                    velocity = 0.0;
                }
                let terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
                ([position as f32, velocity as f32], terminated)
            }
            State::F32([position, velocity]) => {
                // `3 p` is a float32 product; `math.cos` then works in float64.
                let inc = velocity_increment(action, f64::from(3.0 * position).cos());
                let max_speed = MAX_SPEED as f32;
                let mut velocity = (velocity + inc as f32).clamp(-max_speed, max_speed);
                let position =
                    (position + velocity).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
                if position == MIN_POSITION as f32 && velocity < 0.0 {
                    velocity = 0.0;
                }
                let terminated =
                    position >= GOAL_POSITION as f32 && velocity >= GOAL_VELOCITY as f32;
                ([position, velocity], terminated)
            }
        };
        self.state = State::F32(next);
        let goal = if terminated { GOAL_REWARD } else { 0.0 };
        // The square of a float32 value is exact in float64 (`math.pow(a, 2)` agrees).
        let reward = goal - f64::from(action) * f64::from(action) * ACTION_COST;
        self.write_obs(obs);
        Step {
            reward,
            terminated,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        match self.state {
            State::F64(s) => s.to_vec(),
            State::F32(s) => s.map(f64::from).to_vec(),
        }
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        let state = state
            .try_into()
            .expect("MountainCarContinuous-v0 state is [position, velocity]");
        self.state = State::F64(state);
        self.write_obs(obs);
    }

    /// `extra` = [1] once the state is float32 (after a step), [] before.
    fn snapshot(&self) -> EnvSnapshot {
        let extra = match self.state {
            State::F64(_) => Vec::new(),
            State::F32(_) => vec![1.0],
        };
        EnvSnapshot {
            state: self.state(),
            extra,
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        let [p, v] = snapshot.state[..] else {
            panic!("a snapshot of this env: [position, velocity]")
        };
        self.state = if snapshot.extra.is_empty() {
            State::F64([p, v])
        } else {
            State::F32([p as f32, v as f32])
        };
        self.rng = snapshot.rng.clone();
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_uses_the_unclipped_action() {
        let mut env = MountainCarContinuous::new();
        let mut obs = [0.0; 2];
        env.set_state(&[-0.5, 0.0], &mut obs);
        let big = env.step(Action::Continuous(&[-2.0]), &mut obs);
        assert_eq!(big.reward, -0.4);
        let after_big = env.state();
        env.set_state(&[-0.5, 0.0], &mut obs);
        env.step(Action::Continuous(&[-1.0]), &mut obs);
        // Same dynamics (up to float32 vs float64 increment), different penalty.
        assert!((env.state()[1] - after_big[1]).abs() < 1e-9);
    }

    #[test]
    fn state_is_float32_after_a_step() {
        let mut env = MountainCarContinuous::new();
        let mut obs = [0.0; 2];
        env.set_state(&[-0.5, 0.01], &mut obs);
        env.step(Action::Continuous(&[0.3]), &mut obs);
        assert_eq!(env.state(), obs.map(f64::from).to_vec());
    }

    #[test]
    fn left_wall_stops_the_car() {
        let mut env = MountainCarContinuous::new();
        let mut obs = [0.0; 2];
        env.set_state(&[-1.19, -0.05], &mut obs);
        env.step(Action::Continuous(&[-1.0]), &mut obs);
        assert_eq!(obs, [MIN_POSITION as f32, 0.0]);
        // Again from a float32 state: the first step stays clear of the wall, the second hits it.
        env.set_state(&[-1.1, -0.06], &mut obs);
        env.step(Action::Continuous(&[-1.0]), &mut obs);
        assert!(obs[0] > MIN_POSITION as f32);
        env.step(Action::Continuous(&[-1.0]), &mut obs);
        assert_eq!(obs, [MIN_POSITION as f32, 0.0]);
    }

    #[test]
    fn goal_earns_100_on_top_of_the_penalty() {
        let mut env = MountainCarContinuous::new();
        let mut obs = [0.0; 2];
        env.set_state(&[0.44, 0.05], &mut obs);
        let step = env.step(Action::Continuous(&[0.5]), &mut obs);
        assert!(step.terminated);
        assert_eq!(step.reward, GOAL_REWARD - 0.25 * ACTION_COST);
    }

    #[test]
    fn reset_is_bounded_and_reproducible() {
        let mut env = MountainCarContinuous::new();
        let (mut a, mut b) = ([0.0; 2], [0.0; 2]);
        for seed in 0..20 {
            env.reset(Some(seed), &mut a);
            let [position, velocity] = env.state()[..] else {
                unreachable!()
            };
            assert!((RESET_LOW..RESET_HIGH).contains(&position) && velocity == 0.0);
        }
        let first = env.state();
        env.reset(Some(19), &mut b);
        assert_eq!((env.state(), a), (first, b));
    }
}
