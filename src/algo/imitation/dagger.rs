//! DAgger, dataset aggregation (Ross, Gordon & Bagnell 2011, Algorithm 3.1): iteration i rolls
//! out the mixture π_i = β_i π* + (1 − β_i) π̂_i (each step acts with the expert with
//! probability β_i, else with the learner), has the expert label every visited state with its
//! action π*(s), aggregates D ← D ∪ {(s, π*(s))} and retrains π̂_{i+1} on D by maximum
//! likelihood ([`super::learner`]: cross-entropy or Gaussian NLL). β_i = β · decay^{i−1}
//! (β = 1 and decay p is the paper's "β_i = p^{i−1}"; decay 0 is β_1 = 1 then pure learner).
//! Retraining continues from π̂_i (warm start) for `gradient_steps` minibatch steps.
//!
//! The budget counts env steps (`rollout_steps` per iteration, in one env; episodes continue
//! across iterations). The expert is a finished run's seed folder; a dataset written by `rl
//! collect` (`dataset`) can seed D. curve.csv records the expert labels so far (`expert_labels`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::RngExt;

use super::bc::{Source, check_source, demonstrations};
use super::expert::{ExpertRun, act_values, as_action};
use super::learner::{Labels, Learner};
use crate::algo::{Algorithm, Kind};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::{Backend, PolicyConfig};
use crate::record::dataset::ActionSpace;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// DAgger's hyperparameters.
    pub struct DaggerConfig {
        /// seed folder of a finished run: the expert that labels the visited states
        expert: PathBuf = PathBuf::from("results/experts/ppo_cartpole/seed_0");
        /// a dataset written by `rl collect` whose transitions start the aggregate ("": none)
        dataset: PathBuf = PathBuf::new();
        /// env steps rolled out (and labelled) per iteration
        rollout_steps: usize = 500, nonzero;
        /// β of the first iteration: the probability of acting with the expert
        beta: f64 = 1.0, in_closed(0.0, 1.0);
        /// β_i = beta · beta_decay^(i−1)
        beta_decay: f64 = 0.5, in_closed(0.0, 1.0);
        /// minibatch gradient steps of each retraining on the aggregate
        gradient_steps: usize = 500, nonzero;
        /// Adam step size
        learning_rate: f64 = 1e-3, positive;
        /// transitions per gradient step
        batch_size: usize = 64, nonzero;
        /// standardise observations with the aggregate's mean and standard deviation (refitted each iteration)
        normalize_obs: bool = true;
        [policy]: PolicyConfig;
    }
}

