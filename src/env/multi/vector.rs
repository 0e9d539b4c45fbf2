//! A synchronous vector env of multi-agent envs: N copies stepped together and auto-reset in the
//! same step (as [`crate::env::VecEnv`] does for single-agent envs), keeping every agent's final
//! observation of a finished episode so that algorithms can bootstrap from truncated ones.

use super::{MultiAgentEnv, MultiAgentSpec, MultiStep};
use crate::env::{Action, EnvSnapshot};

/// Everything needed to continue a multi-agent vector env exactly (for checkpoints, taken
/// between steps): each env's state and RNG, its agents' current observations and the
/// unfinished episodes' returns and lengths.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiVecEnvSnapshot {
    envs: Vec<EnvSnapshot>,
    observations: Vec<Vec<Vec<f32>>>,
    returns: Vec<Vec<f64>>,
    lengths: Vec<u32>,
}

/// An episode that ended during the last [`MultiVecEnv::step`].
#[derive(Clone, Debug, PartialEq)]
pub struct MultiEpisodeEnd {
    pub env: usize,
    /// Undiscounted sum of each agent's rewards, in agent order.
    pub returns: Vec<f64>,
    pub length: u32,
    /// Ended by truncation only (no agent terminated).
    pub truncated: bool,
}

impl MultiEpisodeEnd {
    /// The sum of the agents' returns.
    pub fn team_return(&self) -> f64 {
        self.returns.iter().sum()
    }
}

/// N copies of one multi-agent env.
pub struct MultiVecEnv {
    envs: Vec<Box<dyn MultiAgentEnv>>,
    /// What each env's last step returned, its observations those after auto-reset.
    steps: Vec<MultiStep>,
    /// The observations each env's last step returned before auto-reset (rows of envs that did
    /// not finish are stale).
    final_observations: Vec<Vec<Vec<f32>>>,
    returns: Vec<Vec<f64>>,
    lengths: Vec<u32>,
    ended: Vec<MultiEpisodeEnd>,
}

impl MultiVecEnv {
    /// Wraps `envs` (at least one, all with the same spec).
    pub fn new(envs: Vec<Box<dyn MultiAgentEnv>>) -> Self {
        assert!(!envs.is_empty(), "a vector env needs at least one env");
        assert!(
            envs.iter().all(|e| e.spec() == envs[0].spec()),
            "a vector env needs copies of one env"
        );
        let steps: Vec<MultiStep> = envs.iter().map(|e| MultiStep::new(e.spec())).collect();
        let agents = envs[0].spec().num_agents();
        Self {
            final_observations: steps.iter().map(|s| s.observations.clone()).collect(),
            returns: vec![vec![0.0; agents]; envs.len()],
            lengths: vec![0; envs.len()],
            ended: Vec::with_capacity(envs.len()),
            steps,
            envs,
        }
    }

    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    pub fn spec(&self) -> &MultiAgentSpec {
        self.envs[0].spec()
    }

    /// Resets env `i` with `seeds[i]`; later auto-resets continue each env's own RNG.
    pub fn reset(&mut self, seeds: &[u64]) {
        assert_eq!(seeds.len(), self.envs.len(), "one seed per env");
        for ((env, step), seed) in self.envs.iter_mut().zip(&mut self.steps).zip(seeds) {
            env.reset(Some(*seed), step);
        }
        for r in &mut self.returns {
            r.fill(0.0);
        }
        self.lengths.fill(0);
        self.ended.clear();
    }

