//! The evaluation protocol: `eval_episodes` episodes of the greedy/deterministic policy on a
//! separate env instance seeded from the run's eval stream.

use rand::RngExt;

use crate::env::{Action, Env, TimeLimit};
use crate::rng::Rng;

/// Chooses an action for one observation (the greedy or deterministic policy).
pub trait Policy {
    fn act(&mut self, obs: &[f32]) -> Action<'_>;
}

impl<F: FnMut(&[f32]) -> Action<'static>> Policy for F {
    fn act(&mut self, obs: &[f32]) -> Action<'_> {
        self(obs)
    }
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

    /// Runs `episodes` episodes of `policy`; returns their undiscounted returns. The first
    /// episode reseeds the env from the eval stream, so every evaluation is reproducible.
    pub fn run(&mut self, policy: &mut dyn Policy, episodes: u32) -> Vec<f64> {
        let mut returns = Vec::with_capacity(episodes as usize);
        let seed = self.rng.random::<u64>();
        for episode in 0..episodes {
            self.env
                .reset((episode == 0).then_some(seed), &mut self.obs);
            let mut total = 0.0;
            loop {
                let action = policy.act(&self.obs);
                let step = self.env.step(action, &mut self.obs);
                total += step.reward;
                if step.terminated || step.truncated {
                    break;
                }
            }
            returns.push(total);
        }
        returns
    }
}
