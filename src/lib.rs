//! rl: a reinforcement-learning experiment runner.
//!
//! Data flows one way: [`config`] parses and checks an experiment TOML; [`run`] executes its
//! seeds on worker threads, each through a [`session::Session`] (built from a
//! [`session::RunSpec`], recording through a [`session::Recorder`]) handed to an [`algo`]; the
//! algorithms act in [`env`] environments (gymnasium-exact) and plan with [`plan`]; [`record`]
//! writes the result files and [`report`] reads them back. `docs/ARCHITECTURE.md` has the layers.

pub mod algo;
pub mod buffer;
pub mod cli;
pub mod commands;
pub mod config;
pub mod env;
pub mod error;
pub mod hyper;
pub mod model;
pub mod nn;
pub mod plan;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod session;
pub mod space;
pub mod suggest;
pub mod sweep;
