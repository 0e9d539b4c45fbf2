//! Imitation and inverse RL from rl's own experts: behavioural cloning, DAgger (Ross et al.
//! 2011) and maximum-entropy IRL (Ziebart et al. 2008). An expert is the seed folder of a finished
//! run (any algorithm `rl eval` can rebuild); a dataset is a file written by `rl collect`
//! ([`crate::record::dataset`]).

pub mod bc;
pub mod dagger;
pub mod expert;
pub mod learner;
pub mod maxent_irl;

pub use expert::{ExpertRun, collect_episodes};
