//! A sweep's plan: its trials, each resolved and checked as `rl run` checks an experiment, and
//! its jobs; written (trial configs and manifest) only once everything is checked.

use std::path::{Path, PathBuf};

use super::manifest::{self, Job};
use super::spec::{self, SweepSpec};
use super::trial::{self, Trial};
use crate::config::{self, Experiment};
use crate::error::UsageError;

/// A checked sweep, not yet written.
#[derive(Clone, Debug)]
pub struct Plan {
    pub spec: SweepSpec,
    /// `<out>/<sweep name>`: the trials' folders and the manifest.
    pub dir: PathBuf,
    /// Every trial with its experiment (results in `dir/<trial id>/seed_<k>`).
    pub trials: Vec<(Trial, Experiment)>,
    pub jobs: Vec<Job>,
}

impl Plan {
    /// Reads the sweep file, expands and checks every trial (the first bad one is the error,
    /// naming its key and value) and refuses a folder whose manifest came from another sweep.
    /// `out` replaces the base experiment's `out_dir`. Nothing is written.
    pub fn new(file: &Path, out: Option<&Path>) -> Result<Self, UsageError> {
        let spec = spec::read(file)?;
        if spec.name.is_empty()
            || spec.name.contains('/')
            || [".", ".."].contains(&spec.name.as_str())
        {
            return Err(UsageError::new(format!(
                "{}: sweep.name: `{}` must be a folder name",
                spec.origin, spec.name
            )));
        }
        let mut trials = Vec::new();
        let mut dir = None;
        for t in trial::expand(&spec)? {
            let mut exp = config::load_str(&spec.base, &spec.base_origin, &t.overrides())
                .map_err(|e| trial_error(&spec, &t, e))?;
            let dir =
                dir.get_or_insert_with(|| out.unwrap_or(&exp.experiment.out_dir).join(&spec.name));
            exp.experiment.name.clone_from(&t.id);
            exp.experiment.out_dir.clone_from(dir);
            if let Some(seeds) = &spec.seeds {
                exp.experiment.seeds = seeds.clone();
            }
            trials.push((t, exp));
        }
        let dir = dir.expect("a sweep has at least one trial");
        let mut jobs = Vec::new();
        for (t, exp) in &trials {
            let params: serde_json::Map<_, _> = t
                .params
                .iter()
                .map(|(k, v)| (k.clone(), manifest::json_value(v)))
                .collect();
            for &seed in &exp.experiment.seeds.0 {
                jobs.push(Job {
                    index: jobs.len(),
                    sweep: spec.name.clone(),
                    trial: t.id.clone(),
                    seed,
                    params: params.clone(),
                    config: exp.to_toml(),
                });
            }
        }
        let plan = Self {
            spec,
            dir,
            trials,
            jobs,
        };
        plan.check_existing_manifest()?;
        Ok(plan)
    }

    /// Where the manifest goes.
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(manifest::FILE)
    }

    /// The experiment of `job`.
    pub fn experiment(&self, job: &Job) -> &Experiment {
        &self
            .trials
            .iter()
            .find(|(t, _)| t.id == job.trial)
            .expect("every job belongs to a trial")
            .1
    }

    /// Writes each trial's `config.toml` and the manifest.
    pub fn write(&self) -> Result<(), UsageError> {
        let fail = |path: &Path, e: std::io::Error| {
            UsageError::new(format!("cannot write {}: {e}", path.display()))
        };
        for (t, exp) in &self.trials {
            let trial_dir = self.dir.join(&t.id);
            std::fs::create_dir_all(&trial_dir).map_err(|e| fail(&trial_dir, e))?;
            let path = trial_dir.join("config.toml");
            crate::record::write_atomically(&path, exp.to_toml().as_bytes())
                .map_err(|e| fail(&path, e))?;
        }
        let path = self.manifest_path();
        crate::record::write_atomically(&path, manifest::to_text(&self.jobs).as_bytes())
            .map_err(|e| fail(&path, e))
    }

    /// A manifest already in the folder must be this sweep's.
    fn check_existing_manifest(&self) -> Result<(), UsageError> {
        let path = self.manifest_path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        if text == manifest::to_text(&self.jobs) {
            return Ok(());
        }
        let old: Vec<Job> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let difference = match self.jobs.iter().zip(&old).find(|(new, old)| new != old) {
            Some((new, old)) if new.trial != old.trial || new.seed != old.seed => format!(
                "its job {} is {} seed {}, this sweep's is {} seed {}",
                new.index, old.trial, old.seed, new.trial, new.seed
            ),
            Some((new, _)) => format!("the config of {} differs (job {})", new.trial, new.index),
            None => format!("it has {} jobs, this sweep {}", old.len(), self.jobs.len()),
        };
        Err(UsageError::new(format!(
            "{}: a manifest from a different sweep file is there ({difference}); write elsewhere \
             with --out, or remove that folder",
            path.display()
        )))
    }
}

/// A trial's config error, named by the sweep key and value that caused it.
fn trial_error(spec: &SweepSpec, t: &Trial, e: UsageError) -> UsageError {
    match e.0.strip_prefix("--set ") {
        Some(rest) => UsageError::new(format!("{}: [sweep] {rest} (trial {})", spec.origin, t.id)),
        None => e,
    }
}
