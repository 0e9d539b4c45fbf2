//! One gymnasium env behind its own worker, as an rl [`Env`].

use std::sync::Mutex;

use rand::RngExt;

use super::{Bridge, Worker};
use crate::env::registry::OptionError;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Step};
use crate::rng::{self, Rng};

/// A gymnasium env served by a worker of its own (evaluation, single-env algorithms, checks).
///
/// Its Python state cannot be copied: a snapshot keeps only a generator, from which
/// [`Env::restore`] reseeds a new episode (resume is not step-identical), and a clone is a
/// fresh worker of the same env.
pub struct BridgeEnv {
    bridge: Bridge,
    spec: EnvSpec,
    /// Behind a lock because reading the state (`&self`) is a request to the worker.
    worker: Mutex<Worker>,
    /// Seeds the new episode [`Env::restore`] starts.
    rng: Rng,
    step: [Step; 1],
}

impl BridgeEnv {
    /// Starts the worker of `bridge` (errors name the `[env]` key at fault).
    pub fn start(bridge: &Bridge) -> Result<Self, OptionError> {
        let worker = Worker::start(bridge, 1, false)?;
        Ok(Self {
            bridge: bridge.clone(),
            spec: worker.spec().clone(),
            worker: Mutex::new(worker),
            rng: rng::from_seed(0),
            step: [Step {
                reward: 0.0,
                terminated: false,
                truncated: false,
            }],
        })
    }

    /// The worker's pid (tests kill it).
    pub fn pid(&self) -> u32 {
        self.worker().pid()
    }

    fn worker(&self) -> std::sync::MutexGuard<'_, Worker> {
        self.worker.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Env for BridgeEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(s) = seed {
            self.rng = rng::from_seed(s);
        }
        self.worker().reset(0, seed, obs);
    }

    fn reseed(&mut self, seed: u64) {
        self.worker().reseed(0, seed);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let mut worker = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        worker.step(|_| action, &mut self.step, obs);
        self.step[0]
    }

    fn state(&self) -> Vec<f64> {
        self.worker().state(0)
    }

    fn set_state(&mut self, _: &[f64], _: &mut [f32]) {
        panic!(
            "the state of {} (a gymnasium env) cannot be set; rl refuses planners on bridged envs",
            self.spec.id
        )
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: Vec::new(),
            extra: Vec::new(),
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.rng = snapshot.rng.clone();
        let seed = self.rng.random();
        let mut obs = vec![0.0; self.spec.observation_space.flat_dim()];
        self.reset(Some(seed), &mut obs);
    }

    fn clone_box(&self) -> Box<dyn Env> {
        let env = BridgeEnv::start(&self.bridge)
            .unwrap_or_else(|e| panic!("a second worker of {}: {e}", self.spec.id));
        Box::new(env)
    }
}
