//! The ε-greedy exploration schedule (Stable-Baselines3's `exploration_*` vocabulary).

use serde::{Deserialize, Serialize};

use crate::hyper::{Checker, hyperparameters};

/// How ε moves from its initial to its final value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    /// ε = (1 − p)·ε₀ + p·ε₁.
    #[default]
    Linear,
    /// ε = ε₀·(ε₁/ε₀)^p (geometric; both values must be > 0).
    Exponential,
}

/// ε as a function of the env step: decays from `initial` to `last` over the first
/// `fraction · total_steps` steps, then stays at `last`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpsilonSchedule {
    pub initial: f64,
    pub last: f64,
    pub fraction: f64,
    pub decay: Decay,
    pub total_steps: u64,
}

hyperparameters! {
    /// The ε-greedy keys of the TD methods and DQN. Each embeds them with its own defaults;
    /// these are Stable-Baselines3's DQN's.
    pub struct EpsilonGreedy {
        /// ε at step 0
        exploration_initial_eps: f64 = 1.0, in_closed(0.0, 1.0);
        /// ε after the decay
        exploration_final_eps: f64 = 0.05, in_closed(0.0, 1.0);
        /// fraction of total_steps over which ε decays
        exploration_fraction: f64 = 0.1, in_closed(0.0, 1.0);
        /// "linear" or "exponential" (geometric; both ε > 0)
        exploration_decay: Decay = Decay::Linear;
    }
    check: Self::check_decay;
}

impl EpsilonGreedy {
    fn check_decay(&self, c: &mut Checker) {
        if self.exploration_decay == Decay::Exponential {
            c.require(
                "exploration_final_eps",
                self.exploration_initial_eps > 0.0 && self.exploration_final_eps > 0.0,
                || {
                    "exponential decay needs exploration_initial_eps and exploration_final_eps > 0"
                        .into()
                },
            );
        }
    }

    /// ε over a run of `total_steps` steps.
    pub fn schedule(&self, total_steps: u64) -> EpsilonSchedule {
        EpsilonSchedule {
            initial: self.exploration_initial_eps,
            last: self.exploration_final_eps,
            fraction: self.exploration_fraction,
            decay: self.exploration_decay,
            total_steps,
        }
    }
}

impl EpsilonSchedule {
    /// ε after `step` env steps.
    pub fn value(&self, step: u64) -> f64 {
        let horizon = self.fraction * self.total_steps as f64;
        let p = if horizon <= 0.0 {
            1.0
        } else {
            (step as f64 / horizon).min(1.0)
        };
        match self.decay {
            Decay::Linear => self.initial * (1.0 - p) + self.last * p,
            Decay::Exponential => self.initial * (self.last / self.initial).powf(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(decay: Decay) -> EpsilonSchedule {
        EpsilonSchedule {
            initial: 1.0,
            last: 0.01,
            fraction: 0.5,
            decay,
            total_steps: 1000,
        }
    }

    #[test]
    fn linear_closed_form() {
        let s = schedule(Decay::Linear);
        assert_eq!(s.value(0), 1.0);
        assert!((s.value(250) - 0.505).abs() < 1e-12);
        assert!((s.value(500) - 0.01).abs() < 1e-12);
        assert!((s.value(999) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn exponential_closed_form() {
        let s = schedule(Decay::Exponential);
        assert_eq!(s.value(0), 1.0);
        assert!((s.value(250) - 0.1).abs() < 1e-12);
        assert!((s.value(500) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn zero_fraction_is_the_final_value() {
        let s = EpsilonSchedule {
            fraction: 0.0,
            ..schedule(Decay::Linear)
        };
        assert_eq!(s.value(0), 0.01);
    }
}
