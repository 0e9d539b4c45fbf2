//! Tabular Dyna-Q (Sutton & Barto 8.2) and Dyna-Q+ (S&B 8.3). Each real step:
//! (a)–(d) act ε-greedily (ties broken at random), one Q-learning update from the real
//! transition; (e) Model(S, A) ← R, S' (deterministic, [`DynaModel`]); (f) `planning_steps`
//! times: draw a previously seen pair uniformly and apply the Q-learning update to the model's
//! outcome. Dyna-Q+ (`kappa` > 0) plans with the reward R + κ√τ, τ the real steps since the pair
//! was last tried, and lets planning try the untried actions of visited states.
//!
//! Besides the usual evaluations, every finished training episode appends a curve row, so that
//! curve.csv carries Figure 8.2 (`episode_length` by `episodes`), the length of the greedy
//! path then (`greedy_length`) and the shortest route the model knows (`model_path_length`):
//! planning cannot make the greedy path shorter than the model's route; only acting finds a
//! shorter one.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dyna_model::DynaModel;
use super::q_table::{GreedyTable, MeanAbsError, QTable, greedy_policy, state_index, table_size};
use super::td::TdConfig;
use crate::algo::{Algorithm, Kind};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Action, Env};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of Dyna-Q and Dyna-Q+.
    pub struct DynaQConfig {
        ..td: TdConfig;
        /// simulated Q-learning updates from the model per real step (S&B's n; 0 is Q-learning)
        planning_steps: u32 = 5;
        /// Dyna-Q+'s bonus weight κ ≥ 0 in R + κ√τ (S&B 8.3); 0 is plain Dyna-Q
        kappa: f64 = 0.0, non_negative;
    }
}

