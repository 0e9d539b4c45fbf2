//! Planning: the planners (random shooting, CEM, MCTS, LQR, iLQR) and the models they simulate.
//! Random shooting and CEM score action sequences on a [`dynamics::Dynamics`] model: clones of
//! the env they control (the true model, received by shared reference and never disturbed) or,
//! later, a learned one. MCTS, LQR and iLQR simulate env clones directly.

pub mod cem;
pub mod derivatives;
pub mod dynamics;
pub mod heuristics;
pub mod ilqr;
pub mod lqr;
pub mod mcts;
pub mod rollout;
pub mod shooting;
pub mod stats;
