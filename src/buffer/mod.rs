//! Experience storage: on-policy rollouts with GAE; off-policy replay (a ring buffer, n-step
//! transitions, proportional prioritised replay over a sum tree, hindsight relabelling).

pub mod hindsight;
pub mod multi_replay;
pub mod n_step;
pub mod prioritized;
pub mod replay;
pub mod rollout;
pub mod sum_tree;

pub use hindsight::{GoalStrategy, Hindsight};
pub use multi_replay::MultiReplay;
pub use n_step::NStep;
pub use prioritized::{PrioritizedReplay, annealed_beta};
pub use replay::{ReplayBatch, ReplayBuffer, Transition};
pub use rollout::{HostMinibatch, RolloutBuffer, StepEnd, discounted_returns, gae};
pub use sum_tree::SumTree;
