//! The tabular successor representation (Dayan 1993, "Improving generalization for temporal
//! difference learning: the successor representation") for policy evaluation under a fixed
//! policy π, here the uniform random policy:
//!
//! M^π(s, s') = E_π[Σ_t γ^t 1(S_t = s') | S_0 = s],  in matrix form M^π = (I − γP^π)⁻¹,
//!
//! where P^π(s, s') = Σ_a π(a|s) P(s'|s, a) over the transitions that do not end the episode
//! (a terminal transition contributes nothing after it, and the row of a state where episodes
//! end is zero: M(s, ·) = 1_s there). M is learned from sampled transitions
//! by TD(0) (Dayan 1993, eq. 4; Stachenfeld et al. 2017, eq. 5):
//!
//! M(s, ·) ← M(s, ·) + α_n(s) [1_s + γ M(s', ·) − M(s, ·)]   (target 1_s on a terminal step),
//!
//! with M = I at the start and a per-state step size α_n(s) = α₀ / n(s)^ω after the n-th visit
//! of s (polynomial step sizes of Even-Dar & Mansour 2003; 1/2 < ω ≤ 1 meets Robbins–Monro's
//! conditions, so M converges to M^π). The expected one-step reward r^π(s) is the mean of the
//! rewards observed leaving s, and the value is V = M r (Dayan 1993, eq. 3), which is π's value:
//! V^π = (I − γP^π)⁻¹ r^π solves Bellman's equation V = r^π + γ P^π V.
//!
//! What `rl run` records: training steps follow π (uniform random actions; episodes.csv holds
//! its returns). Each evaluation rolls out the policy greedy with respect to V = M r by one-step
//! lookahead through the env's model, a(s) = argmax_a Σ P(s'|s,a) [r + γ V(s')] (one step of
//! policy improvement over π, S&B 4.2); its return is the curve's eval return. Diagnostics:
//! `sr_error` = max_{s,s'} |M(s, s') − M^π(s, s')| against the closed form computed from the
//! env's model, and `value_error` = max_s |(M r)(s) − V^π(s)|.

use std::path::Path;

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dp;
use super::q_table::{GreedyTable, state_index, table_size};
use crate::algo::{Algorithm, Kind};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Action, Env, TabularModel};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of the tabular successor representation (TD(0) under the uniform
    /// random policy).
    pub struct SuccessorRepresentationConfig {
        /// step size α₀ of the TD(0) update of M; the n-th update of state s uses α₀ / n^ω
        learning_rate: f64 = 1.0, in_half_open(0.0, 1.0);
        /// exponent ω of the per-state step size α₀ / n(s)^ω (0: constant α₀)
        learning_rate_exponent: f64 = 0.7, in_closed(0.0, 1.0);
        /// discount factor γ ∈ [0, 1)
        gamma: f64 = 0.9, in_closed_open(0.0, 1.0);
    }
}

impl Algorithm for SuccessorRepresentationConfig {
    const NAME: &'static str = "successor_representation";
    const SUMMARY: &'static str = "tabular SR M = (I - γP)^-1 of the uniform random policy \
        learned by TD(0), V = M r; evaluates the greedy policy of V (Dayan 1993)";
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

/// The learned successor matrix M (row-major, `n × n`), the visit counts and the mean reward
/// of each state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Successor {
    n: usize,
    m: Vec<f64>,
    visits: Vec<u64>,
    reward: Vec<f64>,
}

impl Successor {
    /// M = I, no visits, r = 0.
    pub fn new(n: usize) -> Self {
        let mut m = vec![0.0; n * n];
        for s in 0..n {
            m[s * n + s] = 1.0;
        }
        Self {
            n,
            m,
            visits: vec![0; n],
            reward: vec![0.0; n],
        }
    }

    /// M(s, ·).
    pub fn row(&self, s: usize) -> &[f64] {
        &self.m[s * self.n..(s + 1) * self.n]
    }

