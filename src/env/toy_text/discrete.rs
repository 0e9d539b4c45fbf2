//! The toy-text core shared by FrozenLake, CliffWalking and Taxi (gym's old `DiscreteEnv`):
//! a model `P[s][a]`, a uniform initial-state distribution, the current state, the probability
//! of the last transition and the env's RNG. A step samples the model with one uniform draw, as
//! gymnasium's `categorical_sample` does.

use std::sync::Arc;

use rand::RngExt;

use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Info, Step, TabularModel};
use crate::rng::{self, Rng};

/// A toy-text env; build one with [`DiscreteEnv::frozen_lake`], [`DiscreteEnv::cliff_walking`]
/// or [`DiscreteEnv::taxi`].
#[derive(Clone)]
pub struct DiscreteEnv {
    spec: EnvSpec,
    model: Arc<TabularModel>,
    /// Support of gymnasium's `initial_state_distrib` (uniform over it), ascending.
    initial_states: Arc<[usize]>,
    /// Taxi's `info["action_mask"]` of a state.
    action_mask: Option<fn(usize) -> Vec<i8>>,
    s: usize,
    /// Probability of the last transition (`info["prob"]`; 1 after a reset).
    prob: f64,
    rng: Rng,
}

impl DiscreteEnv {
    /// An env on `model` starting uniformly in one of `initial_states` (non-empty).
    pub(super) fn new(
        spec: EnvSpec,
        model: TabularModel,
        initial_states: Vec<usize>,
        action_mask: Option<fn(usize) -> Vec<i8>>,
    ) -> Self {
        assert!(
            !initial_states.is_empty(),
            "{} needs an initial state",
            spec.id
        );
        Self {
            spec,
            model: Arc::new(model),
            s: initial_states[0],
            initial_states: initial_states.into(),
            action_mask,
            prob: 1.0,
            rng: rng::from_seed(0),
        }
    }

    /// The support of the initial-state distribution.
    pub fn initial_states(&self) -> &[usize] {
        &self.initial_states
    }

    fn enter(&mut self, s: usize, obs: &mut [f32]) {
        self.s = s;
        self.prob = 1.0;
        obs[0] = s as f32;
    }
}

impl Env for DiscreteEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    /// A single initial state is taken without a draw; several are drawn uniformly.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        let s = match *self.initial_states {
            [only] => only,
            ref many => many[self.rng.random_range(0..many.len())],
        };
        self.enter(s, obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let id = &self.spec.id;
        let Action::Discrete(a) = action else {
            panic!("{id} takes a discrete action, got {action:?}");
        };
        let n = self.model.n_actions;
        assert!(a < n, "{id} has {n} actions, got {a}");
        let t = *self.model.sample(self.s, a, self.rng.random::<f64>());
        self.s = t.next_state;
        self.prob = t.prob;
        obs[0] = self.s as f32;
        Step {
            reward: t.reward,
            terminated: t.terminated,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        vec![self.s as f64]
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        let s = state[0] as usize;
        assert!(
            s < self.model.n_states,
            "{} has no state {}",
            self.spec.id,
            state[0]
        );
        self.enter(s, obs);
    }

    fn info(&self) -> Info {
        Info {
            prob: Some(self.prob),
            action_mask: self.action_mask.map(|mask| mask(self.s)),
        }
    }

    fn model(&self) -> Option<&TabularModel> {
        Some(&self.model)
    }

    /// `extra` = [probability of the last transition].
    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: vec![self.s as f64],
            extra: vec![self.prob],
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.s = snapshot.state[0] as usize;
        self.prob = snapshot.extra[0];
        self.rng = snapshot.rng.clone();
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}
