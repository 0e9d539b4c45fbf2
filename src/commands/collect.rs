//! `rl collect`: plays a finished run's policy (learned or planner, rebuilt as `rl eval` rebuilds
//! it) and writes its transitions as an expert dataset ([`crate::record::dataset`]).

use crate::algo::imitation::{ExpertRun, collect_episodes};
use crate::cli::CollectArgs;
use crate::error::UsageError;
use crate::record::dataset::{Dataset, meta_path};
use crate::rng::{self, Stream};
use crate::session::eval_env;

/// Collects `--episodes` episodes of the seed folder's policy into `--out` and `--out`.json.
/// The episodes are those `rl eval --seed S` plays (same resets, same policy sampling); with
/// `--noise ε` each action is replaced with probability ε by a uniform random one (drawn from
/// the seed's minibatch stream). Nothing is written on bad input.
pub fn collect(args: &CollectArgs) -> Result<String, UsageError> {
    if args.episodes == 0 {
        return Err(UsageError::new("--episodes must be at least 1"));
    }
    if !(0.0..=1.0).contains(&args.noise) {
        return Err(UsageError::new(format!(
            "--noise {} must be in [0, 1] (the share of random actions)",
            args.noise
        )));
    }
    let run = ExpertRun::open(&args.run_dir).map_err(UsageError::new)?;
    let failed = |e: anyhow::Error| UsageError::new(format!("{}: {e:#}", args.run_dir.display()));
    let mut env = eval_env(&run.env, run.eval_max_episode_steps).map_err(failed)?;
    let mut policy = run
        .policy(&env, rng::stream(args.seed, Stream::Explore))
        .map_err(failed)?;
    let mut data = Dataset::new(run.dataset_meta(&env, args.seed, args.noise));
    collect_episodes(
        &mut env,
        policy.as_mut(),
        args.episodes,
        &mut rng::stream(args.seed, Stream::Eval),
        args.noise,
        &mut rng::stream(args.seed, Stream::Minibatch),
        &mut data,
    );
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| UsageError::new(format!("cannot create {}: {e}", parent.display())))?;
    }
    data.write(&args.out)
        .map_err(|e| UsageError::new(format!("cannot write {}: {e}", args.out.display())))?;
    let returns = &data.meta.returns;
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    Ok(format!(
        "{}: {} on {}, {} (seed {}, noise {}), {} transitions, return mean {mean:.3}\nwrote {} and {}\n",
        args.run_dir.display(),
        run.algo.name(),
        run.env.id,
        crate::report::counted(data.meta.episodes, "episode"),
        args.seed,
        args.noise,
        data.len(),
        args.out.display(),
        meta_path(&args.out).display()
    ))
}
