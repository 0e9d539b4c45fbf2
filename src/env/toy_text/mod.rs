//! Toy-text environments (gymnasium `toy_text`) the mazes of Sutton & Barto ch. 8 and
//! the four rooms of Sutton, Precup & Singh (1999): discrete
//! states with an explicit model.

mod cliff_walking;
mod discrete;
pub mod four_rooms;
mod frozen_lake;
mod maze;
mod taxi;

pub use discrete::DiscreteEnv;
pub use four_rooms::FourRooms;
pub use frozen_lake::named_map as frozen_lake_map;
pub use maze::Maze;
