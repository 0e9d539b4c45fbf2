//! Successor features and generalised policy improvement, tabular (Barreto et al. 2017,
//! "Successor Features for Transfer in Reinforcement Learning"). The env's reward is linear in
//! observable features, r(s, a, s') = φ(s, a, s')·w (eq. 2; [`RewardFeatures`]), so the action
//! value of a policy π on any task w factors as
//!
//! Q^π_w(s, a) = ψ^π(s, a)·w,   ψ^π(s, a) = E_π[Σ_t γ^t φ_{t+1} | S_0 = s, A_0 = a]   (eq. 3–4),
//!
//! and ψ^π satisfies a Bellman equation with φ in place of the reward, so it is learned by TD.
//!
//! A run has two phases.
//! 1. **Base tasks** (before step 0 of the curve): for each feature i, the one-hot task w = e_i
//!    is learned for `base_steps` env steps by SF Q-learning (Barreto 2017, Algorithm 3, for the
//!    current task): act ε-greedily (ε = `base_epsilon`, ties at random) on Q_i = ψ_i·e_i, and
//!    update ψ_i(s, a) ← ψ_i(s, a) + α [φ + γ ψ_i(s', a*) − ψ_i(s, a)] with
//!    a* = argmax_b ψ_i(s', b)·e_i (no bootstrap on a terminal step). Component i of ψ_i is then
//!    Q-learning on task e_i, and ψ_i is the SF of π_i, the policy greedy on ψ_i·e_i (the base
//!    policies, learned). The base tasks' steps are not counted in `total_steps`, their episodes
//!    are not recorded, and their ε-greedy draws come from the seed's `Init` stream.
//! 2. **The new task** (the env's own reward, weights unknown to the learner): the ψ_i stay
//!    fixed; w is fitted by ridge least squares of the observed rewards on φ,
//!    w = argmin Σ_t (r_t − φ_t·w)² + λ‖w − w₀‖² (λ = `w_ridge`, w₀ = `w_init` in every
//!    component, optimistic by default so that each unobserved feature is worth visiting), and
//!    the agent acts ε-greedily (the `exploration_*` schedule, ties at random) on generalised
//!    policy improvement (GPI, Theorem 1):
//!    π(s) = argmax_a max_i ψ_i(s, a)·w.
//!
//! What `rl run` records: the curve's steps and episodes are the new task's; each evaluation
//! rolls out the GPI policy with the current w (ties to the lowest action). Diagnostics:
//! `epsilon`; `w_error` = max_i |w_i − w_true_i| against the env's task weights (used for this
//! diagnostic only); `best_base_return`, the best return of a base policy π_i run greedily on
//! the new task (one episode from a reset of a fresh training env seeded with the run's seed, at
//! most `eval_max_episode_steps` steps when the env has no time limit), which Theorem 1 says
//! GPI's return should not fall below once ψ and w are accurate.

use std::path::Path;

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::q_table::{GreedyTable, argmax, state_index, table_size};
use crate::algo::schedule::EpsilonGreedy;
use crate::algo::{Algorithm, Kind};
use crate::env::features::RewardFeatures;
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Action, Env, TimeLimit};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of successor features with GPI.
    pub struct SuccessorFeaturesConfig {
        /// step size α of the successor-feature TD updates on the base tasks
        learning_rate: f64 = 0.5, in_half_open(0.0, 1.0);
        /// discount factor γ ∈ [0, 1)
        gamma: f64 = 0.95, in_closed_open(0.0, 1.0);
        ..exploration: EpsilonGreedy = EpsilonGreedy {
            exploration_initial_eps: 0.1,
            exploration_final_eps: 0.1,
            exploration_fraction: 0.0,
            ..Default::default()
        };
        /// env steps of SF Q-learning on each one-hot base task e_i, before the new task
        base_steps: u64 = 50_000, nonzero;
        /// ε of the ε-greedy behaviour on the base tasks
        base_epsilon: f64 = 0.1, in_closed(0.0, 1.0);
        /// prior w₀ of every reward weight until observed (optimistic: features get visited)
        w_init: f64 = 1.0, finite;
        /// ridge λ > 0 of the least-squares fit of w towards w₀
        w_ridge: f64 = 1e-3, positive;
    }
}

