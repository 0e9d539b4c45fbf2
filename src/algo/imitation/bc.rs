//! Behavioural cloning (Pomerleau 1991; the supervised baseline of Ross et al. 2011, §2):
//! maximum likelihood on the expert's (state, action) pairs,
//!
//! θ* = argmin_θ −E_{(s,a)∼D}[log π_θ(a|s)],
//!
//! cross-entropy for discrete actions, the Gaussian negative log-likelihood (learned
//! state-independent σ, the mean played) for continuous ones ([`super::learner`]). The data are
//! the first `episodes` episodes of a dataset written by `rl collect` (`dataset`), or as many
//! episodes played by an expert's seed folder (`expert`) before training. A share
//! `validation_fraction` of the transitions is held out: its loss is the `val_loss` column of
//! curve.csv. A "step" of the run is one minibatch gradient step; no env interaction happens
//! besides the evaluations.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::seq::SliceRandom;

use super::expert::{ExpertRun, collect_episodes};
use super::learner::{Labels, Learner};
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Backend, PolicyConfig};
use crate::record::dataset::Dataset;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Behavioural cloning's hyperparameters.
    pub struct BcConfig {
        /// seed folder of a finished run whose policy plays the expert episodes (used when `dataset` is "")
        expert: PathBuf = PathBuf::from("results/experts/ppo_cartpole/seed_0");
        /// a dataset written by `rl collect` ("": play the episodes of `expert` instead)
        dataset: PathBuf = PathBuf::new();
        /// expert episodes to learn from (the dataset's first ones)
        episodes: usize = 10, nonzero;
        /// share of the transitions held out for the validation loss
        validation_fraction: f64 = 0.2, in_closed_open(0.0, 1.0);
        /// Adam step size
        learning_rate: f64 = 1e-3, positive;
        /// transitions per gradient step
        batch_size: usize = 64, nonzero;
        /// standardise observations with the training data's mean and standard deviation
        normalize_obs: bool = true;
        [policy]: PolicyConfig;
    }
    check: Self::check_sources;
}

impl BcConfig {
    fn check_sources(&self, c: &mut Checker) {
        c.require(
            "expert",
            !(self.dataset.as_os_str().is_empty() && self.expert.as_os_str().is_empty()),
            || "give an expert seed folder or a dataset".into(),
        );
    }
}

/// Where the demonstrations come from.
pub enum Source {
    Dataset(PathBuf),
    Expert(PathBuf),
}

/// The demonstrations of `dataset` (when not empty) or `expert`.
pub fn source(dataset: &Path, expert: &Path) -> Source {
    if dataset.as_os_str().is_empty() {
        Source::Expert(expert.to_path_buf())
    } else {
        Source::Dataset(dataset.to_path_buf())
    }
}

/// Checks a dataset (readable, complete, of this env, with at least `episodes` episodes) or an
/// expert folder (a finished run on this env) against `env`.
pub fn check_source(
    source: &Source,
    env: &dyn Env,
    episodes: Option<usize>,
) -> Result<(), (&'static str, String)> {
    let spec = env.spec();
    match source {
        Source::Dataset(path) => {
            let data = Dataset::read(path).map_err(|e| ("algo.dataset", e))?;
            data.check_env(&spec.id, &spec.observation_space, &spec.action_space)
                .map_err(|e| ("algo.dataset", format!("{}: {e}", path.display())))?;
            if let Some(n) = episodes
                && data.meta.episodes < n
            {
                return Err((
                    "algo.episodes",
                    format!(
                        "{n} episodes asked, {} holds {}",
                        path.display(),
                        data.meta.episodes
                    ),
                ));
            }
            Ok(())
        }
        Source::Expert(dir) => {
            let run = ExpertRun::open(dir).map_err(|e| ("algo.expert", e))?;
            run.check_env_id(&spec.id).map_err(|e| ("algo.expert", e))
        }
    }
}

