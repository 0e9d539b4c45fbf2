//! Random shooting (stochastic optimisation of an open-loop plan, CS285 lecture 10): sample N
//! action sequences A_1..A_N of horizon H uniformly, score J(A_i) = Σ_t γ^t r_t by simulating
//! each on a [`Dynamics`] model (clones of the env, or a learned model), execute the first
//! action of the best, replan at the next step (model-predictive control). Also the candidate
//! storage and scoring that CEM shares.

use std::time::Instant;

use rand::RngExt;

use super::dynamics::{Dynamics, EnvClones};
use super::rollout::{Plan, rollouts};
use super::stats::PlanStats;
use crate::env::{Action, Env, Space};
use crate::rng::Rng;
use crate::session::Policy;

/// The knobs of random shooting.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// H, steps of each sequence.
    pub horizon: usize,
    /// N, sequences scored per real step.
    pub population: usize,
    /// γ of the objective Σ_t γ^t r_t.
    pub gamma: f64,
}

/// N action sequences of one horizon, stored contiguously (sequence-major).
#[derive(Clone, Debug, PartialEq)]
pub enum Sequences {
    Discrete {
        actions: Vec<usize>,
        horizon: usize,
    },
    Continuous {
        values: Vec<f32>,
        horizon: usize,
        dim: usize,
    },
}

impl Sequences {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        match self {
            Sequences::Discrete { actions, horizon } => actions.len() / horizon,
            Sequences::Continuous {
                values,
                horizon,
                dim,
            } => values.len() / (horizon * dim),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence `i` as a plan for [`rollouts`].
    pub fn plan(&self, i: usize) -> Plan<'_> {
        match self {
            Sequences::Discrete { actions, horizon } => {
                Plan::Discrete(&actions[i * horizon..(i + 1) * horizon])
            }
            Sequences::Continuous {
                values,
                horizon,
                dim,
            } => {
                let len = horizon * dim;
                Plan::Continuous {
                    values: &values[i * len..(i + 1) * len],
                    dim: *dim,
                }
            }
        }
    }
}

/// The action a planner executes, owned so that `act` can lend it out.
#[derive(Clone, Debug, PartialEq)]
pub enum Chosen {
    Discrete(usize),
    Continuous(Vec<f32>),
}

impl Chosen {
    /// The first action of `plan`.
    pub fn first_of(plan: Plan<'_>) -> Self {
        match plan.action(0) {
            Action::Discrete(a) => Chosen::Discrete(a),
            Action::Continuous(a) => Chosen::Continuous(a.to_vec()),
        }
    }

    pub fn as_action(&self) -> Action<'_> {
        match self {
            Chosen::Discrete(a) => Action::Discrete(*a),
            Chosen::Continuous(a) => Action::Continuous(a),
        }
    }
}

/// J(A_i) = Σ_t γ^t r_t of every sequence, simulated on `dynamics` in parallel, and the total
/// number of simulated steps. The rollouts draw their randomness from `rng` (in sequence order),
/// so stochastic envs sample fresh transitions and the result does not depend on threads.
pub fn score<D: Dynamics>(
    dynamics: &D,
    sequences: &Sequences,
    gamma: f64,
    rng: &mut Rng,
) -> (Vec<f64>, usize) {
    let plans: Vec<Plan> = (0..sequences.len()).map(|i| sequences.plan(i)).collect();
    let outcomes = rollouts(dynamics, &plans, gamma, rng);
    let steps = outcomes.iter().map(|o| o.steps).sum();
    (
        outcomes.iter().map(|o| o.discounted_return).collect(),
        steps,
    )
}

/// Index of the highest score (the first of equals).
pub fn best(scores: &[f64]) -> usize {
    (0..scores.len())
        .reduce(|b, i| if scores[i] > scores[b] { i } else { b })
        .expect("at least one sequence")
}

/// Random-shooting MPC: uniform sequences over the action space, replanned every step.
pub struct RandomShooting {
    action_space: Space,
    horizon: usize,
    population: usize,
    gamma: f64,
    rng: Rng,
    chosen: Chosen,
    stats: PlanStats,
}

