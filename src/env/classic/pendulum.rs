//! Pendulum-v1: swing a pendulum up and hold it upright with a bounded torque.
//!
//! gymnasium 1.1.1 `classic_control/pendulum.py`; see the Pendulum section of
//! `shared/fixtures/gymnasium/ENV_SPEC.md`. The state `[theta, theta_dot]` is float64 and theta is
//! never wrapped (only the cost normalises it). The torque terms are float32, as numpy 2
//! computes them from the float32 action.

use std::f64::consts::PI;

use super::numerics::{pow2, powf2};
use super::uniform;
use crate::env::known_reward::KnownReward;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const MASS: f64 = 1.0;
const LENGTH: f64 = 1.0;
/// Weight of the squared torque in the cost (applied in float32).
const TORQUE_COST: f64 = 0.001;
/// Reset draws theta from `U(-pi, pi)` and theta_dot from `U(-1, 1)`.
const RESET_THETA_DOT: f64 = 1.0;

/// gymnasium's `Pendulum-v1`. Observation `[cos theta, sin theta, theta_dot]`; reward is minus
/// the cost of the pre-step state and the clipped torque; never terminates.
#[derive(Clone, Debug)]
pub struct Pendulum {
    spec: EnvSpec,
    rng: Rng,
    g: f64,
    state: [f64; 2],
}

impl Pendulum {
    /// A pendulum under gravity `g` (gymnasium's default is 10.0).
    pub fn new(g: f64) -> Self {
        let spec = EnvSpec {
            id: "Pendulum-v1".into(),
            observation_space: Space::Box {
                low: vec![-1.0, -1.0, -MAX_SPEED as f32],
                high: vec![1.0, 1.0, MAX_SPEED as f32],
            },
            action_space: Space::Box {
                low: vec![-MAX_TORQUE],
                high: vec![MAX_TORQUE],
            },
            max_episode_steps: Some(200),
            reward_threshold: Some(-200.0),
        };
        Self {
            spec,
            rng: rng::from_seed(0),
            g,
            state: [0.0; 2],
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let [theta, theta_dot] = self.state;
        obs.copy_from_slice(&[theta.cos() as f32, theta.sin() as f32, theta_dot as f32]);
    }
}

/// gymnasium's `angle_normalize`: `((x + pi) mod 2 pi) - pi` with floor-modulo, in `[-pi, pi)`.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl Env for Pendulum {
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
        let theta = uniform(&mut self.rng, -PI, PI);
        let theta_dot = uniform(&mut self.rng, -RESET_THETA_DOT, RESET_THETA_DOT);
        self.state = [theta, theta_dot];
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let u = match action {
            Action::Continuous(&[a]) => a.clamp(-MAX_TORQUE, MAX_TORQUE),
            other => panic!("Pendulum-v1 takes a one-element Action::Continuous, got {other:?}"),
        };
        let [theta, theta_dot] = self.state;
        // `0.001 * u**2` is float32 (numpy's powf, then a float32 product), added to the
        // float64 sum of the angle and speed terms.
        let cost = pow2(angle_normalize(theta))
            + 0.1 * pow2(theta_dot)
            + f64::from(TORQUE_COST as f32 * powf2(u));
        // `3 / (m l²) * u` is float32 as well; the gravity term is float64.
        let torque_acc = f64::from((3.0 / (MASS * pow2(LENGTH))) as f32 * u);
        let theta_dot = theta_dot + (3.0 * self.g / (2.0 * LENGTH) * theta.sin() + torque_acc) * DT;
        let theta_dot = theta_dot.clamp(-MAX_SPEED, MAX_SPEED);
        self.state = [theta + theta_dot * DT, theta_dot];
        self.write_obs(obs);
        Step {
            reward: -cost,
            terminated: false,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state = state
            .try_into()
            .expect("Pendulum-v1 state is [theta, theta_dot]");
        self.write_obs(obs);
    }

    fn snapshot(&self) -> EnvSnapshot {
        super::snapshot(&self.state, &self.rng)
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        super::restore(&mut self.state, &mut self.rng, snapshot);
    }

