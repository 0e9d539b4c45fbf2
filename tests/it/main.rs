//! The integration tests, one binary: each module was once its own test crate, and each of those
//! linked the whole of rl and Burn again. `cargo test --release --test it <module>::` runs one.

mod acer;
mod adversarial_imitation;
mod architecture;
mod bridge;
mod build_profile;
mod ci;
mod cli;
mod common;
mod control;
mod determinism;
mod dyna;
mod exploration;
mod fixtures;
mod fuzz;
mod golden;
mod imitation;
mod learning;
mod model_based;
mod mpe_fixtures;
mod multi_agent;
mod neural;
mod off_policy;
mod parallel_ac;
mod report;
mod resume;
mod search;
mod session;
mod successor;
mod sweep;
mod trust_region;
