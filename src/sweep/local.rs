//! `rl sweep run`: every job of a plan on this machine, `jobs` at a time, each one seed run
//! in its own folder (complete ones kept, the others continued from their checkpoints).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::prelude::Device;

use super::manifest::Job;
use super::plan::Plan;
use super::status::{self, JobState};
use crate::config::{Backend, Shard};
use crate::record::Status;
use crate::run::{self, Display, ProgressBoard, RunOptions, SeedOutcome};
use crate::session::interrupt;

/// Runs the plan's jobs that are not complete; returns what each ended with, in manifest
/// order (jobs not started because of a stop request are left out).
pub fn run(
    plan: &Plan,
    devices: &[(Backend, Device)],
    jobs: usize,
    shard: Option<Shard>,
    display: Display,
) -> Vec<(Job, SeedOutcome)> {
    // With `--shard I/N`, this process runs the jobs at positions ≡ I (mod N) of the manifest.
    let mine: Vec<&Job> = match shard {
        Some(s) => s.select(&plan.jobs.iter().collect::<Vec<_>>()),
        None => plan.jobs.iter().collect(),
    };
    let todo: Vec<&Job> = mine
        .iter()
        .copied()
        .filter(|j| status::state(&status::seed_dir(&plan.dir, j)) != JobState::Complete)
        .collect();
    let board = ProgressBoard::named(display);
    let overall = Mutex::new(board.jobs((mine.len() - todo.len()) as u64, mine.len() as u64));
    let opts = RunOptions {
        seeds: Vec::new(),
        jobs: 1,
        force: false,
        resume: true,
        display,
    };
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, todo.len().max(1)) {
            scope.spawn(|| {
                crate::nn::subnormal::flush_to_zero();
                while let Some(&job) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if interrupt::requested() {
                        break;
                    }
                    let exp = plan.experiment(job);
                    let device = &devices
                        .iter()
                        .find(|(b, _)| *b == exp.experiment.backend)
                        .expect("a device for every backend of the plan")
                        .1;
                    let outcome = run::run_one(exp, device, job.seed, &opts, &board);
                    if let (Status::Failed, Some(error)) = (outcome.status, &outcome.error) {
                        board.error(&format!("{} seed {} failed: {error}", job.trial, job.seed));
                    }
                    overall
                        .lock()
                        .expect("no panic while holding the lock")
                        .finished(
                            &format!("{} seed {}", job.trial, job.seed),
                            outcome.status.name(),
                        );
                    outcomes
                        .lock()
                        .expect("no panic while holding the lock")
                        .push((job.clone(), outcome));
                }
            });
        }
    });
    overall.into_inner().expect("workers finished").close();
    let mut outcomes = outcomes.into_inner().expect("workers finished");
    outcomes.sort_by_key(|(job, _)| job.index);
    outcomes
}
