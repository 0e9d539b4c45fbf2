//! Toy-text environments (gymnasium `toy_text`): discrete states with an explicit model.

mod cliff_walking;
mod discrete;
mod frozen_lake;
mod taxi;

pub use discrete::DiscreteEnv;
pub use frozen_lake::named_map as frozen_lake_map;
