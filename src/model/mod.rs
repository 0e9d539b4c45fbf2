//! Learned models of the dynamics (CS285 lectures 11–12): a network, or a bootstrap ensemble
//! of probabilistic networks, predicting the normalised state change Δs = s' − s from (s, a)
//! (Nagabandi et al. 2018; Chua et al. 2018), fitted by minibatch regression on the
//! transitions collected so far, and simulated by the planners as a
//! [`Dynamics`](crate::plan::dynamics::Dynamics) with trajectory sampling.

pub mod bootstrap;
pub mod elites;
pub mod ensemble;
pub mod fit;
pub mod learned;
pub mod normalizer;
pub mod probabilistic;
pub mod sampled_step;
pub mod saved;
pub mod trajectory_sampling;
pub mod transitions;
