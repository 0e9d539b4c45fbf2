//! Multi-agent environments, shaped like PettingZoo's parallel API: every agent has its own
//! observation and action space; one action per agent goes in (in agent order), and one
//! observation, reward, termination and truncation per agent come out.
//!
//! The particle envs ([`mpe`]) reproduce MPE2 1.1.1 bit for bit (`shared/fixtures/mpe`).
//! Single-agent algorithms use [`super::Env`]; the two traits do not mix.

pub mod mpe;
pub mod registry;
pub mod vector;

pub use registry::{MULTI_AGENT_REGISTRY, is_multi_agent, make_multi_env};
pub use vector::MultiVecEnv;

use super::{Action, EnvSnapshot, Space};

/// Static description of a multi-agent env: id, agents and their spaces, episode length.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiAgentSpec {
    pub id: String,
    /// Agent names in step order (PettingZoo's `possible_agents`).
    pub agents: Vec<String>,
    /// `observation_space(agent)`, in agent order.
    pub observation_spaces: Vec<Space>,
    /// `action_space(agent)`, in agent order.
    pub action_spaces: Vec<Space>,
    /// Every agent is truncated on this step (MPE's `max_cycles`).
    pub max_cycles: u32,
}

impl MultiAgentSpec {
    pub fn num_agents(&self) -> usize {
        self.agents.len()
    }
}

/// What [`MultiAgentEnv::reset`] and [`MultiAgentEnv::step`] write: one entry per agent, in
/// agent order. Allocated once per env ([`MultiStep::new`]) and overwritten by every call.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStep {
    /// Agent `i`'s observation, `observation_spaces[i].flat_dim()` values.
    pub observations: Vec<Vec<f32>>,
    /// Rewards of the last step (zero after a reset).
    pub rewards: Vec<f64>,
    pub terminations: Vec<bool>,
    pub truncations: Vec<bool>,
}

impl MultiStep {
    /// Buffers shaped for `spec`.
    pub fn new(spec: &MultiAgentSpec) -> Self {
        let n = spec.num_agents();
        Self {
            observations: spec
                .observation_spaces
                .iter()
                .map(|s| vec![0.0; s.flat_dim()])
                .collect(),
            rewards: vec![0.0; n],
            terminations: vec![false; n],
            truncations: vec![false; n],
        }
    }

    /// Every agent is terminated or truncated: PettingZoo's `env.agents` is empty.
    pub fn episode_over(&self) -> bool {
        self.terminations
            .iter()
            .zip(&self.truncations)
            .all(|(t, u)| *t || *u)
    }

    /// The sum of the agents' rewards (the team reward of a cooperative env).
    pub fn team_reward(&self) -> f64 {
        self.rewards.iter().sum()
    }
}

/// A multi-agent environment (PettingZoo's `ParallelEnv`).
///
/// Every agent acts on every step until the episode ends, when every agent is terminated or
/// truncated at once (the particle envs' case: agents never leave early); stepping an ended
/// episode panics, [`MultiAgentEnv::reset`] starts the next one. Randomness as [`super::Env`]:
/// the env owns its RNG, `reset(Some(seed), ..)` reseeds it, `reset(None, ..)` continues it.
pub trait MultiAgentEnv: Send + Sync {
    fn spec(&self) -> &MultiAgentSpec;

    /// Samples an initial state (reseeding first when `seed` is given) and writes every agent's
    /// observation (rewards zero, flags false).
    fn reset(&mut self, seed: Option<u64>, out: &mut MultiStep);

    /// Reseeds the env's RNG without touching its state.
    fn reseed(&mut self, seed: u64);

    /// Applies one action per agent, in agent order, and writes what every agent gets back.
    fn step(&mut self, actions: &[Action<'_>], out: &mut MultiStep);

    /// Named diagnostics of the current state, for a learner to record; empty where the env
    /// has none. simple_spread: collisions, occupied landmarks and min distances, the team's
    /// view of MPE2's `benchmark_data` ([`mpe::SimpleSpread::benchmark_data`]).
    fn diagnostics(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Everything needed to continue exactly from here (for checkpoints).
    fn snapshot(&self) -> EnvSnapshot;

    /// Puts the env back where [`MultiAgentEnv::snapshot`] found it.
    fn restore(&mut self, snapshot: &EnvSnapshot);

    /// A boxed copy with identical state and RNG.
    fn clone_box(&self) -> Box<dyn MultiAgentEnv>;
}

impl Clone for Box<dyn MultiAgentEnv> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
