//! Acrobot-v1: swing the tip of a two-link arm above the bar by torquing the middle joint.
//!
//! gymnasium 1.1.1 `classic_control/acrobot.py` ("book" dynamics, no torque noise, one RK4
//! step of 0.2 s per env step); see the Acrobot section of
//! `shared/fixtures/gymnasium/ENV_SPEC.md`. `reset()` draws a float32 state; stepping works in
//! float64 from then on.

use std::f64::consts::PI;

use super::numerics::{cos_f32, pow2, sin_f32};
use super::uniform;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

/// Seconds integrated per step (one RK4 step).
const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
/// Positions of the links' centres of mass.
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
/// Moment of inertia of either link.
const LINK_MOI: f64 = 1.0;
const GRAVITY: f64 = 9.8;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
/// Torque on the second joint for actions 0, 1 and 2.
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];
/// Each state component starts in `U(-RESET_BOUND, RESET_BOUND)`, rounded to float32.
const RESET_BOUND: f64 = 0.1;

/// gymnasium's `Acrobot-v1`. State `[theta1, theta2, dtheta1, dtheta2]`; observation
/// `[cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2]`; reward -1 per step
/// and 0 on the step that reaches the height.
#[derive(Clone, Debug)]
pub struct Acrobot {
    spec: EnvSpec,
    rng: Rng,
    state: [f64; 4],
}

impl Acrobot {
    pub fn new() -> Self {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        let spec = EnvSpec {
            id: "Acrobot-v1".into(),
            observation_space: Space::Box {
                low: high.map(|h| -h).to_vec(),
                high: high.to_vec(),
            },
            action_space: Space::Discrete(3),
            max_episode_steps: Some(500),
            reward_threshold: Some(-100.0),
        };
        Self {
            spec,
            rng: rng::from_seed(0),
            state: [0.0; 4],
        }
    }

    /// The observation of a float64 state (as after a step).
    fn write_obs(&self, obs: &mut [f32]) {
        let [theta1, theta2, dtheta1, dtheta2] = self.state;
        obs.copy_from_slice(&[
            theta1.cos() as f32,
            theta1.sin() as f32,
            theta2.cos() as f32,
            theta2.sin() as f32,
            dtheta1 as f32,
            dtheta2 as f32,
        ]);
    }

