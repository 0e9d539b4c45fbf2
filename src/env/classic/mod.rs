//! Classic-control environments (gymnasium `classic_control`).
//!
//! Each env reproduces gymnasium 1.1.1 bit for bit; the equations, evaluation order and
//! precision rules are those of `shared/fixtures/gymnasium/ENV_SPEC.md`.

mod acrobot;
mod cartpole;
mod mountain_car;
mod mountain_car_continuous;
mod numerics;
mod pendulum;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use mountain_car::MountainCar;
pub use mountain_car_continuous::MountainCarContinuous;
pub use pendulum::Pendulum;

use rand::RngExt;

use crate::env::EnvSnapshot;
use crate::rng::Rng;

/// A draw from `U(low, high)` computed as numpy's `Generator.uniform` does.
fn uniform(rng: &mut Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// The snapshot of an env whose whole state is `state` and its RNG.
fn snapshot<const N: usize>(state: &[f64; N], rng: &Rng) -> EnvSnapshot {
    EnvSnapshot {
        state: state.to_vec(),
        extra: Vec::new(),
        rng: rng.clone(),
    }
}

/// Restores what [`snapshot`] saved.
fn restore<const N: usize>(state: &mut [f64; N], rng: &mut Rng, snapshot: &EnvSnapshot) {
    *state = snapshot
        .state
        .as_slice()
        .try_into()
        .expect("a snapshot of this env");
    *rng = snapshot.rng.clone();
}
