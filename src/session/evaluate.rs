//! The evaluation protocol: `eval_episodes` episodes of the greedy/deterministic policy on a
//! separate env instance seeded from the run's eval stream.

use rand::RngExt;

use crate::env::{Action, Env, EnvSection, TimeLimit};
use crate::rng::Rng;

/// Chooses an action in the env being evaluated: the greedy or deterministic policy of a
/// learner (which reads `obs`), or a planner (which simulates clones of `env`; the shared
/// reference guarantees it cannot disturb the env it controls).
pub trait Policy {
    fn act(&mut self, obs: &[f32], env: &dyn Env) -> Action<'_>;

    /// Called when a new episode starts (planners drop their warm start here).
    fn start_episode(&mut self) {}
}

/// A learner's policy: a function of the observation.
impl<F: FnMut(&[f32]) -> Action<'static>> Policy for F {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        self(obs)
    }
}

/// The evaluation env of `section`: its time limit (the registered one, `env.max_episode_steps`,
/// or `max_episode_steps` (`experiment.eval_max_episode_steps`) for envs without one).
pub fn eval_env(section: &EnvSection, max_episode_steps: u32) -> anyhow::Result<TimeLimit> {
    let env = section.make()?;
    let limit = section
        .max_episode_steps
        .or(env.spec().max_episode_steps)
        .unwrap_or(max_episode_steps);
    Ok(TimeLimit::new(env, Some(limit)))
}

/// A dedicated evaluation env and its seed stream.
pub struct Evaluator {
    env: TimeLimit,
    rng: Rng,
    obs: Vec<f32>,
}

impl Evaluator {
    /// `env` must already carry the evaluation time limit.
    pub fn new(env: TimeLimit, rng: Rng) -> Self {
        let obs = vec![0.0; env.spec().observation_space.flat_dim()];
        Self { env, rng, obs }
    }

    /// The eval seed stream (saved in checkpoints).
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Continues the eval seed stream from a checkpoint.
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }

    /// Runs `episodes` episodes of `policy`; returns their undiscounted returns. The first
    /// episode reseeds the env from the eval stream, so every evaluation is reproducible.
    pub fn run<P: Policy + ?Sized>(&mut self, policy: &mut P, episodes: u32) -> Vec<f64> {
        self.run_observed(policy, episodes, |_| true)
    }

    /// As [`Evaluator::run`], calling `after_episode(episodes done)` after each episode; it
    /// returning false stops the evaluation early (fewer returns).
    pub fn run_observed<P: Policy + ?Sized>(
        &mut self,
        policy: &mut P,
        episodes: u32,
        mut after_episode: impl FnMut(u32) -> bool,
    ) -> Vec<f64> {
        let mut returns = Vec::with_capacity(episodes as usize);
        let seed = self.rng.random::<u64>();
        for episode in 0..episodes {
            self.env
                .reset((episode == 0).then_some(seed), &mut self.obs);
            policy.start_episode();
            let mut total = 0.0;
            loop {
                let action = policy.act(&self.obs, &self.env);
                let step = self.env.step(action, &mut self.obs);
                total += step.reward;
                if step.terminated || step.truncated {
                    break;
                }
            }
            returns.push(total);
            if !after_episode(episode + 1) {
                break;
            }
        }
        returns
    }
}
