//! Finite-difference derivatives of an env's dynamics x' = f(x, u) and cost c(x, u) = −r(x, u)
//! about a state and action: the local linear-quadratic [`Stage`] of LQR and iLQR.
//!
//! x is the env's internal state (`Env::state`, f64) and f is one `set_state` + `step` of a
//! scratch clone, so the controlled env is never touched. The envs are assumed deterministic.
//! Central differences (Nocedal & Wright, Numerical Optimization, §8.1):
//! - state components, f64: h = 2⁻¹³·max(1, |x_i|) ≈ ε₆₄^¼, the step that balances truncation
//!   (O(h²)) and rounding (O(ε/h²)) for the second derivatives of the cost; first derivatives
//!   are then accurate to ~1e-9 relative.
//! - actions, which enter every env as f32: h = 2⁻⁷·max(1, |u_j|) ≈ ε₃₂^¼ for the same reason in
//!   single precision. The perturbed actions are rounded to f32 and the differences use the
//!   steps actually taken, so the stencil is exact for any function quadratic in the f32 action.
//!   Where the action box is finite, the stencil is centred at u clamped to [low + h, high − h],
//!   so that the env's own clipping never cuts it (at a bound a central difference would halve
//!   the derivative).
//!
//! Derivatives along a trajectory are independent and computed in parallel (rayon), in order.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::lqr::Stage;
use crate::env::{Action, Env, LinearQuadratic};

/// Relative step of the state components.
const STATE_STEP: f64 = 1.0 / 8192.0;
/// Relative step of the (f32) action components.
const ACTION_STEP: f64 = 1.0 / 128.0;

/// Bounds of a Box action space (possibly infinite).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionBounds {
    pub low: Vec<f32>,
    pub high: Vec<f32>,
}

impl ActionBounds {
    /// `u` clamped into the box and rounded to f32, as the env will apply it.
    pub fn clamp(&self, u: &DVector<f64>) -> DVector<f64> {
        DVector::from_iterator(
            u.len(),
            u.iter()
                .zip(self.low.iter().zip(&self.high))
                .map(|(u, (lo, hi))| f64::from((*u as f32).clamp(*lo, *hi))),
        )
    }
}

/// One simulated step from state `x`: the next state and the cost −r. `sim` is a scratch clone.
pub fn simulate(sim: &mut dyn Env, x: &[f64], u: &[f32], obs: &mut [f32]) -> (Vec<f64>, f64) {
    sim.set_state(x, obs);
    let step = sim.step(Action::Continuous(u), obs);
    (sim.state(), -step.reward)
}

/// Simulated steps [`expand`] spends on `sim` with `n` state and `m` action components (none
/// when the env's linear-quadratic model gives the derivatives).
pub fn steps_per_expansion(sim: &dyn Env, n: usize, m: usize) -> usize {
    if sim.linear_quadratic().is_some() {
        return 0;
    }
    let d = n + m;
    1 + 2 * d + 2 * d * (d - 1)
}

/// f_x, f_u, c_x, c_u, c_xx, c_uu, c_ux at (x, u): analytic where `sim` has an exact
/// linear-quadratic model, by central differences otherwise.
pub fn expand(sim: &mut dyn Env, x: &[f64], u: &[f32], bounds: &ActionBounds) -> Stage {
    match sim.linear_quadratic() {
        Some(lq) => analytic(lq, x, u),
        None => finite_differences(sim, x, u, bounds),
    }
}

/// The exact expansion of x' = Ax + Bu, c = xᵀQx + uᵀRu: f_x = A, f_u = B, c_x = (Q + Qᵀ)x,
/// c_u = (R + Rᵀ)u, c_xx = Q + Qᵀ, c_uu = R + Rᵀ, c_ux = 0.
fn analytic(lq: LinearQuadratic<'_>, x: &[f64], u: &[f32]) -> Stage {
    let x = DVector::from_column_slice(x);
    let u = DVector::from_iterator(u.len(), u.iter().map(|v| f64::from(*v)));
    let (q2, r2) = (lq.q + lq.q.transpose(), lq.r + lq.r.transpose());
    Stage {
        f_x: lq.a.clone(),
        f_u: lq.b.clone(),
        c_x: &q2 * &x,
        c_u: &r2 * &u,
        c_xx: q2,
        c_uu: r2,
        c_ux: DMatrix::zeros(u.len(), x.len()),
    }
}

