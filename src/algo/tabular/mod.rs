//! Tabular methods (Sutton & Barto, 2nd ed.): dynamic programming on a known model (and its
//! soft, maximum-entropy form), batch fitted Q iteration, temporal-difference control with
//! ε-greedy exploration, Dyna-Q's planning from a learned tabular model, and successor
//! representations and features (policy evaluation, transfer by generalised policy improvement).

pub mod dp;
pub mod dyna_model;
pub mod dyna_q;
pub mod fitted_q_iteration;
pub mod policy_iteration;
pub mod q_table;
pub mod sarsa_lambda;
pub mod soft_value_iteration;
pub mod successor_features;
pub mod successor_representation;
pub mod td;
pub mod value_iteration;

use std::path::Path;

use anyhow::Context;

use crate::env::{Env, Space};
use crate::session::Policy;

pub use dp::DpConfig;
pub use td::{TdConfig, TdTarget};

/// Tabular methods: discrete observations and actions, one env.
pub fn check_env(name: &str, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
    let spec = env.spec();
    let tabular = matches!(spec.observation_space, Space::Discrete(_))
        && matches!(spec.action_space, Space::Discrete(_));
    if !tabular {
        return Err((
            "env.id",
            format!(
                "{name} needs discrete observations and actions (a toy-text env such as FrozenLake-v1, \
                 CliffWalking-v0 or Taxi-v3); {} has {} observations and {} actions",
                spec.id,
                spec.observation_space.describe(),
                spec.action_space.describe()
            ),
        ));
    }
    if num_envs != 1 {
        return Err((
            "env.num_envs",
            format!("{name} learns from one env at a time; set env.num_envs = 1"),
        ));
    }
    Ok(())
}

/// The greedy policy a tabular run saved in `run_dir/policy.json`.
pub fn saved_policy(run_dir: &Path) -> anyhow::Result<Box<dyn Policy>> {
    let path = run_dir.join("policy.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no saved policy: cannot read {}", path.display()))?;
    let table: q_table::GreedyTable = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a saved tabular policy", path.display()))?;
    Ok(Box::new(table))
}
