//! Experience storage: on-policy rollouts with GAE (off-policy replay buffers come later).

pub mod rollout;

pub use rollout::{RolloutBuffer, discounted_returns, gae};
