//! Model-based RL with learned dynamics: model-predictive control on a learned network
//! (Nagabandi et al. 2018) and PETS (Chua et al. 2018), sharing the loop of
//! [`model_mpc`]: random data → fit → collect with MPC → aggregate → refit; and MBPO (Janner et
//! al. 2019), SAC on branched rollouts of the PETS ensemble. Shared here: the env check, the
//! unfitted model of the session's env.

pub mod branched_rollout;
pub mod learned_mpc;
pub mod mbpo;
pub mod mixture;
pub mod model_fit_config;
pub mod model_mpc;
pub mod pets;
pub mod rollout_schedule;

use crate::algo::algorithm::check_planner_envs;
use crate::env::{Env, Space};
use crate::model::learned::LearnedModel;
use crate::rng::Rng;
use crate::session::Session;

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

/// The unfitted model of the session's env: `members` networks (s, a) → Δs with hidden layers
/// `net_arch`, probabilistic (PETS) or not, initialised from `rng`; and the env's action space.
pub fn new_model(
    session: &Session,
    members: usize,
    net_arch: &[usize],
    probabilistic: bool,
    rng: &mut Rng,
) -> anyhow::Result<(LearnedModel, Space)> {
    let env = session.make_env()?;
    let spec = env.spec();
    let dims = (
        spec.observation_space.flat_dim(),
        spec.action_space.flat_dim(),
    );
    let learned = LearnedModel::new(
        members,
        dims,
        net_arch,
        probabilistic,
        rng,
        &session.training_device(),
    );
    Ok((learned, spec.action_space.clone()))
}
