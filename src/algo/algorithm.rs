//! What the registry asks of an algorithm. Its config type (the `[algo]` table, declared with
//! [`hyperparameters!`](crate::hyper::hyperparameters)) implements [`Algorithm`] in the
//! algorithm's own file, next to the train function it calls.
//!
//! Single-agent and multi-agent algorithms share the trait. An algorithm runs on single-agent
//! envs ([`Env`], `check_env`, `policy`) unless it sets [`Algorithm::MULTI_AGENT`]; then it runs
//! on multi-agent envs (PettingZoo's parallel API: [`MultiAgentSpec`], `check_multi_env`,
//! `multi_policy`) and answers a single-agent env with [`single_agent_env_refusal`]. Its
//! `train` asks the session for a [`MultiVecEnv`](crate::env::multi::MultiVecEnv) and
//! records through the session's multi-agent calls; the config loader, the runner, the result
//! files and `rl eval` need nothing more.

use std::path::Path;

use super::flops::UpdateWork;
use super::footprint::{CrossChecks, Footprint, RunShape};
use crate::env::Env;
use crate::env::multi::{MULTI_AGENT_REGISTRY, MultiAgentSpec};
use crate::hyper::Hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{MultiPolicy, Policy, Session};

/// Whether an algorithm learns or plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trains for `experiment.total_steps` steps, evaluated every `eval_every`.
    Learner,
    /// Acts by planning from the current state and does not train: a run evaluates it once.
    Planner,
}

/// One algorithm, implemented by its hyperparameter table; help and range checks come from
/// [`Hyperparameters`].
pub trait Algorithm: Hyperparameters {
    /// `[algo] name`.
    const NAME: &'static str;
    /// One line for `rl algos`: what it does, and its reference.
    const SUMMARY: &'static str;
    const KIND: Kind;
    /// Whether it runs on multi-agent envs (and only on them).
    const MULTI_AGENT: bool = false;

    /// Whether it can run on `env` with `num_envs` copies: `Err((key, message))`. A
    /// single-agent algorithm states its own checks; a multi-agent one keeps this default, which
    /// refuses every single-agent env with [`single_agent_env_refusal`].
    fn check_env(&self, env: &dyn Env, _num_envs: usize) -> Result<(), (&'static str, String)> {
        match Self::MULTI_AGENT {
            true => Err(single_agent_env_refusal(Self::NAME, env)),
            false => Ok(()),
        }
    }

    /// Whether it can run on the multi-agent env `env` with `num_envs` copies; by default it
    /// cannot (a single-agent algorithm), naming `algo.name`.
    fn check_multi_env(
        &self,
        env: &MultiAgentSpec,
        _num_envs: usize,
    ) -> Result<(), (&'static str, String)> {
        let multi: Vec<&str> = super::ALGOS
            .iter()
            .filter(|a| a.multi_agent)
            .map(|a| a.name)
            .collect();
        Err((
            "algo.name",
            format!(
                "`{}` is a single-agent algorithm and `{}` a multi-agent env (PettingZoo's \
                 parallel API); its algorithms: {}",
                Self::NAME,
                env.id,
                multi.join(", ")
            ),
        ))
    }

    /// Checks of its keys against the rest of the run (a minibatch against the rollout, the
    /// warm-up against the budget); by default none.
    fn check_run(&self, _run: &RunShape) -> CrossChecks {
        CrossChecks::default()
    }

    /// What one seed allocates beyond the fixed per-seed allowance (replay buffer, rollout,
    /// networks in training), for the memory check before a run; by default nothing more.
    fn footprint(&self, _run: &RunShape) -> Footprint {
        Footprint::default()
    }

    /// The matrix products of its training, counted from the network shapes (`make bench` sets
    /// their rate beside the machine's matmul rate); by default not counted.
    fn update_work(&self, _run: &RunShape) -> Option<UpdateWork> {
        None
    }

    /// Whether a seed's run is reproducible bit for bit (meta.json's `deterministic`); by
    /// default it is. Asynchronous updates (A3C with several workers) are not.
    fn deterministic(&self) -> bool {
        true
    }

    /// Trains on `session` until its step budget is spent (a planner: evaluates itself).
    fn train(&self, session: &mut Session) -> anyhow::Result<()>;

    /// The policy of a finished run in `run_dir`, for `rl eval`: the learned policy it saved (a
    /// network runs on `backend`), or a planner rebuilt from its config, sampling from `rng`.
    /// Every single-agent algorithm states it; a multi-agent one keeps this default, which
    /// answers with [`single_agent_env_refusal`]'s message.
    fn policy(
        &self,
        env: &dyn Env,
        _rng: Rng,
        _run_dir: &Path,
        _backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        match Self::MULTI_AGENT {
            true => anyhow::bail!(single_agent_env_refusal(Self::NAME, env).1),
            false => anyhow::bail!("`{}` has no policy to evaluate", Self::NAME),
        }
    }

    /// The agents' policy of a finished multi-agent run in `run_dir`, for `rl eval` (as
    /// [`Algorithm::policy`]); a single-agent algorithm has none.
    fn multi_policy(
        &self,
        _env: &MultiAgentSpec,
        _rng: Rng,
        _run_dir: &Path,
        _backend: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        anyhow::bail!("`{}` is a single-agent algorithm", Self::NAME)
    }
}

/// A multi-agent algorithm's answer to a single-agent env (its `check_env` error, naming
/// `algo.name`, and its `policy` error).
pub fn single_agent_env_refusal(name: &str, env: &dyn Env) -> (&'static str, String) {
    let ids: Vec<&str> = MULTI_AGENT_REGISTRY.iter().map(|r| r.id).collect();
    (
        "algo.name",
        format!(
            "`{name}` is a multi-agent algorithm and `{}` a single-agent env; multi-agent envs: {}",
            env.spec().id,
            ids.join(", ")
        ),
    )
}

/// Planners act in the evaluation env and simulate clones of it: one env, no training envs.
pub fn check_planner_envs(name: &str, num_envs: usize) -> Result<(), (&'static str, String)> {
    if num_envs != 1 {
        return Err((
            "env.num_envs",
            format!(
                "does not apply to {name}: a planner acts in one env and simulates clones of it"
            ),
        ));
    }
    Ok(())
}
