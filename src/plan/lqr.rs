//! The linear-quadratic regulator: the backward Riccati recursion of a finite-horizon problem
//! (with the affine terms and the regularisation iLQR needs) and the infinite-horizon gain from
//! the discrete algebraic Riccati equation (DARE).
//!
//! Notation of the course notes (CS 285, "Linear case: LQR"): deviations x, u from a nominal
//! trajectory, dynamics x' = f_x x + f_u u, stage cost
//! c(x, u) = c_xᵀx + c_uᵀu + ½ xᵀc_xx x + ½ uᵀc_uu u + uᵀc_ux x, cost-to-go
//! V(x) = const + v_xᵀx + ½ xᵀV_xx x, and the optimal control u = K x + k.
//! A cost written xᵀQx + uᵀRu has c_xx = 2Q, c_uu = 2R and cost-to-go xᵀPx with V_xx = 2P.

use nalgebra::{DMatrix, DVector};

/// One stage of a linear-quadratic problem (the local model iLQR builds about a trajectory).
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub f_x: DMatrix<f64>,
    pub f_u: DMatrix<f64>,
    pub c_x: DVector<f64>,
    pub c_u: DVector<f64>,
    pub c_xx: DMatrix<f64>,
    pub c_uu: DMatrix<f64>,
    pub c_ux: DMatrix<f64>,
}

impl Stage {
    /// x' = A x + B u with cost xᵀQx + uᵀRu (no linear or cross terms).
    pub fn quadratic(a: DMatrix<f64>, b: DMatrix<f64>, q: &DMatrix<f64>, r: &DMatrix<f64>) -> Self {
        let (n, m) = (a.nrows(), b.ncols());
        Self {
            f_x: a,
            f_u: b,
            c_x: DVector::zeros(n),
            c_u: DVector::zeros(m),
            c_xx: q * 2.0,
            c_uu: r * 2.0,
            c_ux: DMatrix::zeros(m, n),
        }
    }
}

/// Quadratic cost-to-go V(x) = const + v_xᵀx + ½ xᵀV_xx x.
#[derive(Clone, Debug, PartialEq)]
pub struct CostToGo {
    pub v_x: DVector<f64>,
    pub v_xx: DMatrix<f64>,
}

impl CostToGo {
    /// V = 0 (no terminal cost).
    pub fn zero(n: usize) -> Self {
        Self {
            v_x: DVector::zeros(n),
            v_xx: DMatrix::zeros(n, n),
        }
    }

    /// V(x) without its constant.
    pub fn at(&self, x: &DVector<f64>) -> f64 {
        self.v_x.dot(x) + 0.5 * x.dot(&(&self.v_xx * x))
    }
}

/// The optimal control of one stage, u = K x + k.
#[derive(Clone, Debug, PartialEq)]
pub struct Gains {
    /// K_t = −Q_uu⁻¹ Q_ux.
    pub feedback: DMatrix<f64>,
    /// k_t = −Q_uu⁻¹ q_u.
    pub feedforward: DVector<f64>,
}

/// A solved finite-horizon problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Gains of stages 0..N.
    pub gains: Vec<Gains>,
    /// Cost-to-go V_0..V_N (V_N is the terminal cost).
    pub cost_to_go: Vec<CostToGo>,
    /// `[Σ kᵀq_u, ½ Σ kᵀQ_uu k]`: applying α k changes the cost of the local model by
    /// α·first + α²·second (Tassa, Erez & Todorov 2012, eq. 13), the line search's prediction.
    pub expected_change: [f64; 2],
}

