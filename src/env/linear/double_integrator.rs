//! DoubleIntegrator-v0 (rl's own): a unit mass on a line pushed by a force, p̈ = u.

use nalgebra::{DMatrix, DVector};

use super::LinearEnv;

/// Seconds per step.
const DT: f64 = 0.1;

impl LinearEnv {
    /// State [p, v], force u; the exact discretisation of p̈ = u under a force held for DT:
    /// A = [[1, DT], [0, 1]], B = [DT²/2, DT]. Cost p² + 0.1 v² + 0.01 u²; reset p, v ~ U(−1, 1);
    /// 200 steps (20 s).
    pub fn double_integrator() -> Self {
        Self::new(
            "DoubleIntegrator-v0",
            200,
            (
                DMatrix::from_row_slice(2, 2, &[1.0, DT, 0.0, 1.0]),
                DMatrix::from_row_slice(2, 1, &[0.5 * DT * DT, DT]),
            ),
            (
                DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 0.1])),
                DMatrix::from_element(1, 1, 0.01),
            ),
            vec![1.0, 1.0],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Env};

    /// Under a constant force the discrete states are those of the continuous motion
    /// p(t) = p₀ + v₀t + ut²/2, v(t) = v₀ + ut.
    #[test]
    fn the_discretisation_is_exact_for_a_constant_force() {
        let mut env = LinearEnv::double_integrator();
        let mut obs = [0.0; 2];
        let (p0, v0, u) = (0.5, -1.0, 0.75f32);
        env.set_state(&[p0, v0], &mut obs);
        for _ in 0..30 {
            env.step(Action::Continuous(&[u]), &mut obs);
        }
        let (t, u) = (30.0 * DT, f64::from(u));
        let [p, v] = env.state()[..] else {
            unreachable!()
        };
        assert!((p - (p0 + v0 * t + 0.5 * u * t * t)).abs() < 1e-12);
        assert!((v - (v0 + u * t)).abs() < 1e-12);
    }
}