impl RandomShooting {
    /// `action_space` must be discrete or a box with finite bounds.
    pub fn new(options: &Options, action_space: &Space, rng: Rng) -> Self {
        Self {
            action_space: action_space.clone(),
            horizon: options.horizon,
            population: options.population,
            gamma: options.gamma,
            rng,
            chosen: Chosen::Discrete(0),
            stats: PlanStats::default(),
        }
    }

    pub fn stats(&self) -> &PlanStats {
        &self.stats
    }

    /// One planning step on `dynamics`: the first action of the best of `population` uniform
    /// sequences.
    pub fn plan<D: Dynamics>(&mut self, dynamics: &D) -> Action<'_> {
        let started = Instant::now();
        let sequences = self.sample();
        let (scores, sim_steps) = score(dynamics, &sequences, self.gamma, &mut self.rng);
        self.chosen = Chosen::first_of(sequences.plan(best(&scores)));
        self.stats.record(started, sim_steps);
        self.chosen.as_action()
    }

    /// `population` sequences drawn uniformly from the action space.
    fn sample(&mut self) -> Sequences {
        let (n, horizon) = (self.population, self.horizon);
        match &self.action_space {
            Space::Discrete(k) => Sequences::Discrete {
                actions: (0..n * horizon)
                    .map(|_| self.rng.random_range(0..*k))
                    .collect(),
                horizon,
            },
            Space::Box { low, high } => {
                let dim = low.len();
                let values = (0..n * horizon * dim)
                    .map(|j| {
                        let d = j % dim;
                        low[d] + (high[d] - low[d]) * self.rng.random::<f32>()
                    })
                    .collect();
                Sequences::Continuous {
                    values,
                    horizon,
                    dim,
                }
            }
        }
    }
}

/// Random shooting on the true dynamics: clones of the controlled env.
impl Policy for RandomShooting {
    fn act(&mut self, _obs: &[f32], env: &dyn Env) -> Action<'_> {
        self.plan(&EnvClones::new(env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, TimeLimit, make_env};
    use crate::rng;

    fn env(id: &str, seed: u64) -> TimeLimit {
        let base = make_env(id, &EnvOptions::default()).unwrap();
        let limit = base.spec().max_episode_steps;
        let mut env = TimeLimit::new(base, limit);
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        env.reset(Some(seed), &mut obs);
        env
    }

    fn options(horizon: usize, population: usize) -> Options {
        Options {
            horizon,
            population,
            gamma: 1.0,
        }
    }

    #[test]
    fn executes_the_first_action_of_the_best_sequence_and_leaves_the_env_alone() {
        let env = env("Pendulum-v1", 5);
        let before = env.state();
        let space = &env.spec().action_space;
        let mut planner = RandomShooting::new(&options(10, 64), space, rng::from_seed(1));
        let got = match planner.act(&[0.0; 3], &env) {
            Action::Continuous(a) => a.to_vec(),
            Action::Discrete(_) => unreachable!("Pendulum's actions are continuous"),
        };
        assert_eq!(env.state(), before, "the controlled env is untouched");

        // Replaying the planner's draws: the same sequences, then the same rollout seeds.
        let mut replay = RandomShooting::new(&options(10, 64), space, rng::from_seed(1));
        let sequences = replay.sample();
        let (scores, steps) = score(&EnvClones::new(&env), &sequences, 1.0, &mut replay.rng);
        let chosen = sequences.plan(best(&scores));
        assert_eq!(Action::Continuous(&got), chosen.action(0));
        assert!((-2.0..=2.0).contains(&got[0]));
        assert_eq!(steps, 640, "no Pendulum episode ends within 10 steps");
        assert_eq!(planner.stats().mean_sim_steps(), 640.0);
    }

    #[test]
    fn random_shooting_balances_cartpole() {
        let mut env = env("CartPole-v1", 7);
        let mut planner = RandomShooting::new(
            &options(25, 100),
            &env.spec().action_space,
            rng::from_seed(2),
        );
        let mut obs = [0.0; 4];
        for t in 0..200 {
            let action = match planner.act(&obs, &env) {
                Action::Discrete(a) => a,
                Action::Continuous(_) => unreachable!("CartPole's actions are discrete"),
            };
            let step = env.step(Action::Discrete(action), &mut obs);
            assert!(!step.terminated, "the pole fell at step {t}");
        }
    }
}
