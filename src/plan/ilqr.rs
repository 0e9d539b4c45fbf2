//! Iterative LQR (Li & Todorov 2004; Tassa, Erez & Todorov 2012) on the true dynamics: about
//! the current trajectory, linearise the dynamics and quadratise the cost by finite differences
//! ([`super::derivatives`]), run the regularised LQR backward pass ([`super::lqr`]), then the
//! forward pass on clones of the env, u_t = clamp(û_t + α k_t + K_t (x_t − x̂_t)), with a
//! backtracking line search over α (course notes, "iLQR"; Tassa et al. §II-D..F).
//!
//! iLQR simulates env clones directly rather than through [`super::dynamics::Dynamics`]: its
//! derivatives step the env from perturbed states x ± h (`Env::set_state`), not only from the
//! current one, read the env's exact linear-quadratic model where it has one, and its rollouts
//! run one trajectory at a time.

use nalgebra::DVector;

use super::derivatives::{ActionBounds, expand_along, simulate, steps_per_expansion};
use super::lqr::{CostToGo, Solution, backward_pass};
use crate::env::Env;

/// Accept a line-search step when the actual cost reduction is at least this fraction of the
/// reduction the local model predicts (Armijo condition; Tassa et al. use z > 0 .. 0.1).
const ARMIJO: f64 = 1e-4;

/// The knobs of one optimisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub max_iterations: u32,
    /// Stop when an accepted step lowers the cost by less than this fraction of it.
    pub tolerance: f64,
    /// Regularisation μ at the start, its floor (below it μ is 0), its ceiling and the factor
    /// it is multiplied by after a failure and divided by after a success.
    pub mu_init: f64,
    pub mu_min: f64,
    pub mu_max: f64,
    pub mu_factor: f64,
    /// Step sizes tried: α = 1, ½, ¼, ... (this many).
    pub line_search_steps: u32,
}

/// An open-loop action sequence with the states and cost it produces from x₀.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// x_0..x_H.
    pub xs: Vec<DVector<f64>>,
    /// u_0..u_{H−1}, each inside the action box and exactly representable in f32.
    pub us: Vec<DVector<f64>>,
    /// Σ_t c(x_t, u_t) = −Σ_t r_t.
    pub cost: f64,
}

/// What an optimisation did.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub trajectory: Trajectory,
    pub iterations: u32,
    /// Env steps simulated (derivatives and rollouts).
    pub sim_steps: usize,
}

/// Simulates `us` from `x0` on `sim`, the open-loop rollout (the forward pass with α = 0).
pub fn rollout(sim: &mut dyn Env, x0: &DVector<f64>, us: Vec<DVector<f64>>) -> Trajectory {
    forward_pass(
        sim,
        &Trajectory {
            xs: vec![x0.clone(); us.len() + 1],
            us,
            cost: f64::NAN,
        },
        None,
    )
}

/// The closed-loop forward pass on the true dynamics: u_t = û_t + α k_t + K_t (x_t − x̂_t),
/// clamped into `bounds` (`step` = (solution, α, bounds); None replays û as is).
fn forward_pass(
    sim: &mut dyn Env,
    nominal: &Trajectory,
    step: Option<(&Solution, f64, &ActionBounds)>,
) -> Trajectory {
    let mut obs = vec![0.0; sim.spec().observation_space.flat_dim()];
    let mut x = nominal.xs[0].clone();
    let mut xs = vec![x.clone()];
    let mut us = Vec::with_capacity(nominal.us.len());
    let mut cost = 0.0;
    for t in 0..nominal.us.len() {
        let u = match step {
            Some((solution, alpha, bounds)) => {
                let g = &solution.gains[t];
                bounds.clamp(
                    &(&nominal.us[t]
                        + &g.feedforward * alpha
                        + &g.feedback * (&x - &nominal.xs[t])),
                )
            }
            None => nominal.us[t].clone(),
        };
        let action: Vec<f32> = u.iter().map(|v| *v as f32).collect();
        let (next, c) = simulate(sim, x.as_slice(), &action, &mut obs);
        cost += c;
        x = DVector::from_vec(next);
        xs.push(x.clone());
        us.push(u);
    }
    Trajectory { xs, us, cost }
}

