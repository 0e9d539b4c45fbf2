//! Tabular methods (Sutton & Barto, 2nd ed.): dynamic programming on a known model and
//! temporal-difference control with ε-greedy exploration.

pub mod dp;
pub mod policy_iteration;
pub mod q_table;
pub mod sarsa_lambda;
pub mod td;
pub mod value_iteration;

pub use dp::DpConfig;
pub use sarsa_lambda::SarsaLambdaConfig;
pub use td::{TdConfig, TdTarget};
