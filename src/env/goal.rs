//! Goal-conditioned envs (Andrychowicz et al. 2017; gymnasium-robotics' `GoalEnv`, flattened as
//! Stable-Baselines3 flattens its dict observations): the observation is
//! `[observation, achieved_goal, desired_goal]`, the last two `goal_dim` values each, and the
//! reward is a known function `compute_reward(achieved, desired)`, so that a transition can be
//! replayed with another goal (hindsight experience replay).

/// The goal structure of an env, from [`Env::goal_env`](super::Env::goal_env).
pub trait GoalEnv {
    /// Values per goal.
    fn goal_dim(&self) -> usize;

    /// The reward the env pays when `achieved` is reached while `desired` is the goal.
    fn compute_reward(&self, achieved: &[f32], desired: &[f32]) -> f64;

    /// Whether `achieved` reaches `desired`; the env ends the episode there when
    /// [`GoalEnv::terminates_on_success`].
    fn is_success(&self, achieved: &[f32], desired: &[f32]) -> bool;

    fn terminates_on_success(&self) -> bool;
}

/// The achieved goal in a goal env's observation `obs`.
pub fn achieved_goal(obs: &[f32], goal_dim: usize) -> &[f32] {
    &obs[obs.len() - 2 * goal_dim..obs.len() - goal_dim]
}

/// The desired goal in a goal env's observation `obs`.
pub fn desired_goal(obs: &[f32], goal_dim: usize) -> &[f32] {
    &obs[obs.len() - goal_dim..]
}
