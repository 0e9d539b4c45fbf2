//! Reward features (Barreto et al. 2017, "Successor Features for Transfer in Reinforcement
//! Learning", eq. 2): the env's reward is linear in a known feature vector,
//! r(s, a, s') = φ(s, a, s')·w, where the features φ are observable and the task's weights w
//! are not given to the learner (it fits them by regression on the rewards it observes).

/// The reward features of an env, from [`Env::reward_features`](super::Env::reward_features).
pub trait RewardFeatures {
    /// The number d of features.
    fn n_features(&self) -> usize;

    /// φ(s, a, s') of the transition from state `s` by action `a` to `next` (toy-text state
    /// indices), written into `phi` (length d).
    fn features(&self, s: usize, a: usize, next: usize, phi: &mut [f64]);

    /// The task's weights w: the env pays φ·w. For diagnostics (how far a fitted w is); a
    /// learner that is to fit w must not act on it.
    fn task(&self) -> &[f64];
}
