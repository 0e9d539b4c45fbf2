//! Value-based deep RL on Burn Q-networks: DQN and its Rainbow ingredients, soft DQN, NAF for
//! continuous actions, and neural fitted Q iteration on a fixed dataset.

pub mod dqn;
pub mod dqn_host;
pub mod dqn_update;
pub mod greedy;
pub mod naf;
pub mod naf_update;
pub mod neural_fitted_q;
pub mod soft_dqn;
pub mod soft_q_update;

use crate::env::{Env, Space};

/// Q-networks read vector observations and output one value per discrete action.
pub fn check_env(name: &str, env: &dyn Env) -> Result<(), (&'static str, String)> {
    crate::algo::policy_gradient::check_env(name, env)?;
    let spec = env.spec();
    if !matches!(spec.action_space, Space::Discrete(_)) {
        return Err((
            "env.id",
            format!(
                "{name} picks argmax_a Q(s, a) over discrete actions (CartPole-v1, Acrobot-v1, \
                 MountainCar-v0, ...); {} has continuous actions {} (use sac, td3, ddpg or ppo)",
                spec.id,
                spec.action_space.describe()
            ),
        ));
    }
    Ok(())
}