    /// One TD(0) update from the transition s → `next` with `reward` (`terminated`: no
    /// bootstrap), step size α₀ / n(s)^ω; the reward's running mean r(s) is updated too.
    pub fn update(
        &mut self,
        cfg: &SuccessorRepresentationConfig,
        (s, next): (usize, usize),
        reward: f64,
        terminated: bool,
    ) {
        self.visits[s] += 1;
        let n_visits = self.visits[s] as f64;
        let alpha = cfg.learning_rate / n_visits.powf(cfg.learning_rate_exponent);
        let bootstrap = if terminated { 0.0 } else { cfg.gamma };
        let n = self.n;
        for j in 0..n {
            // Read M(s', j) before writing M(s, j): correct when s' = s too.
            let target = f64::from(u8::from(j == s)) + bootstrap * self.m[next * n + j];
            self.m[s * n + j] += alpha * (target - self.m[s * n + j]);
        }
        self.reward[s] += (reward - self.reward[s]) / n_visits;
    }

    /// V = M r.
    pub fn values(&self) -> Vec<f64> {
        (0..self.n)
            .map(|s| {
                self.row(s)
                    .iter()
                    .zip(&self.reward)
                    .map(|(m, r)| m * r)
                    .sum()
            })
            .collect()
    }

    /// max |M − `exact`|.
    pub fn max_error(&self, exact: &DMatrix<f64>) -> f64 {
        let n = self.n;
        (0..n * n)
            .map(|i| (self.m[i] - exact[(i / n, i % n)]).abs())
            .fold(0.0, f64::max)
    }
}

/// The states where an episode ends: those some transition enters with `terminated`. Being
/// there, nothing follows: their rows of P^π and r^π are zero (M(s, ·) = 1_s, V(s) = 0).
pub fn terminal_states(model: &TabularModel) -> Vec<bool> {
    let mut terminal = vec![false; model.n_states];
    for s in 0..model.n_states {
        for a in 0..model.n_actions {
            for t in model.transitions(s, a).iter().filter(|t| t.terminated) {
                terminal[t.next_state] = true;
            }
        }
    }
    terminal
}

/// P^π: Σ_a π(s, a) P(s'|s, a) over the non-terminal transitions (`pi(s, a)` = π(a|s)), zero
/// from a [terminal state](terminal_states).
pub fn transition_matrix(model: &TabularModel, pi: &dyn Fn(usize, usize) -> f64) -> DMatrix<f64> {
    let n = model.n_states;
    let terminal = terminal_states(model);
    let mut p = DMatrix::zeros(n, n);
    for s in (0..n).filter(|&s| !terminal[s]) {
        for a in 0..model.n_actions {
            for t in model.transitions(s, a).iter().filter(|t| !t.terminated) {
                p[(s, t.next_state)] += pi(s, a) * t.prob;
            }
        }
    }
    p
}

/// r^π(s) = Σ_a π(a|s) Σ_{s'} P(s'|s, a) r(s, a, s'), zero at a [terminal state](terminal_states).
pub fn expected_reward(model: &TabularModel, pi: &dyn Fn(usize, usize) -> f64) -> DVector<f64> {
    let terminal = terminal_states(model);
    DVector::from_fn(model.n_states, |s, _| {
        if terminal[s] {
            return 0.0;
        }
        (0..model.n_actions)
            .map(|a| {
                let r: f64 = model
                    .transitions(s, a)
                    .iter()
                    .map(|t| t.prob * t.reward)
                    .sum();
                pi(s, a) * r
            })
            .sum()
    })
}

/// The closed form M^π = (I − γP^π)⁻¹ (invertible for γ < 1: P^π is substochastic).
pub fn successor_matrix(
    model: &TabularModel,
    pi: &dyn Fn(usize, usize) -> f64,
    gamma: f64,
) -> DMatrix<f64> {
    let n = model.n_states;
    let a = DMatrix::identity(n, n) - transition_matrix(model, pi) * gamma;
    a.try_inverse()
        .expect("I − γP is invertible for γ < 1 and substochastic P")
}

