//! PETS: probabilistic ensembles with trajectory sampling (Chua et al. 2018, "Deep
//! reinforcement learning in a handful of trials using probabilistic dynamics models"):
//! B probabilistic networks (Gaussian output, NLL loss, softly bounded log σ²), each fitted to
//! its own bootstrap of the data; CEM with elites and smoothing α over action sequences scored
//! by TS-∞ with P particles and the env's known reward; replanned at every step.

use std::path::Path;

use super::model_fit_config::ModelFitConfig;
use super::model_mpc::{self, Planner};
use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::{Algorithm, Kind};
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::plan::cem;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of PETS (the paper's, for Pendulum-scale tasks).
    pub struct PetsConfig {
        ..model: ModelFitConfig;
        /// B, probabilistic networks in the ensemble, each on its own bootstrap
        ensemble_size: usize = 5, nonzero;
        /// P, particles per action sequence (TS-∞), a multiple of ensemble_size
        particles: usize = 20, nonzero;
        /// H, steps of each simulated action sequence
        horizon: usize = 25, nonzero;
        /// N, sequences sampled per CEM iteration
        population: usize = 500, nonzero;
        /// share of the population the distribution is refit to, in (0, 1]
        elite_fraction: f64 = 0.1, in_half_open(0.0, 1.0);
        /// CEM sample-and-refit rounds per real step
        iterations: usize = 5, nonzero;
        /// CEM smoothing α ∈ [0, 1), the weight of the old parameters
        alpha: f64 = 0.1, in_closed_open(0.0, 1.0);
        /// initial σ of CEM in units of half the action range
        init_std: f64 = 0.5, positive;
        /// discount γ ∈ [0, 1] of the planning objective Σ_t γ^t r_t
        gamma: f64 = 1.0, in_closed(0.0, 1.0);
    }
    check: Self::check_particles;
}

impl PetsConfig {
    fn check_particles(&self, c: &mut Checker) {
        c.require(
            "particles",
            self.ensemble_size == 0 || self.particles.is_multiple_of(self.ensemble_size),
            || {
                format!(
                    "must be a multiple of ensemble_size = {} (TS-∞ gives every member the same \
                     number of particles), got {}",
                    self.ensemble_size, self.particles
                )
            },
        );
    }

    /// K = ⌈fraction × N⌉ elites, at least one.
    pub fn elites(&self) -> usize {
        ((self.elite_fraction * self.population as f64).ceil() as usize).clamp(1, self.population)
    }

    /// The matrix products of one planning step, for `make bench`: `iterations` × `horizon`
    /// forwards of every member over its population × particles / B rows.
    pub fn planning_work(&self, obs_dim: usize, act_dim: usize) -> UpdateWork {
        let rows = self.population * self.particles / self.ensemble_size;
        let times = (self.iterations * self.horizon * self.ensemble_size) as f64;
        let shape = (obs_dim + act_dim, &self.model.net_arch[..], 2 * obs_dim);
        UpdateWork::new(1).mlp(Pass::Forward, times, rows, shape)
    }

    /// CEM over `space`'s action sequences, sampling from `rng`.
    fn build_planner(&self, space: &Space, rng: Rng) -> Planner {
        Planner::Cem(cem::CemMpc::new(&self.cem_options(), space, rng))
    }

    /// The CEM of PETS.
    pub fn cem_options(&self) -> cem::Options {
        cem::Options {
            horizon: self.horizon,
            population: self.population,
            elites: self.elites(),
            iterations: self.iterations,
            alpha: self.alpha,
            init_std: self.init_std,
            gamma: self.gamma,
        }
    }
}

impl Algorithm for PetsConfig {
    const NAME: &'static str = "pets";
    const SUMMARY: &'static str = "PETS: bootstrap ensemble of probabilistic networks, TS-∞ particles, CEM-MPC (Chua et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    /// CEM on the run's last model, sampling from `rng`.
    fn policy(
        &self,
        env: &dyn Env,
        rng: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let shape = (self.ensemble_size, &self.model.net_arch[..], true);
        let planner = self.build_planner(&env.spec().action_space, rng);
        model_mpc::saved_policy(env, run_dir, backend, shape, planner, self.particles)
    }
}

pub fn train(cfg: &PetsConfig, session: &mut Session) -> anyhow::Result<()> {
    let (learned, space) = super::new_model(
        session,
        cfg.ensemble_size,
        &cfg.model.net_arch,
        true,
        &mut session.rng(Stream::Init),
    )?;
    let planner = |rng| cfg.build_planner(&space, rng);
    model_mpc::train(session, &cfg.model, learned, planner, cfg.particles)
}
