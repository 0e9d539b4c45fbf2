//! What each `rl` subcommand does, below the CLI parsing of `main.rs`.

mod check;
mod collect;
mod compare;
mod eval;
mod list;
mod merge;
mod run;
mod sweep;

pub use check::check;
pub use collect::collect;
pub use compare::{compare, plot};
pub use eval::eval;
pub use list::{algos, envs};
pub use merge::merge;
pub use run::{run, validate};
pub use sweep::sweep;
