//! Any gymnasium env through a Python worker (`[env] backend = "gymnasium"`).
//!
//! rl starts `python/rl_bridge.py` (embedded in the binary) with the configured interpreter;
//! the worker makes the envs with `gymnasium.make(id, **kwargs)` and answers reset and step
//! requests in a little-endian binary protocol over its stdin and stdout. A single env
//! ([`BridgeEnv`]) is one worker; a vector env of N copies is one worker with N envs that
//! resets finished episodes itself, keeping their final observations.
//!
//! The envs are reset with seeds from the run's env stream, so a run seed gives the same
//! trajectories; their state cannot be copied, so planners (which simulate copies) are refused.

mod env;
mod stderr;
mod worker;

pub use env::BridgeEnv;
pub use worker::Worker;

/// The interpreter used when neither `env.python` nor `RL_PYTHON` names one.
pub const DEFAULT_PYTHON: &str = "python3";

/// What a worker is started with: the interpreter, the gymnasium id and `make`'s kwargs.
#[derive(Clone, Debug, PartialEq)]
pub struct Bridge {
    pub python: String,
    pub id: String,
    pub kwargs: serde_json::Map<String, serde_json::Value>,
    /// `env.max_episode_steps`, passed to `gymnasium.make` (None: the registered limit).
    pub max_episode_steps: Option<u32>,
}

impl Bridge {
    /// The interpreter: `python` if given, else `RL_PYTHON`, else [`DEFAULT_PYTHON`].
    pub fn interpreter(python: Option<&str>) -> String {
        python
            .map(str::to_string)
            .or_else(|| std::env::var("RL_PYTHON").ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PYTHON.to_string())
    }
}
