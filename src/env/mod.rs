//! Environments: the [`Env`] trait, spaces, the registry, the time limit and the vector env.
//!
//! Every environment reproduces gymnasium 1.x step for step (see `../shared/fixtures/gymnasium`).
//! Internal state is kept in the precision gymnasium uses (mostly float64); observations are f32.
//! A discrete observation (toy-text envs) is written as one f32 holding the state index.
//! The exceptions are [`linear`] (rl's own linear-quadratic envs, on which LQR is exact) and
//! [`bandit`] (multi-armed bandits). Multi-agent envs (PettingZoo's parallel API, MPE2's
//! particle envs) live in [`multi`].

pub mod bandit;
pub mod bit_flipping;
pub mod bridge;
pub mod classic;
pub mod features;
pub mod goal;
pub mod known_reward;
pub mod linear;
pub mod model;
pub mod multi;
pub mod normalize;
pub mod registry;
mod section;
pub mod time_limit;
pub mod toy_text;
pub mod vector;

pub use model::{TabularModel, Transition};
pub use registry::{EnvOptions, make_env};
pub use time_limit::TimeLimit;
pub use vector::VecEnv;

pub use crate::space::Space;
pub use section::{EnvBackend, EnvSection};

/// An action handed to [`Env::step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    Discrete(usize),
    Continuous(&'a [f32]),
}

/// What one step returned (gymnasium's `reward, terminated, truncated`; the observation is
/// written into the caller's buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub reward: f64,
    /// The MDP reached a terminal state: do not bootstrap.
    pub terminated: bool,
    /// The episode was cut by a time limit: bootstrap from the final observation.
    pub truncated: bool,
}

/// Everything needed to continue an env exactly where it is (checkpoints): its state, hidden
/// flags and its RNG.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvSnapshot {
    /// The `state()` values.
    pub state: Vec<f64>,
    /// Hidden flags: MountainCarContinuous's float32 mode, a time limit's step count, ...
    pub extra: Vec<f64>,
    pub rng: crate::rng::Rng,
}

/// gymnasium's `info` dict for the toy-text envs (classic-control envs return an empty one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Info {
    /// Probability of the transition just taken (`info["prob"]`).
    pub prob: Option<f64>,
    /// Taxi's `info["action_mask"]`: 1 where the action changes the state.
    pub action_mask: Option<Vec<i8>>,
}

/// The exact model of a linear-quadratic env: x' = A x + B u with cost xᵀQx + uᵀRu (the
/// negative reward) of the pre-step state and the action.
#[derive(Clone, Copy, Debug)]
pub struct LinearQuadratic<'a> {
    pub a: &'a nalgebra::DMatrix<f64>,
    pub b: &'a nalgebra::DMatrix<f64>,
    pub q: &'a nalgebra::DMatrix<f64>,
    pub r: &'a nalgebra::DMatrix<f64>,
}

/// Static description of an environment: id, spaces, registered time limit and solve threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvSpec {
    pub id: String,
    pub observation_space: Space,
    pub action_space: Space,
    /// gymnasium's registered `max_episode_steps` (None: no limit, e.g. CliffWalking).
    pub max_episode_steps: Option<u32>,
    /// gymnasium's `reward_threshold` or the common "solved" bar.
    pub reward_threshold: Option<f64>,
}

/// A gymnasium-exact environment. Base envs never truncate; [`TimeLimit`] adds truncation.
///
/// Randomness: each env owns its RNG, reseeded by `reset(Some(seed), ..)` exactly like
/// gymnasium's `reset(seed=...)`; `reset(None, ..)` continues the stream. Cloning copies the
/// RNG too, so a clone replays the same future; [`Env::reseed`] gives a clone its own.
///
/// Envs are `Sync` so that planners can simulate clones of one env on several threads.
pub trait Env: Send + Sync {
    fn spec(&self) -> &EnvSpec;

    /// Samples an initial state (reseeding first when `seed` is given) and writes its observation.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]);

    /// Reseeds the env's RNG without touching its state, so that a planner's clones sample
    /// fresh outcomes of stochastic transitions.
    fn reseed(&mut self, seed: u64);

    /// Applies `action` and writes the next observation into `obs`.
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step;

    /// The internal state (`env.unwrapped.state`, or `[s]` for toy-text envs) as f64 values.
    fn state(&self) -> Vec<f64>;

    /// Overwrites the internal state as if `reset()` had produced it, and writes its observation.
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]);

    /// Everything needed to continue exactly from here (for checkpoints).
    fn snapshot(&self) -> EnvSnapshot;

    /// Puts the env back where [`Env::snapshot`] found it.
    fn restore(&mut self, snapshot: &EnvSnapshot);

    /// gymnasium's `info` for the last reset or step.
    fn info(&self) -> Info {
        Info::default()
    }

    /// The transition model `P[s][a]` of a toy-text env (None for continuous-state envs).
    fn model(&self) -> Option<&TabularModel> {
        None
    }

    /// The exact linear-quadratic model, where the env has one (rl's linear envs): planners
    /// then use its derivatives instead of finite differences.
    fn linear_quadratic(&self) -> Option<LinearQuadratic<'_>> {
        None
    }

    /// The true mean reward of each arm of a multi-armed bandit (None for other envs), from
    /// which learners record their pseudo-regret.
    fn bandit_means(&self) -> Option<&[f64]> {
        None
    }

    /// The goal structure of a goal-conditioned env (None for other envs), for hindsight
    /// experience replay.
    fn goal_env(&self) -> Option<&dyn goal::GoalEnv> {
        None
    }

    /// The reward features φ(s, a, s') of an env whose reward is φ·w (None for other envs),
    /// for successor features.
    fn reward_features(&self) -> Option<&dyn features::RewardFeatures> {
        None
    }

    /// The reward as a known function r(s, a) of the observation and the action (None where
    /// it is not one), for planning on a learned model of the dynamics.
    fn known_reward(&self) -> Option<&dyn known_reward::KnownReward> {
        None
    }

    /// A boxed copy with identical state and RNG.
    fn clone_box(&self) -> Box<dyn Env>;
}

impl Clone for Box<dyn Env> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