impl Algorithm for SuccessorFeaturesConfig {
    const NAME: &'static str = "successor_features";
    const SUMMARY: &'static str = "SFs ψ of the one-hot tasks' policies by SF Q-learning, w by \
        least squares on the new task, GPI argmax_a max_i ψ_i·w (Barreto et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)?;
        if env.reward_features().is_none() {
            return Err((
                "env.id",
                format!(
                    "{} needs an env whose reward is linear in observable features \
                     (FourRooms-v0); {} has none",
                    Self::NAME,
                    env.spec().id
                ),
            ));
        }
        Ok(())
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

/// Successor features ψ(s, a) ∈ R^d of one policy, for every state-action pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    n_actions: usize,
    d: usize,
    values: Vec<f64>,
}

impl Psi {
    /// ψ = 0 everywhere.
    pub fn new(n_states: usize, n_actions: usize, d: usize) -> Self {
        Self {
            n_actions,
            d,
            values: vec![0.0; n_states * n_actions * d],
        }
    }

    /// ψ(s, a).
    pub fn get(&self, s: usize, a: usize) -> &[f64] {
        let i = (s * self.n_actions + a) * self.d;
        &self.values[i..i + self.d]
    }

    /// Overwrites ψ(s, a).
    pub fn set(&mut self, s: usize, a: usize, psi: &[f64]) {
        let i = (s * self.n_actions + a) * self.d;
        self.values[i..i + self.d].copy_from_slice(psi);
    }

    /// Q_w(s, a) = ψ(s, a)·w.
    pub fn q(&self, s: usize, a: usize, w: &[f64]) -> f64 {
        dot(self.get(s, a), w)
    }

    /// Q_w(s, ·).
    fn q_row(&self, s: usize, w: &[f64]) -> Vec<f64> {
        (0..self.n_actions).map(|a| self.q(s, a, w)).collect()
    }

    /// argmax_a ψ(s, a)·w, ties to the lowest action: the policy whose SFs these are.
    pub fn greedy(&self, s: usize, w: &[f64]) -> usize {
        argmax(&self.q_row(s, w))
    }