    /// Steps env `i` with the agents' actions `actions(i)`; finished episodes are reset at once.
    pub fn step_with<'a>(&mut self, mut actions: impl FnMut(usize) -> Vec<Action<'a>>) {
        self.ended.clear();
        for (i, env) in self.envs.iter_mut().enumerate() {
            let step = &mut self.steps[i];
            env.step(&actions(i), step);
            for (ret, r) in self.returns[i].iter_mut().zip(&step.rewards) {
                *ret += r;
            }
            self.lengths[i] += 1;
            if step.episode_over() {
                self.final_observations[i].clone_from(&step.observations);
                self.ended.push(MultiEpisodeEnd {
                    env: i,
                    returns: self.returns[i].clone(),
                    length: self.lengths[i],
                    truncated: !step.terminations.iter().any(|t| *t),
                });
                self.returns[i].fill(0.0);
                self.lengths[i] = 0;
                let (rewards, terminations, truncations) = (
                    step.rewards.clone(),
                    step.terminations.clone(),
                    step.truncations.clone(),
                );
                env.reset(None, step);
                // The step's own rewards and flags stay readable after the auto-reset.
                step.rewards = rewards;
                step.terminations = terminations;
                step.truncations = truncations;
            }
        }
    }

    /// What env `i`'s last step returned; its observations are those after auto-reset.
    pub fn last(&self, i: usize) -> &MultiStep {
        &self.steps[i]
    }

    /// Agent `agent`'s current observation in env `i` (after auto-reset).
    pub fn observation(&self, i: usize, agent: usize) -> &[f32] {
        &self.steps[i].observations[agent]
    }

    /// Agent `agent`'s last observation of the episode env `i` finished in the last step.
    pub fn final_observation(&self, i: usize, agent: usize) -> &[f32] {
        &self.final_observations[i][agent]
    }

    /// Episodes that ended in the last step.
    pub fn ended(&self) -> &[MultiEpisodeEnd] {
        &self.ended
    }

    /// The state to continue from (see [`MultiVecEnvSnapshot`]).
    pub fn snapshot(&self) -> MultiVecEnvSnapshot {
        MultiVecEnvSnapshot {
            envs: self.envs.iter().map(|e| e.snapshot()).collect(),
            observations: self.steps.iter().map(|s| s.observations.clone()).collect(),
            returns: self.returns.clone(),
            lengths: self.lengths.clone(),
        }
    }

    /// Puts every env back where [`MultiVecEnv::snapshot`] found it.
    pub fn restore(&mut self, snapshot: &MultiVecEnvSnapshot) {
        assert_eq!(
            snapshot.envs.len(),
            self.envs.len(),
            "a snapshot of as many envs"
        );
        for (env, s) in self.envs.iter_mut().zip(&snapshot.envs) {
            env.restore(s);
        }
        for (step, observations) in self.steps.iter_mut().zip(&snapshot.observations) {
            step.observations.clone_from(observations);
        }
        self.returns.clone_from(&snapshot.returns);
        self.lengths.clone_from(&snapshot.lengths);
        self.ended.clear();
    }

    /// Env `i` itself.
    pub fn env(&self, i: usize) -> &dyn MultiAgentEnv {
        self.envs[i].as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvOptions;
    use crate::env::multi::make_multi_env;

    fn spread(max_cycles: u32) -> Box<dyn MultiAgentEnv> {
        let options = EnvOptions {
            max_cycles: Some(max_cycles),
            ..EnvOptions::default()
        };
        make_multi_env("simple_spread_v3", &options).unwrap()
    }

    #[test]
    fn truncated_episodes_keep_final_observations_and_reset() {
        let mut envs = MultiVecEnv::new(vec![spread(3), spread(3)]);
        envs.reset(&[1, 2]);
        let start = envs.observation(0, 0).to_vec();
        let right = |_| vec![Action::Discrete(2); 3];
        envs.step_with(right);
        envs.step_with(right);
        assert!(envs.ended().is_empty());
        let before_last = envs.observation(0, 0).to_vec();
        envs.step_with(right);
        assert_eq!(envs.ended().len(), 2);
        let end = &envs.ended()[0];
        assert_eq!((end.env, end.length, end.truncated), (0, 3, true));
        assert_eq!(end.returns.len(), 3);
        assert!(envs.last(0).truncations.iter().all(|t| *t));
        // The final observation moved on; the current one is a fresh episode.
        let last = envs.final_observation(0, 0);
        assert_ne!(last, before_last.as_slice());
        assert_ne!(envs.observation(0, 0), last);
        assert_ne!(envs.observation(0, 0), start.as_slice(), "a new draw");
        assert_eq!(
            envs.observation(0, 0)[..2],
            [0.0, 0.0],
            "at rest after reset"
        );
        envs.step_with(right);
        assert!(envs.ended().is_empty(), "the next episode counts from zero");
    }

    /// Restored mid-episode into fresh envs, the vector env goes on exactly as the original:
    /// the same observations, rewards, episode ends and returns.
    #[test]
    fn a_restored_snapshot_continues_identically() {
        let mut envs = MultiVecEnv::new(vec![spread(4), spread(4)]);
        envs.reset(&[3, 4]);
        let moves = |t: usize| move |e: usize| vec![Action::Discrete((t + e) % 5); 3];
        for t in 0..2 {
            envs.step_with(moves(t));
        }
        let mut copy = MultiVecEnv::new(vec![spread(4), spread(4)]);
        copy.reset(&[9, 9]);
        copy.restore(&envs.snapshot());
        for t in 2..9 {
            envs.step_with(moves(t));
            copy.step_with(moves(t));
            assert_eq!(envs.ended(), copy.ended(), "step {t}");
            for e in 0..2 {
                assert_eq!(envs.last(e), copy.last(e), "step {t}");
            }
        }
    }

    #[test]
    fn copies_with_the_same_seed_step_alike() {
        let mut envs = MultiVecEnv::new(vec![spread(25), spread(25)]);
        envs.reset(&[7, 7]);
        for t in 0..10 {
            envs.step_with(|_| vec![Action::Discrete(t % 5); 3]);
            assert_eq!(envs.last(0), envs.last(1));
        }
    }
}
