//! Planning on the true dynamics (no learned model): random shooting, the cross-entropy method
//! and Monte Carlo tree search, run as model-predictive control on clones of the evaluation env.
//! A planning run does not train: it evaluates the planner once, at step 0.

pub mod cem;
pub mod mcts;
pub mod random_shooting;

pub use cem::CemConfig;
pub use mcts::MctsConfig;
pub use random_shooting::RandomShootingConfig;

/// The diagnostics every planner records: mean wall ms per planning step, simulated env steps
/// per real step.
pub const DIAGNOSTICS: [&str; 2] = ["plan_ms", "sim_steps"];
