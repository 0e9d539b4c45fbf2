//! `rl run` and `rl validate`.

use std::io::IsTerminal;

use crate::cli::{RunArgs, ValidateArgs};
use crate::config::{self, Experiment, Seeds};
use crate::error::UsageError;
use crate::nn::plain_device;
use crate::record::Status;
use crate::run::{self, Display, RunOptions, SeedOutcome, emit};
use crate::session::interrupt;

/// Loads the experiment with every CLI override applied; nothing is written.
fn resolve(args: &RunArgs) -> Result<(Experiment, RunOptions), UsageError> {
    let mut exp = config::load(&args.config, &args.overrides)?;
    tracing::debug!(config = %args.config.display(), "experiment loaded");
    if let Some(out) = &args.out {
        exp.experiment.out_dir = out.clone();
    }
    if let Some(backend) = args.backend {
        exp.experiment.backend = backend.into();
    }
    if let Some(seeds) = &args.seeds {
        exp.experiment.seeds =
            Seeds::parse(seeds).map_err(|e| UsageError::new(format!("--seeds {seeds}: {e}")))?;
    }
    if args.jobs == Some(0) {
        return Err(UsageError::new("--jobs 0: must be at least 1"));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.or(exp.experiment.jobs).unwrap_or(cores);
    let seeds = match args.shard {
        Some(shard) => shard.select(&exp.experiment.seeds.0),
        None => exp.experiment.seeds.0.clone(),
    };
    let opts = RunOptions {
        seeds,
        jobs,
        force: args.force,
        resume: args.resume,
        display: display(args.quiet),
    };
    Ok((exp, opts))
}

/// Nothing with `-q`; live bars on a terminal; plain lines otherwise.
pub(super) fn display(quiet: bool) -> Display {
    if quiet {
        Display::Quiet
    } else if std::io::stdout().is_terminal() {
        Display::Bars
    } else {
        Display::Lines
    }
}

/// The device of `backend`, chosen once by the command; an unusable backend is a usage error.
pub(super) fn device(backend: crate::config::Backend) -> Result<burn::prelude::Device, UsageError> {
    plain_device(backend).map_err(|e| {
        UsageError::new(format!(
            "experiment.backend = \"{}\": {e:#}",
            backend.name()
        ))
    })
}

/// Runs the experiment; returns the exit code: 0 every seed completed, 1 a seed failed,
/// 128 + the signal's number when stopped by Ctrl-C (130), SIGTERM (143) or SIGHUP (129).
pub fn run(args: &RunArgs) -> Result<u8, UsageError> {
    let (exp, opts) = resolve(args)?;
    warn(&exp);
    if let (Some(shard), true) = (args.shard, opts.seeds.is_empty()) {
        emit(&format!(
            "--shard {shard}: no seed of the {} listed falls in this shard; nothing to run\n",
            exp.experiment.seeds.0.len()
        ));
        return Ok(0);
    }
    run::memory::check(&exp, opts.jobs.min(opts.seeds.len()), args.max_memory)?;
    run::check_existing(&exp, &opts)?;
    // The device is chosen once, here; every seed's session computes on it.
    let device = device(exp.experiment.backend)?;
    let dir = exp.experiment.out_dir.join(&exp.experiment.name);
    if opts.display != Display::Quiet {
        let seeds: Vec<String> = opts.seeds.iter().map(u64::to_string).collect();
        let budget = match exp.experiment.total_steps {
            Some(steps) => format!("{steps} steps"),
            None => format!("{} planning episodes", exp.experiment.eval_episodes),
        };
        emit(&format!(
            "{}: {} on {} | {budget} | seeds {} | {} at once\n",
            exp.experiment.name,
            exp.algo.name(),
            exp.env.id,
            seeds.join(","),
            opts.jobs.min(opts.seeds.len())
        ));
    }
    interrupt::install();
    let outcomes = run::run(&exp, &device, &opts);
    if opts.display != Display::Quiet {
        emit(&summary_table(&outcomes));
    }
    emit(&format!("results: {}\n", dir.display()));
    Ok(if interrupt::requested() {
        interrupt::exit_code() as u8
    } else if outcomes.iter().all(|o| o.status == Status::Complete) {
        0
    } else {
        1
    })
}

/// `rl validate`: the resolved config, or the error.
pub fn validate(args: &ValidateArgs) -> Result<String, UsageError> {
    let exp = config::load(&args.config, &args.overrides)?;
    warn(&exp);
    Ok(format!(
        "{}: ok\n\n{}",
        args.config.display(),
        exp.to_toml()
    ))
}

/// Prints what the experiment's keys say together that is allowed but probably unintended.
fn warn(exp: &Experiment) {
    for warning in exp.cross_checks().warnings {
        eprintln!("warning: {warning}");
    }
}

/// Seed, status, final eval return, steps, wall seconds (evaluation included), training steps/s.
fn summary_table(outcomes: &[SeedOutcome]) -> String {
    let mut out = format!(
        "\n{:>6}  {:>9}  {:>12}  {:>10}  {:>9}  {:>10}  {}\n",
        "seed", "status", "final eval", "steps", "wall s", "steps/s", "diagnostics"
    );
    for o in outcomes {
        let status = match o.status {
            Status::Failed => "FAILED",
            other => other.name(),
        };
        let eval = o.final_eval.map_or("-".to_string(), |r| format!("{r:.3}"));
        let diagnostics: Vec<String> = o
            .diagnostics
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| format!("{k}={}", short(*v)))
            .collect();
        out += &format!(
            "{:>6}  {:>9}  {:>12}  {:>10}  {:>9.2}  {:>10}  {}\n",
            o.seed,
            status,
            eval,
            count(o.steps),
            o.wall_s,
            count(o.steps_per_s.round() as u64),
            diagnostics.join(" ")
        );
    }
    let done: Vec<f64> = outcomes.iter().filter_map(|o| o.final_eval).collect();
    if done.len() > 1 {
        let mean = done.iter().sum::<f64>() / done.len() as f64;
        out += &format!("{:>6}  {:>9}  {:>12.3}\n", "mean", "", mean);
    }
    for o in outcomes.iter().filter(|o| o.error.is_some()) {
        out += &format!(
            "seed {} failed: {}\n",
            o.seed,
            o.error.as_deref().unwrap_or_default()
        );
    }
    out
}

/// Four significant digits, in scientific notation when very small or large.
fn short(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// A count, or `-` for none (planners take no training steps).
fn count(n: u64) -> String {
    if n == 0 { "-".into() } else { n.to_string() }
}