impl Algorithm for DaggerConfig {
    const NAME: &'static str = "dagger";
    const SUMMARY: &'static str = "DAgger: roll out the β-mixture of expert and learner, the expert labels the visited states, aggregate, retrain (Ross et al. 2011); steps count env steps";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        crate::algo::policy_gradient::check_env(Self::NAME, env)?;
        if num_envs != 1 {
            return Err((
                "env.num_envs",
                format!("{} rolls out one env; set env.num_envs = 1", Self::NAME),
            ));
        }
        check_source(&Source::Expert(self.expert.clone()), env, None)?;
        if !self.dataset.as_os_str().is_empty() {
            check_source(&Source::Dataset(self.dataset.clone()), env, None)?;
        }
        Ok(())
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

/// β of iteration `i` (from 1).
pub fn beta(cfg: &DaggerConfig, i: u32) -> f64 {
    cfg.beta * cfg.beta_decay.powi(i as i32 - 1)
}

/// Diagnostics: the mean minibatch loss of the last retraining, the expert labels in the
/// aggregate, β of the last iteration and the share of its steps the expert acted.
const DIAGNOSTICS: [&str; 4] = ["loss", "expert_labels", "beta", "expert_share"];

pub fn train(cfg: &DaggerConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_env()?;
    let spec = env.spec().clone();
    let run = ExpertRun::open(&cfg.expert).map_err(anyhow::Error::msg)?;
    let mut explore = session.rng(Stream::Explore);
    let mut expert = run.policy(&env, explore.clone())?;
    let d = spec.observation_space.flat_dim();
    let k = ActionSpace::of(&spec.action_space).dim();
    let mut labels = Labels::new(d, k);
    if !cfg.dataset.as_os_str().is_empty() {
        let data = demonstrations(
            &Source::Dataset(cfg.dataset.clone()),
            &mut env,
            usize::MAX,
            &mut session.rng(Stream::Env),
            explore.clone(),
        )
        .context("dagger: the initial dataset")?;
        labels.obs = data.obs;
        labels.actions = data.actions;
    }
    let mut learner = Learner::new(
        &spec,
        &cfg.policy,
        cfg.learning_rate,
        cfg.normalize_obs,
        session,
        &mut session.rng(Stream::Init),
    );
    let mut minibatch = session.rng(Stream::Minibatch);
    session.set_diagnostics(&DIAGNOSTICS)?;
    let mut loss = f64::NAN;
    if !labels.is_empty() {
        learner.fit_normalizer(&labels.obs);
        let rows: Vec<usize> = (0..labels.len()).collect();
        loss = learner.fit(
            &labels,
            &rows,
            cfg.gradient_steps,
            cfg.batch_size,
            &mut minibatch,
        );
    }
    let mut policy = learner.policy(&spec);
    session.evaluate(
        0,
        &mut policy,
        &[loss, labels.len() as f64, f64::NAN, f64::NAN],
    )?;

    let (mut obs, mut next) = (vec![0.0f32; d], vec![0.0f32; d]);
    let (mut expert_action, mut learner_action) = (vec![0.0f32; k], vec![0.0f32; k]);
    let env_seed = session.rng(Stream::Env).random::<u64>();
    env.reset(Some(env_seed), &mut obs);
    expert.start_episode();
    let total = session.total_steps();
    let mut steps = 0u64;
    let mut iteration = 0u32;
    while steps < total {
        iteration += 1;
        let b = beta(cfg, iteration);
        let mut mixture = learner.policy(&spec);
        let n = (cfg.rollout_steps as u64).min(total - steps);
        let mut by_expert = 0usize;
        for _ in 0..n {
            act_values(expert.as_mut(), &obs, &env, &mut expert_action);
            labels.push(&obs, &expert_action);
            let action = if b > 0.0 && (b >= 1.0 || explore.random::<f64>() < b) {
                by_expert += 1;
                &expert_action
            } else {
                act_values(&mut mixture, &obs, &env, &mut learner_action);
                &learner_action
            };
            let step = env.step(as_action(&spec.action_space, action), &mut next);
            steps += 1;
            if step.terminated || step.truncated {
                env.reset(None, &mut obs);
                expert.start_episode();
            } else {
                obs.copy_from_slice(&next);
            }
        }
        learner.fit_normalizer(&labels.obs);
        let rows: Vec<usize> = (0..labels.len()).collect();
        loss = learner.fit(
            &labels,
            &rows,
            cfg.gradient_steps,
            cfg.batch_size,
            &mut minibatch,
        );
        session.check_finite(steps, &["loss"], [Some(loss)])?;
        session.tick(steps)?;
        if session.eval_due(steps) {
            let mut policy = learner.policy(&spec);
            let diagnostics = [loss, labels.len() as f64, b, by_expert as f64 / n as f64];
            session.evaluate(steps, &mut policy, &diagnostics)?;
        }
    }
    learner.save(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_schedule_is_the_papers() {
        let cfg = DaggerConfig {
            beta: 1.0,
            beta_decay: 0.5,
            ..DaggerConfig::default()
        };
        let betas: Vec<f64> = (1..=4).map(|i| beta(&cfg, i)).collect();
        assert_eq!(betas, vec![1.0, 0.5, 0.25, 0.125]);
        let pure = DaggerConfig {
            beta_decay: 0.0,
            ..cfg
        };
        assert_eq!((beta(&pure, 1), beta(&pure, 2)), (1.0, 0.0));
    }
}
