//! `rl sweep plan | run | slurm | task | status | best`.

use std::path::{Path, PathBuf};

use super::run::{device, display};
use crate::cli::{
    SweepBestArgs, SweepCommand, SweepFileArgs, SweepRunArgs, SweepSlurmArgs, SweepTaskArgs,
};
use crate::config::{self, Backend};
use crate::error::UsageError;
use crate::record::Status;
use crate::report::{compare, results};
use crate::run::{self, Display, ProgressBoard, RunOptions, emit};
use crate::session::interrupt;
use crate::sweep::slurm::{self, SlurmOptions};
use crate::sweep::status::{self, JobState};
use crate::sweep::{Plan, local, manifest};

/// Runs one `rl sweep` subcommand; returns the exit code (0 done, 1 a job failed, 128 + the
/// signal's number when stopped).
pub fn sweep(command: &SweepCommand) -> Result<u8, UsageError> {
    match command {
        SweepCommand::Plan(args) => plan(args),
        SweepCommand::Run(args) => run(args),
        SweepCommand::Slurm(args) => submit(args),
        SweepCommand::Task(args) => task(args),
        SweepCommand::Status(args) => {
            emit(&status::report(&args.dir)?);
            Ok(0)
        }
        SweepCommand::Best(args) => best(args),
    }
}

/// The plan of `args`, checked; nothing written.
fn checked_plan(args: &SweepFileArgs) -> Result<Plan, UsageError> {
    Plan::new(&args.file, args.out.as_deref())
}

/// `<n> trials × <s> seeds = <j> jobs`, then one line per trial.
fn describe(plan: &Plan) -> String {
    let seeds = plan.jobs.len() / plan.trials.len().max(1);
    let mut out = format!(
        "sweep {}: {} trials × {seeds} seeds = {} jobs\n",
        plan.spec.name,
        plan.trials.len(),
        plan.jobs.len()
    );
    for (k, (t, _)) in plan.trials.iter().enumerate() {
        out += &format!("{k:>5}  {}\n", t.id);
    }
    out
}

fn plan(args: &SweepFileArgs) -> Result<u8, UsageError> {
    let plan = checked_plan(args)?;
    plan.write()?;
    if !args.quiet {
        emit(&describe(&plan));
    }
    emit(&format!("manifest: {}\n", plan.manifest_path().display()));
    Ok(0)
}

fn run(args: &SweepRunArgs) -> Result<u8, UsageError> {
    let plan = checked_plan(&args.sweep)?;
    if args.jobs == Some(0) {
        return Err(UsageError::new("--jobs 0: must be at least 1"));
    }
    let mut backends: Vec<Backend> = plan
        .trials
        .iter()
        .map(|(_, e)| e.experiment.backend)
        .collect();
    backends.dedup();
    let devices = backends
        .iter()
        .map(|&b| device(b).map(|d| (b, d)))
        .collect::<Result<Vec<_>, _>>()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores);
    plan.write()?;
    let display = display(args.sweep.quiet);
    if display != Display::Quiet {
        emit(&format!(
            "sweep {}: {} trials × {} seeds = {} jobs, {jobs} at once\n",
            plan.spec.name,
            plan.trials.len(),
            plan.jobs.len() / plan.trials.len(),
            plan.jobs.len()
        ));
    }
    interrupt::install();
    let outcomes = local::run(&plan, &devices, jobs, args.shard, display);
    if display != Display::Quiet {
        if let Ok(table) = ranking(&plan.dir) {
            emit(&format!("\n{table}"));
        }
        for (job, o) in outcomes.iter().filter(|(_, o)| o.status == Status::Failed) {
            emit(&format!(
                "{} seed {} failed: {}\n",
                job.trial,
                job.seed,
                o.error.as_deref().unwrap_or_default()
            ));
        }
    }
    emit(&format!("results: {}\n", plan.dir.display()));
    Ok(if interrupt::requested() {
        interrupt::exit_code() as u8
    } else if outcomes.iter().all(|(_, o)| o.status == Status::Complete) {
        0
    } else {
        1
    })
}

/// `rl compare` of the sweep's folder, ranked by the final return.
fn ranking(dir: &Path) -> Result<String, UsageError> {
    let experiments = results::load(&[dir.display().to_string()])?;
    let rows = compare::rows(&experiments, None, compare::Metric::Final);
    Ok(compare::render(&rows, compare::Format::Table))
}

