//! Planning on the true dynamics (no learned model): random shooting, the cross-entropy method
//! and Monte Carlo tree search, run as model-predictive control on clones of the evaluation env.
//! A planning run does not train: it evaluates the planner once, at step 0.

pub mod cem;
pub mod mcts;
pub mod random_shooting;

pub use cem::CemConfig;
pub use mcts::MctsConfig;
pub use random_shooting::RandomShootingConfig;

use crate::algo::algorithm::check_planner_envs;
use crate::env::{Env, Space};

/// The diagnostics every planner records: mean wall ms per planning step, simulated env steps
/// per real step.
pub const DIAGNOSTICS: [&str; 2] = ["plan_ms", "sim_steps"];

/// Random shooting and CEM sample actions within the action bounds: one env, bounded actions.
pub fn check_sampled_actions(
    name: &str,
    env: &dyn Env,
    num_envs: usize,
) -> Result<(), (&'static str, String)> {
    check_planner_envs(name, num_envs)?;
    match &env.spec().action_space {
        Space::Box { low, high } if low.iter().chain(high).any(|x| !x.is_finite()) => Err((
            "env.id",
            format!(
                "{name} samples actions within the action bounds; {} has unbounded actions {}",
                env.spec().id,
                env.spec().action_space.describe()
            ),
        )),
        _ => Ok(()),
    }
}
