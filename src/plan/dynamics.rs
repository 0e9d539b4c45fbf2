//! The model a planner simulates on, s_{t+1}, r_t, done_t = f(s_t, a_t) for a batch of
//! rollouts from the current state (CS285 lectures 10–11: planning with a known or a learned
//! model). Random shooting and CEM score their action sequences through it, so the same planner
//! runs on the true dynamics ([`EnvClones`]) or on a learned model (PETS, Chua et al. 2018).
//!
//! A rollout's state is whatever the model needs to continue it: for env clones the clone
//! itself, for a learned model its predicted observation. Env clones carry more than
//! `Env::state()`: the time limit's step count, hidden flags and the RNG of stochastic
//! transitions, none of which `Env::set_state` restores, so a flat vector of states would not
//! replay the env exactly.

use rand::RngExt;
use rayon::prelude::*;

use crate::env::{Action, Env};
use crate::rng::Rng;

/// A batched model of the dynamics, bound to the current state.
///
/// Rollouts are independent: each carries its own randomness in its state, so an
/// implementation may step them in any order and a planner may simulate a population in
/// several batches at once; the outcome never depends on threads.
pub trait Dynamics: Sync {
    /// One rollout's state.
    type State: Send;

    /// Rollouts that one call to [`Dynamics::step`] should advance: a planner simulates a
    /// larger population in batches of this size, in parallel. Env clones step one by one, so
    /// a few suffice; a learned model wants the whole population in one forward pass
    /// (`usize::MAX`).
    fn batch_size(&self) -> usize;

    /// `n` rollouts from the current state, their randomness drawn from `rng` in order.
    fn start(&self, n: usize, rng: &mut Rng) -> Vec<Self::State>;

    /// Advances rollout i by `actions[i]` (`None`: it has ended, leave it) and writes its
    /// reward r_i and whether its episode ended (terminated or truncated) into `dones[i]`.
    fn step(
        &self,
        states: &mut [Self::State],
        actions: &[Option<Action<'_>>],
        rewards: &mut [f64],
        dones: &mut [bool],
    );
}

/// The true model: each rollout steps its own clone of the controlled env, which itself is
/// never touched.
#[derive(Clone, Copy)]
pub struct EnvClones<'a> {
    env: &'a dyn Env,
}

impl<'a> EnvClones<'a> {
    pub fn new(env: &'a dyn Env) -> Self {
        Self { env }
    }
}

/// A rollout on a clone of the env: the clone and its last observation.
pub struct Simulated {
    pub env: Box<dyn Env>,
    pub obs: Vec<f32>,
}

impl Dynamics for EnvClones<'_> {
    type State = Simulated;

    /// Enough rollouts to spread the bookkeeping of a batch thin, few enough for rayon to
    /// balance rollouts that end early.
    fn batch_size(&self) -> usize {
        16
    }

    /// Clones of the env, each reseeded with a draw from `rng` so that stochastic envs sample
    /// fresh transitions.
    fn start(&self, n: usize, rng: &mut Rng) -> Vec<Simulated> {
        let seeds: Vec<u64> = (0..n).map(|_| rng.random()).collect();
        let dim = self.env.spec().observation_space.flat_dim();
        seeds
            .par_iter()
            .map(|&seed| {
                let mut env = self.env.clone_box();
                env.reseed(seed);
                Simulated {
                    env,
                    obs: vec![0.0; dim],
                }
            })
            .collect()
    }

    fn step(
        &self,
        states: &mut [Simulated],
        actions: &[Option<Action<'_>>],
        rewards: &mut [f64],
        dones: &mut [bool],
    ) {
        let rows = states.iter_mut().zip(actions).zip(rewards).zip(dones);
        for (((sim, action), reward), done) in rows {
            if let Some(action) = action {
                let step = sim.env.step(*action, &mut sim.obs);
                *reward = step.reward;
                *done = step.terminated || step.truncated;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, Space, TimeLimit, make_env};
    use crate::rng;

    fn env(id: &str, options: &EnvOptions, limit: u32, seed: u64) -> TimeLimit {
        let mut env = TimeLimit::new(make_env(id, options).unwrap(), Some(limit));
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        env.reset(Some(seed), &mut obs);
        env
    }

    /// Action `t` of rollout `i`: varied, covering the space.
    fn action<'b>(space: &Space, i: usize, t: usize, buf: &'b mut [f32; 1]) -> Action<'b> {
        match space {
            Space::Discrete(n) => Action::Discrete((i * 5 + t * 3 + t / 4) % n),
            Space::Box { .. } => {
                buf[0] = ((i + t) % 9) as f32 * 0.5 - 2.0;
                Action::Continuous(buf)
            }
        }
    }

    /// Every row of a batch steps exactly like a clone of the env reseeded with the same
    /// draw, stepped directly: states, observations, rewards and ends (termination on
    /// CartPole, the time limit on Pendulum, slippery moves on FrozenLake).
    #[test]
    fn env_clones_step_exactly_like_the_env() {
        let slippery = EnvOptions {
            is_slippery: Some(true),
            ..EnvOptions::default()
        };
        let cases = [
            ("Pendulum-v1", EnvOptions::default(), 40),
            ("CartPole-v1", EnvOptions::default(), 500),
            ("FrozenLake-v1", slippery, 100),
        ];
        for (id, options, limit) in cases {
            let env = env(id, &options, limit, 3);
            let before = env.snapshot();
            let space = env.spec().action_space.clone();
            let model = EnvClones::new(&env);
            let n = 4;
            let mut states = model.start(n, &mut rng::from_seed(7));
            let mut draws = rng::from_seed(7);
            let mut direct: Vec<Box<dyn Env>> = (0..n)
                .map(|_| {
                    let mut e = env.clone_box();
                    e.reseed(draws.random());
                    e
                })
                .collect();
            let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
            let mut live = vec![true; n];
            let (mut ended, mut steps) = (0, 0);
            for t in 0..60 {
                let mut bufs = vec![[0.0f32]; n];
                let actions: Vec<Option<Action>> = bufs
                    .iter_mut()
                    .enumerate()
                    .map(|(i, b)| live[i].then(|| action(&space, i, t, b)))
                    .collect();
                let (mut rewards, mut dones) = (vec![f64::NAN; n], vec![false; n]);
                model.step(&mut states, &actions, &mut rewards, &mut dones);
                for i in 0..n {
                    let Some(a) = actions[i] else { continue };
                    let step = direct[i].step(a, &mut obs);
                    assert_eq!(rewards[i], step.reward, "{id}, row {i}, step {t}");
                    assert_eq!(dones[i], step.terminated || step.truncated, "{id} {i} {t}");
                    assert_eq!(
                        states[i].env.snapshot(),
                        direct[i].snapshot(),
                        "{id} {i} {t}"
                    );
                    assert_eq!(states[i].obs, obs, "{id}, row {i}, step {t}");
                    steps += 1;
                    if dones[i] {
                        live[i] = false;
                        ended += 1;
                    }
                }
            }
            assert_eq!(ended, n, "{id}: every rollout ends within 60 steps");
            assert!(steps > 2 * n, "{id}: rollouts step on");
            assert_eq!(env.snapshot(), before, "{id}: the env itself is untouched");
        }
    }
}
