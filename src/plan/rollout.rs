//! Open-loop rollouts of action sequences on a [`Dynamics`] model: a population simulated in
//! the model's batches, the batches in parallel (rayon's pool, so planners use every core that
//! the seeds leave free).

use rayon::prelude::*;

use super::dynamics::Dynamics;
use crate::env::Action;
use crate::rng::Rng;

/// An action sequence: discrete indices, or `horizon × dim` continuous values (row-major).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan<'a> {
    Discrete(&'a [usize]),
    Continuous { values: &'a [f32], dim: usize },
}

impl<'a> Plan<'a> {
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
    pub fn action(&self, t: usize) -> Action<'a> {
        match self {
            Plan::Discrete(a) => Action::Discrete(a[t]),
            Plan::Continuous { values, dim } => Action::Continuous(&values[t * dim..(t + 1) * dim]),
        }
    }
}

/// What a simulated rollout returned.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Σ_t γ^t r_t over the steps taken.
    pub discounted_return: f64,
    /// Steps taken (fewer than the plan when the episode ended).
    pub steps: usize,
}

/// Simulates every plan (all of one horizon) from the model's current state, each until it
/// ends or its episode does; the rollouts' randomness is drawn from `rng` first, in the order
/// of `plans`. Results come in the order of `plans` and do not depend on the number of threads.
pub fn rollouts<D: Dynamics>(
    dynamics: &D,
    plans: &[Plan<'_>],
    gamma: f64,
    rng: &mut Rng,
) -> Vec<Outcome> {
    let mut states = dynamics.start(plans.len(), rng);
    let mut outcomes = vec![Outcome::default(); plans.len()];
    let batch = dynamics.batch_size();
    states
        .par_chunks_mut(batch)
        .zip(plans.par_chunks(batch))
        .zip(outcomes.par_chunks_mut(batch))
        .for_each_init(Scratch::default, |scratch, ((states, plans), outcomes)| {
            simulate(dynamics, states, plans, gamma, outcomes, scratch);
        });
    outcomes
}

/// The buffers of [`simulate`], reused by the batches one thread simulates.
#[derive(Default)]
struct Scratch<'a> {
    actions: Vec<Option<Action<'a>>>,
    rewards: Vec<f64>,
    dones: Vec<bool>,
}

