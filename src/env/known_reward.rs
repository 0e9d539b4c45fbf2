//! A known reward function (CS285 lecture 11; Nagabandi et al. 2018, Chua et al. 2018): where
//! the env's reward is a closed-form function r(s, a) of the observation and the action, a
//! model-based learner learns only the dynamics and scores its imagined states with r.

/// The reward of an env, from [`Env::known_reward`](super::Env::known_reward).
pub trait KnownReward: Sync {
    /// r(s, a): the reward the env pays for taking `action` (unclipped; the env clips it as
    /// its step does) where it observes `obs`.
    fn reward(&self, obs: &[f32], action: &[f32]) -> f64;

    /// Whether an episode can end by termination (not only by the time limit). A learner that
    /// simulates episodes on a learned model of the dynamics alone (MBPO) needs the env's
    /// termination as well, and runs only where this is false.
    fn terminates(&self) -> bool;

    /// One line for `rl envs`: what r is.
    fn describe(&self) -> &'static str;
}
