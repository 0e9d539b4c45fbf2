//! Hindsight experience replay (Andrychowicz et al. 2017, Algorithm 1): each finished episode of
//! a goal env is replayed `n_sampled_goal` more times per transition with goals it achieved,
//! the reward recomputed by the env's `compute_reward`. The relabelled transitions go into the
//! learner's replay beside the originals (the paper's storage; Stable-Baselines3 relabels at
//! sampling time instead). Goal selection (their §4.5):
//! - `future`: the goal achieved at a step t' ∈ [t, T) of the same episode, uniformly;
//! - `final`: the goal achieved at the end of the episode;
//! - `episode`: the goal achieved at any step of the episode, uniformly.
//!
//! A relabelled transition that reaches its goal is terminal where the env ends episodes on
//! success; it bootstraps with the learner's discount γ, as the original transitions do.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::Transition;
use crate::env::goal::{GoalEnv, achieved_goal};
use crate::rng::Rng;

/// Which achieved goals replace the desired one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoalStrategy {
    #[default]
    Future,
    Final,
    Episode,
}

/// One env's episode so far: its transitions, row-major.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Episode {
    obs: Vec<f32>,
    actions: Vec<f32>,
    next_obs: Vec<f32>,
    len: usize,
}

/// The episodes in progress of each env of a vector env, and the relabelling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hindsight {
    strategy: GoalStrategy,
    n_sampled_goal: usize,
    obs_dim: usize,
    act_dim: usize,
    goal_dim: usize,
    discount: f32,
    episodes: Vec<Episode>,
}

impl Hindsight {
    pub fn new(
        strategy: GoalStrategy,
        n_sampled_goal: usize,
        n_envs: usize,
        (obs_dim, act_dim, goal_dim): (usize, usize, usize),
        discount: f32,
    ) -> Self {
        Self {
            strategy,
            n_sampled_goal,
            obs_dim,
            act_dim,
            goal_dim,
            discount,
            episodes: vec![Episode::default(); n_envs],
        }
    }

    /// Records a transition of env `env`.
    pub fn push(&mut self, env: usize, obs: &[f32], action: &[f32], next_obs: &[f32]) {
        let e = &mut self.episodes[env];
        e.obs.extend_from_slice(obs);
        e.actions.extend_from_slice(action);
        e.next_obs.extend_from_slice(next_obs);
        e.len += 1;
    }

    /// Env `env`'s episode ended: emits its relabelled transitions (goals drawn from `rng`,
    /// rewards from `goals`) and starts the next episode.
    pub fn finish(
        &mut self,
        env: usize,
        goals: &dyn GoalEnv,
        rng: &mut Rng,
        mut emit: impl FnMut(&Transition),
    ) {
        let episode = std::mem::take(&mut self.episodes[env]);
        let (o, a, g, t_end) = (self.obs_dim, self.act_dim, self.goal_dim, episode.len);
        let achieved = |t: usize| achieved_goal(&episode.next_obs[t * o..(t + 1) * o], g);
        let mut obs = vec![0.0; o];
        let mut next_obs = vec![0.0; o];
        for t in 0..t_end {
            for _ in 0..self.n_sampled_goal {
                let source = match self.strategy {
                    GoalStrategy::Future => rng.random_range(t..t_end),
                    GoalStrategy::Final => t_end - 1,
                    GoalStrategy::Episode => rng.random_range(0..t_end),
                };
                let goal = achieved(source);
                obs.copy_from_slice(&episode.obs[t * o..(t + 1) * o]);
                next_obs.copy_from_slice(&episode.next_obs[t * o..(t + 1) * o]);
                obs[o - g..].copy_from_slice(goal);
                next_obs[o - g..].copy_from_slice(goal);
                let reached = achieved(t);
                let terminated = goals.terminates_on_success() && goals.is_success(reached, goal);
                emit(&Transition {
                    obs: &obs,
                    action: &episode.actions[t * a..(t + 1) * a],
                    reward: goals.compute_reward(reached, goal) as f32,
                    next_obs: &next_obs,
                    terminated,
                    truncated: !terminated && t + 1 == t_end,
                    discount: self.discount,
                });
            }
        }
        // Keep the allocations for the next episode.
        let mut next = episode;
        next.obs.clear();
        next.actions.clear();
        next.next_obs.clear();
        next.len = 0;
        self.episodes[env] = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::bit_flipping::BitFlipping;
    use crate::rng;

    /// A 3-step episode of 2-bit flipping from 00 with goal 11 that ends at 01 (never reached):
    /// `final` relabels every step with 01, so that only the last transition is a success (and
    /// terminal); `future` draws goals from the step itself onwards.
    #[test]
    fn relabelled_goals_rewards_and_terminals() {
        let env = BitFlipping::new(2, false);
        // obs = [bits, bits, goal]
        let states = [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]];
        let obs_of = |s: [f32; 2]| [s[0], s[1], s[0], s[1], 1.0, 1.0];
        let (mut her, mut rng) = (
            Hindsight::new(GoalStrategy::Final, 2, 1, (6, 1, 2), 0.9),
            rng::from_seed(0),
        );
        let mut future = Hindsight::new(GoalStrategy::Future, 4, 1, (6, 1, 2), 0.9);
        for t in 0..3 {
            let (o, n) = (obs_of(states[t]), obs_of(states[t + 1]));
            her.push(0, &o, &[t as f32], &n);
            future.push(0, &o, &[t as f32], &n);
        }
        let mut got = Vec::new();
        her.finish(0, &env, &mut rng, |t| {
            got.push((
                t.obs.to_vec(),
                t.next_obs.to_vec(),
                t.reward,
                t.terminated,
                t.action[0],
                t.discount,
            ))
        });
        assert_eq!(got.len(), 6);
        for (k, (obs, next, reward, terminated, action, discount)) in got.iter().enumerate() {
            let t = k / 2;
            assert_eq!(*discount, 0.9);
            assert_eq!(action, &(t as f32));
            assert_eq!((&obs[4..], &next[4..]), (&[0.0, 1.0][..], &[0.0, 1.0][..]));
            assert_eq!(&obs[..4], &obs_of(states[t])[..4]);
            let last = t == 2;
            assert_eq!(
                (*reward, *terminated),
                if last { (0.0, true) } else { (-1.0, false) }
            );
        }
        let mut goals_by_step = vec![Vec::new(); 3];
        future.finish(0, &env, &mut rng, |t| {
            goals_by_step[t.action[0] as usize].push(t.next_obs[4..].to_vec());
        });
        // From step 2 only its own achieved goal (01) is in the future.
        assert!(goals_by_step[2].iter().all(|g| g == &[0.0, 1.0]));
        let reachable =
            |t: usize| -> Vec<Vec<f32>> { (t..3).map(|s| states[s + 1].to_vec()).collect() };
        for (t, goals) in goals_by_step.iter().enumerate() {
            assert_eq!(goals.len(), 4);
            assert!(
                goals.iter().all(|g| reachable(t).contains(g)),
                "{t}: {goals:?}"
            );
        }
        // The episode buffer starts afresh.
        let mut none = 0;
        future.finish(0, &env, &mut rng, |_| none += 1);
        assert_eq!(none, 0);
    }
}