    /// The observation of a float32 state (as after `reset()`): numpy then takes `cos`/`sin` in
    /// float32, which can be one ulp away from rounding the float64 values.
    fn write_obs_f32(&self, obs: &mut [f32]) {
        let [theta1, theta2, dtheta1, dtheta2] = self.state.map(|x| x as f32);
        obs.copy_from_slice(&[
            cos_f32(theta1),
            sin_f32(theta1),
            cos_f32(theta2),
            sin_f32(theta2),
            dtheta1,
            dtheta2,
        ]);
    }
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

/// Time derivative of `[theta1, theta2, dtheta1, dtheta2]` under `torque` (gymnasium's
/// `_dsdt`, "book" variant), in gymnasium's evaluation order.
fn derivatives(s: [f64; 4], torque: f64) -> [f64; 4] {
    let (m1, m2) = (LINK_MASS_1, LINK_MASS_2);
    let (l1, lc1, lc2) = (LINK_LENGTH_1, LINK_COM_POS_1, LINK_COM_POS_2);
    let (i1, i2) = (LINK_MOI, LINK_MOI);
    let g = GRAVITY;
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * pow2(lc1) + m2 * (pow2(l1) + pow2(lc2) + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (pow2(lc2) + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * pow2(dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * pow2(dtheta1) * theta2.sin() - phi2)
        / (m2 * pow2(lc2) + i2 - pow2(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classical RK4 step of length [`DT`] (gymnasium's `rk4` with `t = [0, dt]`).
fn rk4(y: [f64; 4], torque: f64) -> [f64; 4] {
    let shifted = |k: [f64; 4], h: f64| std::array::from_fn(|i| y[i] + h * k[i]);
    let k1 = derivatives(y, torque);
    let k2 = derivatives(shifted(k1, DT / 2.0), torque);
    let k3 = derivatives(shifted(k2, DT / 2.0), torque);
    let k4 = derivatives(shifted(k3, DT), torque);
    std::array::from_fn(|i| y[i] + DT / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// gymnasium's `wrap(x, -pi, pi)`: shifts by 2 pi until `x` lies in `[-pi, pi]`.
fn wrap(mut x: f64) -> f64 {
    while x > PI {
        x -= 2.0 * PI;
    }
    while x < -PI {
        x += 2.0 * PI;
    }
    x
}

impl Env for Acrobot {
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
        self.state = std::array::from_fn(|_| {
            f64::from(uniform(&mut self.rng, -RESET_BOUND, RESET_BOUND) as f32)
        });
        self.write_obs_f32(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let torque = match action {
            Action::Discrete(a @ 0..=2) => AVAIL_TORQUE[a],
            other => panic!("Acrobot-v1 takes Action::Discrete(0, 1 or 2), got {other:?}"),
        };
        let [theta1, theta2, dtheta1, dtheta2] = rk4(self.state, torque);
        self.state = [
            wrap(theta1),
            wrap(theta2),
            dtheta1.clamp(-MAX_VEL_1, MAX_VEL_1),
            dtheta2.clamp(-MAX_VEL_2, MAX_VEL_2),
        ];
        let [theta1, theta2, ..] = self.state;
        // The tip is more than one link length above the pivot.
        let terminated = -theta1.cos() - (theta2 + theta1).cos() > 1.0;
        self.write_obs(obs);
        Step {
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// A float32-representable state is taken as float32 (as `reset()` produces it) and observed
    /// in float32; any other state is observed in float64, as gymnasium does for such a state.
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state = state
            .try_into()
            .expect("Acrobot-v1 state is [theta1, theta2, dtheta1, dtheta2]");
        if self.state.iter().all(|&x| f64::from(x as f32) == x) {
            self.write_obs_f32(obs);
        } else {
            self.write_obs(obs);
        }
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
    fn wrap_shifts_into_range() {
        assert_eq!(wrap(PI), PI);
        assert_eq!(wrap(-PI), -PI);
        assert_eq!(wrap(0.5), 0.5);
        assert!((wrap(3.0 * PI + 0.5) - (-PI + 0.5)).abs() < 1e-12);
        assert!((wrap(-5.0 * PI - 0.5) - (PI - 0.5)).abs() < 1e-12);
    }

    #[test]
    fn hanging_at_rest_without_torque_stays_put() {
        let mut env = Acrobot::new();
        let mut obs = [0.0; 6];
        env.set_state(&[0.0; 4], &mut obs);
        assert_eq!(obs, [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let step = env.step(Action::Discrete(1), &mut obs);
        assert_eq!((step.reward, step.terminated), (-1.0, false));
        assert!(env.state().iter().all(|x| x.abs() < 1e-12));
    }

    #[test]
    fn reaching_the_height_terminates_with_reward_zero() {
        let mut env = Acrobot::new();
        let mut obs = [0.0; 6];
        // Both links pointing up: the tip is two link lengths above the pivot.
        env.set_state(&[PI, 0.0, 0.0, 0.0], &mut obs);
        let step = env.step(Action::Discrete(1), &mut obs);
        assert_eq!((step.reward, step.terminated), (0.0, true));
    }

    #[test]
    fn velocities_are_clipped() {
        let mut env = Acrobot::new();
        let mut obs = [0.0; 6];
        env.set_state(&[0.0, 0.0, 12.5, 28.0], &mut obs);
        env.step(Action::Discrete(2), &mut obs);
        let state = env.state();
        assert!(state[2].abs() <= MAX_VEL_1 && state[3].abs() <= MAX_VEL_2);
        assert!(state[..2].iter().all(|x| x.abs() <= PI));
    }

    #[test]
    fn reset_is_float32_bounded_and_reproducible() {
        let mut env = Acrobot::new();
        let (mut a, mut b) = ([0.0; 6], [0.0; 6]);
        for seed in 0..20 {
            env.reset(Some(seed), &mut a);
            let state = env.state();
            assert!(
                state
                    .iter()
                    .all(|&x| x.abs() <= RESET_BOUND && f64::from(x as f32) == x)
            );
        }
        let first = env.state();
        env.reset(Some(19), &mut b);
        assert_eq!((env.state(), a), (first, b));
    }

    #[test]
    #[should_panic(expected = "Discrete(0, 1 or 2)")]
    fn rejects_continuous_action() {
        Acrobot::new().step(Action::Continuous(&[1.0]), &mut [0.0; 6]);
    }
}
