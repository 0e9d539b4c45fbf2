//! Conjugate posteriors of one arm's mean, for Thompson sampling (Russo et al. 2018, §3):
//! Beta–Bernoulli and Gaussian with known reward variance, with exact samplers (Gamma by
//! Marsaglia & Tsang 2000, Beta as X/(X+Y) of two Gammas).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::rng::{self, Rng};

/// Beta(α, β) over a Bernoulli mean: a success adds 1 to α, a failure 1 to β.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaPosterior {
    pub alpha: f64,
    pub beta: f64,
}

impl BetaPosterior {
    /// Bayes' rule for a reward in {0, 1}: Beta(α + r, β + 1 − r).
    pub fn update(&mut self, reward: f64) {
        self.alpha += reward;
        self.beta += 1.0 - reward;
    }

    /// The posterior mean α / (α + β).
    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let x = gamma(self.alpha, rng);
        let y = gamma(self.beta, rng);
        x / (x + y)
    }
}

/// N(m, 1/τ) over a Gaussian mean, rewards N(μ, σ²) with σ known: a reward r adds 1/σ² to the
/// precision τ and r/σ² to τ·m.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianPosterior {
    /// τ = 1/σ₀² + n/σ².
    pub precision: f64,
    /// τ·m = μ₀/σ₀² + Σ r/σ².
    pub weighted_sum: f64,
}

impl GaussianPosterior {
    /// The prior N(μ₀, σ₀²).
    pub fn prior(mean: f64, std: f64) -> Self {
        let precision = 1.0 / (std * std);
        Self {
            precision,
            weighted_sum: mean * precision,
        }
    }

    /// Bayes' rule for reward `reward` with noise variance `noise_var` = σ².
    pub fn update(&mut self, reward: f64, noise_var: f64) {
        self.precision += 1.0 / noise_var;
        self.weighted_sum += reward / noise_var;
    }

    /// The posterior mean m.
    pub fn mean(&self) -> f64 {
        self.weighted_sum / self.precision
    }

    pub fn sample(&self, rng: &mut Rng) -> f64 {
        self.mean() + rng::standard_normal(rng) / self.precision.sqrt()
    }
}

/// One draw from Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 boosted by U^{1/shape}).
pub fn gamma(shape: f64, rng: &mut Rng) -> f64 {
    if shape < 1.0 {
        let u: f64 = 1.0 - rng.random::<f64>();
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng::standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u: f64 = rng.random();
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        (mean, var)
    }

    /// Beta(1, 1) after 3 successes and 1 failure is Beta(4, 2): mean 2/3, variance
    /// αβ/((α+β)²(α+β+1)) = 8/252; its sampler matches.
    #[test]
    fn beta_update_and_sampler() {
        let mut p = BetaPosterior {
            alpha: 1.0,
            beta: 1.0,
        };
        for r in [1.0, 0.0, 1.0, 1.0] {
            p.update(r);
        }
        assert_eq!((p.alpha, p.beta), (4.0, 2.0));
        assert!((p.mean() - 2.0 / 3.0).abs() < 1e-12);
        let mut rng = rng::from_seed(2);
        let (mean, var) = moments(|| p.sample(&mut rng));
        assert!((mean - 2.0 / 3.0).abs() < 0.003, "{mean}");
        assert!((var - 8.0 / 252.0).abs() < 0.001, "{var}");
        // Shapes below 1 take the boosted branch.
        let small = BetaPosterior {
            alpha: 0.5,
            beta: 0.5,
        };
        let (mean, var) = moments(|| small.sample(&mut rng));
        assert!(
            (mean - 0.5).abs() < 0.003 && (var - 0.125).abs() < 0.002,
            "{mean} {var}"
        );
    }

    /// Prior N(0, 1), σ² = 1, rewards 1 and 3: τ = 3, m = 4/3.
    #[test]
    fn gaussian_update_and_sampler() {
        let mut p = GaussianPosterior::prior(0.0, 1.0);
        p.update(1.0, 1.0);
        p.update(3.0, 1.0);
        assert!((p.precision - 3.0).abs() < 1e-12);
        assert!((p.mean() - 4.0 / 3.0).abs() < 1e-12);
        let mut rng = rng::from_seed(3);
        let (mean, var) = moments(|| p.sample(&mut rng));
        assert!((mean - 4.0 / 3.0).abs() < 0.005 && (var - 1.0 / 3.0).abs() < 0.005);
    }

    #[test]
    fn gamma_moments() {
        let mut rng = rng::from_seed(4);
        for shape in [0.3, 1.0, 2.5, 40.0] {
            let (mean, var) = moments(|| gamma(shape, &mut rng));
            assert!((mean / shape - 1.0).abs() < 0.01, "{shape}: {mean}");
            assert!((var / shape - 1.0).abs() < 0.03, "{shape}: {var}");
        }
    }
}
