//! `ilqr`: model-predictive control with iLQR (course notes, "Model Predictive Control"; Tassa,
//! Erez & Todorov 2012). At every real step: optimise the next `horizon` actions from the
//! current state by iLQR on clones of the env ([`crate::plan::ilqr`]), apply the first, and
//! warm-start the next step with the rest of the plan shifted by one (its last action repeated).
//! iLQR only finds a local optimum, and for a swing-up the way round that a plan takes depends on
//! where it starts; so an episode's first step (a cold start) optimises from several initial
//! sequences in parallel — zero action and each finite bound of the action box held for the
//! whole horizon — and keeps the cheapest plan.

use std::path::Path;
use std::time::Instant;

use nalgebra::DVector;
use rayon::prelude::*;

use super::action_bounds;
use crate::algo::algorithm::check_planner_envs;
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::plan::derivatives::ActionBounds;
use crate::plan::ilqr::{Options, Report, optimize};
use crate::plan::stats::PlanStats;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of `ilqr`.
    pub struct IlqrConfig {
        /// H: actions planned ahead at every step
        horizon: u32 = 30, nonzero;
        /// iLQR iterations per planning step
        max_iterations: u32 = 10, nonzero;
        /// converged when an iteration lowers the plan's cost by less than this fraction
        tolerance: f64 = 1e-4, non_negative;
        /// regularisation μ (V_xx + μI in the backward pass) at each planning step
        mu_init: f64 = 1e-3, non_negative;
        /// below this μ is set to 0
        mu_min: f64 = 1e-6, positive;
        /// give up the planning step when μ exceeds this
        mu_max: f64 = 1e10, positive;
        /// μ is multiplied by this after a failed step, divided after a successful one
        mu_factor: f64 = 10.0, above(1.0);
        /// step sizes α = 1, 1/2, 1/4, ... tried in the forward pass
        line_search_steps: u32 = 10, nonzero;
        /// start each step from the previous plan shifted by one (else every step is a cold
        /// start)
        warm_start: bool = true;
    }
    check: Self::check_mu_range;
}

impl IlqrConfig {
    fn check_mu_range(&self, c: &mut Checker) {
        c.require("mu_max", self.mu_max > self.mu_min, || {
            "must be > mu_min".into()
        });
    }
}

impl Algorithm for IlqrConfig {
    const NAME: &'static str = "ilqr";
    const SUMMARY: &'static str =
        "iLQR model-predictive control on the true dynamics (Tassa et al. 2012; planner)";
    const KIND: Kind = Kind::Planner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        check_planner_envs(Self::NAME, num_envs)?;
        super::check_env(Self::NAME, env)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        _: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        Ok(Box::new(planner(self, env)))
    }
}

/// The receding-horizon controller.
pub struct IlqrMpc {
    options: Options,
    horizon: usize,
    warm_start: bool,
    bounds: ActionBounds,
    /// The previous step's plan u_0..u_{H−1} (None at an episode's start).
    plan: Option<Vec<DVector<f64>>>,
    action: Vec<f32>,
    stats: PlanStats,
}

impl IlqrMpc {
    fn new(cfg: &IlqrConfig, bounds: ActionBounds) -> Self {
        Self {
            options: Options {
                max_iterations: cfg.max_iterations,
                tolerance: cfg.tolerance,
                mu_init: cfg.mu_init,
                mu_min: cfg.mu_min,
                mu_max: cfg.mu_max,
                mu_factor: cfg.mu_factor,
                line_search_steps: cfg.line_search_steps,
            },
            horizon: cfg.horizon as usize,
            warm_start: cfg.warm_start,
            action: vec![0.0; bounds.low.len()],
            bounds,
            plan: None,
            stats: PlanStats::default(),
        }
    }

    /// The initial action sequences: the previous plan shifted by one, or at a cold start
    /// zero action and each finite bound of the box, held over the horizon.
    fn initial_plans(&mut self) -> Vec<Vec<DVector<f64>>> {
        if let Some(mut us) = self.plan.take() {
            us.remove(0);
            us.push(us.last().cloned().expect("horizon > 0"));
            return vec![us];
        }
        let m = self.action.len();
        let mut constants = vec![self.bounds.clamp(&DVector::zeros(m))];
        for bound in [&self.bounds.low, &self.bounds.high] {
            if bound.iter().all(|b| b.is_finite()) {
                constants.push(DVector::from_iterator(
                    m,
                    bound.iter().map(|b| f64::from(*b)),
                ));
            }
        }
        constants
            .into_iter()
            .map(|u| vec![u; self.horizon])
            .collect()
    }
}

impl Policy for IlqrMpc {
    fn act(&mut self, _obs: &[f32], env: &dyn Env) -> Action<'_> {
        let started = Instant::now();
        let x0 = DVector::from_vec(env.state());
        let reports: Vec<Report> = self
            .initial_plans()
            .into_par_iter()
            .map(|init| optimize(env, &x0, init, &self.bounds, &self.options))
            .collect();
        let sim_steps = reports.iter().map(|r| r.sim_steps).sum();
        let best = reports
            .into_iter()
            .min_by(|a, b| a.trajectory.cost.total_cmp(&b.trajectory.cost))
            .expect("at least one initial plan");
        let us = best.trajectory.us;
        for (a, u) in self.action.iter_mut().zip(us[0].iter()) {
            *a = *u as f32;
        }
        if self.warm_start {
            self.plan = Some(us);
        }
        self.stats.record(started, sim_steps);
        Action::Continuous(&self.action)
    }

    fn start_episode(&mut self) {
        self.plan = None;
    }
}

/// The planner of `cfg` for `env`'s action bounds.
pub fn planner(cfg: &IlqrConfig, env: &dyn Env) -> IlqrMpc {
    IlqrMpc::new(cfg, action_bounds(&env.spec().action_space))
}

pub fn train(cfg: &IlqrConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut planner = planner(cfg, &session.make_env()?);
    session.set_diagnostics(&crate::algo::planning::DIAGNOSTICS)?;
    session.evaluate_with(0, &mut planner, |p, _| {
        vec![p.stats.mean_plan_ms(), p.stats.mean_sim_steps()]
    })
}
