//! What each `rl` subcommand does, below the CLI parsing of `main.rs`.

mod compare;
mod list;
mod run;

pub use compare::{compare, plot};
pub use list::{algos, envs};
pub use run::{run, validate};