/// f_x, f_u, c_x, c_u, c_xx, c_uu, c_ux at (x, u) by central differences on `sim`.
fn finite_differences(sim: &mut dyn Env, x: &[f64], u: &[f32], bounds: &ActionBounds) -> Stage {
    let (n, m) = (x.len(), u.len());
    let d = n + m;
    let mut obs = vec![0.0; sim.spec().observation_space.flat_dim()];
    // The stencil point z = (x, u) ± steps, with the actual forward and backward steps of each
    // coordinate (equal for the state; for the action as f32 rounding left them).
    let mut centre_u = u.to_vec();
    let mut up = Vec::with_capacity(d);
    let mut down = Vec::with_capacity(d);
    for &xi in x {
        let h = STATE_STEP * xi.abs().max(1.0);
        up.push(h);
        down.push(h);
    }
    for j in 0..m {
        let h = ACTION_STEP * f64::from(u[j]).abs().max(1.0);
        let (lo, hi) = (f64::from(bounds.low[j]), f64::from(bounds.high[j]));
        let c = if hi - lo > 2.0 * h {
            f64::from(u[j]).clamp(lo + h, hi - h)
        } else {
            f64::from(u[j])
        };
        centre_u[j] = c as f32;
        let c = f64::from(centre_u[j]);
        up.push(f64::from((c + h) as f32) - c);
        down.push(c - f64::from((c - h) as f32));
    }
    // Evaluates f and c at the centre displaced by s_i·step_i along coordinates i (s = ±1).
    let mut eval = |moves: &[(usize, f64)]| {
        let mut xs = x.to_vec();
        let mut us = centre_u.clone();
        for &(i, s) in moves {
            let h = if s > 0.0 { up[i] } else { -down[i] };
            if i < n {
                xs[i] += h;
            } else {
                us[i - n] = (f64::from(us[i - n]) + h) as f32;
            }
        }
        simulate(sim, &xs, &us, &mut obs)
    };

    let (_, c0) = eval(&[]);
    let mut jac = DMatrix::zeros(n, d);
    let mut grad = DVector::zeros(d);
    let mut hess = DMatrix::zeros(d, d);
    for i in 0..d {
        let (f_plus, c_plus) = eval(&[(i, 1.0)]);
        let (f_minus, c_minus) = eval(&[(i, -1.0)]);
        let (hp, hm) = (up[i], down[i]);
        for r in 0..n {
            jac[(r, i)] = (f_plus[r] - f_minus[r]) / (hp + hm);
        }
        grad[i] = (c_plus - c_minus) / (hp + hm);
        hess[(i, i)] = 2.0 * ((c_plus - c0) / hp - (c0 - c_minus) / hm) / (hp + hm);
        for k in 0..i {
            let c_pp = eval(&[(i, 1.0), (k, 1.0)]).1;
            let c_pm = eval(&[(i, 1.0), (k, -1.0)]).1;
            let c_mp = eval(&[(i, -1.0), (k, 1.0)]).1;
            let c_mm = eval(&[(i, -1.0), (k, -1.0)]).1;
            let mixed = (c_pp - c_pm - c_mp + c_mm) / ((hp + hm) * (up[k] + down[k]));
            hess[(i, k)] = mixed;
            hess[(k, i)] = mixed;
        }
    }
    Stage {
        f_x: jac.columns(0, n).into_owned(),
        f_u: jac.columns(n, m).into_owned(),
        c_x: grad.rows(0, n).into_owned(),
        c_u: grad.rows(n, m).into_owned(),
        c_xx: hess.view((0, 0), (n, n)).into_owned(),
        c_uu: hess.view((n, n), (m, m)).into_owned(),
        c_ux: hess.view((n, 0), (m, n)).into_owned(),
    }
}