/// One batch of [`rollouts`], stepped together: at each time t every live rollout takes its
/// plan's action, adds γ^t r_t and stops when its episode ends.
fn simulate<'a, D: Dynamics>(
    dynamics: &D,
    states: &mut [D::State],
    plans: &[Plan<'a>],
    gamma: f64,
    outcomes: &mut [Outcome],
    scratch: &mut Scratch<'a>,
) {
    let (n, horizon) = (plans.len(), plans[0].len());
    debug_assert!(
        plans.iter().all(|p| p.len() == horizon),
        "plans of one horizon"
    );
    let Scratch {
        actions,
        rewards,
        dones,
    } = scratch;
    actions.clear();
    actions.extend(plans.iter().map(|p| (horizon > 0).then(|| p.action(0))));
    rewards.resize(n, 0.0);
    dones.clear();
    dones.resize(n, false);
    let mut discount = 1.0;
    for t in 0..horizon {
        dynamics.step(states, actions, rewards, dones);
        let mut live = false;
        let rows = actions.iter_mut().zip(plans).zip(outcomes.iter_mut());
        for (((action, plan), outcome), (reward, done)) in rows.zip(rewards.iter().zip(&*dones)) {
            if action.is_some() {
                outcome.discounted_return += discount * reward;
                outcome.steps += 1;
                *action = (!done && t + 1 < horizon).then(|| plan.action(t + 1));
                live |= action.is_some();
            }
        }
        if !live {
            break;
        }
        discount *= gamma;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Env, EnvOptions, Space, TimeLimit, make_env};
    use crate::plan::dynamics::{EnvClones, Simulated};
    use crate::rng;
    use rand::RngExt;

    fn env(id: &str, options: &EnvOptions, seed: u64) -> TimeLimit {
        let base = make_env(id, options).unwrap();
        let limit = base.spec().max_episode_steps;
        let mut env = TimeLimit::new(base, limit);
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        env.reset(Some(seed), &mut obs);
        env
    }

    /// [`EnvClones`] stepped in batches of `k` rollouts, as a learned model would be.
    struct Batched<'a>(EnvClones<'a>, usize);

    impl Dynamics for Batched<'_> {
        type State = Simulated;

        fn batch_size(&self) -> usize {
            self.1
        }

        fn start(&self, n: usize, rng: &mut Rng) -> Vec<Simulated> {
            self.0.start(n, rng)
        }

        fn step(
            &self,
            states: &mut [Simulated],
            actions: &[Option<Action<'_>>],
            rewards: &mut [f64],
            dones: &mut [bool],
        ) {
            self.0.step(states, actions, rewards, dones);
        }
    }

    /// The rollout of one plan on one reseeded clone, stepped by hand.
    fn by_hand(env: &dyn Env, plan: Plan<'_>, gamma: f64, seed: u64) -> Outcome {
        let mut env = env.clone_box();
        env.reseed(seed);
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        let (mut outcome, mut discount) = (Outcome::default(), 1.0);
        for t in 0..plan.len() {
            let step = env.step(plan.action(t), &mut obs);
            outcome.discounted_return += discount * step.reward;
            outcome.steps += 1;
            discount *= gamma;
            if step.terminated || step.truncated {
                break;
            }
        }
        outcome
    }

    #[test]
    fn rollouts_do_not_disturb_the_env_and_stop_when_the_episode_ends() {
        let env = env("CartPole-v1", &EnvOptions::default(), 3);
        let before = env.snapshot();
        let pushes = vec![1usize; 200];
        let outcomes = rollouts(
            &EnvClones::new(&env),
            &[Plan::Discrete(&pushes)],
            1.0,
            &mut rng::from_seed(0),
        );
        assert_eq!(env.snapshot(), before, "the planned-on env is untouched");
        assert!(
            outcomes[0].steps < 200,
            "always pushing right topples the pole"
        );
        assert_eq!(
            outcomes[0].discounted_return, outcomes[0].steps as f64,
            "CartPole pays 1 per step"
        );
    }

    /// Rollouts match plans stepped one by one on clones reseeded with the same draws, in
    /// any batch size and on any number of threads (CartPole ends early, slippery FrozenLake
    /// samples its moves).
    #[test]
    fn rollouts_match_plans_stepped_by_hand() {
        let slippery = EnvOptions {
            is_slippery: Some(true),
            ..EnvOptions::default()
        };
        for (id, options) in [
            ("CartPole-v1", EnvOptions::default()),
            ("FrozenLake-v1", slippery),
        ] {
            let env = env(id, &options, 3);
            let Space::Discrete(n) = env.spec().action_space else {
                unreachable!("discrete actions")
            };
            let plans: Vec<Vec<usize>> = (0..37)
                .map(|k| (0..60).map(|t| (t * 7 + k + t / 5) % n).collect())
                .collect();
            let views: Vec<Plan> = plans.iter().map(|p| Plan::Discrete(p)).collect();
            let mut draws = rng::from_seed(11);
            let want: Vec<Outcome> = views
                .iter()
                .map(|p| by_hand(&env, *p, 0.99, draws.random()))
                .collect();
            for (threads, batch) in [(1, 1), (3, 1), (2, 5), (1, 64)] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let got = pool.install(|| {
                    let model = Batched(EnvClones::new(&env), batch);
                    rollouts(&model, &views, 0.99, &mut rng::from_seed(11))
                });
                assert_eq!(got, want, "{id}, {threads} threads, batches of {batch}");
            }
            assert!(want.iter().any(|o| o.steps < 60), "{id}: some episode ends");
        }
    }
}
