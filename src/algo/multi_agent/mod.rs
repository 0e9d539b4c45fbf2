//! Multi-agent algorithms on the particle envs (PettingZoo's parallel API): the references a
//! learner is measured against (uniform-random agents; simple_spread's scripted agents, each
//! sent to its landmark by an optimal assignment), MAPPO / IPPO and MADDPG / IDDPG.
//!
//! They set [`Algorithm::MULTI_AGENT`](crate::algo::Algorithm::MULTI_AGENT): the session gives
//! them a [`MultiVecEnv`](crate::env::multi::MultiVecEnv) and a multi-agent evaluator, and the
//! result files carry the team return with each agent's beside it.

pub mod gumbel;
pub mod maddpg;
pub mod maddpg_checkpoint;
pub mod maddpg_policy;
pub mod maddpg_update;
pub mod mappo;
pub mod mappo_checkpoint;
pub mod random;
pub mod scripted_spread;
pub mod shared_policy;
pub mod value_norm;

use crate::env::multi::MultiAgentSpec;

/// A reference acts in the evaluation env only: one env, no training envs.
pub fn check_reference_envs(name: &str, num_envs: usize) -> Result<(), (&'static str, String)> {
    if num_envs != 1 {
        return Err((
            "env.num_envs",
            format!("does not apply to {name}: a reference policy is only evaluated"),
        ));
    }
    Ok(())
}

/// Parameter sharing needs every agent to have the same observation and action spaces.
pub fn check_homogeneous(name: &str, env: &MultiAgentSpec) -> Result<(), (&'static str, String)> {
    let same = |spaces: &[crate::env::Space]| spaces.iter().all(|s| *s == spaces[0]);
    if !same(&env.observation_spaces) || !same(&env.action_spaces) {
        return Err((
            "env.id",
            format!(
                "{name} shares one network across agents, which needs every agent to have the \
                 same observation and action spaces; {}'s agents differ",
                env.id
            ),
        ));
    }
    Ok(())
}
