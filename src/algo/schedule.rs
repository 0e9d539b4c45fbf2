//! The ε-greedy exploration schedule (Stable-Baselines3's `exploration_*` vocabulary).

use serde::{Deserialize, Serialize};

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
