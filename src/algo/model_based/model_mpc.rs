//! The model-based loop of Nagabandi et al. 2018 (Algorithm 1) and Chua et al. 2018
//! (Algorithm 1): collect `random_steps` transitions with uniformly random actions, fit the
//! model, then act by MPC on the model (replanning at every step), aggregate the new
//! transitions into the data and refit every `fit_every` steps. Before each refit the model's
//! one-step error on the transitions collected since the last fit (data it has not seen) is
//! recorded as its held-out error. The last fit's model is saved for `rl eval`.

use std::path::Path;

use anyhow::Context;
use anyhow::bail;
use rand::{RngExt, SeedableRng};

use super::model_fit_config::ModelFitConfig;
use crate::env::{Action, Env, Space};
use crate::model::fit::{FitOptions, fit};
use crate::model::learned::{LearnedModel, Model};
use crate::model::saved::{MODEL_FILE, ModelShape, NORMALIZERS_FILE};
use crate::model::trajectory_sampling::TrajectorySampling;
use crate::model::transitions::Transitions;
use crate::nn::{Backend, plain_device};
use crate::plan::cem::CemMpc;
use crate::plan::shooting::RandomShooting;
use crate::plan::stats::PlanStats;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// curve.csv's diagnostics: the model's training loss (last epoch of the last fit), its
/// held-out one-step squared error and ensemble disagreement (normalised Δs), mean wall ms per
/// planning step, model transitions simulated per real step (sequence steps × particles).
pub const DIAGNOSTICS: [&str; 5] = [
    "model_loss",
    "model_mse_holdout",
    "disagreement",
    "plan_ms",
    "model_steps",
];

/// The optimiser of the action sequences.
pub enum Planner {
    RandomShooting(RandomShooting),
    Cem(CemMpc),
}

/// MPC on a learned model: plans from the observation with the env's known reward.
pub struct ModelMpc {
    pub model: Model,
    pub planner: Planner,
    /// P, particles per sequence (1 for a deterministic model).
    pub particles: usize,
}

impl ModelMpc {
    pub fn stats(&self) -> &PlanStats {
        match &self.planner {
            Planner::RandomShooting(p) => p.stats(),
            Planner::Cem(p) => p.stats(),
        }
    }
}

impl Policy for ModelMpc {
    fn act(&mut self, obs: &[f32], env: &dyn Env) -> Action<'_> {
        let reward = env
            .known_reward()
            .expect("check_env requires a known reward");
        let dynamics = TrajectorySampling::new(&self.model, reward, obs, self.particles);
        match &mut self.planner {
            Planner::RandomShooting(p) => p.plan(&dynamics),
            Planner::Cem(p) => p.plan(&dynamics),
        }
    }

    fn start_episode(&mut self) {
        if let Planner::Cem(p) = &mut self.planner {
            p.start_episode();
        }
    }
}

/// Runs the loop on `session` with the unfitted `learned` model and the planner `planner`
/// builds from its generator (seeded by the first draw of the exploration stream, whose later
/// draws are the random actions).
pub fn train(
    session: &mut Session,
    cfg: &ModelFitConfig,
    mut learned: LearnedModel,
    planner: impl FnOnce(Rng) -> Planner,
    particles: usize,
) -> anyhow::Result<()> {
    let mut envs = session.make_vec_env()?;
    let Space::Box { low, high } = envs.spec().action_space.clone() else {
        bail!("model-based MPC needs continuous actions");
    };
    let (obs_dim, act_dim) = (envs.obs_dim(), low.len());
    let mut explore = session.rng(Stream::Explore);
    let planner = planner(Rng::seed_from_u64(explore.random()));
    let mut minibatch = session.rng(Stream::Minibatch);
    let mut data = Transitions::new(obs_dim, act_dim);
    let mut agent = ModelMpc {
        model: learned.model(),
        planner,
        particles,
    };
    let mut diagnostics = [f64::NAN; DIAGNOSTICS.len()];
    let row = |agent: &ModelMpc, diagnostics: &[f64; 5]| {
        let mut row = diagnostics.to_vec();
        row[3] = agent.stats().mean_plan_ms();
        row[4] = agent.stats().mean_sim_steps() * agent.particles as f64;
        row
    };
    session.set_diagnostics(&DIAGNOSTICS)?;
    session.evaluate_with(0, &mut agent, |a, _| row(a, &diagnostics))?;
    let fit_options: FitOptions = cfg.into();
    let mut fitted = 0;
    let mut action = vec![0.0f32; act_dim];
    for step in 1..=session.total_steps() {
        let obs = envs.observation(0).to_vec();
        if fitted == 0 {
            for (a, (l, h)) in action.iter_mut().zip(low.iter().zip(&high)) {
                *a = explore.random_range(*l..=*h);
            }
        } else if let Action::Continuous(a) = agent.act(
            &obs,
            envs.env(0).context(
                "a model-based planner needs rl's own env (its known reward), not a bridged one",
            )?,
        ) {
            action.copy_from_slice(a);
        }
        envs.step_continuous(&action);
        let ended = !envs.ended().is_empty();
        let next = if ended {
            envs.final_observation(0)
        } else {
            envs.observation(0)
        };
        data.push(&obs, &action, next);
        if ended {
            agent.start_episode();
        }
        session.record_episodes(step, envs.ended())?;
        let collected = data.len() as u64;
        if collected >= cfg.random_steps
            && (collected - cfg.random_steps).is_multiple_of(cfg.fit_every)
        {
            if fitted > 0 {
                let error = agent.model.one_step_error(&data, fitted..data.len());
                diagnostics[1] = error.mse;
                diagnostics[2] = error.disagreement;
            }
            diagnostics[0] = fit(&mut learned, &data, &fit_options, &mut minibatch);
            if !diagnostics[0].is_finite() {
                session.non_finite(step, "the model's loss", diagnostics[0])?;
            }
            agent.model = learned.model();
            fitted = data.len();
        }
        if session.eval_due(step) {
            session.evaluate_with(step, &mut agent, |a, _| row(a, &diagnostics))?;
        }
        session.tick(step)?;
    }
    let (weights, normalizers) = agent.model.artifacts()?;
    session.save_artifact(MODEL_FILE, &weights)?;
    session.save_artifact(NORMALIZERS_FILE, normalizers.as_bytes())
}

/// The planner of a finished run in `run_dir` for `rl eval`: its saved model of `shape`
/// (members and hidden layers from the run's config; the dimensions are the env's) on
/// `backend`, with the planner `planner` builds.
pub fn saved_policy(
    env: &dyn Env,
    run_dir: &Path,
    backend: Backend,
    (members, hidden, probabilistic): (usize, &[usize], bool),
    planner: Planner,
    particles: usize,
) -> anyhow::Result<Box<dyn Policy>> {
    let spec = env.spec();
    let shape = ModelShape {
        members,
        obs_dim: spec.observation_space.flat_dim(),
        act_dim: spec.action_space.flat_dim(),
        hidden,
        probabilistic,
    };
    let model = Model::load(run_dir, &shape, &plain_device(backend)?)?;
    Ok(Box::new(ModelMpc {
        model,
        planner,
        particles,
    }))
}
