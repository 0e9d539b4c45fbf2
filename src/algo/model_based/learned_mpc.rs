//! Model-predictive control on a learned dynamics model (Nagabandi et al. 2018, "Neural
//! network dynamics for model-based deep RL with model-free fine-tuning", §IV): one MLP
//! predicting the normalised Δs, fitted by minibatch regression on the aggregated data; random
//! shooting or CEM over it with the env's known reward, replanned at every step.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model_fit_config::ModelFitConfig;
use super::model_mpc::{self, Planner};
use crate::algo::{Algorithm, Kind};
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::plan::{cem, shooting};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// The optimiser of the action sequences on the learned model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannerKind {
    /// The best of `population` uniformly random sequences (Nagabandi et al. 2018).
    #[default]
    RandomShooting,
    /// The cross-entropy method: `iterations` refits to the `elites` best.
    Cem,
}

hyperparameters! {
    /// Hyperparameters of MPC on a learned deterministic model.
    pub struct LearnedMpcConfig {
        ..model: ModelFitConfig = ModelFitConfig { epochs: 20, ..Default::default() };
        /// "random_shooting" (Nagabandi et al. 2018) or "cem"
        planner: PlannerKind = PlannerKind::RandomShooting;
        /// H, steps of each simulated action sequence
        horizon: usize = 20, nonzero;
        /// N, sequences scored per real step (per CEM iteration)
        population: usize = 1000, nonzero;
        /// CEM: K ≤ N, best sequences the distribution is refit to
        elites: usize = 50, nonzero;
        /// CEM: sample-and-refit rounds per real step
        iterations: usize = 5, nonzero;
        /// CEM: smoothing α ∈ [0, 1), the weight of the old parameters
        alpha: f64 = 0.1, in_closed_open(0.0, 1.0);
        /// CEM: initial σ in units of half the action range
        init_std: f64 = 0.5, positive;
        /// discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t
        gamma: f64 = 1.0, in_closed(0.0, 1.0);
    }
    check: Self::check_elites;
}

impl LearnedMpcConfig {
    fn check_elites(&self, c: &mut Checker) {
        c.require("elites", self.elites <= self.population, || {
            format!(
                "must be at most population = {}, got {}",
                self.population, self.elites
            )
        });
    }
}

impl Algorithm for LearnedMpcConfig {
    const NAME: &'static str = "learned_mpc";
    const SUMMARY: &'static str = "MPC (random shooting or CEM) on a learned MLP dynamics model, data aggregated and refit (Nagabandi et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    /// The planner on the run's last model, sampling from `rng`.
    fn policy(
        &self,
        env: &dyn Env,
        rng: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let shape = (1, &self.model.net_arch[..], false);
        let planner = self.build_planner(&env.spec().action_space, rng);
        model_mpc::saved_policy(env, run_dir, backend, shape, planner, 1)
    }
}

impl LearnedMpcConfig {
    /// Random shooting or CEM over `space`'s action sequences, sampling from `rng`.
    fn build_planner(&self, space: &Space, rng: Rng) -> Planner {
        match self.planner {
            PlannerKind::RandomShooting => {
                let options = shooting::Options {
                    horizon: self.horizon,
                    population: self.population,
                    gamma: self.gamma,
                };
                Planner::RandomShooting(shooting::RandomShooting::new(&options, space, rng))
            }
            PlannerKind::Cem => {
                let options = cem::Options {
                    horizon: self.horizon,
                    population: self.population,
                    elites: self.elites,
                    iterations: self.iterations,
                    alpha: self.alpha,
                    init_std: self.init_std,
                    gamma: self.gamma,
                };
                Planner::Cem(cem::CemMpc::new(&options, space, rng))
            }
        }
    }
}

pub fn train(cfg: &LearnedMpcConfig, session: &mut Session) -> anyhow::Result<()> {
    let (learned, space) = super::new_model(
        session,
        1,
        &cfg.model.net_arch,
        false,
        &mut session.rng(Stream::Init),
    )?;
    let planner = |rng| cfg.build_planner(&space, rng);
    model_mpc::train(session, &cfg.model, learned, planner, 1)
}
