//! Open-loop rollouts of action sequences from a clone of an env, one at a time or many in
//! parallel (rayon's pool, so planners use every core that the seeds leave free).

use rayon::prelude::*;

use crate::env::{Action, Env};

/// An action sequence: discrete indices, or `horizon × dim` continuous values (row-major).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan<'a> {
    Discrete(&'a [usize]),
    Continuous { values: &'a [f32], dim: usize },
}

impl Plan<'_> {
    pub fn len(&self) -> usize {
        match self {
            Plan::Discrete(a) => a.len(),
            Plan::Continuous { values, dim } => values.len() / dim,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The action at time `t`.
    pub fn action(&self, t: usize) -> Action<'_> {
        match self {
            Plan::Discrete(a) => Action::Discrete(a[t]),
            Plan::Continuous { values, dim } => Action::Continuous(&values[t * dim..(t + 1) * dim]),
        }
    }
}

/// What a simulated rollout returned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Σ_t γ^t r_t over the steps taken.
    pub discounted_return: f64,
    /// Steps taken (fewer than the plan when the episode ended).
    pub steps: usize,
    /// The episode terminated (not merely truncated) inside the plan.
    pub terminated: bool,
}

/// Simulates `plan` from a clone of `start`, stopping when the episode ends. `seed` reseeds the
/// clone's RNG (stochastic envs), so that each simulation samples its own transitions.
pub fn rollout(start: &dyn Env, plan: Plan<'_>, gamma: f64, seed: Option<u64>) -> Outcome {
    let mut env = start.clone_box();
    if let Some(seed) = seed {
        env.reseed(seed);
    }
    let mut obs = vec![0.0; start.spec().observation_space.flat_dim()];
    let mut outcome = Outcome {
        discounted_return: 0.0,
        steps: 0,
        terminated: false,
    };
    let mut discount = 1.0;
    for t in 0..plan.len() {
        let step = env.step(plan.action(t), &mut obs);
        outcome.discounted_return += discount * step.reward;
        outcome.steps += 1;
        discount *= gamma;
        if step.terminated || step.truncated {
            outcome.terminated = step.terminated;
            break;
        }
    }
    outcome
}

/// [`rollout`] of every plan in `plans`, in parallel; results in the order of `plans`, so the
/// outcome does not depend on the number of threads.
pub fn rollout_many<'a>(
    start: &dyn Env,
    plans: &[Plan<'a>],
    gamma: f64,
    seeds: Option<&[u64]>,
) -> Vec<Outcome> {
    plans
        .par_iter()
        .enumerate()
        .map(|(i, plan)| rollout(start, *plan, gamma, seeds.map(|s| s[i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, TimeLimit, make_env};

    fn cartpole() -> TimeLimit {
        let mut env = TimeLimit::new(
            make_env("CartPole-v1", &EnvOptions::default()).unwrap(),
            Some(500),
        );
        env.reset(Some(3), &mut [0.0; 4]);
        env
    }

    #[test]
    fn rollouts_do_not_disturb_the_env_and_stop_at_termination() {
        let env = cartpole();
        let before = env.state();
        let pushes = vec![1usize; 200];
        let outcome = rollout(&env, Plan::Discrete(&pushes), 1.0, None);
        assert_eq!(env.state(), before, "the planned-on env is untouched");
        assert!(
            outcome.terminated && outcome.steps < 200,
            "always pushing right topples the pole"
        );
        assert_eq!(
            outcome.discounted_return, outcome.steps as f64,
            "CartPole pays 1 per step"
        );
    }

    #[test]
    fn parallel_rollouts_match_sequential_ones() {
        let env = cartpole();
        let plans: Vec<Vec<usize>> = (0..64)
            .map(|k| (0..100).map(|t| (t * 7 + k) % 2).collect())
            .collect();
        let views: Vec<Plan> = plans.iter().map(|p| Plan::Discrete(p)).collect();
        let parallel = rollout_many(&env, &views, 0.99, None);
        let sequential: Vec<Outcome> = views
            .iter()
            .map(|p| rollout(&env, *p, 0.99, None))
            .collect();
        assert_eq!(parallel, sequential);
    }
}
