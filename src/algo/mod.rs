//! Algorithms: one file per algorithm (or per family) with its hyperparameter table, its train
//! function and its [`Algorithm`] impl, and the [`registry`] that maps `[algo] name = "..."`
//! to them.
//!
//! Adding an algorithm = its file (a [`hyperparameters!`](crate::hyper::hyperparameters) table,
//! `impl Algorithm`, a train function taking a [`Session`](crate::session::Session)), one line in
//! [`registry`], an experiment TOML and tests.

pub mod actor_critic;
pub mod algorithm;
pub mod bandit;
pub mod control;
pub mod diagnostics;
pub mod exploration;
pub mod flops;
pub mod footprint;
pub mod her_config;
pub mod imitation;
pub mod model_based;
pub mod multi_agent;
pub mod off_policy;
pub mod off_policy_config;
pub mod planning;
pub mod policy_gradient;
pub mod registry;
pub mod schedule;
pub mod skills;
pub mod tabular;
pub mod value_based;

pub use algorithm::{Algorithm, Kind};
pub use flops::UpdateWork;
pub use footprint::{CrossChecks, Footprint, RunShape};
pub use registry::{ALGOS, AlgoConfig, AlgoEntry, find};
