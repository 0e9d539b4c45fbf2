//! `lqr`: the linear-quadratic regulator about an equilibrium (x*, u*) of the env (course notes,
//! "Linear case: LQR"). f_x, f_u and the cost Hessian come from finite differences of the env
//! itself ([`crate::plan::derivatives`]), exact on the linear envs; the cost is the env's own
//! (its quadratic part about (x*, u*): the regulator drives x to x*). Gains:
//! - `horizon = 0`: the infinite-horizon gain of the DARE, u = u* + K (x − x*);
//! - `horizon = N`: the N-step problem without terminal cost, time-varying gains K_t applied at
//!   step t mod N of an episode (re-solving every N steps); with N = the episode length this
//!   is the exact optimum of the episode.
//!
//! Diagnostic `predicted_return`: the mean over episodes of −V_0(x_0), the optimal return the
//! Riccati solution predicts from each episode's first state (exact for `horizon` = episode
//! length on a linear env; for the DARE, the infinite-horizon cost-to-go).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, ensure};
use nalgebra::DVector;

use super::action_bounds;
use crate::algo::algorithm::check_planner_envs;
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::plan::derivatives::{ActionBounds, expand, simulate};
use crate::plan::lqr::{CostToGo, Gains, backward_pass, dare};
use crate::plan::stats::PlanStats;
use crate::rng::Rng;
use crate::session::{Policy, Session};

/// Riccati iterations allowed to the DARE before it is declared divergent.
const DARE_MAX_ITERATIONS: usize = 1_000_000;

hyperparameters! {
    /// Hyperparameters of `lqr`.
    pub struct LqrConfig {
        /// 0: infinite-horizon gain (DARE); N: time-varying gains of the N-step problem
        horizon: u32 = 0;
        /// x* to regulate to, the env's state vector (empty: zeros); f(x*, u*) must be x*
        equilibrium_state: Vec<f64> = Vec::new(), all_finite;
        /// u* holding x* (empty: zeros)
        equilibrium_action: Vec<f64> = Vec::new(), all_finite;
        /// stop the Riccati iteration when max |ΔV_xx| ≤ tolerance·max(1, max |V_xx|)
        dare_tolerance: f64 = 1e-12, positive;
    }
}

impl Algorithm for LqrConfig {
    const NAME: &'static str = "lqr";
    const SUMMARY: &'static str = "LQR about an equilibrium: DARE or finite-horizon Riccati gains on the env's linearisation (planner)";
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
        Ok(Box::new(planner(self, env)?))
    }
}

/// The regulator u = u* + K_t (x − x*) + k_t.
pub struct Regulator {
    x_eq: DVector<f64>,
    u_eq: DVector<f64>,
    gains: Vec<Gains>,
    cost_to_go: CostToGo,
    bounds: ActionBounds,
    /// Step of the current episode.
    t: usize,
    action: Vec<f32>,
    predicted_returns: Vec<f64>,
    stats: PlanStats,
}

impl Policy for Regulator {
    fn act(&mut self, _obs: &[f32], env: &dyn Env) -> Action<'_> {
        let started = Instant::now();
        let dx = DVector::from_vec(env.state()) - &self.x_eq;
        if self.t == 0 {
            self.predicted_returns.push(-self.cost_to_go.at(&dx));
        }
        let g = &self.gains[self.t % self.gains.len()];
        let u = self
            .bounds
            .clamp(&(&self.u_eq + &g.feedback * dx + &g.feedforward));
        for (a, u) in self.action.iter_mut().zip(u.iter()) {
            *a = *u as f32;
        }
        self.t += 1;
        self.stats.record(started, 0);
        Action::Continuous(&self.action)
    }

    fn start_episode(&mut self) {
        self.t = 0;
    }
}

/// `value` if given, else zeros; its length must be `len`.
fn point(value: &[f64], len: usize, key: &str, what: &str) -> anyhow::Result<DVector<f64>> {
    if value.is_empty() {
        return Ok(DVector::zeros(len));
    }
    ensure!(
        value.len() == len,
        "algo.{key} has {} values but the env's {what} has {len}",
        value.len()
    );
    Ok(DVector::from_column_slice(value))
}

/// The regulator of `cfg`, linearised about its equilibrium on a clone of `env`.
pub fn planner(cfg: &LqrConfig, env: &dyn Env) -> anyhow::Result<Regulator> {
    let mut env = env.clone_box();
    let spec = env.spec().clone();
    let mut obs = vec![0.0; spec.observation_space.flat_dim()];
    // Any reset tells the state's dimension; the regulator never uses this env otherwise.
    env.reset(Some(0), &mut obs);
    let bounds = action_bounds(&spec.action_space);
    let x_eq = point(
        &cfg.equilibrium_state,
        env.state().len(),
        "equilibrium_state",
        "state",
    )?;
    let u_eq = bounds.clamp(&point(
        &cfg.equilibrium_action,
        spec.action_space.flat_dim(),
        "equilibrium_action",
        "action",
    )?);
    let u_eq_f32: Vec<f32> = u_eq.iter().map(|u| *u as f32).collect();

    let (next, _) = simulate(env.as_mut(), x_eq.as_slice(), &u_eq_f32, &mut obs);
    let drift = (DVector::from_vec(next) - &x_eq).amax();
    if drift > 1e-9 * x_eq.amax().max(1.0) {
        bail!(
            "(x*, u*) = ({:?}, {:?}) is not an equilibrium of {}: f(x*, u*) moves x by {drift:e}; \
             set algo.equilibrium_state and algo.equilibrium_action",
            x_eq.as_slice(),
            u_eq.as_slice(),
            spec.id
        );
    }
    let mut stage = expand(env.as_mut(), x_eq.as_slice(), &u_eq_f32, &bounds);
    stage.c_x.fill(0.0);
    stage.c_u.fill(0.0);
    let (gains, cost_to_go) = if cfg.horizon == 0 {
        let (gains, v) = dare(&stage, cfg.dare_tolerance, DARE_MAX_ITERATIONS)
            .map_err(|e| anyhow::anyhow!("{}: no infinite-horizon LQR gain: {e}", spec.id))?;
        (vec![gains], v)
    } else {
        let n = stage.f_x.nrows();
        let stages = vec![stage; cfg.horizon as usize];
        let solution = backward_pass(&stages, CostToGo::zero(n), 0.0).ok_or_else(|| {
            anyhow::anyhow!("{}: the action cost is not positive definite", spec.id)
        })?;
        let v0 = solution.cost_to_go.into_iter().next().expect("V_0");
        (solution.gains, v0)
    };

    Ok(Regulator {
        x_eq,
        u_eq,
        gains,
        cost_to_go,
        bounds,
        t: 0,
        action: vec![0.0; spec.action_space.flat_dim()],
        predicted_returns: Vec::new(),
        stats: PlanStats::default(),
    })
}

pub fn train(cfg: &LqrConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut regulator = planner(cfg, &session.make_env()?)?;
    session.set_diagnostics(&["plan_ms", "predicted_return"])?;
    session.evaluate_with(0, &mut regulator, |r, _| {
        let predicted =
            r.predicted_returns.iter().sum::<f64>() / r.predicted_returns.len().max(1) as f64;
        vec![r.stats.mean_plan_ms(), predicted]
    })
}