    /// One SF Q-learning update (Barreto 2017, Algorithm 3): ψ(s, a) moves by α towards
    /// φ + γ ψ(s', a*), a* = argmax_b ψ(s', b)·w (φ alone on a terminal step).
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        (s, a): (usize, usize),
        phi: &[f64],
        next: usize,
        terminated: bool,
        w: &[f64],
        alpha: f64,
        gamma: f64,
    ) {
        let bootstrap: Vec<f64> = if terminated {
            vec![0.0; self.d]
        } else {
            self.get(next, self.greedy(next, w)).to_vec()
        };
        let i = (s * self.n_actions + a) * self.d;
        let psi = &mut self.values[i..i + self.d];
        for ((v, p), b) in psi.iter_mut().zip(phi).zip(&bootstrap) {
            let target = p + gamma * b;
            *v += alpha * (target - *v);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// GPI's action values max_i ψ_i(s, a)·w for every action (Barreto 2017, Theorem 1).
pub fn gpi_values(psis: &[Psi], s: usize, w: &[f64]) -> Vec<f64> {
    let n_actions = psis[0].n_actions;
    (0..n_actions)
        .map(|a| {
            psis.iter()
                .map(|psi| psi.q(s, a, w))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect()
}

/// GPI's greedy action argmax_a max_i ψ_i(s, a)·w, ties to the lowest action.
pub fn gpi_action(psis: &[Psi], s: usize, w: &[f64]) -> usize {
    argmax(&gpi_values(psis, s, w))
}

/// argmax of `values` with ties broken uniformly at random.
fn argmax_random_ties(values: &[f64], rng: &mut Rng) -> usize {
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ties: Vec<usize> = (0..values.len()).filter(|&a| values[a] == best).collect();
    match ties[..] {
        [only] => only,
        _ => ties[rng.random_range(0..ties.len())],
    }
}

/// With probability ε a uniformly random action, otherwise the best of `values` (random ties).
fn epsilon_greedy(values: &[f64], epsilon: f64, rng: &mut Rng) -> usize {
    if rng.random::<f64>() < epsilon {
        rng.random_range(0..values.len())
    } else {
        argmax_random_ties(values, rng)
    }
}

/// The ridge least-squares fit of the reward weights w: the sums Σ φφᵀ and Σ φ r of the
/// observations, and w = (Σ φφᵀ + λI)⁻¹ (Σ φ r + λ w₀).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidgeFit {
    d: usize,
    /// Σ φφᵀ, row-major.
    phi_phi: Vec<f64>,
    /// Σ φ r.
    phi_r: Vec<f64>,
    /// The current fit.
    pub w: Vec<f64>,
}

impl RidgeFit {
    /// No observations: w = w₀ = `w_init` in every component.
    pub fn new(d: usize, w_init: f64) -> Self {
        Self {
            d,
            phi_phi: vec![0.0; d * d],
            phi_r: vec![0.0; d],
            w: vec![w_init; d],
        }
    }

    /// Adds the observation r = φ·w + noise and refits (a zero φ changes nothing).
    pub fn push(&mut self, phi: &[f64], r: f64, ridge: f64, w_init: f64) {
        if phi.iter().all(|&p| p == 0.0) {
            return;
        }
        let d = self.d;
        for (i, (pr, p)) in self.phi_r.iter_mut().zip(phi).enumerate() {
            *pr += p * r;
            for (pp, q) in self.phi_phi[i * d..(i + 1) * d].iter_mut().zip(phi) {
                *pp += p * q;
            }
        }
        let a = DMatrix::from_row_slice(d, d, &self.phi_phi) + DMatrix::identity(d, d) * ridge;
        let b = DVector::from_iterator(d, self.phi_r.iter().map(|pr| pr + ridge * w_init));
        let w = a
            .cholesky()
            .expect("Σ φφᵀ + λI is positive definite for λ > 0")
            .solve(&b);
        self.w = w.iter().copied().collect();
    }
}

/// Everything a checkpoint needs to continue the new task exactly.
#[derive(Serialize, Deserialize)]
struct SfState {
    psis: Vec<Psi>,
    fit: RidgeFit,
    rng: Rng,
    envs: VecEnvSnapshot,
    s: usize,
}

/// The env's reward features (checked by `check_env`).
fn features(env: Option<&TimeLimit>) -> &dyn RewardFeatures {
    env.and_then(|e| e.reward_features())
        .expect("check_env asks for reward features")
}

/// Phase 1: ψ_i of each one-hot task e_i by SF Q-learning for `base_steps` steps each.
fn train_base_tasks(
    cfg: &SuccessorFeaturesConfig,
    session: &Session,
    (n_states, n_actions, d): (usize, usize, usize),
) -> anyhow::Result<Vec<Psi>> {
    let mut env = session.make_env()?;
    let mut rng = session.rng(Stream::Init);
    let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
    let mut phi = vec![0.0; d];
    let mut psis = Vec::with_capacity(d);
    for i in 0..d {
        let mut w = vec![0.0; d];
        w[i] = 1.0;
        let mut psi = Psi::new(n_states, n_actions, d);
        env.reset(Some(rng.random()), &mut obs);
        let mut s = state_index(&obs);
        for _ in 0..cfg.base_steps {
            let a = epsilon_greedy(&psi.q_row(s, &w), cfg.base_epsilon, &mut rng);
            let step = env.step(Action::Discrete(a), &mut obs);
            let next = state_index(&obs);
            features(Some(&env)).features(s, a, next, &mut phi);
            psi.update(
                (s, a),
                &phi,
                next,
                step.terminated,
                &w,
                cfg.learning_rate,
                cfg.gamma,
            );
            if step.terminated || step.truncated {
                env.reset(None, &mut obs);
            }
            s = state_index(&obs);
        }
        psis.push(psi);
    }
    Ok(psis)
}

/// The best undiscounted return of a base policy π_i (greedy on ψ_i·e_i) on the new task: one
/// episode each from a reset of a fresh training env seeded with the run's seed, cut at
/// `eval_max_episode_steps` when the env has no time limit.
fn best_base_return(psis: &[Psi], session: &Session) -> anyhow::Result<f64> {
    let mut best = f64::NEG_INFINITY;
    for (i, psi) in psis.iter().enumerate() {
        let mut w = vec![0.0; psis.len()];
        w[i] = 1.0;
        let mut env = session.make_env()?;
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        env.reset(Some(session.seed()), &mut obs);
        let mut total = 0.0;
        for _ in 0..session.spec().eval_max_episode_steps {
            let step = env.step(
                Action::Discrete(psi.greedy(state_index(&obs), &w)),
                &mut obs,
            );
            total += step.reward;
            if step.terminated || step.truncated {
                break;
            }
        }
        best = best.max(total);
    }
    Ok(best)
}

fn train(cfg: &SuccessorFeaturesConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_vec_env()?;
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let (d, task) = {
        let f = features(env.env(0));
        (f.n_features(), f.task().to_vec())
    };
    let epsilon = cfg.exploration.schedule(session.total_steps());
    session.set_diagnostics(&["epsilon", "w_error", "best_base_return"])?;
    let w_error = |w: &[f64]| {
        w.iter()
            .zip(&task)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let evaluate = |session: &mut Session, step: u64, psis: &[Psi], w: &[f64], base: f64| {
        let mut policy = |obs: &[f32]| Action::Discrete(gpi_action(psis, state_index(obs), w));
        let diagnostics = [epsilon.value(step), w_error(w), base];
        session.evaluate(step, &mut policy, &diagnostics)
    };
    let (first, state, base) = match session.resumed::<SfState>()? {
        Some((step, st)) => {
            env.restore(&st.envs);
            let base = best_base_return(&st.psis, session)?;
            (step + 1, st, base)
        }
        None => {
            let psis = train_base_tasks(cfg, session, (n_states, n_actions, d))?;
            let fit = RidgeFit::new(d, cfg.w_init);
            let base = best_base_return(&psis, session)?;
            evaluate(session, 0, &psis, &fit.w, base)?;
            let st = SfState {
                psis,
                fit,
                rng: session.rng(Stream::Explore),
                s: state_index(env.observation(0)),
                envs: env.snapshot(),
            };
            (1, st, base)
        }
    };
    let SfState {
        psis,
        mut fit,
        mut rng,
        mut s,
        ..
    } = state;
    let mut phi = vec![0.0; d];
    for step in first..=session.total_steps() {
        let a = epsilon_greedy(&gpi_values(&psis, s, &fit.w), epsilon.value(step), &mut rng);
        env.step_discrete(&[a]);
        let ended = env.terminated()[0] || env.truncated()[0];
        let next = state_index(if ended {
            env.final_observation(0)
        } else {
            env.observation(0)
        });
        features(env.env(0)).features(s, a, next, &mut phi);
        fit.push(&phi, env.rewards()[0], cfg.w_ridge, cfg.w_init);
        s = state_index(env.observation(0));
        session.record_episodes(step, env.ended())?;
        if session.eval_due(step) {
            evaluate(session, step, &psis, &fit.w, base)?;
        }
        session.checkpoint(step, || {
            Ok(SfState {
                psis: psis.clone(),
                fit: fit.clone(),
                rng: rng.clone(),
                envs: env.snapshot(),
                s,
            })
        })?;
    }
    let table = GreedyTable {
        actions: (0..n_states)
            .map(|s| gpi_action(&psis, s, &fit.w))
            .collect(),
        values: (0..n_states)
            .map(|s| {
                gpi_values(&psis, s, &fit.w)
                    .into_iter()
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect(),
    };
    session.save_policy(&table)
}

#[cfg(test)]
mod tests {
    use super::super::successor_representation::{
        expected_reward, successor_matrix, terminal_states,
    };
    use super::*;
    use crate::env::TabularModel;
    use crate::env::toy_text::FourRooms;
    use crate::env::toy_text::four_rooms::DEFAULT_FEATURES;

    /// φ(s, a) = Σ_{s'} P(s'|s, a) φ(s, a, s') on `env`'s model.
    fn expected_phi(env: &FourRooms, model: &TabularModel, s: usize, a: usize) -> Vec<f64> {
        let d = env.n_features();
        let mut out = vec![0.0; d];
        let mut phi = vec![0.0; d];
        for t in model.transitions(s, a) {
            env.features(s, a, t.next_state, &mut phi);
            for (o, p) in out.iter_mut().zip(&phi) {
                *o += t.prob * p;
            }
        }
        out
    }

    /// The optimal deterministic policy of task w = e_i by value iteration on the model.
    fn optimal_policy(env: &FourRooms, model: &TabularModel, i: usize, gamma: f64) -> Vec<usize> {
        let q = |v: &[f64], s: usize, a: usize| -> f64 {
            let t = model.transitions(s, a)[0];
            let phi = expected_phi(env, model, s, a)[i];
            phi + if t.terminated {
                0.0
            } else {
                gamma * v[t.next_state]
            }
        };
        let mut v = vec![0.0; model.n_states];
        for _ in 0..2000 {
            v = (0..model.n_states)
                .map(|s| {
                    (0..4)
                        .map(|a| q(&v, s, a))
                        .fold(f64::NEG_INFINITY, f64::max)
                })
                .collect();
        }
        (0..model.n_states)
            .map(|s| argmax(&(0..4).map(|a| q(&v, s, a)).collect::<Vec<_>>()))
            .collect()
    }

    /// Exact ψ^π of a deterministic policy: Ψ(s) = (I − γP^π)⁻¹ Φ^π state-wise, then
    /// ψ(s, a) = φ(s, a) + γ Σ_{s'} P(s'|s, a) Ψ(s') over non-terminal transitions.
    fn exact_psi(env: &FourRooms, model: &TabularModel, pi: &[usize], gamma: f64) -> Psi {
        let (n, d) = (model.n_states, env.n_features());
        let policy = |s: usize, a: usize| f64::from(u8::from(pi[s] == a));
        let m = successor_matrix(model, &policy, gamma);
        let phi_pi = DMatrix::from_fn(n, d, |s, k| expected_phi(env, model, s, pi[s])[k]);
        let psi_v = m * phi_pi;
        let mut psi = Psi::new(n, 4, d);
        for s in 0..n {
            for a in 0..4 {
                let mut row = expected_phi(env, model, s, a);
                for t in model.transitions(s, a).iter().filter(|t| !t.terminated) {
                    for (k, r) in row.iter_mut().enumerate() {
                        *r += gamma * t.prob * psi_v[(t.next_state, k)];
                    }
                }
                psi.set(s, a, &row);
            }
        }
        psi
    }

    /// Barreto 2017, Theorem 1 with exact SFs: on a new task, the GPI policy's value is at
    /// least every base policy's in every state (computed in closed form, V = M^π r^π), and
    /// ψ^π·w is π's action value there.
    #[test]
    fn gpi_is_at_least_every_base_policy_everywhere() {
        let gamma = 0.95;
        for w in [[1.0, 0.5, 2.0], [-1.0, 0.6, 1.0], [0.3, -0.2, -0.1]] {
            let env = FourRooms::new(&DEFAULT_FEATURES, &w).unwrap();
            let model = env.model().unwrap();
            let bases: Vec<Vec<usize>> = (0..3)
                .map(|i| optimal_policy(&env, model, i, gamma))
                .collect();
            let psis: Vec<Psi> = bases
                .iter()
                .map(|pi| exact_psi(&env, model, pi, gamma))
                .collect();
            let value = |pi: &[usize]| {
                let policy = |s: usize, a: usize| f64::from(u8::from(pi[s] == a));
                successor_matrix(model, &policy, gamma) * expected_reward(model, &policy)
            };
            let gpi: Vec<usize> = (0..model.n_states)
                .map(|s| gpi_action(&psis, s, &w))
                .collect();
            let v_gpi = value(&gpi);
            // Where an episode ends (a goal) there is no value to compare.
            let terminal = terminal_states(model);
            for (i, pi) in bases.iter().enumerate() {
                let v = value(pi);
                for s in (0..model.n_states).filter(|&s| !terminal[s]) {
                    assert!(v_gpi[s] >= v[s] - 1e-9, "w {w:?}, base {i}, state {s}");
                    let q = psis[i].q(s, pi[s], &w);
                    assert!((q - v[s]).abs() < 1e-9, "ψ·w is not Q^π at {s}");
                }
            }
        }
    }

    /// Ridge least squares recovers w from a few observations; unobserved directions stay at
    /// the prior w₀.
    #[test]
    fn ridge_fit_recovers_the_weights() {
        let mut fit = RidgeFit::new(3, 1.0);
        fit.push(&[0.0, 0.0, 0.0], 5.0, 1e-6, 1.0);
        assert_eq!(fit.w, vec![1.0; 3]);
        fit.push(&[1.0, 0.0, 0.0], 2.0, 1e-6, 1.0);
        fit.push(&[1.0, 1.0, 0.0], 1.5, 1e-6, 1.0);
        let want = [2.0, -0.5, 1.0];
        for (w, t) in fit.w.iter().zip(want) {
            assert!((w - t).abs() < 1e-4, "{:?}", fit.w);
        }
    }

    /// SF Q-learning on a one-step terminal transition: ψ(s, a) → φ; from a self-loop with
    /// φ = 0 it bootstraps γ ψ(s, a*) before overwriting.
    #[test]
    fn sf_update_targets() {
        let mut psi = Psi::new(2, 1, 2);
        let w = [1.0, 0.0];
        psi.update((0, 0), &[1.0, 0.0], 1, true, &w, 1.0, 0.5);
        assert_eq!(psi.get(0, 0), &[1.0, 0.0]);
        psi.update((0, 0), &[0.0, 1.0], 0, false, &w, 1.0, 0.5);
        assert_eq!(psi.get(0, 0), &[0.5, 1.0]);
    }
}
