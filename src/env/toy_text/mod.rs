//! Toy-text environments (gymnasium `toy_text`): discrete states with an explicit model.

mod cliff_walking;
mod frozen_lake;
mod taxi;

pub use cliff_walking::CliffWalking;
pub use frozen_lake::FrozenLake;
pub use taxi::Taxi;
