//! The state of a sweep's jobs, read from their seed folders alone (`meta.json` and whether a
//! process holds the folder's lock): what `rl sweep status` counts and what a rerun or a
//! resubmission skips.

use std::path::Path;

use super::manifest::{self, Job};
use crate::error::UsageError;
use crate::record::{Meta, Status};

/// Where one job stands.
#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    Complete,
    /// A process holds the seed folder's lock.
    Running,
    /// Stopped by a signal (or killed: `running` with no process holding the lock); continues
    /// from its checkpoint when run again.
    Interrupted,
    Failed(String),
    /// Not started.
    Pending,
}

/// The state of the job whose seed folder is `seed_dir`.
pub fn state(seed_dir: &Path) -> JobState {
    match Meta::read(&seed_dir.join("meta.json")) {
        Err(_) => JobState::Pending,
        Ok(meta) => match meta.status {
            Status::Complete => JobState::Complete,
            Status::Running if crate::run::held(seed_dir) => JobState::Running,
            Status::Running | Status::Interrupted => JobState::Interrupted,
            Status::Failed => JobState::Failed(meta.error.unwrap_or_default()),
        },
    }
}

/// The seed folder of `job` in the sweep folder `dir`.
pub fn seed_dir(dir: &Path, job: &Job) -> std::path::PathBuf {
    dir.join(&job.trial).join(format!("seed_{}", job.seed))
}

/// `rl sweep status`: the counts of the sweep in `dir`, then every failure with its error and
/// every interrupted job.
pub fn report(dir: &Path) -> Result<String, UsageError> {
    let jobs = manifest::read(&dir.join(manifest::FILE))?;
    let states: Vec<(&Job, JobState)> =
        jobs.iter().map(|j| (j, state(&seed_dir(dir, j)))).collect();
    let count = |f: fn(&JobState) -> bool| states.iter().filter(|(_, s)| f(s)).count();
    let trials = {
        let mut ids: Vec<&str> = jobs.iter().map(|j| j.trial.as_str()).collect();
        ids.dedup();
        ids.len()
    };
    let mut out = format!(
        "sweep {}: {} jobs ({trials} trials)\n{} complete, {} running, {} interrupted, {} failed, {} pending\n",
        jobs[0].sweep,
        jobs.len(),
        count(|s| *s == JobState::Complete),
        count(|s| *s == JobState::Running),
        count(|s| *s == JobState::Interrupted),
        count(|s| matches!(s, JobState::Failed(_))),
        count(|s| *s == JobState::Pending),
    );
    for (job, s) in &states {
        let name = format!("job {}: {} seed {}", job.index, job.trial, job.seed);
        match s {
            JobState::Failed(error) => out += &format!("failed: {name}: {error}\n"),
            JobState::Interrupted => {
                out +=
                    &format!("interrupted: {name} (continues from its checkpoint when run again)\n")
            }
            _ => {}
        }
    }
    Ok(out)
}
