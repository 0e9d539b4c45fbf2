//! The report side: reads result folders only (never training code), so results from other
//! versions, machines or clusters can be compared.

pub mod compare;
pub mod gate;
pub mod identity;
pub mod plot;
pub mod pool;
pub mod results;
pub mod stats;
pub mod verdicts;

/// `n noun`, with the noun's plural `s` unless n is 1: "1 episode", "3 episodes".
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
