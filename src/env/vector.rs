//! A synchronous vector env: N copies stepped together, auto-reset in the same step
//! (Stable-Baselines3's convention), keeping the final observation of every finished episode so
//! that algorithms can bootstrap from truncated ones. The copies are rl's own envs, or gymnasium
//! envs served by one bridge worker (see [`super::bridge`]).

use rand::RngExt;

use super::bridge::Worker;
use super::{Action, Env, EnvSnapshot, EnvSpec, Step, TimeLimit};
use crate::rng::{self, Rng};

/// An episode that ended during the last [`VecEnv::step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeEnd {
    pub env: usize,
    /// Undiscounted sum of rewards.
    pub episode_return: f64,
    pub length: u32,
    pub truncated: bool,
}

/// Everything needed to continue a vector env exactly (for checkpoints).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VecEnvSnapshot {
    envs: Vec<EnvSnapshot>,
    obs: Vec<f32>,
    episode_return: Vec<f64>,
    episode_length: Vec<u32>,
}

/// N time-limited copies of one env.
pub struct VecEnv {
    /// rl's own envs (empty when bridged).
    envs: Vec<TimeLimit>,
    /// A gymnasium worker serving the copies, with the seeds of the episodes a restore starts.
    bridge: Option<(Worker, Rng)>,
    steps: Vec<Step>,
    obs_dim: usize,
    /// Current observations, `num_envs × obs_dim`, row-major (after auto-reset).
    obs: Vec<f32>,
    /// Final observations of the episodes that ended in the last step (rows of other envs are stale).
    final_obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    episode_return: Vec<f64>,
    episode_length: Vec<u32>,
    ended: Vec<EpisodeEnd>,
}

impl VecEnv {
    /// Wraps `envs` (at least one, all with the same spaces).
    pub fn new(envs: Vec<TimeLimit>) -> Self {
        assert!(!envs.is_empty(), "a vector env needs at least one env");
        let n = envs.len();
        let obs_dim = envs[0].spec().observation_space.flat_dim();
        Self::with(envs, None, n, obs_dim)
    }

    /// The copies a bridge worker serves (it auto-resets them itself).
    pub fn bridged(worker: Worker) -> Self {
        let n = worker.num_envs();
        let obs_dim = worker.spec().observation_space.flat_dim();
        Self::with(Vec::new(), Some((worker, rng::from_seed(0))), n, obs_dim)
    }

    fn with(envs: Vec<TimeLimit>, bridge: Option<(Worker, Rng)>, n: usize, obs_dim: usize) -> Self {
        let step = Step {
            reward: 0.0,
            terminated: false,
            truncated: false,
        };
        Self {
            envs,
            bridge,
            steps: vec![step; n],
            obs_dim,
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            episode_return: vec![0.0; n],
            episode_length: vec![0; n],
            ended: Vec::with_capacity(n),
        }
    }

    pub fn num_envs(&self) -> usize {
        self.rewards.len()
    }

    pub fn spec(&self) -> &EnvSpec {
        match &self.bridge {
            Some((worker, _)) => worker.spec(),
            None => self.envs[0].spec(),
        }
    }

    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Resets env `i` with `seeds[i]` (gymnasium's `reset(seed=...)`); later auto-resets
    /// continue each env's own RNG.
    pub fn reset(&mut self, seeds: &[u64]) {
        assert_eq!(seeds.len(), self.num_envs(), "one seed per env");
        let d = self.obs_dim;
        if let Some((worker, rng)) = &mut self.bridge {
            *rng = rng::from_seed(seeds[0]);
            for (i, seed) in seeds.iter().enumerate() {
                worker.reset(i, Some(*seed), &mut self.obs[i * d..(i + 1) * d]);
            }
        }
        for (i, env) in self.envs.iter_mut().enumerate() {
            env.reset(Some(seeds[i]), &mut self.obs[i * d..(i + 1) * d]);
        }
        self.episode_return.fill(0.0);
        self.episode_length.fill(0);
        self.ended.clear();
    }

    /// Steps every env with `action(i)`; finished episodes are reset at once.
    pub fn step_with<'a>(&mut self, mut action: impl FnMut(usize) -> Action<'a>) {
        self.ended.clear();
        let d = self.obs_dim;
        if let Some((worker, _)) = &mut self.bridge {
            worker.step(&mut action, &mut self.steps, &mut self.obs);
        }
        for i in 0..self.num_envs() {
            let row = i * d..(i + 1) * d;
            if let Some(env) = self.envs.get_mut(i) {
                self.steps[i] = env.step(action(i), &mut self.obs[row.clone()]);
            }
            let step = self.steps[i];
            self.rewards[i] = step.reward;
            self.terminated[i] = step.terminated;
            self.truncated[i] = step.truncated;
            self.episode_return[i] += step.reward;
            self.episode_length[i] += 1;
            if step.terminated || step.truncated {
                self.final_obs[row.clone()].copy_from_slice(&self.obs[row.clone()]);
                self.ended.push(EpisodeEnd {
                    env: i,
                    episode_return: self.episode_return[i],
                    length: self.episode_length[i],
                    truncated: step.truncated && !step.terminated,
                });
                self.episode_return[i] = 0.0;
                self.episode_length[i] = 0;
                let obs = &mut self.obs[row];
                match (&mut self.bridge, self.envs.get_mut(i)) {
                    // The worker has reset it already: its new observation follows, in order.
                    (Some((worker, _)), _) => worker.read_f32(obs, "step"),
                    (None, Some(env)) => env.reset(None, obs),
                    (None, None) => unreachable!("an env or a worker steps every copy"),
                }
            }
        }
    }