    fn known_reward(&self) -> Option<&dyn KnownReward> {
        Some(self)
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

/// Pendulum's reward from its observation: θ = atan2(sin θ, cos θ) ∈ (−π, π], so
/// r = −(θ² + 0.1 θ̇² + 0.001 u²) with u clipped to ±2, as [`Env::step`] pays it (up to the
/// float32 rounding of the observation).
impl KnownReward for Pendulum {
    fn reward(&self, obs: &[f32], action: &[f32]) -> f64 {
        let theta = f64::from(obs[1]).atan2(f64::from(obs[0]));
        let u = f64::from(action[0].clamp(-MAX_TORQUE, MAX_TORQUE));
        -(theta * theta + 0.1 * pow2(f64::from(obs[2])) + TORQUE_COST * u * u)
    }

    /// A continuing task cut by the time limit only.
    fn terminates(&self) -> bool {
        false
    }

    fn describe(&self) -> &'static str {
        "−(θ² + 0.1 θ̇² + 0.001 u²), θ = atan2(sin θ, cos θ)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_normalize_is_half_open() {
        assert_eq!(angle_normalize(PI), -PI);
        assert_eq!(angle_normalize(-PI), -PI);
        assert_eq!(angle_normalize(0.0), 0.0);
        assert!((angle_normalize(3.0 * PI + 0.5) - (-PI + 0.5)).abs() < 1e-12);
        assert!((angle_normalize(-0.5 - 4.0 * PI) - -0.5).abs() < 1e-12);
    }

    #[test]
    fn torque_is_clipped_for_dynamics_and_cost() {
        let mut env = Pendulum::new(10.0);
        let mut obs = [0.0; 3];
        env.set_state(&[0.0, 0.0], &mut obs);
        let step = env.step(Action::Continuous(&[3.5]), &mut obs);
        // Only the float32 torque cost is left: f32(0.001) * 4 in float32.
        assert_eq!(step.reward, -f64::from(0.001f32 * 4.0));
        assert_eq!(step.reward, -0.004000000189989805);
        assert_eq!(env.state()[1], f64::from(3.0f32 * 2.0) * DT);
        assert!(!step.terminated);
    }

    #[test]
    fn speed_is_clipped_and_theta_is_not_wrapped() {
        let mut env = Pendulum::new(10.0);
        let mut obs = [0.0; 3];
        env.set_state(&[8.0, 7.9], &mut obs);
        env.step(Action::Continuous(&[2.0]), &mut obs);
        let [theta, theta_dot] = env.state()[..] else {
            unreachable!()
        };
        assert_eq!(theta_dot, MAX_SPEED);
        assert_eq!(theta, 8.0 + MAX_SPEED * DT);
        assert_eq!(obs[2], 8.0);
    }

    #[test]
    fn reset_is_bounded_and_reproducible() {
        let mut env = Pendulum::new(10.0);
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        for seed in 0..20 {
            env.reset(Some(seed), &mut a);
            let [theta, theta_dot] = env.state()[..] else {
                unreachable!()
            };
            assert!((-PI..PI).contains(&theta) && (-1.0..1.0).contains(&theta_dot));
        }
        let first = env.state();
        env.reset(Some(19), &mut b);
        assert_eq!((env.state(), a), (first, b));
    }

    /// The known reward of the observation before a step is what the step pays.
    #[test]
    fn known_reward_is_the_step_reward() {
        let mut env = Pendulum::new(10.0);
        let mut obs = [0.0; 3];
        env.reset(Some(4), &mut obs);
        for t in 0..100 {
            let u = [(t % 9) as f32 - 4.0];
            let want = env.known_reward().unwrap().reward(&obs, &u);
            let step = env.step(Action::Continuous(&u), &mut obs);
            assert!(
                (step.reward - want).abs() < 1e-5,
                "{t}: {} {want}",
                step.reward
            );
        }
    }

    #[test]
    #[should_panic(expected = "one-element Action::Continuous")]
    fn rejects_discrete_action() {
        Pendulum::new(10.0).step(Action::Discrete(0), &mut [0.0; 3]);
    }
}