/// Improves the action sequence `init` (inside `bounds`) from state `x0` of `env` by iLQR.
/// `env` is only cloned; its state is not used.
pub fn optimize(
    env: &dyn Env,
    x0: &DVector<f64>,
    init: Vec<DVector<f64>>,
    bounds: &ActionBounds,
    opts: &Options,
) -> Report {
    let mut sim = env.clone_box();
    let horizon = init.len();
    let (n, m) = (x0.len(), init.first().map_or(0, |u| u.len()));
    let mut best = rollout(sim.as_mut(), x0, init);
    let mut sim_steps = horizon;
    let mut mu = opts.mu_init;
    let mut iterations = 0;
    while iterations < opts.max_iterations {
        iterations += 1;
        let stages = expand_along(env, &best.xs, &best.us, bounds);
        sim_steps += horizon * steps_per_expansion(env, n, m);

        // Backward pass, raising μ until every Q_uu is positive definite.
        let solution = loop {
            if let Some(s) = backward_pass(&stages, CostToGo::zero(n), mu) {
                break Some(s);
            }
            mu = (mu * opts.mu_factor).max(opts.mu_min);
            if mu > opts.mu_max {
                break None;
            }
        };
        let Some(solution) = solution else { break };

        // Backtracking line search on the true dynamics.
        let [first, second] = solution.expected_change;
        let mut accepted = None;
        let mut alpha = 1.0;
        for _ in 0..opts.line_search_steps {
            let candidate = forward_pass(sim.as_mut(), &best, Some((&solution, alpha, bounds)));
            sim_steps += horizon;
            let predicted = -(alpha * first + alpha * alpha * second);
            if best.cost - candidate.cost > ARMIJO * predicted.max(0.0)
                && candidate.cost < best.cost
            {
                accepted = Some(candidate);
                break;
            }
            alpha *= 0.5;
        }
        match accepted {
            Some(candidate) => {
                let improvement = best.cost - candidate.cost;
                best = candidate;
                mu /= opts.mu_factor;
                if mu < opts.mu_min {
                    mu = 0.0;
                }
                if improvement < opts.tolerance * best.cost.abs() {
                    break;
                }
            }
            None => {
                // No descent along this local model: the trajectory is (locally) optimal
                // unless a more conservative model finds one.
                mu = (mu * opts.mu_factor).max(opts.mu_min);
                if mu > opts.mu_max {
                    break;
                }
            }
        }
    }
    Report {
        trajectory: best,
        iterations,
        sim_steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::linear::LinearEnv;
    use crate::env::{EnvOptions, make_env};
    use crate::plan::lqr::Stage;

    fn options() -> Options {
        Options {
            max_iterations: 50,
            tolerance: 1e-10,
            mu_init: 0.0,
            mu_min: 1e-6,
            mu_max: 1e10,
            mu_factor: 10.0,
            line_search_steps: 10,
        }
    }

    fn unbounded() -> ActionBounds {
        ActionBounds {
            low: vec![f32::NEG_INFINITY],
            high: vec![f32::INFINITY],
        }
    }

    /// On a linear env with quadratic cost iLQR is Newton's method on a quadratic: the first
    /// step (α = 1) lands on the LQR optimum, whose cost is the finite-horizon x₀ᵀP₀x₀.
    #[test]
    fn one_ilqr_iteration_solves_a_linear_quadratic_problem() {
        let env = make_env("DoubleIntegrator-v0", &EnvOptions::default()).unwrap();
        let x0 = DVector::from_vec(vec![1.0, -0.5]);
        let horizon = 40;
        let mut opts = options();
        opts.max_iterations = 1;
        let report = optimize(
            env.as_ref(),
            &x0,
            vec![DVector::zeros(1); horizon],
            &unbounded(),
            &opts,
        );
        let linear = LinearEnv::double_integrator();
        let stage = Stage::quadratic(
            linear.a().clone(),
            linear.b().clone(),
            linear.q(),
            linear.r(),
        );
        let lqr = backward_pass(&vec![stage; horizon], CostToGo::zero(2), 0.0).unwrap();
        let optimal = lqr.cost_to_go[0].at(&x0);
        let cost = report.trajectory.cost;
        assert!(
            (cost - optimal).abs() < 1e-6 * optimal,
            "{cost} vs {optimal}"
        );
    }

    #[test]
    fn ilqr_lowers_the_pendulum_cost_and_respects_the_torque_limit() {
        let mut env = make_env("Pendulum-v1", &EnvOptions::default()).unwrap();
        env.reset(Some(1), &mut [0.0; 3]);
        let before = env.state();
        let x0 = DVector::from_vec(before.clone());
        let bounds = ActionBounds {
            low: vec![-2.0],
            high: vec![2.0],
        };
        let init = vec![DVector::zeros(1); 30];
        let start = rollout(env.clone_box().as_mut(), &x0, init.clone()).cost;
        let report = optimize(env.as_ref(), &x0, init, &bounds, &options());
        assert!(
            report.trajectory.cost < start,
            "{} vs {start}",
            report.trajectory.cost
        );
        assert!(report.trajectory.us.iter().all(|u| u[0].abs() <= 2.0));
        assert_eq!(env.state(), before, "the env itself is untouched");
        // The reported cost is the cost of replaying the actions.
        let replay = rollout(env.clone_box().as_mut(), &x0, report.trajectory.us.clone());
        assert_eq!(replay, report.trajectory);
    }
}
