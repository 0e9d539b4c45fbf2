//! Multi-armed bandits (Sutton & Barto ch. 2; Lattimore & Szepesvári 2020): ε-greedy, UCB1,
//! Thompson sampling and the gradient bandit, on the bandit envs (`BernoulliBandit-v0`,
//! `GaussianBandit-v0`). Each learner is an [`Agent`]; [`train`] is their one loop, which
//! records the pseudo-regret against the env's true means (see [`regret`]).

pub mod epsilon_greedy;
pub mod gradient;
pub mod posterior;
pub mod regret;
pub mod thompson;
pub mod ucb;

use std::path::Path;

use rand::RngExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::algo::tabular::q_table::GreedyTable;
use crate::env::{Action, Env, EnvSnapshot};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};
use regret::Regret;

/// Pulls between progress updates (a pull takes well under a microsecond).
const TICK_EVERY: u64 = 4096;

/// A bandit learner: chooses an arm, learns from its reward.
pub trait Agent: Clone + Serialize + DeserializeOwned {
    /// The arm to pull at pull `t` (1-based), drawing any randomness from `rng`.
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize;

    /// Learns from reward `reward` of `arm`.
    fn update(&mut self, arm: usize, reward: f64);

    /// The arm a greedy evaluation pulls and the learner's estimate of its value.
    fn greedy(&self) -> (usize, f64);
}

/// Bandit learners need a bandit env (one that knows its arms' means), one copy of it.
pub fn check_env(name: &str, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
    if env.bandit_means().is_none() {
        return Err((
            "env.id",
            format!(
                "{name} is a bandit algorithm and needs a bandit env (BernoulliBandit-v0 or \
                 GaussianBandit-v0); {} is not one",
                env.spec().id
            ),
        ));
    }
    if num_envs != 1 {
        return Err((
            "env.num_envs",
            format!("{name} pulls one bandit at a time; set env.num_envs = 1"),
        ));
    }
    Ok(())
}

/// Everything a checkpoint needs to continue a bandit run exactly.
#[derive(Serialize, serde::Deserialize)]
struct BanditState<A> {
    agent: A,
    rng: Rng,
    env: EnvSnapshot,
    regret: Regret,
}

/// Runs the agent `make(K)` on the session's K-armed bandit for `total_steps` pulls. Every pull is a one-step
/// episode; episodes.csv stays empty (a row per pull would dwarf the run), the pulls are
/// summarised in curve.csv instead: the cumulative pseudo-regret, the % optimal arm and the
/// mean reward since the previous row.
pub fn train<A: Agent>(make: impl FnOnce(usize) -> A, session: &mut Session) -> anyhow::Result<()> {
    let mut env = session.make_env()?;
    let means = env
        .bandit_means()
        .ok_or_else(|| anyhow::anyhow!("{} is not a bandit env", env.spec().id))?
        .to_vec();
    session.set_diagnostics(&Regret::COLUMNS)?;
    let mut obs = [0.0f32];
    let (first, state) = match session.resumed::<BanditState<A>>()? {
        Some((step, st)) => {
            env.restore(&st.env);
            (step + 1, st)
        }
        None => {
            let agent = make(means.len());
            let seed = session.rng(Stream::Env).random::<u64>();
            env.reset(Some(seed), &mut obs);
            let regret = Regret::new(&means);
            let (arm, _) = agent.greedy();
            session.evaluate(0, &mut pull(arm), &regret.clone().take_row())?;
            let state = BanditState {
                agent,
                rng: session.rng(Stream::Explore),
                env: env.snapshot(),
                regret,
            };
            (1, state)
        }
    };
    let BanditState {
        mut agent,
        mut rng,
        mut regret,
        ..
    } = state;
    for step in first..=session.total_steps() {
        let arm = agent.select(step, &mut rng);
        let reward = env.step(Action::Discrete(arm), &mut obs).reward;
        agent.update(arm, reward);
        regret.push(arm, reward);
        if step % TICK_EVERY == 0 {
            session.tick(step)?;
        }
        if session.eval_due(step) {
            let (greedy, _) = agent.greedy();
            session.evaluate(step, &mut pull(greedy), &regret.take_row())?;
        }
        session.checkpoint(step, || {
            Ok(BanditState {
                agent: agent.clone(),
                rng: rng.clone(),
                env: env.snapshot(),
                regret: regret.clone(),
            })
        })?;
    }
    let (arm, value) = agent.greedy();
    session.save_policy(&GreedyTable {
        actions: vec![arm],
        values: vec![value],
    })
}

/// The policy that always pulls `arm`.
fn pull(arm: usize) -> impl FnMut(&[f32]) -> Action<'static> {
    move |_| Action::Discrete(arm)
}

/// The greedy arm a bandit run saved, for `rl eval`.
pub fn saved_policy(run_dir: &Path) -> anyhow::Result<Box<dyn Policy>> {
    crate::algo::tabular::saved_policy(run_dir)
}

/// Index of a maximum of `values`, ties broken uniformly at random (Sutton & Barto §2.3).
pub fn argmax_random_tie(values: &[f64], rng: &mut Rng) -> usize {
    let mut best = 0;
    let mut ties = 1u32;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
            ties = 1;
        } else if v == values[best] {
            // Reservoir sampling: the i-th tie replaces the choice with probability 1/i.
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn ties_are_broken_uniformly() {
        let mut rng = rng::from_seed(1);
        let values = [1.0, 3.0, 0.0, 3.0, 3.0];
        let mut counts = [0u32; 5];
        for _ in 0..30_000 {
            counts[argmax_random_tie(&values, &mut rng)] += 1;
        }
        assert_eq!((counts[0], counts[2]), (0, 0));
        for c in [counts[1], counts[3], counts[4]] {
            assert!(
                (f64::from(c) / 30_000.0 - 1.0 / 3.0).abs() < 0.01,
                "{counts:?}"
            );
        }
        assert_eq!(argmax_random_tie(&[0.0, 2.0, 1.0], &mut rng), 1);
    }
}