/// The demonstrations as a dataset: the first `episodes` of the file, or `episodes` episodes
/// played by the expert in `env` (resets from `env_rng`, the expert sampling from `explore`).
pub fn demonstrations(
    source: &Source,
    env: &mut dyn Env,
    episodes: usize,
    env_rng: &mut Rng,
    explore: Rng,
) -> anyhow::Result<Dataset> {
    match source {
        Source::Dataset(path) => Ok(Dataset::read(path)
            .map_err(anyhow::Error::msg)?
            .first_episodes(episodes)),
        Source::Expert(dir) => {
            let run = ExpertRun::open(dir).map_err(anyhow::Error::msg)?;
            let mut policy = run.policy(&*env, explore.clone())?;
            let mut data = Dataset::new(run.dataset_meta(&*env, 0, 0.0));
            let mut no_noise = explore;
            collect_episodes(
                env,
                policy.as_mut(),
                episodes,
                env_rng,
                0.0,
                &mut no_noise,
                &mut data,
            );
            Ok(data)
        }
    }
}

impl Algorithm for BcConfig {
    const NAME: &'static str = "bc";
    const SUMMARY: &'static str = "behavioural cloning: maximum likelihood of the expert's actions (cross-entropy / Gaussian NLL) on rl collect's dataset or an expert's episodes (Pomerleau 1991); steps count gradient steps";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        crate::algo::policy_gradient::check_env(Self::NAME, env)?;
        if num_envs != 1 {
            return Err((
                "env.num_envs",
                format!("{} learns from a dataset; set env.num_envs = 1", Self::NAME),
            ));
        }
        check_source(
            &source(&self.dataset, &self.expert),
            env,
            Some(self.episodes),
        )
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        Ok(Box::new(crate::algo::policy_gradient::saved::load(
            &self.policy,
            self.normalize_obs,
            backend,
            env,
            run_dir,
        )?))
    }
}

/// Diagnostics: the mean training minibatch loss since the last evaluation, the held-out loss,
/// the number of expert labels (training transitions) and the demonstrations' mean return.
const DIAGNOSTICS: [&str; 4] = ["train_loss", "val_loss", "expert_labels", "expert_return"];

pub fn train(cfg: &BcConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_env()?;
    let spec = env.spec().clone();
    let data = demonstrations(
        &source(&cfg.dataset, &cfg.expert),
        &mut env,
        cfg.episodes,
        &mut session.rng(Stream::Env),
        session.rng(Stream::Explore),
    )
    .context("bc: the demonstrations")?;
    let expert_return =
        data.meta.returns.iter().sum::<f64>() / data.meta.returns.len().max(1) as f64;
    let mut labels = Labels::new(data.meta.observation_dim, data.meta.action_space.dim());
    labels.obs = data.obs;
    labels.actions = data.actions;

    let mut minibatch = session.rng(Stream::Minibatch);
    let mut rows: Vec<usize> = (0..labels.len()).collect();
    rows.shuffle(&mut minibatch);
    let held_out = ((labels.len() as f64 * cfg.validation_fraction).round() as usize)
        .min(labels.len().saturating_sub(1));
    let (validation, training) = rows.split_at(held_out);
    let mut learner = Learner::new(
        &spec,
        &cfg.policy,
        cfg.learning_rate,
        cfg.normalize_obs,
        session,
        &mut session.rng(Stream::Init),
    );
    learner.fit_normalizer(&labels.gather(training).0);

    session.set_diagnostics(&DIAGNOSTICS)?;
    let n_labels = training.len() as f64;
    let mut policy = learner.policy(&spec);
    session.evaluate(
        0,
        &mut policy,
        &[
            f64::NAN,
            learner.loss(&labels, validation),
            n_labels,
            expert_return,
        ],
    )?;
    let (mut loss_sum, mut loss_n) = (0.0, 0usize);
    for step in 1..=session.total_steps() {
        let loss = learner.fit(&labels, training, 1, cfg.batch_size, &mut minibatch);
        session.check_finite(step, &["train_loss"], [Some(loss)])?;
        loss_sum += loss;
        loss_n += 1;
        session.tick(step)?;
        if session.eval_due(step) {
            let mut policy = learner.policy(&spec);
            let diagnostics = [
                loss_sum / loss_n as f64,
                learner.loss(&labels, validation),
                n_labels,
                expert_return,
            ];
            session.evaluate(step, &mut policy, &diagnostics)?;
            (loss_sum, loss_n) = (0.0, 0);
        }
    }
    learner.save(session)
}
