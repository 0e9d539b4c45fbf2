//! Optimal control on the true dynamics (CS 285 lecture 10): LQR about an equilibrium and
//! iLQR model-predictive control. Both are planners: they act by simulating clones of the env
//! they control and do not train.

pub mod ilqr;
pub mod lqr;

pub use ilqr::IlqrConfig;
pub use lqr::LqrConfig;

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
