//! `BitFlipping-v0` (rl's own, as Stable-Baselines3's `BitFlippingEnv` after Andrychowicz et al.
//! 2017, §4.1): n bits, action i flips bit i; reward 0 when the bits equal the goal (the
//! episode then terminates), −1 otherwise; time limit n steps. The start is uniformly random;
//! the goal is all ones, or uniformly random per episode (`random_goal`). The observation is
//! `[bits, bits (achieved goal), goal (desired goal)]` as 0/1 floats.
//!
//! [`BitFlipping::continuous`] is SB3's `BitFlippingEnv(continuous=True)`: the action is
//! a ∈ [−1, 1]^n and every bit i with a_i > 0 flips in the same step (so one step can reach any
//! goal); the rewards, goals and time limit are the discrete env's.

use rand::RngExt;

use super::goal::GoalEnv;
use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng};

/// Largest n accepted.
pub const MAX_BITS: usize = 1024;

#[derive(Clone, Debug)]
pub struct BitFlipping {
    spec: EnvSpec,
    random_goal: bool,
    bits: Vec<f32>,
    goal: Vec<f32>,
    rng: Rng,
}

impl BitFlipping {
    /// `n` bits (2 ≤ n ≤ [`MAX_BITS`], checked by the registry).
    pub fn new(n: usize, random_goal: bool) -> Self {
        Self {
            spec: EnvSpec {
                id: "BitFlipping-v0".into(),
                observation_space: Space::Box {
                    low: vec![0.0; 3 * n],
                    high: vec![1.0; 3 * n],
                },
                action_space: Space::Discrete(n),
                max_episode_steps: Some(n as u32),
                reward_threshold: None,
            },
            random_goal,
            bits: vec![0.0; n],
            goal: vec![1.0; n],
            rng: rng::from_seed(0),
        }
    }

    /// The same env with continuous actions in Box[−1, 1]^n.
    pub fn continuous(mut self) -> Self {
        let n = self.bits.len();
        self.spec.action_space = Space::Box {
            low: vec![-1.0; n],
            high: vec![1.0; n],
        };
        self
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let n = self.bits.len();
        obs[..n].copy_from_slice(&self.bits);
        obs[n..2 * n].copy_from_slice(&self.bits);
        obs[2 * n..].copy_from_slice(&self.goal);
    }
}

impl GoalEnv for BitFlipping {
    fn goal_dim(&self) -> usize {
        self.bits.len()
    }

    fn compute_reward(&self, achieved: &[f32], desired: &[f32]) -> f64 {
        if self.is_success(achieved, desired) {
            0.0
        } else {
            -1.0
        }
    }

    fn is_success(&self, achieved: &[f32], desired: &[f32]) -> bool {
        achieved == desired
    }

    fn terminates_on_success(&self) -> bool {
        true
    }
}

impl Env for BitFlipping {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        for b in &mut self.bits {
            *b = f32::from(u8::from(self.rng.random::<bool>()));
        }
        if self.random_goal {
            for g in &mut self.goal {
                *g = f32::from(u8::from(self.rng.random::<bool>()));
            }
        }
        self.write_obs(obs);
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let n = self.bits.len();
        match (action, &self.spec.action_space) {
            (Action::Discrete(i), Space::Discrete(_)) if i < n => self.bits[i] = 1.0 - self.bits[i],
            (Action::Continuous(a), Space::Box { .. }) if a.len() == n => {
                for (b, a) in self.bits.iter_mut().zip(a) {
                    if *a > 0.0 {
                        *b = 1.0 - *b;
                    }
                }
            }
            (other, space) => panic!(
                "BitFlipping-v0 with actions {} got {other:?}",
                space.describe()
            ),
        }
        self.write_obs(obs);
        let success = self.bits == self.goal;
        Step {
            reward: if success { 0.0 } else { -1.0 },
            terminated: success,
            truncated: false,
        }
    }

    /// The bits, then the goal.
    fn state(&self) -> Vec<f64> {
        self.bits
            .iter()
            .chain(&self.goal)
            .map(|v| f64::from(*v))
            .collect()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        let n = self.bits.len();
        assert_eq!(state.len(), 2 * n, "BitFlipping-v0 state: bits then goal");
        for (b, s) in self.bits.iter_mut().chain(&mut self.goal).zip(state) {
            *b = *s as f32;
        }
        self.write_obs(obs);
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: self.state(),
            extra: Vec::new(),
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        let mut obs = vec![0.0; 3 * self.bits.len()];
        self.set_state(&snapshot.state, &mut obs);
        self.rng = snapshot.rng.clone();
    }

    fn goal_env(&self) -> Option<&dyn GoalEnv> {
        Some(self)
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::goal::{achieved_goal, desired_goal};

    #[test]
    fn flipping_to_the_goal_succeeds() {
        let mut env = BitFlipping::new(4, false);
        let mut obs = [0.0; 12];
        env.reset(Some(1), &mut obs);
        assert_eq!(achieved_goal(&obs, 4), &obs[..4]);
        assert_eq!(desired_goal(&obs, 4), [1.0; 4]);
        let zeros: Vec<usize> = (0..4).filter(|i| obs[*i] == 0.0).collect();
        for (k, i) in zeros.iter().enumerate() {
            let step = env.step(Action::Discrete(*i), &mut obs);
            let last = k + 1 == zeros.len();
            assert_eq!(
                (step.reward, step.terminated),
                if last { (0.0, true) } else { (-1.0, false) }
            );
        }
        assert_eq!(env.compute_reward(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(env.compute_reward(&[1.0, 1.0], &[1.0, 0.0]), -1.0);
        let mut random = BitFlipping::new(8, true);
        let mut goals = std::collections::BTreeSet::new();
        for _ in 0..5 {
            let mut obs = [0.0; 24];
            random.reset(None, &mut obs);
            goals.insert(format!("{:?}", desired_goal(&obs, 8)));
        }
        assert!(goals.len() > 1, "random goals vary");
    }

    /// Continuous actions flip every bit whose component is positive, in one step.
    #[test]
    fn continuous_actions_flip_the_positive_components() {
        let mut env = BitFlipping::new(4, false).continuous();
        assert_eq!(
            env.spec().action_space,
            Space::Box {
                low: vec![-1.0; 4],
                high: vec![1.0; 4]
            }
        );
        let mut obs = [0.0; 12];
        env.set_state(&[0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], &mut obs);
        let step = env.step(Action::Continuous(&[0.5, 0.9, -0.1, 0.0]), &mut obs);
        assert_eq!(&obs[..4], [1.0, 0.0, 0.0, 1.0]);
        assert_eq!((step.reward, step.terminated), (-1.0, false));
        let step = env.step(Action::Continuous(&[-1.0, 1.0, 0.2, -0.5]), &mut obs);
        assert_eq!(&obs[..8], [1.0; 8]);
        assert_eq!((step.reward, step.terminated), (0.0, true));
    }
}