/// One step of the backward recursion: from V_{t+1} to the gains of stage t and V_t.
///
/// Q-function terms (course notes): q_x = c_x + f_xᵀv_x, q_u = c_u + f_uᵀv_x,
/// Q_xx = c_xx + f_xᵀV_xx f_x, Q_uu = c_uu + f_uᵀV_xx f_u, Q_ux = c_ux + f_uᵀV_xx f_x.
/// `mu` > 0 regularises as Tassa et al. 2012 (eq. 10): V_xx + μI in Q_uu and Q_ux of the gains,
/// which keeps the step close to the nominal trajectory; V_t uses their eq. 11, exact for any
/// gains. `None` when the regularised Q_uu is not positive definite (raise μ and retry).
pub fn riccati_step(
    stage: &Stage,
    next: &CostToGo,
    mu: f64,
) -> Option<(Gains, CostToGo, [f64; 2])> {
    let Stage {
        f_x,
        f_u,
        c_x,
        c_u,
        c_xx,
        c_uu,
        c_ux,
    } = stage;
    let vxx_fx = &next.v_xx * f_x;
    let vxx_fu = &next.v_xx * f_u;
    let q_x = c_x + f_x.tr_mul(&next.v_x);
    let q_u = c_u + f_u.tr_mul(&next.v_x);
    let q_xx = c_xx + f_x.tr_mul(&vxx_fx);
    let q_uu = c_uu + f_u.tr_mul(&vxx_fu);
    let q_ux = c_ux + f_u.tr_mul(&vxx_fx);
    let (q_uu_reg, q_ux_reg) = if mu > 0.0 {
        (&q_uu + f_u.tr_mul(f_u) * mu, &q_ux + f_u.tr_mul(f_x) * mu)
    } else {
        (q_uu.clone(), q_ux.clone())
    };
    let chol = q_uu_reg.cholesky()?;
    let feedforward = -chol.solve(&q_u);
    let feedback = -chol.solve(&q_ux_reg);
    let (k, big_k) = (&feedforward, &feedback);
    let v_x = q_x + big_k.tr_mul(&(&q_uu * k)) + big_k.tr_mul(&q_u) + q_ux.tr_mul(k);
    let v_xx = q_xx + big_k.tr_mul(&(&q_uu * big_k)) + big_k.tr_mul(&q_ux) + q_ux.tr_mul(big_k);
    let v_xx = (&v_xx + v_xx.transpose()) * 0.5;
    let change = [k.dot(&q_u), 0.5 * k.dot(&(&q_uu * k))];
    Some((
        Gains {
            feedback,
            feedforward,
        },
        CostToGo { v_x, v_xx },
        change,
    ))
}

/// The backward pass over `stages` from the terminal cost-to-go; `None` when some Q_uu is
/// not positive definite at regularisation `mu`.
pub fn backward_pass(stages: &[Stage], terminal: CostToGo, mu: f64) -> Option<Solution> {
    let mut gains = Vec::with_capacity(stages.len());
    let mut cost_to_go = vec![terminal];
    let mut expected_change = [0.0; 2];
    for stage in stages.iter().rev() {
        let (g, v, change) = riccati_step(stage, cost_to_go.last().expect("terminal"), mu)?;
        gains.push(g);
        cost_to_go.push(v);
        expected_change[0] += change[0];
        expected_change[1] += change[1];
    }
    gains.reverse();
    cost_to_go.reverse();
    Some(Solution {
        gains,
        cost_to_go,
        expected_change,
    })
}

/// Why the DARE iteration gave no solution.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DareError {
    #[error(
        "Q_uu = c_uu + f_uᵀ V_xx f_u is not positive definite (is the action cost positive definite?)"
    )]
    NotPositiveDefinite,
    #[error(
        "the Riccati iteration did not converge in {0} steps (is the pair (f_x, f_u) stabilisable?)"
    )]
    NotConverged(usize),
}

