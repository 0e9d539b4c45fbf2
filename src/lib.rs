//! rl: a reinforcement-learning experiment runner.
//!
//! `config` parses and validates experiment TOML; `env` holds gymnasium-exact environments;
//! `algo` the algorithms; `run` executes seeds in parallel; `record` writes the result files.

pub mod env;
pub mod rng;