fn submit(args: &SweepSlurmArgs) -> Result<u8, UsageError> {
    let plan = checked_plan(&args.sweep)?;
    let todo: Vec<usize> = plan
        .jobs
        .iter()
        .filter(|j| {
            !matches!(
                status::state(&status::seed_dir(&plan.dir, j)),
                JobState::Complete | JobState::Running
            )
        })
        .map(|j| j.index)
        .collect();
    if todo.is_empty() {
        emit(&format!(
            "nothing to submit: every job of {} is complete or running\n",
            plan.dir.display()
        ));
        return Ok(0);
    }
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let rl = std::env::current_exe()
        .map_err(|e| UsageError::new(format!("cannot find the rl binary: {e}")))?;
    let opts = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus_per_task: args.cpus_per_task,
        mem: args.mem.clone(),
        max_parallel: args.max_parallel,
        sbatch_args: args.sbatch_args.clone(),
    };
    let logs = absolute(&plan.dir.join("slurm"));
    let script = slurm::script(
        &plan.spec.name,
        &todo,
        &opts,
        &rl,
        &absolute(&plan.manifest_path()),
        &logs,
    );
    if args.dry_run {
        emit(&script);
        return Ok(0);
    }
    let sbatch = slurm::sbatch()?;
    plan.write()?;
    let path = plan.dir.join("sweep.sbatch");
    std::fs::create_dir_all(&logs)
        .and_then(|()| crate::record::write_atomically(&path, script.as_bytes()))
        .map_err(|e| UsageError::new(format!("cannot write {}: {e}", path.display())))?;
    match slurm::submit(&sbatch, &path) {
        Ok(id) => {
            if !args.sweep.quiet {
                emit(&format!(
                    "submitted array job {id}: {} of {} jobs (--array={}); logs in {}\n",
                    todo.len(),
                    plan.jobs.len(),
                    slurm::array_spec(&todo, opts.max_parallel),
                    logs.display()
                ));
            }
            emit(&format!("{id}\n"));
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(1)
        }
    }
}

fn task(args: &SweepTaskArgs) -> Result<u8, UsageError> {
    let jobs = manifest::read(&args.manifest)?;
    let origin = args.manifest.display().to_string();
    let job = jobs.get(args.index).ok_or_else(|| {
        UsageError::new(format!(
            "--index {}: out of range: {origin} has {} jobs (0 to {})",
            args.index,
            jobs.len(),
            jobs.len() - 1
        ))
    })?;
    let dir: PathBuf = args
        .manifest
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let exp = job.experiment(&dir, &origin)?;
    let device = device(exp.experiment.backend)?;
    let display = if args.quiet {
        Display::Quiet
    } else {
        Display::Lines
    };
    let opts = RunOptions {
        seeds: vec![job.seed],
        jobs: 1,
        force: false,
        resume: true,
        display,
    };
    interrupt::install();
    let outcome = run::run_one(
        &exp,
        &device,
        job.seed,
        &opts,
        &ProgressBoard::named(display),
    );
    let error = outcome
        .error
        .as_ref()
        .map_or(String::new(), |e| format!(": {e}"));
    emit(&format!(
        "job {} ({} seed {}): {}{error}\nresults: {}\n",
        job.index,
        job.trial,
        job.seed,
        outcome.status.name(),
        exp.seed_dir(job.seed).display()
    ));
    Ok(if interrupt::requested() {
        interrupt::exit_code() as u8
    } else if outcome.status == Status::Complete {
        0
    } else {
        1
    })
}

fn best(args: &SweepBestArgs) -> Result<u8, UsageError> {
    let jobs = manifest::read(&args.dir.join(manifest::FILE))?;
    let experiments = results::load(&[args.dir.display().to_string()])?;
    let metric: compare::Metric = args.metric.into();
    let rows = compare::rows(&experiments, None, metric);
    let Some(best) = rows.iter().find(|r| r.complete > 0) else {
        return Err(UsageError::new(format!(
            "{}: no trial has a complete seed yet (`rl sweep status` says where it stands)",
            args.dir.display()
        )));
    };
    let value = match metric {
        compare::Metric::Iqm => best.iqm,
        compare::Metric::Auc => best.auc,
        _ => best.final_mean,
    };
    let path = args.dir.join(&best.experiment).join("config.toml");
    let mut exp = config::load_saved(&path)?;
    let sweep = &jobs[0].sweep;
    exp.experiment.name = format!("{sweep}_best");
    exp.experiment.out_dir = exp
        .experiment
        .out_dir
        .parent()
        .map_or_else(|| PathBuf::from("results"), Path::to_path_buf);
    let params = jobs
        .iter()
        .find(|j| j.trial == best.experiment)
        .map(|j| {
            j.params
                .iter()
                .map(|(k, v)| format!("#   {k} = {v}\n"))
                .collect::<String>()
        })
        .unwrap_or_default();
    emit(&format!(
        "# The best trial of sweep {sweep} by {}: {} ({:.3}, {}/{} seeds complete), from {}.\n\
         # Its swept values:\n{params}\n{}",
        format!("{:?}", args.metric).to_lowercase(),
        best.experiment,
        value.unwrap_or(f64::NAN),
        best.complete,
        best.total,
        path.display(),
        exp.to_toml()
    ));
    Ok(0)
}
