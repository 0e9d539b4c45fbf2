//! Optimal control on the true dynamics (CS 285 lecture 10): LQR about an equilibrium and
//! iLQR model-predictive control. Both are planners: they act by simulating clones of the env
//! they control and do not train.

pub mod ilqr;
pub mod lqr;

pub use ilqr::IlqrConfig;
pub use lqr::LqrConfig;

use std::time::Duration;

use crate::env::{Env, Space};
use crate::plan::derivatives::ActionBounds;

/// LQR and iLQR need a continuous state (read through `Env::state`) and a continuous action.
pub fn check_env(name: &str, env: &dyn Env) -> Result<(), (&'static str, String)> {
    let spec = env.spec();
    let continuous = matches!(spec.observation_space, Space::Box { .. })
        && matches!(spec.action_space, Space::Box { .. });
    if continuous {
        return Ok(());
    }
    Err((
        "env.id",
        format!(
            "{name} needs continuous (Box) observations and actions (e.g. Pendulum-v1, \
             DoubleIntegrator-v0, CartPoleLinear-v0); {} has {} observations and {} actions",
            spec.id,
            spec.observation_space.describe(),
            spec.action_space.describe()
        ),
    ))
}

/// The box of a continuous action space.
fn action_bounds(space: &Space) -> ActionBounds {
    match space {
        Space::Box { low, high } => ActionBounds {
            low: low.clone(),
            high: high.clone(),
        },
        Space::Discrete(_) => unreachable!("check_env admits Box action spaces only"),
    }
}

/// Wall time and simulated env steps per planning step, the planners' diagnostics.
#[derive(Clone, Debug, Default)]
struct PlanStats {
    steps: u64,
    time: Duration,
    sim_steps: u64,
}

impl PlanStats {
    fn record(&mut self, time: Duration, sim_steps: usize) {
        self.steps += 1;
        self.time += time;
        self.sim_steps += sim_steps as u64;
    }

    /// Mean wall milliseconds per planning step (`plan_ms`).
    fn mean_plan_ms(&self) -> f64 {
        1e3 * self.time.as_secs_f64() / self.steps.max(1) as f64
    }

    /// Mean simulated env steps per real step (`sim_steps`).
    fn mean_sim_steps(&self) -> f64 {
        self.sim_steps as f64 / self.steps.max(1) as f64
    }
}