/// The infinite-horizon LQR of a time-invariant quadratic stage: iterates the Riccati step
/// from V = 0 until max |ΔV_xx| ≤ `tolerance`·max(1, max |V_xx|), i.e. solves the DARE
/// P = Q + AᵀPA − AᵀPB (R + BᵀPB)⁻¹ BᵀPA (V_xx = 2P). Converges for stabilisable (A, B) and
/// detectable (A, Q) with R ≻ 0 (Bertsekas, DP and Optimal Control, vol. I, prop. 4.4.1).
pub fn dare(
    stage: &Stage,
    tolerance: f64,
    max_iterations: usize,
) -> Result<(Gains, CostToGo), DareError> {
    let mut v = CostToGo::zero(stage.f_x.nrows());
    for _ in 0..max_iterations {
        let (gains, next, _) =
            riccati_step(stage, &v, 0.0).ok_or(DareError::NotPositiveDefinite)?;
        let delta = (&next.v_xx - &v.v_xx).amax();
        let converged = delta <= tolerance * next.v_xx.amax().max(1.0);
        v = next;
        if converged {
            return Ok((gains, v));
        }
    }
    Err(DareError::NotConverged(max_iterations))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(a: f64, b: f64, q: f64, r: f64) -> Stage {
        Stage::quadratic(
            DMatrix::from_element(1, 1, a),
            DMatrix::from_element(1, 1, b),
            &DMatrix::from_element(1, 1, q),
            &DMatrix::from_element(1, 1, r),
        )
    }

    /// Unit-mass double integrator, dt = 0.1, exact zero-order-hold discretisation.
    fn double_integrator() -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
        let dt = 0.1;
        (
            DMatrix::from_row_slice(2, 2, &[1.0, dt, 0.0, 1.0]),
            DMatrix::from_row_slice(2, 1, &[0.5 * dt * dt, dt]),
            DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 0.1])),
            DMatrix::from_element(1, 1, 0.01),
        )
    }

    /// The scalar DARE p = q + a²p − a²b²p²/(r + b²p) is the quadratic
    /// b²p² + (r − a²r − qb²)p − qr = 0, whose positive root is the cost-to-go xᵀpx.
    #[test]
    fn scalar_dare_matches_its_closed_form_root() {
        for (a, b, q, r) in [
            (1.2f64, 0.5, 1.0, 0.3),
            (0.9, 1.0, 2.0, 1.0),
            (2.0, 0.1, 0.5, 0.01),
        ] {
            let lin = r - a * a * r - q * b * b;
            let p = (-lin + (lin * lin + 4.0 * b * b * q * r).sqrt()) / (2.0 * b * b);
            let k = -a * b * p / (r + b * b * p);
            let (gains, v) = dare(&scalar(a, b, q, r), 1e-14, 100_000).unwrap();
            assert!(
                (v.v_xx[0] / 2.0 - p).abs() < 1e-9 * p,
                "{a} {b}: {} vs {p}",
                v.v_xx[0] / 2.0
            );
            assert!(
                (gains.feedback[0] - k).abs() < 1e-9 * k.abs(),
                "{} vs {k}",
                gains.feedback[0]
            );
        }
    }

    #[test]
    fn double_integrator_dare_satisfies_the_riccati_identity() {
        let (a, b, q, r) = double_integrator();
        let (gains, v) = dare(
            &Stage::quadratic(a.clone(), b.clone(), &q, &r),
            1e-13,
            1_000_000,
        )
        .unwrap();
        let p = &v.v_xx / 2.0;
        let s = &r + b.transpose() * &p * &b;
        let s_inv = s.clone().try_inverse().unwrap();
        let rhs = &q + a.transpose() * &p * &a
            - a.transpose() * &p * &b * &s_inv * b.transpose() * &p * &a;
        let residual = (&p - rhs).amax();
        assert!(residual < 1e-6, "residual {residual}");
        let k = -&s_inv * b.transpose() * &p * &a;
        assert!((&gains.feedback - k).amax() < 1e-6);
        assert!((&p - p.transpose()).amax() == 0.0 && p.clone().cholesky().is_some());
        // The closed loop A + BK is stable.
        let closed = &a + &b * &gains.feedback;
        let rho = closed
            .complex_eigenvalues()
            .iter()
            .map(|e| e.norm())
            .fold(0.0, f64::max);
        assert!(rho < 1.0, "spectral radius {rho}");
    }

    /// The finite-horizon cost-to-go ½x₀ᵀV₀x₀ is the cost of the LQR rollout from x₀.
    #[test]
    fn finite_horizon_cost_to_go_is_the_cost_of_the_lqr_rollout() {
        let (a, b, q, r) = double_integrator();
        let stage = Stage::quadratic(a.clone(), b.clone(), &q, &r);
        let horizon = 50;
        let solution = backward_pass(&vec![stage; horizon], CostToGo::zero(2), 0.0).unwrap();
        let mut x = DVector::from_vec(vec![1.0, -0.5]);
        let predicted = solution.cost_to_go[0].at(&x);
        let mut cost = 0.0;
        for gains in &solution.gains {
            let u = &gains.feedback * &x + &gains.feedforward;
            cost += x.dot(&(&q * &x)) + u.dot(&(&r * &u));
            x = &a * &x + &b * &u;
        }
        assert!(
            (predicted - cost).abs() < 1e-6 * cost,
            "{predicted} vs {cost}"
        );
        // A long horizon's first gain is the stationary one.
        let long = backward_pass(
            &vec![stage_of(&a, &b, &q, &r); 2000],
            CostToGo::zero(2),
            0.0,
        )
        .unwrap();
        let (stationary, _) = dare(&stage_of(&a, &b, &q, &r), 1e-13, 1_000_000).unwrap();
        assert!((&long.gains[0].feedback - stationary.feedback).amax() < 1e-6);
    }

    fn stage_of(a: &DMatrix<f64>, b: &DMatrix<f64>, q: &DMatrix<f64>, r: &DMatrix<f64>) -> Stage {
        Stage::quadratic(a.clone(), b.clone(), q, r)
    }

    /// With linear cost terms the optimum of the local model is reached by u = Kx + k and its
    /// change of cost from the nominal u = 0 is the predicted first + second.
    #[test]
    fn affine_terms_and_the_expected_change_are_exact_on_a_quadratic_problem() {
        let (a, b, q, r) = double_integrator();
        let mut stage = stage_of(&a, &b, &q, &r);
        stage.c_x = DVector::from_vec(vec![0.3, -0.2]);
        stage.c_u = DVector::from_vec(vec![0.05]);
        stage.c_ux = DMatrix::from_row_slice(1, 2, &[0.01, 0.002]);
        let horizon = 20;
        let cost_of = |x0: &DVector<f64>, policy: &dyn Fn(usize, &DVector<f64>) -> DVector<f64>| {
            let mut x = x0.clone();
            let mut total = 0.0;
            for t in 0..horizon {
                let u = policy(t, &x);
                total += stage.c_x.dot(&x)
                    + stage.c_u.dot(&u)
                    + 0.5 * x.dot(&(&stage.c_xx * &x))
                    + 0.5 * u.dot(&(&stage.c_uu * &u))
                    + u.dot(&(&stage.c_ux * &x));
                x = &a * &x + &b * &u;
            }
            total
        };
        let solution =
            backward_pass(&vec![stage.clone(); horizon], CostToGo::zero(2), 0.0).unwrap();
        // From x₀ = 0 the nominal (u = 0) costs nothing; the optimum costs V₀(0) = 0 + first + second.
        let zero = DVector::zeros(2);
        let optimal = cost_of(&zero, &|t, x| {
            &solution.gains[t].feedback * x + &solution.gains[t].feedforward
        });
        let [first, second] = solution.expected_change;
        assert!(
            (optimal - (first + second)).abs() < 1e-9,
            "{optimal} vs {}",
            first + second
        );
        assert!(optimal < 0.0);
        // And from any x₀ it costs V₀(x₀) + (the constant, which is V₀'s value at 0).
        let x0 = DVector::from_vec(vec![0.7, 0.4]);
        let from_x0 = cost_of(&x0, &|t, x| {
            &solution.gains[t].feedback * x + &solution.gains[t].feedforward
        });
        assert!((from_x0 - (solution.cost_to_go[0].at(&x0) + optimal)).abs() < 1e-9);
    }

    #[test]
    fn an_indefinite_action_cost_is_refused() {
        let stage = scalar(1.0, 1.0, 1.0, -1.0);
        assert!(riccati_step(&stage, &CostToGo::zero(1), 0.0).is_none());
        // Enough regularisation makes Q_uu = −2 + μ positive.
        assert!(riccati_step(&stage, &CostToGo::zero(1), 3.0).is_some());
        assert_eq!(dare(&stage, 1e-12, 10), Err(DareError::NotPositiveDefinite));
    }
}
