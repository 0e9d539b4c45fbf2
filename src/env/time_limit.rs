//! gymnasium's `TimeLimit` wrapper: truncates an episode after `max_episode_steps` steps.

use super::{Action, Env, EnvSnapshot, EnvSpec, Info, LinearQuadratic, Step, TabularModel};

/// Adds truncation to a base env. `truncated` is true exactly on step `max_episode_steps`,
/// whether or not the env also terminated on that step (as gymnasium does).
#[derive(Clone)]
pub struct TimeLimit {
    env: Box<dyn Env>,
    max_episode_steps: Option<u32>,
    elapsed: u32,
}

impl TimeLimit {
    /// Wraps `env`; `None` means no limit.
    pub fn new(env: Box<dyn Env>, max_episode_steps: Option<u32>) -> Self {
        Self {
            env,
            max_episode_steps,
            elapsed: 0,
        }
    }

    /// Steps taken in the current episode.
    pub fn elapsed(&self) -> u32 {
        self.elapsed
    }

    pub fn max_episode_steps(&self) -> Option<u32> {
        self.max_episode_steps
    }
}

impl Env for TimeLimit {
    fn spec(&self) -> &EnvSpec {
        self.env.spec()
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        self.elapsed = 0;
        self.env.reset(seed, obs);
    }

    fn reseed(&mut self, seed: u64) {
        self.env.reseed(seed);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let mut step = self.env.step(action, obs);
        self.elapsed += 1;
        if self
            .max_episode_steps
            .is_some_and(|max| self.elapsed >= max)
        {
            step.truncated = true;
        }
        step
    }

    fn state(&self) -> Vec<f64> {
        self.env.state()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.elapsed = 0;
        self.env.set_state(state, obs);
    }

    fn info(&self) -> Info {
        self.env.info()
    }

    fn model(&self) -> Option<&TabularModel> {
        self.env.model()
    }

    fn bandit_means(&self) -> Option<&[f64]> {
        self.env.bandit_means()
    }

    fn goal_env(&self) -> Option<&dyn crate::env::goal::GoalEnv> {
        self.env.goal_env()
    }

    fn reward_features(&self) -> Option<&dyn crate::env::features::RewardFeatures> {
        self.env.reward_features()
    }

    fn linear_quadratic(&self) -> Option<LinearQuadratic<'_>> {
        self.env.linear_quadratic()
    }

    fn known_reward(&self) -> Option<&dyn crate::env::known_reward::KnownReward> {
        self.env.known_reward()
    }

    /// The wrapped env's snapshot with the episode's step count appended to `extra`.
    fn snapshot(&self) -> EnvSnapshot {
        let mut snapshot = self.env.snapshot();
        snapshot.extra.push(f64::from(self.elapsed));
        snapshot
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        let mut inner = snapshot.clone();
        self.elapsed = inner
            .extra
            .pop()
            .expect("a time-limit snapshot ends with its step count") as u32;
        self.env.restore(&inner);
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, make_env};

    #[test]
    fn truncates_exactly_at_the_limit_and_counts_from_reset() {
        let env = make_env("CliffWalking-v0", &EnvOptions::default()).unwrap();
        let mut env = TimeLimit::new(env, Some(3));
        let mut obs = [0.0];
        env.reset(Some(0), &mut obs);
        let up = Action::Discrete(0);
        assert!(!env.step(up, &mut obs).truncated);
        assert!(!env.step(up, &mut obs).truncated);
        let last = env.step(up, &mut obs);
        assert!(last.truncated && !last.terminated);
        env.reset(None, &mut obs);
        assert_eq!(env.elapsed(), 0);
        assert!(!env.step(up, &mut obs).truncated);
    }

    #[test]
    fn no_limit_never_truncates() {
        let env = make_env("CliffWalking-v0", &EnvOptions::default()).unwrap();
        let mut env = TimeLimit::new(env, None);
        let mut obs = [0.0];
        env.reset(Some(0), &mut obs);
        assert!((0..10_000).all(|_| !env.step(Action::Discrete(0), &mut obs).truncated));
    }
}