/// [`expand`] at every (x_t, u_t) of a trajectory, in parallel on clones of `env`.
pub fn expand_along(
    env: &dyn Env,
    xs: &[DVector<f64>],
    us: &[DVector<f64>],
    bounds: &ActionBounds,
) -> Vec<Stage> {
    (0..us.len())
        .into_par_iter()
        .map_init(
            || env.clone_box(),
            |sim, t| {
                let u: Vec<f32> = us[t].iter().map(|u| *u as f32).collect();
                expand(sim.as_mut(), xs[t].as_slice(), &u, bounds)
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, make_env};

    fn pendulum() -> Box<dyn Env> {
        let mut env = make_env("Pendulum-v1", &EnvOptions::default()).unwrap();
        env.reset(Some(0), &mut [0.0; 3]);
        env
    }

    fn torque_bounds() -> ActionBounds {
        ActionBounds {
            low: vec![-2.0],
            high: vec![2.0],
        }
    }

    fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
        (a - b).amax() <= tol
    }

    /// Pendulum-v1 away from the speed limit: θ̇' = θ̇ + (3g/2 sin θ + 3u) dt, θ' = θ + θ̇' dt,
    /// cost norm(θ)² + 0.1θ̇² + 0.001u².
    #[test]
    fn pendulum_derivatives_match_the_analytic_ones() {
        let env = pendulum();
        let (dt, g) = (0.05, 10.0);
        for (theta, theta_dot, u) in [
            (0.3, -1.0, 0.5f32),
            (2.5, 3.0, -1.2),
            (-1.0, 0.2, 2.0),
            (0.1, 0.0, -2.0),
        ] {
            let mut sim = env.clone_box();
            let stage = expand(sim.as_mut(), &[theta, theta_dot], &[u], &torque_bounds());
            let a = 1.5 * g * f64::cos(theta) * dt;
            let f_x = DMatrix::from_row_slice(2, 2, &[1.0 + a * dt, dt, a, 1.0]);
            let f_u = DMatrix::from_row_slice(2, 1, &[3.0 * dt * dt, 3.0 * dt]);
            assert!(close(&stage.f_x, &f_x, 1e-7), "{} vs {f_x}", stage.f_x);
            // At the bound the stencil moves inside the box: still the full derivative.
            // 3u is computed in f32: each torque carries ~1e-7 of rounding, ~1e-5 after dividing by 2h.
            assert!(
                close(&stage.f_u, &f_u, 1e-5),
                "u = {u}: {} vs {f_u}",
                stage.f_u
            );
            let c_x = DMatrix::from_row_slice(2, 1, &[2.0 * theta, 0.2 * theta_dot]);
            assert!(close(
                &DMatrix::from_column_slice(2, 1, stage.c_x.as_slice()),
                &c_x,
                1e-7
            ));
            assert!(close(
                &stage.c_xx,
                &DMatrix::from_diagonal(&DVector::from_vec(vec![2.0, 0.2])),
                1e-6
            ));
            assert!((stage.c_uu[0] - 0.002).abs() < 1e-5, "{}", stage.c_uu[0]);
            assert!(stage.c_ux.amax() < 1e-6);
        }
        assert_eq!(
            env.state(),
            pendulum().state(),
            "the env itself is untouched"
        );
    }

    /// On the linear envs the analytic expansion is used, and finite differences agree with it.
    #[test]
    fn linear_envs_expand_analytically_and_finite_differences_agree() {
        use crate::env::linear::LinearEnv;
        let unbounded = |m: usize| ActionBounds {
            low: vec![f32::NEG_INFINITY; m],
            high: vec![f32::INFINITY; m],
        };
        for (mut env, x) in [
            (LinearEnv::double_integrator(), vec![0.7, -0.3]),
            (LinearEnv::cartpole_linear(), vec![0.1, -0.2, 0.05, 0.3]),
        ] {
            let lq = env
                .linear_quadratic()
                .expect("linear envs know their model");
            let (a, b) = (lq.a.clone(), lq.b.clone());
            let exact = expand(&mut env, &x, &[0.25], &unbounded(1));
            assert_eq!((&exact.f_x, &exact.f_u), (&a, &b));
            let fd = finite_differences(&mut env, &x, &[0.25], &unbounded(1));
            for (e, f) in [
                (&exact.f_x, &fd.f_x),
                (&exact.f_u, &fd.f_u),
                (&exact.c_xx, &fd.c_xx),
                (&exact.c_uu, &fd.c_uu),
                (&exact.c_ux, &fd.c_ux),
            ] {
                assert!(close(e, f, 1e-6), "{e} vs {f}");
            }
            assert!((&exact.c_x - &fd.c_x).amax() < 1e-6 && (&exact.c_u - &fd.c_u).amax() < 1e-6);
        }
    }

    #[test]
    fn derivatives_along_a_trajectory_are_in_order_and_match_single_expansions() {
        let env = pendulum();
        let xs: Vec<DVector<f64>> = (0..8)
            .map(|t| DVector::from_vec(vec![0.4 * t as f64, 1.0 - 0.3 * t as f64]))
            .collect();
        let us: Vec<DVector<f64>> = (0..8)
            .map(|t| DVector::from_element(1, 0.25 * t as f64 - 1.0))
            .collect();
        let stages = expand_along(env.as_ref(), &xs, &us, &torque_bounds());
        for t in 0..8 {
            let mut sim = env.clone_box();
            let single = expand(
                sim.as_mut(),
                xs[t].as_slice(),
                &[us[t][0] as f32],
                &torque_bounds(),
            );
            assert_eq!(stages[t], single);
        }
    }

    #[test]
    fn the_step_count_is_what_expand_spends() {
        // 1 centre, 2 per coordinate, 4 per pair of coordinates.
        assert_eq!(steps_per_expansion(pendulum().as_ref(), 2, 1), 1 + 6 + 12);
        let cartpole = make_env("CartPole-v1", &EnvOptions::default()).unwrap();
        assert_eq!(steps_per_expansion(cartpole.as_ref(), 4, 1), 1 + 10 + 40);
        let linear = crate::env::linear::LinearEnv::double_integrator();
        assert_eq!(
            steps_per_expansion(&linear, 2, 1),
            0,
            "analytic: nothing simulated"
        );
    }
}