/// The uniform random policy of a model with `n_actions` actions.
fn uniform(n_actions: usize) -> impl Fn(usize, usize) -> f64 {
    move |_, _| 1.0 / n_actions as f64
}

/// Everything a checkpoint needs to continue exactly.
#[derive(Serialize, Deserialize)]
struct SrState {
    sr: Successor,
    rng: Rng,
    envs: VecEnvSnapshot,
    s: usize,
}

/// The exact M^π and V^π of the uniform random policy on the env's model.
struct Exact {
    m: DMatrix<f64>,
    v: DVector<f64>,
}

impl Exact {
    fn of(model: &TabularModel, gamma: f64) -> Self {
        let pi = uniform(model.n_actions);
        let m = successor_matrix(model, &pi, gamma);
        let v = &m * expected_reward(model, &pi);
        Self { m, v }
    }

    /// `[sr_error, value_error]` of the learned `sr`.
    fn errors(&self, sr: &Successor) -> [f64; 2] {
        let v = sr.values();
        let value_error = v
            .iter()
            .zip(self.v.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        [sr.max_error(&self.m), value_error]
    }
}

/// The policy greedy with respect to V by one-step lookahead on `model`.
fn greedy_table(model: &TabularModel, v: &[f64], gamma: f64) -> GreedyTable {
    GreedyTable {
        actions: (0..model.n_states)
            .map(|s| dp::greedy_action(model, v, gamma, s))
            .collect(),
        values: v.to_vec(),
    }
}

fn train(cfg: &SuccessorRepresentationConfig, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_vec_env()?;
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let model = env
        .env(0)
        .and_then(|e| e.model())
        .expect("check_env asks for a model")
        .clone();
    let exact = Exact::of(&model, cfg.gamma);
    session.set_diagnostics(&["sr_error", "value_error"])?;
    let evaluate = |session: &mut Session, step: u64, sr: &Successor| {
        let table = greedy_table(&model, &sr.values(), cfg.gamma);
        let mut policy = |obs: &[f32]| Action::Discrete(table.actions[state_index(obs)]);
        session.evaluate(step, &mut policy, &exact.errors(sr))
    };
    let (first, state) = match session.resumed::<SrState>()? {
        Some((step, st)) => {
            env.restore(&st.envs);
            (step + 1, st)
        }
        None => {
            let sr = Successor::new(n_states);
            evaluate(session, 0, &sr)?;
            let st = SrState {
                sr,
                rng: session.rng(Stream::Explore),
                s: state_index(env.observation(0)),
                envs: env.snapshot(),
            };
            (1, st)
        }
    };
    let SrState {
        mut sr,
        mut rng,
        mut s,
        ..
    } = state;
    for step in first..=session.total_steps() {
        let a = rng.random_range(0..n_actions);
        env.step_discrete(&[a]);
        let terminated = env.terminated()[0];
        let ended = terminated || env.truncated()[0];
        let next = state_index(if ended {
            env.final_observation(0)
        } else {
            env.observation(0)
        });
        sr.update(cfg, (s, next), env.rewards()[0], terminated);
        s = state_index(env.observation(0));
        session.record_episodes(step, env.ended())?;
        if session.eval_due(step) {
            evaluate(session, step, &sr)?;
        }
        session.checkpoint(step, || {
            Ok(SrState {
                sr: sr.clone(),
                rng: rng.clone(),
                envs: env.snapshot(),
                s,
            })
        })?;
    }
    session.save_policy(&greedy_table(&model, &sr.values(), cfg.gamma))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Transition;
    use crate::rng;

    /// An open `side × side` grid, four deterministic moves (walls keep the agent in place),
    /// reward 1 for every move into the bottom-right cell; no terminal state.
    fn grid(side: usize) -> TabularModel {
        let n = side * side;
        TabularModel::build(n, 4, |s, a| {
            let (r, c) = (s / side, s % side);
            let (r, c) = match a {
                0 => (r.saturating_sub(1), c),
                1 => (r, (c + 1).min(side - 1)),
                2 => ((r + 1).min(side - 1), c),
                _ => (r, c.saturating_sub(1)),
            };
            let next_state = r * side + c;
            vec![Transition {
                prob: 1.0,
                next_state,
                reward: f64::from(u8::from(next_state == n - 1)),
                terminated: false,
            }]
        })
    }

    /// Acceptance: TD(0) under the uniform random policy, from sampled transitions of a 3×3
    /// gridworld (γ = 0.9), ends within 1e-2 of (I − γP^π)⁻¹ in max-norm.
    #[test]
    fn td_learned_sr_matches_the_closed_form() {
        let model = grid(3);
        let cfg = SuccessorRepresentationConfig::default();
        let exact = successor_matrix(&model, &uniform(4), cfg.gamma);
        let mut sr = Successor::new(9);
        let mut rng = rng::from_seed(0);
        let mut s = 0;
        for _ in 0..40_000_000 {
            let a = rng.random_range(0..4);
            let t = *model.sample(s, a, rng.random::<f64>());
            sr.update(&cfg, (s, t.next_state), t.reward, t.terminated);
            s = t.next_state;
        }
        let error = sr.max_error(&exact);
        assert!(error < 1e-2, "max |M − (I − γP)⁻¹| = {error}");
        let v = DVector::from_vec(sr.values());
        let v_exact = &exact * expected_reward(&model, &uniform(4));
        assert!((v - v_exact).amax() < 1e-2);
    }

    /// V = M r is the value of π: it equals iterative policy evaluation (S&B 4.1) to 1e-9, on
    /// a model with terminal transitions (FrozenLake 4x4, slippery) and on the FourRooms grid.
    #[test]
    fn m_times_r_equals_policy_evaluation() {
        use crate::env::{EnvOptions, make_env};
        for id in ["FrozenLake-v1", "FourRooms-v0"] {
            let env = make_env(id, &EnvOptions::default()).unwrap();
            let model = env.model().unwrap();
            let gamma = 0.95;
            let pi = uniform(model.n_actions);
            let v_sr = successor_matrix(model, &pi, gamma) * expected_reward(model, &pi);
            let mut v = vec![0.0; model.n_states];
            loop {
                let next: Vec<f64> = (0..model.n_states)
                    .map(|s| {
                        (0..model.n_actions)
                            .map(|a| pi(s, a) * dp::lookahead(model, &v, gamma, s, a))
                            .sum()
                    })
                    .collect();
                let delta = next
                    .iter()
                    .zip(&v)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                v = next;
                if delta < 1e-13 {
                    break;
                }
            }
            // Where an episode ends V is 0 by definition; elsewhere they must agree.
            let terminal = terminal_states(model);
            let error = (0..model.n_states)
                .filter(|&s| !terminal[s])
                .map(|s| (v[s] - v_sr[s]).abs())
                .fold(0.0, f64::max);
            assert!(error < 1e-9, "{id}: max |M r − V| = {error}");
            assert!(
                terminal.iter().any(|&t| t)
                    && (0..model.n_states).all(|s| !terminal[s] || v_sr[s] == 0.0)
            );
        }
    }

    /// A self-loop (s' = s) reads M(s, ·) before writing it: with α = 1, M(s, s) = 1 + γ.
    #[test]
    fn td_update_on_a_self_loop_and_a_terminal_step() {
        let cfg = SuccessorRepresentationConfig {
            learning_rate: 1.0,
            learning_rate_exponent: 0.0,
            gamma: 0.5,
        };
        let mut sr = Successor::new(2);
        sr.update(&cfg, (0, 0), 2.0, false);
        assert_eq!(sr.row(0), &[1.5, 0.0]);
        sr.update(&cfg, (1, 0), 0.0, true);
        assert_eq!(sr.row(1), &[0.0, 1.0]);
        assert_eq!(sr.values(), vec![3.0, 0.0]);
    }
}
