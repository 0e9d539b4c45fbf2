//! Model-based RL with learned dynamics: model-predictive control on a learned network
//! (Nagabandi et al. 2018) and PETS (Chua et al. 2018), sharing the loop of
//! [`model_mpc`]: random data → fit → collect with MPC → aggregate → refit.

pub mod learned_mpc;
pub mod model_fit_config;
pub mod model_mpc;
pub mod pets;

use crate::algo::algorithm::check_planner_envs;
use crate::env::{Env, Space};

/// A learned-model planner needs one env, bounded continuous actions (its planners sample
/// within the bounds) and the env's reward as a known function r(s, a).
pub fn check_env(name: &str, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
    check_planner_envs(name, num_envs)?;
    let spec = env.spec();
    match &spec.action_space {
        Space::Box { low, high } if low.iter().chain(high).all(|x| x.is_finite()) => {}
        space => {
            return Err((
                "env.id",
                format!(
                    "{name} plans bounded continuous actions (Pendulum-v1); {} has actions {}",
                    spec.id,
                    space.describe()
                ),
            ));
        }
    }
    if env.known_reward().is_none() {
        return Err((
            "env.id",
            format!(
                "{name} scores imagined states with the env's known reward r(s, a), and {} \
                 does not state one (`rl envs` lists the envs that do: Pendulum-v1)",
                spec.id
            ),
        ));
    }
    Ok(())
}
