//! Pseudo-regret (Lattimore & Szepesvári 2020, §4.5): after n pulls,
//! R̄ₙ = Σₜ (μ* − μ_{Aₜ}) = Σᵢ Δᵢ Nᵢ(n), with Δᵢ = μ* − μᵢ the gap of arm i, from the env's
//! true means rather than the rewards drawn. Also the share of optimal pulls and the mean
//! reward in the window since the previous curve row (Sutton & Barto Figure 2.2).

use serde::{Deserialize, Serialize};

/// Running pseudo-regret of one run, and the window statistics of its curve rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Regret {
    /// Δᵢ = μ* − μᵢ per arm (0 for an optimal arm).
    gaps: Vec<f64>,
    /// Σₜ Δ_{Aₜ} so far.
    total: f64,
    /// Pulls, optimal pulls and the reward summed since the last row.
    window_pulls: u64,
    window_optimal: u64,
    window_reward: f64,
}

impl Regret {
    /// The curve.csv columns of [`Regret::take_row`].
    pub const COLUMNS: [&'static str; 3] = ["regret", "optimal_pct", "reward_mean"];

    /// A tracker for arms with true means `means`.
    pub fn new(means: &[f64]) -> Self {
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Self {
            gaps: means.iter().map(|m| best - m).collect(),
            total: 0.0,
            window_pulls: 0,
            window_optimal: 0,
            window_reward: 0.0,
        }
    }

    /// Records a pull of `arm` that paid `reward`.
    pub fn push(&mut self, arm: usize, reward: f64) {
        let gap = self.gaps[arm];
        self.total += gap;
        self.window_pulls += 1;
        self.window_optimal += u64::from(gap == 0.0);
        self.window_reward += reward;
    }

    /// The cumulative pseudo-regret so far.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// `[regret, optimal_pct, reward_mean]`: the cumulative pseudo-regret, then the % of
    /// optimal pulls and the mean reward since the previous row (NaN when there were none);
    /// starts the next window.
    pub fn take_row(&mut self) -> [f64; 3] {
        let n = self.window_pulls as f64;
        let row = if self.window_pulls == 0 {
            [self.total, f64::NAN, f64::NAN]
        } else {
            [
                self.total,
                100.0 * self.window_optimal as f64 / n,
                self.window_reward / n,
            ]
        };
        self.window_pulls = 0;
        self.window_optimal = 0;
        self.window_reward = 0.0;
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known pull sequence: regret Σᵢ Δᵢ Nᵢ, window shares and means.
    #[test]
    fn regret_of_a_known_sequence() {
        let mut regret = Regret::new(&[0.2, 0.9, 0.5]);
        for (arm, reward) in [(0, 0.0), (1, 1.0), (2, 1.0), (2, 0.0), (1, 1.0)] {
            regret.push(arm, reward);
        }
        // Δ = (0.7, 0, 0.4); N = (1, 2, 2) → 0.7 + 0.8 = 1.5.
        let [total, optimal, mean] = regret.take_row();
        assert!((total - 1.5).abs() < 1e-12);
        assert!((optimal - 40.0).abs() < 1e-12);
        assert!((mean - 0.6).abs() < 1e-12);
        let [total, optimal, mean] = regret.take_row();
        assert!((total - 1.5).abs() < 1e-12 && optimal.is_nan() && mean.is_nan());
        regret.push(1, 0.0);
        assert_eq!(regret.take_row()[..2], [regret.total(), 100.0]);
    }
}
