//! Policy iteration (Sutton & Barto 4.3): iterative policy evaluation
//! V(s) ← Σ_{s'} P(s'|s,π(s)) [r + γ V(s')] until max_s |ΔV(s)| < θ, then greedy improvement,
//! until the policy is stable. A "step" of the run is one evaluation sweep over all states.

use std::path::Path;

use anyhow::Context;

use super::dp::{self, DpConfig, lookahead};
use super::q_table::{GreedyTable, state_index};
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

/// An improvement must beat the current action by more than this to change the policy, so that
/// ties between equally good actions cannot make the policy cycle.
const IMPROVEMENT_TOLERANCE: f64 = 1e-12;

hyperparameters! {
    /// Policy iteration's hyperparameters.
    pub struct PolicyIterationConfig {
        ..dp: DpConfig;
    }
    check: Self::check_discount;
}

impl PolicyIterationConfig {
    fn check_discount(&self, c: &mut Checker) {
        c.require("gamma", self.dp.gamma < 1.0, || {
            format!(
                "policy iteration needs gamma < 1 so that every policy has a finite value, got {}",
                self.dp.gamma
            )
        });
    }
}

impl Algorithm for PolicyIterationConfig {
    const NAME: &'static str = "policy_iteration";
    const SUMMARY: &'static str =
        "policy iteration on the env's known model (Sutton & Barto 4.3); steps count sweeps";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        dp::check_env(Self::NAME, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.dp, session)
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

pub fn train(cfg: &DpConfig, session: &mut Session) -> anyhow::Result<()> {
    let env = session.make_env()?;
    let model = env
        .model()
        .context("policy iteration needs the env's transition model")?;
    let mut v = vec![0.0; model.n_states];
    let mut pi = vec![0usize; model.n_states];
    session.set_diagnostics(&["delta", "policy_changes"])?;
    session.evaluate(0, &mut table_policy(&pi), &[f64::NAN, f64::NAN])?;

    let mut sweep = 0;
    let mut changes = f64::NAN;
    let mut delta = f64::NAN;
    'improve: loop {
        // Policy evaluation.
        loop {
            if sweep >= session.total_steps() {
                break 'improve;
            }
            sweep += 1;
            let new_v: Vec<f64> = (0..model.n_states)
                .map(|s| lookahead(model, &v, cfg.gamma, s, pi[s]))
                .collect();
            delta = new_v
                .iter()
                .zip(&v)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            v = new_v;
            session.tick(sweep)?;
            if session.eval_due(sweep) {
                session.evaluate(sweep, &mut table_policy(&pi), &[delta, changes])?;
            }
            if delta < cfg.theta {
                break;
            }
        }
        // Policy improvement: π(s) ← argmax_a Q(s, a).
        let mut changed = 0;
        for s in 0..model.n_states {
            let q: Vec<f64> = (0..model.n_actions)
                .map(|a| lookahead(model, &v, cfg.gamma, s, a))
                .collect();
            let best = super::q_table::argmax(&q);
            if q[best] > q[pi[s]] + IMPROVEMENT_TOLERANCE {
                pi[s] = best;
                changed += 1;
            }
        }
        changes = changed as f64;
        if changed == 0 {
            break;
        }
    }
    session.evaluate(sweep, &mut table_policy(&pi), &[delta, changes])?;
    session.save_policy(&GreedyTable {
        actions: pi,
        values: v,
    })
}

/// Acts by table lookup.
fn table_policy(pi: &[usize]) -> impl FnMut(&[f32]) -> Action<'static> + '_ {
    move |obs| Action::Discrete(pi[state_index(obs)])
}
