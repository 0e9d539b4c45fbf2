//! Multi-armed bandits (rl's own, not gymnasium): one state, K arms, each pull a one-step
//! episode. `BernoulliBandit-v0` pays 1 with probability μᵢ; `GaussianBandit-v0` pays
//! N(μᵢ, 1), the 10-armed testbed of Sutton & Barto §2.3 when its means are drawn
//! (q*(a) ~ N(0, 1)). The true means are exposed through [`Env::bandit_means`], so that
//! learners can record their (pseudo-)regret.

use rand::RngExt;

use crate::env::{Action, Env, EnvSnapshot, EnvSpec, Space, Step};
use crate::rng::{self, Rng, Stream};

/// Largest K accepted (the means are kept in memory and scanned each step by the learners).
pub const MAX_ARMS: usize = 1 << 16;

/// Arms when neither `arms` nor `means` is given (the 10-armed testbed).
pub const DEFAULT_ARMS: usize = 10;

/// How a pull pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rewards {
    /// 1 with probability μᵢ, else 0.
    Bernoulli,
    /// N(μᵢ, 1).
    Gaussian,
}

/// A K-armed bandit with fixed means. The observation is always state 0; every pull
/// terminates its episode.
#[derive(Clone, Debug)]
pub struct BanditEnv {
    spec: EnvSpec,
    rewards: Rewards,
    means: Vec<f64>,
    rng: Rng,
}

impl BanditEnv {
    /// A bandit with the given means (checked by [`BanditEnv::means_for`]).
    pub fn new(id: &str, rewards: Rewards, means: Vec<f64>) -> Self {
        Self {
            spec: EnvSpec {
                id: id.into(),
                observation_space: Space::Discrete(1),
                action_space: Space::Discrete(means.len()),
                max_episode_steps: None,
                reward_threshold: None,
            },
            rewards,
            means,
            rng: rng::from_seed(0),
        }
    }

    /// The means of a bandit: `means` when given (its length is K), else K = `arms` (default
    /// 10) means drawn from the instance stream of `instance_seed` — U(0, 1) for Bernoulli
    /// arms, N(0, 1) for Gaussian ones (S&B §2.3). `Err((key, message))` on bad input.
    pub fn means_for(
        rewards: Rewards,
        arms: Option<usize>,
        means: Option<&[f64]>,
        instance_seed: u64,
    ) -> Result<Vec<f64>, (&'static str, String)> {
        if let Some(means) = means {
            if arms.is_some_and(|k| k != means.len()) {
                return Err((
                    "arms",
                    format!(
                        "arms = {} but means lists {} values; give one of them",
                        arms.unwrap_or_default(),
                        means.len()
                    ),
                ));
            }
            check_arms("means", means.len())?;
            let bad = |m: &f64| match rewards {
                Rewards::Bernoulli => !(0.0..=1.0).contains(m),
                Rewards::Gaussian => !m.is_finite(),
            };
            if let Some(m) = means.iter().find(|m| bad(m)) {
                let allowed = match rewards {
                    Rewards::Bernoulli => "a Bernoulli arm's mean must lie in [0, 1]",
                    Rewards::Gaussian => "a Gaussian arm's mean must be finite",
                };
                return Err(("means", format!("{allowed}, got {m}")));
            }
            return Ok(means.to_vec());
        }
        let k = arms.unwrap_or(DEFAULT_ARMS);
        check_arms("arms", k)?;
        let mut rng = rng::stream(instance_seed, Stream::Instance);
        Ok((0..k)
            .map(|_| match rewards {
                Rewards::Bernoulli => rng.random::<f64>(),
                Rewards::Gaussian => rng::standard_normal(&mut rng),
            })
            .collect())
    }

    /// The true means μᵢ.
    pub fn means(&self) -> &[f64] {
        &self.means
    }
}

fn check_arms(key: &'static str, k: usize) -> Result<(), (&'static str, String)> {
    if !(2..=MAX_ARMS).contains(&k) {
        return Err((
            key,
            format!("a bandit needs between 2 and {MAX_ARMS} arms (K), got {k}"),
        ));
    }
    Ok(())
}

impl Env for BanditEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        obs[0] = 0.0;
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let arm = match action {
            Action::Discrete(a) if a < self.means.len() => a,
            other => panic!(
                "{} takes Action::Discrete(0..{}), got {other:?}",
                self.spec.id,
                self.means.len()
            ),
        };
        let mean = self.means[arm];
        let reward = match self.rewards {
            Rewards::Bernoulli => f64::from(u8::from(self.rng.random::<f64>() < mean)),
            Rewards::Gaussian => mean + rng::standard_normal(&mut self.rng),
        };
        obs[0] = 0.0;
        Step {
            reward,
            terminated: true,
            truncated: false,
        }
    }

    fn state(&self) -> Vec<f64> {
        vec![0.0]
    }

    fn set_state(&mut self, _state: &[f64], obs: &mut [f32]) {
        obs[0] = 0.0;
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            state: self.state(),
            extra: Vec::new(),
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        self.rng = snapshot.rng.clone();
    }

    fn bandit_means(&self) -> Option<&[f64]> {
        Some(&self.means)
    }

    fn clone_box(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_pay_their_means() {
        for (rewards, means) in [
            (Rewards::Bernoulli, vec![0.2, 0.7]),
            (Rewards::Gaussian, vec![-1.0, 0.5]),
        ] {
            let mut env = BanditEnv::new("b", rewards, means.clone());
            let mut obs = [1.0];
            env.reset(Some(3), &mut obs);
            for (arm, mean) in means.iter().enumerate() {
                let n = 50_000;
                let total: f64 = (0..n)
                    .map(|_| {
                        let step = env.step(Action::Discrete(arm), &mut obs);
                        assert!(step.terminated && !step.truncated && obs[0] == 0.0);
                        step.reward
                    })
                    .sum();
                assert!(
                    (total / f64::from(n) - mean).abs() < 0.02,
                    "{rewards:?} {arm}"
                );
            }
        }
    }

    #[test]
    fn drawn_means_follow_the_instance_seed_and_bad_input_names_its_key() {
        let draw = |seed| BanditEnv::means_for(Rewards::Gaussian, None, None, seed).unwrap();
        assert_eq!(draw(4), draw(4));
        assert_ne!(draw(4), draw(5));
        assert_eq!(draw(4).len(), DEFAULT_ARMS);
        let bernoulli = BanditEnv::means_for(Rewards::Bernoulli, Some(3), None, 1).unwrap();
        assert!(bernoulli.iter().all(|m| (0.0..1.0).contains(m)));
        let err = |arms, means: Option<&[f64]>| {
            BanditEnv::means_for(Rewards::Bernoulli, arms, means, 0)
                .unwrap_err()
                .0
        };
        assert_eq!(err(Some(1), None), "arms");
        assert_eq!(err(None, Some(&[0.5])), "means");
        assert_eq!(err(None, Some(&[0.5, 1.5])), "means");
        assert_eq!(err(Some(3), Some(&[0.5, 0.1])), "arms");
    }
}
