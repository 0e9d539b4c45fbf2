//! Soft value iteration (the tabular soft Q-learning backup of Haarnoja et al. 2017, eq. 2–4;
//! Ziebart 2010): synchronous soft Bellman backups on the env's known model,
//!
//! Q(s, a) = Σ_{s'} P(s'|s,a) [r + γ V(s')],  V(s) = α log Σ_a exp(Q(s, a)/α),
//!
//! until max_s |ΔV(s)| < θ. The optimal maximum-entropy policy is Boltzmann, π(a|s) ∝
//! exp(Q(s, a)/α); evaluation runs its greedy action argmax_a Q(s, a), as for every method.
//! As α → 0 the soft maximum becomes the maximum and this is value iteration. A "step" of the
//! run is one sweep over all states; no env interaction happens.

use std::path::Path;

use anyhow::Context;

use super::dp::{self, DpConfig, lookahead};
use super::q_table::{GreedyTable, argmax, state_index};
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env, TabularModel};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// Soft value iteration's hyperparameters.
    pub struct SoftValueIterationConfig {
        ..dp: DpConfig;
        /// temperature α > 0 of the soft maximum V = α log Σ_a exp(Q/α)
        ent_coef: f64 = 0.01, positive;
    }
}

impl Algorithm for SoftValueIterationConfig {
    const NAME: &'static str = "soft_value_iteration";
    const SUMMARY: &'static str = "soft (maximum-entropy) value iteration on the env's known model, V = α log Σ exp(Q/α) (Haarnoja et al. 2017); steps count sweeps";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        dp::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        _: &dyn Env,
        _: Rng,
        run_dir: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        super::saved_policy(run_dir)
    }
}

/// α log Σ_i exp(x_i/α), computed around the maximum so that a small α does not overflow.
pub fn soft_max(x: &[f64], alpha: f64) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + alpha * x.iter().map(|q| ((q - m) / alpha).exp()).sum::<f64>().ln()
}

/// Q(s, ·) of V by one-step lookahead.
fn q_row(model: &TabularModel, v: &[f64], gamma: f64, s: usize) -> Vec<f64> {
    (0..model.n_actions)
        .map(|a| lookahead(model, v, gamma, s, a))
        .collect()
}

/// One soft Bellman sweep: V'(s) = α log Σ_a exp(Q_V(s, a)/α) for every state.
pub fn soft_backup(model: &TabularModel, v: &[f64], gamma: f64, alpha: f64) -> Vec<f64> {
    (0..model.n_states)
        .map(|s| soft_max(&q_row(model, v, gamma, s), alpha))
        .collect()
}

/// The greedy actions argmax_a Q_V(s, a) of every state (lowest action among ties).
pub fn greedy_actions(model: &TabularModel, v: &[f64], gamma: f64) -> Vec<usize> {
    (0..model.n_states)
        .map(|s| argmax(&q_row(model, v, gamma, s)))
        .collect()
}

