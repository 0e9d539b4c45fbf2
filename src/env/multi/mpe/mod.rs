//! The multi-agent particle environments, exactly as MPE2 1.1.1 (PyPI `mpe2`) computes them.
//!
//! `core` is MPE2's `_mpe_utils/core.py` (entities and physics), [`ParticleEnv`] its
//! `_mpe_utils/simple_env.py` (action decoding, rewards, `max_cycles`) behind the parallel API,
//! and each scenario file one of MPE2's scenarios. `shared/fixtures/mpe/README.md` (ENV_SPEC)
//! states the semantics; `tests/it/mpe_fixtures.rs` replays its reference trajectories bit for
//! bit. Resets draw from the documented distributions with rl's own RNG, not numpy's stream.

pub mod core;
mod particle_env;
mod simple;
mod simple_adversary;
mod simple_reference;
mod simple_speaker_listener;
mod simple_spread;
mod simple_tag;

pub use self::core::{AgentAction, Entity, World};
pub use particle_env::ParticleEnv;
pub use simple::Simple;
pub use simple_adversary::SimpleAdversary;
pub use simple_reference::SimpleReference;
pub use simple_speaker_listener::SimpleSpeakerListener;
pub use simple_spread::{SimpleSpread, SpreadBenchmark};
pub use simple_tag::SimpleTag;

use crate::rng::Rng;

/// An MPE2 scenario (`BaseScenario`): the world it makes and how it resets, rewards and
/// observes. Observations are pushed in float64; the env rounds them to f32.
pub trait Scenario: Send + Sync + std::fmt::Debug {
    /// `make_world`: the entities and their fixed properties.
    fn make_world(&self) -> World;

    /// `reset_world`: goals, colours, positions; velocities and `c` start at zero.
    fn reset_world(&self, world: &mut World, rng: &mut Rng);

    /// `reward(agent, world)`, from the state after the world step.
    fn reward(&self, agent: usize, world: &World) -> f64;

    /// `global_reward(world)`, mixed in by envs with a `local_ratio`.
    fn global_reward(&self, _world: &World) -> f64 {
        0.0
    }

    /// `observation(agent, world)`, appended to `out` in float64.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>);

    /// Named diagnostics of `world` (see [`crate::env::multi::MultiAgentEnv::diagnostics`]).
    fn diagnostics(&self, _world: &World) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}
