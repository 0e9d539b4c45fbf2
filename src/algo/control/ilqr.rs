//! `ilqr`: model-predictive control with iLQR (course notes, "Model Predictive Control"; Tassa,
//! Erez & Todorov 2012). At every real step: optimise the next `horizon` actions from the
//! current state by iLQR on clones of the env ([`crate::plan::ilqr`]), apply the first, and
//! warm-start the next step with the rest of the plan shifted by one (its last action repeated).
//! iLQR only finds a local optimum, and for a swing-up the way round that a plan takes depends on
//! where it starts; so an episode's first step (a cold start) optimises from several initial
//! sequences in parallel — zero action and each finite bound of the action box held for the
//! whole horizon — and keeps the cheapest plan.

use std::time::Instant;

use nalgebra::DVector;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::action_bounds;
use crate::algo::Hyperparameters;
use crate::config::Checker;
use crate::env::{Action, Env};
use crate::plan::derivatives::ActionBounds;
use crate::plan::ilqr::{Options, Report, optimize};
use crate::plan::stats::PlanStats;
use crate::session::{Policy, Session};

/// Hyperparameters of `ilqr`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IlqrConfig {
    pub horizon: u32,
    pub max_iterations: u32,
    pub tolerance: f64,
    pub mu_init: f64,
    pub mu_min: f64,
    pub mu_max: f64,
    pub mu_factor: f64,
    pub line_search_steps: u32,
    pub warm_start: bool,
}

impl Default for IlqrConfig {
    fn default() -> Self {
        Self {
            horizon: 30,
            max_iterations: 10,
            tolerance: 1e-4,
            mu_init: 1e-3,
            mu_min: 1e-6,
            mu_max: 1e10,
            mu_factor: 10.0,
            line_search_steps: 10,
            warm_start: true,
        }
    }
}

impl Hyperparameters for IlqrConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        ("horizon", "H: actions planned ahead at every step"),
        ("max_iterations", "iLQR iterations per planning step"),
        (
            "tolerance",
            "converged when an iteration lowers the plan's cost by less than this fraction",
        ),
        (
            "mu_init",
            "regularisation μ (V_xx + μI in the backward pass) at each planning step",
        ),
        ("mu_min", "below this μ is set to 0"),
        ("mu_max", "give up the planning step when μ exceeds this"),
        (
            "mu_factor",
            "μ is multiplied by this after a failed step, divided after a successful one",
        ),
        (
            "line_search_steps",
            "step sizes α = 1, 1/2, 1/4, ... tried in the forward pass",
        ),
        (
            "warm_start",
            "start each step from the previous plan shifted by one (else every step is a cold start)",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.require("horizon", self.horizon > 0, || "must be > 0".into());
        c.require("max_iterations", self.max_iterations > 0, || {
            "must be > 0".into()
        });
        c.require("line_search_steps", self.line_search_steps > 0, || {
            "must be > 0".into()
        });
        c.require("tolerance", self.tolerance >= 0.0, || {
            format!("must be >= 0, got {}", self.tolerance)
        });
        c.require(
            "mu_init",
            self.mu_init.is_finite() && self.mu_init >= 0.0,
            || format!("must be a finite number >= 0, got {}", self.mu_init),
        );
        c.positive("mu_min", self.mu_min);
        c.positive("mu_max", self.mu_max);
        c.require("mu_max", self.mu_max > self.mu_min, || {
            "must be > mu_min".into()
        });
        c.require(
            "mu_factor",
            self.mu_factor > 1.0 && self.mu_factor.is_finite(),
            || format!("must be a finite number > 1, got {}", self.mu_factor),
        );
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
    session.evaluate_with(0, &mut planner, |p| {
        vec![p.stats.mean_plan_ms(), p.stats.mean_sim_steps()]
    })
}
