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

/// The acceptance bounds of issue 19 on few seeds and short runs, in memory: each fails for a
/// learner that explores too much or too little (the shipped 200-seed experiments give the
/// README's numbers).
#[cfg(test)]
mod bounds {
    use super::*;
    use crate::algo::AlgoConfig;
    use crate::env::EnvSection;
    use crate::session::{MemoryRecorder, RunSpec};

    /// The instance of the shipped bandit experiments.
    const MEANS: [f64; 5] = [0.9, 0.8, 0.7, 0.6, 0.5];

    fn gaps() -> impl Iterator<Item = f64> {
        MEANS.iter().map(|m| MEANS[0] - m).filter(|d| *d > 0.0)
    }

    /// The algorithm `name` with `keys` of its `[algo]` table.
    fn config(name: &str, keys: &str) -> AlgoConfig {
        let entry = crate::algo::find(name).unwrap();
        (entry.parse)(&format!("[algo]\n{keys}\n")).unwrap()
    }

    /// Column `column` of every curve row (rows every `every` pulls), averaged over `seeds`.
    fn mean_curve(
        cfg: &AlgoConfig,
        env: &str,
        (n, every): (u64, u64),
        seeds: u64,
        column: usize,
    ) -> Vec<f64> {
        let env: EnvSection = toml::from_str(env).unwrap();
        let mut total: Vec<f64> = Vec::new();
        for seed in 0..seeds {
            let spec = RunSpec::new(seed, env.clone(), n, every);
            let mut recorder = MemoryRecorder::default();
            let mut session = Session::new(&spec, &mut recorder, None).unwrap();
            cfg.train(&mut session).unwrap();
            let values = recorder.curve.iter().map(|r| r.diagnostics[column]);
            if total.is_empty() {
                total = values.collect();
            } else {
                total.iter_mut().zip(values).for_each(|(t, v)| *t += v);
            }
        }
        total.iter().map(|t| t / seeds as f64).collect()
    }

    fn bernoulli_regret(algo: &str, n: u64, every: u64, seeds: u64) -> Vec<f64> {
        let env = format!("id = \"BernoulliBandit-v0\"\nmeans = {MEANS:?}");
        mean_curve(&config(algo, ""), &env, (n, every), seeds, 0)
    }

    /// Auer et al. 2002, Theorem 1: Σ 8 ln n / Δᵢ + (1 + π²/3) Σ Δᵢ.
    fn auer_bound(n: f64) -> f64 {
        let pi2 = std::f64::consts::PI.powi(2);
        gaps().map(|d| 8.0 * n.ln() / d).sum::<f64>() + (1.0 + pi2 / 3.0) * gaps().sum::<f64>()
    }

    fn kl_bernoulli(p: f64, q: f64) -> f64 {
        p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
    }

    /// UCB1 beats Auer's bound at n = 10⁴ (a uniformly random learner, 0.2 n = 2000, does not),
    /// and its regret grows sublinearly.
    #[test]
    fn ucb1_stays_below_auers_bound() {
        let regret = bernoulli_regret("ucb", 10_000, 1_000, 10);
        let (at_1k, at_10k) = (regret[1], regret[10]);
        assert!(at_10k < auer_bound(1e4), "{at_10k} ≥ {}", auer_bound(1e4));
        assert!(at_1k < auer_bound(1e3));
        assert!(
            at_10k < 4.0 * at_1k,
            "regret {at_1k} → {at_10k} is not logarithmic"
        );
    }

    /// Thompson sampling's regret / ln n at n = 10⁴ lies within 1.5× of the Lai–Robbins
    /// constant Σ Δᵢ / KL(μᵢ ‖ μ*) (5.30 here) and above a third of it.
    #[test]
    fn thompson_regret_is_near_the_lai_robbins_constant() {
        let constant: f64 = MEANS[1..]
            .iter()
            .map(|m| (MEANS[0] - m) / kl_bernoulli(*m, MEANS[0]))
            .sum();
        let regret = bernoulli_regret("thompson", 10_000, 10_000, 20);
        let ratio = regret[1] / 1e4f64.ln() / constant;
        assert!(
            (0.33..1.5).contains(&ratio),
            "regret/ln n = {ratio} × the constant"
        );
    }

    /// ε-greedy's regret grows linearly with slope ε · mean gap = 0.1 · 0.2 (within 20%).
    #[test]
    fn epsilon_greedy_regret_slope_is_epsilon_times_the_mean_gap() {
        let regret = bernoulli_regret("epsilon_greedy", 20_000, 5_000, 10);
        let slope = (regret[4] - regret[1]) / 15_000.0;
        let want = 0.1 * gaps().sum::<f64>() / MEANS.len() as f64;
        assert!(
            (slope / want - 1.0).abs() < 0.2,
            "slope {slope}, want {want}"
        );
    }

    /// Sutton & Barto Figure 2.2 on 200 problems: ε = 0.1 averages ≈ 1.4 per pull over steps
    /// 900–1000; the greedy learner (ε = 0) stays near 1.
    #[test]
    fn testbed_reproduces_figure_2_2() {
        let late = |epsilon: f64| {
            let env = "id = \"GaussianBandit-v0\"\narms = 10";
            let cfg = config("epsilon_greedy", &format!("epsilon = {epsilon}"));
            let rewards = mean_curve(&cfg, env, (1_000, 100), 200, 2);
            rewards[10]
        };
        let (explore, greedy) = (late(0.1), late(0.0));
        assert!((1.3..1.5).contains(&explore), "ε = 0.1: {explore}");
        assert!((0.9..1.15).contains(&greedy), "greedy: {greedy}");
    }
}
