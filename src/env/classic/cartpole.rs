//! CartPole-v1: balance a pole on a cart pushed left or right.
//!
//! gymnasium 1.1.1 `classic_control/cartpole.py` with the default Euler integrator; see the
//! CartPole section of `shared/fixtures/gymnasium/ENV_SPEC.md`. The state is float64 throughout.

use super::uniform;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
/// Seconds between state updates.
const TAU: f64 = 0.02;
/// 12 degrees, written as gymnasium computes it.
const THETA_THRESHOLD: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;
/// Each state component starts in `U(-RESET_BOUND, RESET_BOUND)`.
const RESET_BOUND: f64 = 0.05;

/// gymnasium's `CartPole-v1`. State `[x, x_dot, theta, theta_dot]`; actions 0 = push left,
/// 1 = push right; reward 1 per step, including the terminating one.
#[derive(Clone, Debug)]
pub struct CartPole {
    spec: EnvSpec,
    rng: Rng,
    state: [f64; 4],
}

impl CartPole {
    pub fn new() -> Self {
        let high = [
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
        ];
        let spec = EnvSpec {
            id: "CartPole-v1".into(),
            observation_space: Space::Box {
                low: high.map(|h| -h).to_vec(),
                high: high.to_vec(),
            },
            action_space: Space::Discrete(2),
            max_episode_steps: Some(500),
            reward_threshold: Some(475.0),
        };
        Self {
            spec,
            rng: rng::from_seed(0),
            state: [0.0; 4],
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        obs.copy_from_slice(&self.state.map(|x| x as f32));
    }
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for CartPole {
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
        self.state = std::array::from_fn(|_| uniform(&mut self.rng, -RESET_BOUND, RESET_BOUND));
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let force = match action {
            Action::Discrete(0) => -FORCE_MAG,
            Action::Discrete(1) => FORCE_MAG,
            other => panic!("CartPole-v1 takes Action::Discrete(0 or 1), got {other:?}"),
        };
        let [x, x_dot, theta, theta_dot] = self.state;
        let (sin, cos) = theta.sin_cos();
        // Parenthesised squares are numpy's `np.square`, evaluated before the products.
        let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        let [x, _, theta, _] = self.state;
        // Strict comparisons, as gymnasium's `x < -2.4 or x > 2.4 or ...`.
        let terminated = x.abs() > X_THRESHOLD || theta.abs() > THETA_THRESHOLD;
        self.write_obs(obs);
        Step {
            reward: 1.0,
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
            .expect("CartPole-v1 state is [x, x_dot, theta, theta_dot]");
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
    fn reward_is_one_on_the_terminating_step() {
        let mut env = CartPole::new();
        let mut obs = [0.0; 4];
        env.set_state(&[0.0, 0.0, 0.25, 0.0], &mut obs);
        let step = env.step(Action::Discrete(1), &mut obs);
        assert!(step.terminated);
        assert_eq!(step.reward, 1.0);
    }

    #[test]
    fn threshold_is_strict() {
        let mut env = CartPole::new();
        let mut obs = [0.0; 4];
        // The cart stays exactly on the boundary: not terminated.
        env.set_state(&[2.4, 0.0, 0.0, 0.0], &mut obs);
        assert!(!env.step(Action::Discrete(0), &mut obs).terminated);
    }

    #[test]
    fn first_step_from_rest_follows_euler() {
        let mut env = CartPole::new();
        let mut obs = [0.0; 4];
        env.set_state(&[0.0; 4], &mut obs);
        env.step(Action::Discrete(1), &mut obs);
        // theta = 0: temp = F / M, theta_acc = -temp / (l (4/3 - m_p / M)), positions unchanged.
        let temp = FORCE_MAG / TOTAL_MASS;
        let theta_acc = -temp / (LENGTH * (4.0 / 3.0 - MASS_POLE / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc / TOTAL_MASS;
        assert_eq!(env.state(), vec![0.0, TAU * x_acc, 0.0, TAU * theta_acc]);
    }

    #[test]
    fn reset_is_bounded_and_reproducible() {
        let mut env = CartPole::new();
        let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
        env.reset(Some(7), &mut a);
        let first = env.state();
        assert!(first.iter().all(|x| x.abs() < RESET_BOUND));
        env.reset(None, &mut b);
        assert_ne!(env.state(), first);
        env.reset(Some(7), &mut b);
        assert_eq!((env.state(), a), (first, b));
    }

    #[test]
    #[should_panic(expected = "Discrete(0 or 1)")]
    fn rejects_out_of_range_action() {
        CartPole::new().step(Action::Discrete(2), &mut [0.0; 4]);
    }
}
