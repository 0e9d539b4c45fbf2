//! CartPoleLinear-v0 (rl's own): CartPole-v1 linearised about the upright equilibrium.

use nalgebra::{DMatrix, DVector};

use super::LinearEnv;

// CartPole-v1's constants (shared/fixtures/gymnasium/ENV_SPEC.md).
const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
const LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * LENGTH;
const TAU: f64 = 0.02;

impl LinearEnv {
    /// State [x, ẋ, θ, θ̇], a continuous force u (N) instead of ±10. CartPole's equations
    /// θ̈ = (g sin θ − cos θ·temp) / (l (4/3 − m_p cos²θ / M)), temp = (u + m_p l θ̇² sin θ) / M,
    /// ẍ = temp − m_p l θ̈ cos θ / M, linearised at x = 0, u = 0 (sin θ ≈ θ, cos θ ≈ 1, θ̇² ≈ 0),
    /// then CartPole's Euler step: A = I + τ A_c, B = τ B_c. Cost x² + 0.1ẋ² + 10θ² + 0.1θ̇² +
    /// 0.01u²; reset like CartPole (each component ~ U(−0.05, 0.05)); 500 steps; no termination
    /// (the model is only faithful near upright).
    pub fn cartpole_linear() -> Self {
        let d = LENGTH * (4.0 / 3.0 - MASS_POLE / TOTAL_MASS);
        // θ̈ = (g θ − u / M) / d,  ẍ = u / M − m_p l θ̈ / M.
        let a_c = DMatrix::from_row_slice(
            4,
            4,
            &[
                0.0,
                1.0,
                0.0,
                0.0, //
                0.0,
                0.0,
                -POLE_MASS_LENGTH * GRAVITY / (d * TOTAL_MASS),
                0.0, //
                0.0,
                0.0,
                0.0,
                1.0, //
                0.0,
                0.0,
                GRAVITY / d,
                0.0,
            ],
        );
        let b_c = DMatrix::from_row_slice(
            4,
            1,
            &[
                0.0,
                1.0 / TOTAL_MASS + POLE_MASS_LENGTH / (d * TOTAL_MASS * TOTAL_MASS),
                0.0,
                -1.0 / (TOTAL_MASS * d),
            ],
        );
        Self::new(
            "CartPoleLinear-v0",
            500,
            (DMatrix::identity(4, 4) + a_c * TAU, b_c * TAU),
            (
                DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 0.1, 10.0, 0.1])),
                DMatrix::from_element(1, 1, 0.01),
            ),
            vec![0.05; 4],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::classic::CartPole;
    use crate::env::{Action, Env};

    /// A and B are the Jacobians of CartPole-v1's own step at upright. CartPole's step is
    /// affine in the force, so B = (f(0, +10) − f(0, −10)) / 20 exactly; at upright the state
    /// Jacobian does not depend on the force, so central differences with either push give A.
    #[test]
    fn a_and_b_are_the_jacobians_of_cartpole_at_upright() {
        let linear = LinearEnv::cartpole_linear();
        let mut cartpole = CartPole::new();
        let mut obs = [0.0; 4];
        let mut next = |x: &[f64], push: usize| {
            cartpole.set_state(x, &mut obs);
            cartpole.step(Action::Discrete(push), &mut obs);
            DVector::from_vec(cartpole.state())
        };
        let b = (next(&[0.0; 4], 1) - next(&[0.0; 4], 0)) / 20.0;
        assert!(
            (&b - linear.b().column(0)).amax() < 1e-12,
            "{b} vs {}",
            linear.b()
        );
        let h = 1e-6;
        for push in [0, 1] {
            for i in 0..4 {
                let (mut plus, mut minus) = ([0.0; 4], [0.0; 4]);
                plus[i] = h;
                minus[i] = -h;
                let column = (next(&plus, push) - next(&minus, push)) / (2.0 * h);
                assert!(
                    (&column - linear.a().column(i)).amax() < 1e-8,
                    "column {i}: {column} vs {}",
                    linear.a()
                );
            }
        }
    }
}
