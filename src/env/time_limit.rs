//! gymnasium's `TimeLimit` wrapper: truncates an episode after `max_episode_steps` steps.

use super::{Action, Env, EnvSpec, Info, Step, TabularModel};

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

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}
