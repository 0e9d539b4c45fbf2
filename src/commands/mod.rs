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

/// `n noun`, with the noun's plural `s` unless n is 1: "1 episode", "3 episodes".
fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
