//! Linear environments with a quadratic cost, x' = A x + B u, reward −(xᵀQx + uᵀRu): rl's own
//! (not gymnasium), the problems on which LQR is exactly optimal.

mod cartpole_linear;
mod double_integrator;

use nalgebra::{DMatrix, DVector};
use rand::RngExt;

use crate::env::Step;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, LinearQuadratic, Space};
use crate::rng::{self, Rng};

/// x' = A x + B u with an unbounded continuous action and reward −(xᵀQx + uᵀRu) of the pre-step
/// state and the action; never terminates. The state is f64, observations are its f32 copy.
/// Reset draws each state component i from U(−bound_i, bound_i).
#[derive(Clone, Debug)]
pub struct LinearEnv {
    spec: EnvSpec,
    rng: Rng,
    a: DMatrix<f64>,
    b: DMatrix<f64>,
    q: DMatrix<f64>,
    r: DMatrix<f64>,
    reset_bound: Vec<f64>,
    state: DVector<f64>,
}

impl LinearEnv {
    fn new(
        id: &str,
        max_episode_steps: u32,
        (a, b): (DMatrix<f64>, DMatrix<f64>),
        (q, r): (DMatrix<f64>, DMatrix<f64>),
        reset_bound: Vec<f64>,
    ) -> Self {
        let (n, m) = (a.nrows(), b.ncols());
        let unbounded = |k: usize| Space::Box {
            low: vec![f32::NEG_INFINITY; k],
            high: vec![f32::INFINITY; k],
        };
        Self {
            spec: EnvSpec {
                id: id.into(),
                observation_space: unbounded(n),
                action_space: unbounded(m),
                max_episode_steps: Some(max_episode_steps),
                reward_threshold: None,
            },
            rng: rng::from_seed(0),
            a,
            b,
            q,
            r,
            reset_bound,
            state: DVector::zeros(n),
        }
    }

    /// The dynamics matrix A.
    pub fn a(&self) -> &DMatrix<f64> {
        &self.a
    }

    /// The input matrix B.
    pub fn b(&self) -> &DMatrix<f64> {
        &self.b
    }

    /// The state cost Q.
    pub fn q(&self) -> &DMatrix<f64> {
        &self.q
    }

    /// The action cost R.
    pub fn r(&self) -> &DMatrix<f64> {
        &self.r
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, x) in obs.iter_mut().zip(self.state.iter()) {
            *o = *x as f32;
        }
    }
}

impl Env for LinearEnv {
    fn linear_quadratic(&self) -> Option<LinearQuadratic<'_>> {
        Some(LinearQuadratic {
            a: &self.a,
            b: &self.b,
            q: &self.q,
            r: &self.r,
        })
    }

    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        for (x, bound) in self.state.iter_mut().zip(&self.reset_bound) {
            *x = -bound + 2.0 * bound * self.rng.random::<f64>();
        }
        self.write_obs(obs);
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let u = match action {
            Action::Continuous(u) if u.len() == self.b.ncols() => {
                DVector::from_iterator(u.len(), u.iter().map(|v| f64::from(*v)))
            }
            other => panic!(
                "{} takes a {}-element Action::Continuous, got {other:?}",
                self.spec.id,
                self.b.ncols()
            ),
        };
        let x = &self.state;
        let cost = x.dot(&(&self.q * x)) + u.dot(&(&self.r * &u));
        self.state = &self.a * x + &self.b * &u;
        self.write_obs(obs);
        Step {
            reward: -cost,
            terminated: false,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.as_slice().to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        assert_eq!(
            state.len(),
            self.state.len(),
            "{} state length",
            self.spec.id
        );
        self.state.copy_from_slice(state);
        self.write_obs(obs);
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: self.state(),
            extra: Vec::new(),
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.state = DVector::from_column_slice(&snapshot.state);
        self.rng = snapshot.rng.clone();
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_applies_the_linear_dynamics_and_the_quadratic_cost() {
        let mut env = LinearEnv::double_integrator();
        let mut obs = [0.0; 2];
        env.set_state(&[1.0, -2.0], &mut obs);
        let step = env.step(Action::Continuous(&[0.5]), &mut obs);
        let x = DVector::from_vec(vec![1.0, -2.0]);
        let u = DVector::from_element(1, 0.5);
        let want = env.a() * &x + env.b() * &u;
        assert_eq!(env.state(), want.as_slice());
        assert_eq!(
            step.reward,
            -(x.dot(&(env.q() * &x)) + u.dot(&(env.r() * &u)))
        );
        assert_eq!(obs, [want[0] as f32, want[1] as f32]);
        assert!(!step.terminated && !step.truncated);
    }

    #[test]
    fn reset_is_bounded_and_reproducible() {
        for mut env in [LinearEnv::double_integrator(), LinearEnv::cartpole_linear()] {
            let n = env.state().len();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            env.reset(Some(5), &mut a);
            let first = env.state();
            assert!(
                first
                    .iter()
                    .zip(&env.reset_bound)
                    .all(|(x, b)| x.abs() <= *b)
            );
            env.reset(None, &mut b);
            assert_ne!(env.state(), first);
            env.reset(Some(5), &mut b);
            assert_eq!((env.state(), &a), (first, &b));
        }
    }
}