pub fn train(cfg: &SoftValueIterationConfig, session: &mut Session) -> anyhow::Result<()> {
    let env = session.make_env()?;
    let model = env
        .model()
        .context("soft value iteration needs the env's transition model")?;
    let (gamma, alpha) = (cfg.dp.gamma, cfg.ent_coef);
    let mut v = vec![0.0; model.n_states];
    session.set_diagnostics(&["delta"])?;
    let greedy = |v: &[f64]| {
        let actions = greedy_actions(model, v, gamma);
        move |obs: &[f32]| Action::Discrete(actions[state_index(obs)])
    };
    session.evaluate(0, &mut greedy(&v), &[f64::NAN])?;

    let mut sweep = 0;
    while sweep < session.total_steps() {
        sweep += 1;
        let new_v = soft_backup(model, &v, gamma, alpha);
        let delta = new_v
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = new_v;
        session.tick(sweep)?;
        let converged = delta < cfg.dp.theta;
        if session.eval_due(sweep) || converged {
            session.evaluate(sweep, &mut greedy(&v), &[delta])?;
        }
        if converged {
            break;
        }
    }
    let actions = greedy_actions(model, &v, gamma);
    session.save_policy(&GreedyTable { actions, values: v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, make_env};

    fn model_of(id: &str, slippery: Option<bool>) -> TabularModel {
        let options = EnvOptions {
            is_slippery: slippery,
            ..EnvOptions::default()
        };
        make_env(id, &options).unwrap().model().unwrap().clone()
    }

    /// Sweeps `backup` from V = 0 until max |ΔV| < 1e-12.
    fn fixed_point(model: &TabularModel, backup: impl Fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
        let mut v = vec![0.0; model.n_states];
        for _ in 0..100_000 {
            let next = backup(&v);
            let delta = next
                .iter()
                .zip(&v)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            v = next;
            if delta < 1e-12 {
                return v;
            }
        }
        panic!("no convergence");
    }

    fn hard_backup(model: &TabularModel, v: &[f64], gamma: f64) -> Vec<f64> {
        (0..model.n_states)
            .map(|s| {
                q_row(model, v, gamma, s)
                    .into_iter()
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect()
    }

    #[test]
    fn soft_max_closed_form_and_limits() {
        let x = [1.0, 2.0, 3.0];
        let expected = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((soft_max(&x, 1.0) - expected).abs() < 1e-12);
        // Equal values: α log n above them; a tiny α: the maximum, without overflow.
        assert!((soft_max(&[5.0; 4], 0.5) - (5.0 + 0.5 * 4f64.ln())).abs() < 1e-12);
        assert!((soft_max(&x, 1e-6) - 3.0).abs() < 1e-9);
    }

    /// The converged V satisfies V = α log Σ_a exp(Q_V(s, a)/α) to 1e-6 on the toy-text models.
    #[test]
    fn the_soft_bellman_fixed_point_holds() {
        for (id, slippery) in [
            ("FrozenLake-v1", Some(true)),
            ("Taxi-v3", None),
            ("CliffWalking-v0", None),
        ] {
            let model = model_of(id, slippery);
            for alpha in [0.05, 1.0] {
                let v = fixed_point(&model, |v| soft_backup(&model, v, 0.95, alpha));
                let residual = soft_backup(&model, &v, 0.95, alpha)
                    .iter()
                    .zip(&v)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                assert!(residual < 1e-6, "{id} α {alpha}: residual {residual}");
            }
        }
    }

    /// As α → 0 the soft values approach V* (0 ≤ V_α − V* ≤ α log|A| / (1 − γ)) and the greedy
    /// policy is value iteration's: the same action wherever value iteration's is unique, an
    /// optimal one among ties.
    #[test]
    fn small_alpha_gives_value_iterations_policy() {
        let gamma = 0.99;
        for (id, slippery) in [
            ("FrozenLake-v1", Some(true)),
            ("FrozenLake-v1", Some(false)),
            ("Taxi-v3", None),
            ("CliffWalking-v0", None),
        ] {
            let model = model_of(id, slippery);
            let v_star = fixed_point(&model, |v| hard_backup(&model, v, gamma));
            let hard = greedy_actions(&model, &v_star, gamma);
            let alpha = 1e-6;
            let v_soft = fixed_point(&model, |v| soft_backup(&model, v, gamma, alpha));
            let bound = alpha * (model.n_actions as f64).ln() / (1.0 - gamma);
            for (s, (soft, star)) in v_soft.iter().zip(&v_star).enumerate() {
                assert!(
                    *soft >= star - 1e-9 && *soft <= star + bound + 1e-9,
                    "{id} s {s}: {soft} vs {star}"
                );
            }
            let soft = greedy_actions(&model, &v_soft, gamma);
            for s in 0..model.n_states {
                let q = q_row(&model, &v_star, gamma, s);
                let best = q[hard[s]];
                let unique = q
                    .iter()
                    .enumerate()
                    .all(|(a, &x)| a == hard[s] || x < best - 1e-6);
                if unique {
                    assert_eq!(soft[s], hard[s], "{id} s {s}: {q:?}");
                } else {
                    assert!(q[soft[s]] >= best - 1e-6, "{id} s {s}: {q:?}");
                }
            }
        }
    }
}
