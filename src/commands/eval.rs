//! `rl eval`: runs the policy of a finished run again, on fresh episodes.

use std::path::Path;

use crate::cli::EvalArgs;
use crate::config::{self, Experiment};
use crate::env::EnvSection;
use crate::env::multi::{is_multi_agent, make_multi_env};
use crate::error::UsageError;
use crate::record::{Meta, ReturnStats};
use crate::rng::{self, Stream};
use crate::session::{CrossPlay, Evaluator, MultiEvaluator, MultiPolicy, eval_env};

/// The experiment a seed folder ran, from its `config.toml`; `context` prefixes the error (the
/// flag that named the folder).
fn load_run(dir: &Path, context: &str) -> Result<Experiment, UsageError> {
    let config_path = dir.join("config.toml");
    if !config_path.is_file() {
        return Err(UsageError::new(format!(
            "{context}{}: not a run folder (no config.toml); give a seed folder such as results/<experiment>/seed_0",
            dir.display()
        )));
    }
    config::load_saved(&config_path)
}

/// Evaluates the policy saved in (or, for planners, configured by) a seed folder.
pub fn eval(args: &EvalArgs) -> Result<String, UsageError> {
    let dir = &args.run_dir;
    let exp = load_run(dir, "")?;
    let episodes = args.episodes.unwrap_or(exp.experiment.eval_episodes);
    if episodes == 0 {
        return Err(UsageError::new("--episodes must be at least 1"));
    }
    let failed = |e: anyhow::Error| UsageError::new(format!("{}: {e:#}", dir.display()));
    // A problem drawn per run (a bandit's means) is the run's own, drawn from its seed.
    let section = match Meta::read(&dir.join("meta.json")) {
        Ok(meta) => exp.env.for_run(meta.seed),
        Err(_) => exp.env.clone(),
    };
    if is_multi_agent(&section.id) {
        return eval_multi(args, &exp, &section, episodes);
    }
    if args.cross.is_some() {
        return Err(UsageError::new(format!(
            "--cross: {} is a run on {}, not on a multi-agent env",
            dir.display(),
            exp.env.id
        )));
    }
    let env = eval_env(&section, exp.experiment.eval_max_episode_steps).map_err(failed)?;
    let mut policy = exp
        .algo
        .policy(
            &env,
            rng::stream(args.seed, Stream::Explore),
            dir,
            exp.experiment.backend,
        )
        .map_err(failed)?;
    let mut evaluator = Evaluator::new(env, rng::stream(args.seed, Stream::Eval));
    let returns = evaluator.run(policy.as_mut(), episodes);
    let stats = ReturnStats::of(&returns);
    Ok(format!(
        "{}: {} on {}, {} (seed {})\nreturn mean {:.3}  std {:.3}  min {:.3}  max {:.3}\n",
        dir.display(),
        exp.algo.name(),
        exp.env.id,
        crate::report::counted(episodes as usize, "episode"),
        args.seed,
        stats.mean,
        stats.std,
        stats.min,
        stats.max
    ))
}

/// `rl eval` of a multi-agent run: the team return as for one agent, then each agent's mean.
fn eval_multi(
    args: &EvalArgs,
    exp: &Experiment,
    section: &EnvSection,
    episodes: u32,
) -> Result<String, UsageError> {
    let dir = &args.run_dir;
    let failed = |e: anyhow::Error| UsageError::new(format!("{}: {e:#}", dir.display()));
    let env = make_multi_env(&section.id, &section.options()).map_err(|e| failed(e.into()))?;
    let spec = env.spec().clone();
    let mut policy = exp
        .algo
        .multi_policy(
            &spec,
            rng::stream(args.seed, Stream::Explore),
            dir,
            exp.experiment.backend,
        )
        .map_err(failed)?;
    let mut cross_line = String::new();
    if let Some(guest_dir) = &args.cross {
        let guests = cross_policy(args, guest_dir, &spec)?;
        let from_guests: Vec<bool> = spec
            .agents
            .iter()
            .map(|a| args.cross_agents.contains(a))
            .collect();
        policy = Box::new(CrossPlay::new(policy, guests, from_guests));
        cross_line = format!(
            "cross-play: {} act by {}\n",
            args.cross_agents.join(", "),
            guest_dir.display()
        );
    }
    let mut evaluator = MultiEvaluator::new(env, rng::stream(args.seed, Stream::Eval));
    let result = evaluator.run(policy.as_mut(), episodes);
    let stats = ReturnStats::of(&result.team_returns);
    let agents: Vec<String> = spec
        .agents
        .iter()
        .zip(&result.agent_returns)
        .map(|(a, r)| format!("{a} {r:.3}"))
        .collect();
    Ok(format!(
        "{}: {} on {}, {} (seed {})\n{cross_line}team return mean {:.3}  std {:.3}  min {:.3}  max {:.3}\nagent returns (mean): {}\n",
        dir.display(),
        exp.algo.name(),
        exp.env.id,
        crate::report::counted(episodes as usize, "episode"),
        args.seed,
        stats.mean,
        stats.std,
        stats.min,
        stats.max,
        agents.join(", ")
    ))
}

/// The policy of the run in `guest_dir` for cross-play on `spec`: a run on the same env (same
/// agents and spaces), and `--cross-agents` naming its agents.
fn cross_policy(
    args: &EvalArgs,
    guest_dir: &Path,
    spec: &crate::env::multi::MultiAgentSpec,
) -> Result<Box<dyn MultiPolicy>, UsageError> {
    let failed = |e: anyhow::Error| UsageError::new(format!("{}: {e:#}", guest_dir.display()));
    let guest = load_run(guest_dir, "--cross: ")?;
    let guest_spec = make_multi_env(&guest.env.id, &guest.env.options())
        .map(|env| env.spec().clone())
        .ok();
    if guest_spec.as_ref() != Some(spec) {
        return Err(UsageError::new(format!(
            "--cross: {} ran on {} with other agents or spaces; cross-play needs the same env",
            guest_dir.display(),
            guest.env.id
        )));
    }
    if let Some(unknown) = args.cross_agents.iter().find(|a| !spec.agents.contains(a)) {
        return Err(UsageError::new(format!(
            "--cross-agents: no agent `{unknown}` in {}; its agents are {}",
            spec.id,
            spec.agents.join(", ")
        )));
    }
    guest
        .algo
        .multi_policy(
            spec,
            rng::stream(args.seed, Stream::Explore),
            guest_dir,
            guest.experiment.backend,
        )
        .map_err(failed)
}
