//! Value iteration (Sutton & Barto 4.4): synchronous Bellman optimality backups
//! V(s) ← max_a Σ_{s'} P(s'|s,a) [r + γ V(s')] until max_s |ΔV(s)| < θ.
//! A "step" of the run is one sweep over all states; no env interaction happens.

use std::path::Path;

use anyhow::Context;

use super::dp::{self, DpConfig, greedy_action, lookahead};
use super::q_table::GreedyTable;
use crate::algo::{Algorithm, Kind};
use crate::env::{Action, Env, TabularModel};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// Value iteration's hyperparameters.
    pub struct ValueIterationConfig {
        ..dp: DpConfig;
    }
}

impl Algorithm for ValueIterationConfig {
    const NAME: &'static str = "value_iteration";
    const SUMMARY: &'static str =
        "value iteration on the env's known model (Sutton & Barto 4.4); steps count sweeps";
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
        .context("value iteration needs the env's transition model")?;
    let mut v = vec![0.0; model.n_states];
    session.set_diagnostics(&["delta"])?;
    session.evaluate(0, &mut greedy(model, &v, cfg.gamma), &[f64::NAN])?;

    let mut sweep = 0;
    while sweep < session.total_steps() {
        sweep += 1;
        let new_v: Vec<f64> = (0..model.n_states)
            .map(|s| {
                (0..model.n_actions)
                    .map(|a| lookahead(model, &v, cfg.gamma, s, a))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let delta = new_v
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = new_v;
        session.tick(sweep)?;
        let converged = delta < cfg.theta;
        if session.eval_due(sweep) || converged {
            session.evaluate(sweep, &mut greedy(model, &v, cfg.gamma), &[delta])?;
        }
        if converged {
            break;
        }
    }
    let actions = (0..model.n_states)
        .map(|s| greedy_action(model, &v, cfg.gamma, s))
        .collect();
    session.save_policy(&GreedyTable { actions, values: v })
}

/// The greedy policy of V (computed per state, so the evaluation reads V as it is now).
fn greedy<'a>(
    model: &'a TabularModel,
    v: &'a [f64],
    gamma: f64,
) -> impl FnMut(&[f32]) -> Action<'static> + 'a {
    let policy: Vec<usize> = (0..model.n_states)
        .map(|s| greedy_action(model, v, gamma, s))
        .collect();
    move |obs| Action::Discrete(policy[super::q_table::state_index(obs)])
}
