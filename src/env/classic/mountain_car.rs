//! MountainCar-v0: drive an underpowered car out of a valley by building momentum.
//!
//! gymnasium 1.1.1 `classic_control/mountain_car.py`; see the MountainCar section of
//! `shared/fixtures/gymnasium/ENV_SPEC.md`. The state `[position, velocity]` is float64
//! throughout.

use super::uniform;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const GOAL_VELOCITY: f64 = 0.0;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;
/// Reset draws the position from `U(RESET_LOW, RESET_HIGH)`; the velocity starts at 0.
const RESET_LOW: f64 = -0.6;
const RESET_HIGH: f64 = -0.4;

/// gymnasium's `MountainCar-v0`. Actions 0 = push left, 1 = no push, 2 = push right; reward -1
/// per step, including the one that reaches the goal.
#[derive(Clone, Debug)]
pub struct MountainCar {
    spec: EnvSpec,
    rng: Rng,
    state: [f64; 2],
}

impl MountainCar {
    pub fn new() -> Self {
        let spec = EnvSpec {
            id: "MountainCar-v0".into(),
            observation_space: Space::Box {
                low: vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                high: vec![MAX_POSITION as f32, MAX_SPEED as f32],
            },
            action_space: Space::Discrete(3),
            max_episode_steps: Some(200),
            reward_threshold: Some(-110.0),
        };
        Self {
            spec,
            rng: rng::from_seed(0),
            state: [0.0; 2],
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        obs.copy_from_slice(&self.state.map(|x| x as f32));
    }
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for MountainCar {
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
        self.state = [uniform(&mut self.rng, RESET_LOW, RESET_HIGH), 0.0];
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let push = match action {
            Action::Discrete(a @ 0..=2) => a as f64 - 1.0,
            other => panic!("MountainCar-v0 takes Action::Discrete(0, 1 or 2), got {other:?}"),
        };
        let [position, velocity] = self.state;
        let velocity = velocity + (push * FORCE + (3.0 * position).cos() * -GRAVITY);
        let mut velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        // The left wall is inelastic.
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
        self.state = [position, velocity];
        self.write_obs(obs);
        Step {
            reward: -1.0,
            terminated,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state = state
            .try_into()
            .expect("MountainCar-v0 state is [position, velocity]");
        self.write_obs(obs);
    }

    fn snapshot(&self) -> EnvSnapshot {
        super::snapshot(&self.state, &self.rng)
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        super::restore(&mut self.state, &mut self.rng, snapshot);
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_wall_stops_the_car() {
        let mut env = MountainCar::new();
        let mut obs = [0.0; 2];
        env.set_state(&[-1.19, -0.05], &mut obs);
        let step = env.step(Action::Discrete(0), &mut obs);
        assert_eq!(env.state(), vec![MIN_POSITION, 0.0]);
        assert_eq!(obs, [-1.2, 0.0]);
        assert_eq!((step.reward, step.terminated), (-1.0, false));
    }

    #[test]
    fn right_bound_clips_and_reaches_the_goal() {
        let mut env = MountainCar::new();
        let mut obs = [0.0; 2];
        env.set_state(&[0.58, 0.05], &mut obs);
        let step = env.step(Action::Discrete(2), &mut obs);
        assert_eq!(env.state()[0], MAX_POSITION);
        assert!(step.terminated);
        assert_eq!(step.reward, -1.0);
    }

    #[test]
    fn reset_is_bounded_and_reproducible() {
        let mut env = MountainCar::new();
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

    #[test]
    #[should_panic(expected = "Discrete(0, 1 or 2)")]
    fn rejects_out_of_range_action() {
        MountainCar::new().step(Action::Discrete(3), &mut [0.0; 2]);
    }
}
