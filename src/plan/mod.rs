//! Planning on the true dynamics: simulation of env clones shared by the planners
//! (random shooting, CEM, MCTS, LQR, iLQR). Planners receive the env they control by shared
//! reference and simulate clones of it, so they cannot disturb it.

pub mod cem;
pub mod derivatives;
pub mod heuristics;
pub mod ilqr;
pub mod lqr;
pub mod mcts;
pub mod rollout;
pub mod shooting;
pub mod stats;