    /// Steps with one discrete action per env.
    pub fn step_discrete(&mut self, actions: &[usize]) {
        self.step_with(|i| Action::Discrete(actions[i]));
    }

    /// Steps with continuous actions, `num_envs × action_dim` row-major.
    pub fn step_continuous(&mut self, actions: &[f32]) {
        let dim = actions.len() / self.num_envs();
        self.step_with(|i| Action::Continuous(&actions[i * dim..(i + 1) * dim]));
    }

    /// Current observations (after auto-reset), `num_envs × obs_dim`.
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// Observation of env `i`.
    pub fn observation(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// The last observation of the episode env `i` finished in the last step.
    pub fn final_observation(&self, i: usize) -> &[f32] {
        &self.final_obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }

    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// Episodes that ended in the last step.
    pub fn ended(&self) -> &[EpisodeEnd] {
        &self.ended
    }

    /// Everything needed to continue exactly from here.
    pub fn snapshot(&self) -> VecEnvSnapshot {
        VecEnvSnapshot {
            envs: self.envs.iter().map(|e| e.snapshot()).collect(),
            obs: self.obs.clone(),
            episode_return: self.episode_return.clone(),
            episode_length: self.episode_length.clone(),
        }
    }

    /// Puts every env back where [`VecEnv::snapshot`] found it. A bridged env's Python state
    /// cannot be saved: its copies start new episodes instead, reset with seeds drawn from the
    /// generator their first reset seeded (resume is then not step-identical).
    pub fn restore(&mut self, snapshot: &VecEnvSnapshot) {
        if let Some((_, rng)) = &mut self.bridge {
            let seeds: Vec<u64> = (0..self.rewards.len()).map(|_| rng.random()).collect();
            let rng = rng.clone();
            self.reset(&seeds);
            if let Some((_, r)) = &mut self.bridge {
                *r = rng;
            }
            return;
        }
        assert_eq!(
            snapshot.envs.len(),
            self.envs.len(),
            "a snapshot of as many envs"
        );
        for (env, s) in self.envs.iter_mut().zip(&snapshot.envs) {
            env.restore(s);
        }
        self.obs.clone_from(&snapshot.obs);
        self.episode_return.clone_from(&snapshot.episode_return);
        self.episode_length.clone_from(&snapshot.episode_length);
        self.ended.clear();
    }

    /// Env `i` itself (e.g. to read its model); None when a bridge worker serves the copies.
    pub fn env(&self, i: usize) -> Option<&TimeLimit> {
        self.envs.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, make_env};

    /// Deterministic FrozenLake 4x4 (`SFFF / FHFH / FFFH / HFFG`): action 0 (left) at the start
    /// bumps the wall and stays; action 1 (down) walks 0 → 4 → 8 → 12, and 12 is a hole.
    fn lake(limit: u32) -> TimeLimit {
        let options = EnvOptions {
            is_slippery: Some(false),
            ..EnvOptions::default()
        };
        TimeLimit::new(make_env("FrozenLake-v1", &options).unwrap(), Some(limit))
    }

    #[test]
    fn truncation_keeps_the_final_observation_and_resets() {
        let mut envs = VecEnv::new(vec![lake(3), lake(3)]);
        envs.reset(&[1, 2]);
        // env 0 walks down (0 → 4 → 8), env 1 bumps the left wall (stays at 0).
        envs.step_discrete(&[1, 0]);
        envs.step_discrete(&[1, 0]);
        assert!(envs.ended().is_empty());
        assert_eq!(envs.observations(), &[8.0, 0.0]);
        // Third step: env 0 falls into the hole at 12 (terminated, and the limit is reached on the
        // same step); env 1 is truncated by the limit.
        envs.step_discrete(&[1, 0]);
        assert_eq!(envs.terminated(), &[true, false]);
        assert_eq!(envs.truncated(), &[true, true]);
        assert_eq!(envs.final_observation(0), &[12.0]);
        assert_eq!(envs.final_observation(1), &[0.0]);
        assert_eq!(
            envs.observations(),
            &[0.0, 0.0],
            "both envs auto-reset to the start"
        );
        let ended = envs.ended();
        assert_eq!(ended.len(), 2);
        assert_eq!(
            (ended[0].env, ended[0].length, ended[0].truncated),
            (0, 3, false)
        );
        assert_eq!(
            (ended[1].env, ended[1].length, ended[1].truncated),
            (1, 3, true)
        );
        assert_eq!(ended[0].episode_return, 0.0);
        // The next episode counts from zero again.
        envs.step_discrete(&[2, 2]);
        assert!(envs.ended().is_empty());
    }

    #[test]
    fn reaching_the_goal_returns_one() {
        let mut envs = VecEnv::new(vec![lake(100)]);
        envs.reset(&[0]);
        // right, right, down, down, down, right: 0 → 1 → 2 → 6 → 10 → 14 → 15 (goal)
        for a in [2, 2, 1, 1, 1, 2] {
            envs.step_discrete(&[a]);
        }
        assert_eq!(envs.ended().len(), 1);
        assert_eq!(envs.ended()[0].episode_return, 1.0);
        assert_eq!(envs.ended()[0].length, 6);
        assert_eq!(envs.final_observation(0), &[15.0]);
    }
}
