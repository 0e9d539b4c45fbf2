//! What each `rl` subcommand does, below the CLI parsing of `main.rs`.

mod compare;
mod eval;
mod list;
mod run;
mod sweep;

pub use compare::{compare, plot};
pub use eval::eval;
pub use list::{algos, envs};
pub use run::{run, validate};
pub use sweep::sweep;
