//! Imitation and inverse RL from rl's own experts: behavioural cloning, DAgger (Ross et al.
//! 2011), maximum-entropy IRL (Ziebart et al. 2008), and the adversarial methods GAIL (Ho &
//! Ermon 2016) and AIRL (Fu et al. 2018). An expert is the seed folder of a finished
//! run (any algorithm `rl eval` can rebuild); a dataset is a file written by `rl collect`
//! ([`crate::record::dataset`]).

pub mod adversarial;
pub mod airl;
pub mod bc;
pub mod dagger;
pub mod discriminator;
pub mod expert;
pub mod gail;
pub mod learner;
pub mod maxent_irl;

pub use expert::{ExpertRun, collect_episodes};
