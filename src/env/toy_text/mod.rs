//! Toy-text environments (gymnasium `toy_text`) and the mazes of Sutton & Barto ch. 8: discrete
//! states with an explicit model.

mod cliff_walking;
mod discrete;
mod frozen_lake;
mod maze;
mod taxi;

pub use discrete::DiscreteEnv;
pub use frozen_lake::named_map as frozen_lake_map;
pub use maze::Maze;
