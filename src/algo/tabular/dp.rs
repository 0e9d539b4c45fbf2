//! Shared pieces of dynamic programming on a known model (Sutton & Barto ch. 4).

use crate::env::{Env, TabularModel};
use crate::hyper::hyperparameters;

hyperparameters! {
    /// The keys of value and policy iteration.
    pub struct DpConfig {
        /// discount factor γ ∈ [0, 1] (policy iteration: < 1)
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// stop a sweep loop when max_s |ΔV(s)| < theta
        theta: f64 = 1e-10, positive;
    }
}

/// Dynamic programming needs a tabular env that exposes its transition model.
pub fn check_env(name: &str, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
    super::check_env(name, env, num_envs)?;
    if env.model().is_none() {
        return Err(("env.id", format!("{name} needs the env's transition model")));
    }
    Ok(())
}

/// One-step lookahead Q(s, a) = Σ_{s'} P(s'|s,a) [r + γ V(s') (1 − terminal)].
pub fn lookahead(model: &TabularModel, v: &[f64], gamma: f64, s: usize, a: usize) -> f64 {
    model
        .transitions(s, a)
        .iter()
        .map(|t| {
            let next = if t.terminated { 0.0 } else { v[t.next_state] };
            t.prob * (t.reward + gamma * next)
        })
        .sum()
}

/// The greedy action of V in state `s` (lowest action among ties).
pub fn greedy_action(model: &TabularModel, v: &[f64], gamma: f64, s: usize) -> usize {
    let q: Vec<f64> = (0..model.n_actions)
        .map(|a| lookahead(model, v, gamma, s, a))
        .collect();
    super::q_table::argmax(&q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Transition;

    /// A two-state chain: from 0, action 1 reaches the terminal goal (+1); action 0 stays (−0.1).
    fn chain() -> TabularModel {
        TabularModel::build(2, 2, |s, a| {
            let t = |next_state, reward, terminated| Transition {
                prob: 1.0,
                next_state,
                reward,
                terminated,
            };
            match (s, a) {
                (0, 0) => vec![t(0, -0.1, false)],
                (0, _) => vec![t(1, 1.0, true)],
                _ => vec![t(1, 0.0, true)],
            }
        })
    }

    #[test]
    fn lookahead_closed_form() {
        let m = chain();
        let v = [2.0, 5.0];
        assert!((lookahead(&m, &v, 0.9, 0, 0) - (-0.1 + 0.9 * 2.0)).abs() < 1e-12);
        assert_eq!(
            lookahead(&m, &v, 0.9, 0, 1),
            1.0,
            "terminal transitions do not bootstrap"
        );
        assert_eq!(greedy_action(&m, &[0.0, 0.0], 0.9, 0), 1);
    }
}