impl Algorithm for DynaQConfig {
    const NAME: &'static str = "dyna_q";
    const SUMMARY: &'static str = "Q-learning plus planning_steps updates from a learned \
        deterministic model per step; kappa > 0: Dyna-Q+ (S&B 8.2, 8.3)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)
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

/// Everything a checkpoint needs to continue Dyna-Q exactly.
#[derive(Serialize, Deserialize)]
struct DynaQState {
    q: QTable,
    model: DynaModel,
    /// Action draws.
    rng: Rng,
    /// Planning's draws of model pairs.
    planning_rng: Rng,
    envs: VecEnvSnapshot,
    s: usize,
    td_error: MeanAbsError,
    /// Length of the last finished training episode (NaN before the first).
    episode_length: f64,
}

/// One Q-learning update of (s, a) towards `reward` (+ γ max Q(s') unless terminal); the TD error.
fn q_update(
    q: &mut QTable,
    cfg: &TdConfig,
    (s, a): (usize, usize),
    reward: f64,
    next: usize,
    terminated: bool,
) -> f64 {
    let target = if terminated {
        reward
    } else {
        reward + cfg.gamma * q.max(next)
    };
    let delta = target - q.get(s, a);
    q.add_at(q.index(s, a), cfg.learning_rate * delta);
    delta
}

/// `planning_steps` updates from pairs drawn from `model` (S&B 8.2 step (f)); with κ > 0 each
/// reward gets Dyna-Q+'s bonus κ√τ at real step `now`.
fn plan(q: &mut QTable, model: &DynaModel, cfg: &DynaQConfig, now: u64, rng: &mut Rng) {
    for _ in 0..cfg.planning_steps {
        let Some((s, a, o)) = model.sample(rng) else {
            return;
        };
        let reward = o.reward + o.bonus(cfg.kappa, now);
        q_update(q, &cfg.td, (s, a), reward, o.next_state, o.terminated);
    }
}

/// The diagnostics `greedy_length` and `model_path_length` (NaN: no route known), both from
/// one reset of a copy of `env`.
fn path_lengths(q: &QTable, model: &DynaModel, env: &dyn Env, n_states: usize) -> [f64; 2] {
    let mut copy = env.clone_box();
    let mut obs = vec![0.0; copy.spec().observation_space.flat_dim()];
    copy.reset(None, &mut obs);
    let start = state_index(&obs);
    let model_path = model.shortest_path(start).map_or(f64::NAN, |n| n as f64);
    [greedy_length(q, copy.as_mut(), obs, n_states), model_path]
}

/// Steps the greedy policy of `q` takes in `env` from observation `obs` to the end of an
/// episode; NaN when it does not end within one step per state (a deterministic greedy walk
/// that long has entered a loop).
fn greedy_length(q: &QTable, env: &mut dyn Env, mut obs: Vec<f32>, n_states: usize) -> f64 {
    for t in 1..=n_states {
        let step = env.step(Action::Discrete(q.greedy(state_index(&obs))), &mut obs);
        if step.terminated || step.truncated {
            return t as f64;
        }
    }
    f64::NAN
}

fn train(cfg: &DynaQConfig, session: &mut Session) -> anyhow::Result<()> {
    let td = &cfg.td;
    let mut env = session.make_vec_env()?;
    let (n_states, n_actions) = table_size(&env.spec().observation_space, &env.spec().action_space);
    let epsilon = td.exploration.schedule(session.total_steps());
    session.set_diagnostics(&[
        "epsilon",
        "td_error",
        "episode_length",
        "greedy_length",
        "model_path_length",
    ])?;
    let (first, state) = match session.resumed::<DynaQState>()? {
        Some((step, st)) => {
            env.restore(&st.envs);
            (step + 1, st)
        }
        None => {
            let q = QTable::new(n_states, n_actions, td.q_init);
            let model = DynaModel::new(n_states, n_actions, cfg.kappa > 0.0);
            let [greedy, model_path] = env
                .env(0)
                .map_or([f64::NAN; 2], |e| path_lengths(&q, &model, e, n_states));
            let diagnostics = [epsilon.value(0), f64::NAN, f64::NAN, greedy, model_path];
            session.evaluate(0, &mut greedy_policy(&q), &diagnostics)?;
            (
                1,
                DynaQState {
                    q,
                    model,
                    rng: session.rng(Stream::Explore),
                    planning_rng: session.rng(Stream::Minibatch),
                    s: state_index(env.observation(0)),
                    envs: env.snapshot(),
                    td_error: MeanAbsError::default(),
                    episode_length: f64::NAN,
                },
            )
        }
    };
    let DynaQState {
        mut q,
        mut model,
        mut rng,
        mut planning_rng,
        mut s,
        mut td_error,
        mut episode_length,
        ..
    } = state;
    for step in first..=session.total_steps() {
        let eps = epsilon.value(step);
        let a = q.epsilon_greedy_random_ties(s, eps, &mut rng);
        env.step_discrete(&[a]);
        let r = env.rewards()[0];
        let terminated = env.terminated()[0];
        let ended = terminated || env.truncated()[0];
        let s_next = state_index(if ended {
            env.final_observation(0)
        } else {
            env.observation(0)
        });
        td_error.push(q_update(&mut q, td, (s, a), r, s_next, terminated));
        model.update(s, a, r, s_next, terminated, step);
        plan(&mut q, &model, cfg, step, &mut planning_rng);

        s = state_index(env.observation(0));
        session.record_episodes(step, env.ended())?;
        if let Some(end) = env.ended().first() {
            episode_length = f64::from(end.length);
        }
        if ended || session.eval_due(step) {
            let [greedy, model_path] = env
                .env(0)
                .map_or([f64::NAN; 2], |e| path_lengths(&q, &model, e, n_states));
            let diagnostics = [eps, td_error.take(), episode_length, greedy, model_path];
            session.evaluate(step, &mut greedy_policy(&q), &diagnostics)?;
        }
        session.checkpoint(step, || {
            Ok(DynaQState {
                q: q.clone(),
                model: model.clone(),
                rng: rng.clone(),
                planning_rng: planning_rng.clone(),
                envs: env.snapshot(),
                s,
                td_error,
                episode_length,
            })
        })?;
    }
    session.save_policy(&GreedyTable::of_q(&q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// On a known model, planning is Q-learning on the model's outcomes: a two-state chain
    /// 0 → 1 → goal (reward 1), one action, α = 1, γ = 0.5, converges to Q(1) = 1, Q(0) = 0.5.
    #[test]
    fn planning_on_a_known_model_propagates_the_goal_reward() {
        let cfg = DynaQConfig {
            td: TdConfig {
                learning_rate: 1.0,
                gamma: 0.5,
                ..TdConfig::default()
            },
            planning_steps: 50,
            kappa: 0.0,
        };
        let mut model = DynaModel::new(3, 1, false);
        model.update(0, 0, 0.0, 1, false, 1);
        model.update(1, 0, 1.0, 2, true, 2);
        let mut q = QTable::new(3, 1, 0.0);
        plan(&mut q, &model, &cfg, 2, &mut rng::from_seed(0));
        assert_eq!((q.get(0, 0), q.get(1, 0), q.get(2, 0)), (0.5, 1.0, 0.0));
    }

    /// Dyna-Q+: a self-loop with reward 0 untried for τ steps plans towards κ√τ + γ Q.
    #[test]
    fn dyna_q_plus_plans_with_the_bonus() {
        let cfg = DynaQConfig {
            td: TdConfig {
                learning_rate: 0.5,
                gamma: 0.0,
                ..TdConfig::default()
            },
            planning_steps: 1,
            kappa: 0.1,
        };
        let mut model = DynaModel::new(1, 1, true);
        model.update(0, 0, 0.0, 0, false, 0);
        let mut q = QTable::new(1, 1, 0.0);
        plan(&mut q, &model, &cfg, 100, &mut rng::from_seed(0));
        // α (κ√100 − 0) = 0.5 · 1.0
        assert!((q.get(0, 0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn greedy_length_counts_steps_or_reports_a_loop() {
        let maze = crate::env::toy_text::Maze::dyna_maze();
        let q = QTable::new(54, 4, 0.0);
        // All ties: always up, stuck at the top wall, never terminates.
        let model = DynaModel::new(54, 4, false);
        let [greedy, _] = path_lengths(&q, &model, &maze, 54);
        assert!(greedy.is_nan());
    }
}
