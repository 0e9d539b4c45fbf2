//! The evaluation protocol on a multi-agent env: `eval_episodes` episodes of the agents' greedy
//! or deterministic policies on a separate env instance seeded from the run's eval stream, as
//! [`super::Evaluator`] does for one agent. An episode's return is the team return (the sum of
//! the agents' returns); each agent's own return and the env's diagnostics are kept beside it.

use rand::RngExt;

use crate::env::Action;
use crate::env::multi::{MultiAgentEnv, MultiStep};
use crate::rng::Rng;

/// Chooses every agent's action: decentralised execution, agent `i` reading `observations[i]`.
pub trait MultiPolicy {
    /// One action per agent, in agent order.
    fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>>;
}

/// What one evaluation measured.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiEvaluation {
    /// The team return of each episode.
    pub team_returns: Vec<f64>,
    /// Each agent's mean return over the episodes, in agent order.
    pub agent_returns: Vec<f64>,
    /// The mean over every evaluation step of each of the env's diagnostics
    /// ([`MultiAgentEnv::diagnostics`], in its order).
    pub diagnostics: Vec<f64>,
}

impl MultiEvaluation {
    /// The per-agent returns, then the diagnostics: the values of [`MultiEvaluator::columns`].
    pub fn columns(&self) -> Vec<f64> {
        self.agent_returns
            .iter()
            .chain(&self.diagnostics)
            .copied()
            .collect()
    }
}

/// A dedicated multi-agent evaluation env and its seed stream.
pub struct MultiEvaluator {
    env: Box<dyn MultiAgentEnv>,
    rng: Rng,
    out: MultiStep,
}

impl MultiEvaluator {
    pub fn new(env: Box<dyn MultiAgentEnv>, rng: Rng) -> Self {
        let out = MultiStep::new(env.spec());
        Self { env, rng, out }
    }

    /// The columns an evaluation adds to curve.csv: `return_<agent>` for every agent, then the
    /// env's diagnostics.
    pub fn columns(&self) -> Vec<String> {
        let agents = self.env.spec().agents.iter().map(|a| format!("return_{a}"));
        let diagnostics = self.env.diagnostics().into_iter().map(|(n, _)| n.into());
        agents.chain(diagnostics).collect()
    }

    /// The eval seed stream (saved in checkpoints).
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Continues the eval seed stream from a checkpoint.
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }

    /// Runs `episodes` episodes of `policy`.
    pub fn run(&mut self, policy: &mut dyn MultiPolicy, episodes: u32) -> MultiEvaluation {
        self.run_observed(policy, episodes, |_| true)
    }

    /// As [`MultiEvaluator::run`], calling `after_episode(episodes done)` after each episode;
    /// it returning false stops the evaluation early. The first episode reseeds the env from
    /// the eval stream, so every evaluation is reproducible.
    pub fn run_observed(
        &mut self,
        policy: &mut dyn MultiPolicy,
        episodes: u32,
        mut after_episode: impl FnMut(u32) -> bool,
    ) -> MultiEvaluation {
        let agents = self.env.spec().num_agents();
        let mut team_returns = Vec::with_capacity(episodes as usize);
        let mut agent_sums = vec![0.0; agents];
        let mut diagnostic_sums = vec![0.0; self.env.diagnostics().len()];
        let mut steps = 0u64;
        let seed = self.rng.random::<u64>();
        for episode in 0..episodes {
            self.env
                .reset((episode == 0).then_some(seed), &mut self.out);
            let mut team = 0.0;
            loop {
                let actions = policy.act(&self.out.observations);
                self.env.step(&actions, &mut self.out);
                for (sum, r) in agent_sums.iter_mut().zip(&self.out.rewards) {
                    *sum += r;
                }
                team += self.out.team_reward();
                for (sum, (_, d)) in diagnostic_sums.iter_mut().zip(self.env.diagnostics()) {
                    *sum += d;
                }
                steps += 1;
                if self.out.episode_over() {
                    break;
                }
            }
            team_returns.push(team);
            if !after_episode(episode + 1) {
                break;
            }
        }
        let done = team_returns.len().max(1) as f64;
        MultiEvaluation {
            team_returns,
            agent_returns: agent_sums.iter().map(|s| s / done).collect(),
            diagnostics: diagnostic_sums
                .iter()
                .map(|s| s / steps.max(1) as f64)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvOptions;
    use crate::env::multi::make_multi_env;
    use crate::rng::{Stream, stream};

    /// Every agent stays put.
    struct Still;
    impl MultiPolicy for Still {
        fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
            vec![Action::Discrete(0); observations.len()]
        }
    }

    /// The team return is the sum of the agents' returns, and the same eval seed gives the
    /// same evaluation.
    #[test]
    fn team_returns_sum_the_agents_returns_reproducibly() {
        let evaluator = || {
            let env = make_multi_env("simple_spread_v3", &EnvOptions::default()).unwrap();
            MultiEvaluator::new(env, stream(3, Stream::Eval))
        };
        let mut first = evaluator();
        assert_eq!(
            first.columns(),
            [
                "return_agent_0",
                "return_agent_1",
                "return_agent_2",
                "collisions",
                "occupied_landmarks",
                "min_dists"
            ]
        );
        let result = first.run(&mut Still, 3);
        let team = result.team_returns.iter().sum::<f64>() / 3.0;
        let agents: f64 = result.agent_returns.iter().sum();
        assert!((team - agents).abs() < 1e-9, "{team} vs {agents}");
        assert!(result.diagnostics[2] > 0.0, "min_dists");
        assert_eq!(result.columns().len(), 6);
        assert_eq!(evaluator().run(&mut Still, 3), result);
    }
}
