//! Value normalisation as MAPPO uses it (Yu et al. 2022, §4 and appendix: `ValueNorm`): the
//! critic predicts standardised returns; the targets are standardised with a running mean and
//! variance (exponential moving averages with weight β, debiased as Adam debiases its
//! moments), and its predictions are de-standardised before they enter GAE.

use serde::{Deserialize, Serialize};

/// The smallest variance the statistics report (MAPPO's `var.clamp(min=1e-2)`).
const MIN_VARIANCE: f64 = 1e-2;
/// The smallest debiasing weight divided by (MAPPO's `epsilon`).
const EPSILON: f64 = 1e-5;

/// Running mean and mean square of the value targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueNorm {
    beta: f64,
    running_mean: f64,
    running_mean_sq: f64,
    debiasing_term: f64,
}

impl ValueNorm {
    /// Statistics that average with weight `beta` (MAPPO: 0.99999).
    pub fn new(beta: f64) -> Self {
        Self {
            beta,
            running_mean: 0.0,
            running_mean_sq: 0.0,
            debiasing_term: 0.0,
        }
    }

    /// Folds in a batch of targets: m ← β m + (1 − β) mean(x), likewise for x², and the
    /// debiasing weight w ← β w + (1 − β).
    pub fn update(&mut self, targets: &[f32]) {
        let n = targets.len() as f64;
        let mean = targets.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let mean_sq = targets.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n;
        let b = self.beta;
        self.running_mean = b * self.running_mean + (1.0 - b) * mean;
        self.running_mean_sq = b * self.running_mean_sq + (1.0 - b) * mean_sq;
        self.debiasing_term = b * self.debiasing_term + (1.0 - b);
    }

    /// The debiased mean and variance.
    pub fn mean_var(&self) -> (f64, f64) {
        let w = self.debiasing_term.max(EPSILON);
        let mean = self.running_mean / w;
        let var = (self.running_mean_sq / w - mean * mean).max(MIN_VARIANCE);
        (mean, var)
    }

    /// (x − μ) / σ, in place.
    pub fn normalize(&self, values: &mut [f32]) {
        let (mean, var) = self.mean_var();
        let std = var.sqrt();
        for v in values {
            *v = ((f64::from(*v) - mean) / std) as f32;
        }
    }

    /// x σ + μ, in place.
    pub fn denormalize(&self, values: &mut [f32]) {
        let (mean, var) = self.mean_var();
        let std = var.sqrt();
        for v in values {
            *v = (f64::from(*v) * std + mean) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After one batch the debiased statistics are the batch's own; after a second they are
    /// the (1 − β)-weighted mix of the two, rescaled by the debiasing weight.
    #[test]
    fn debiased_statistics_closed_form() {
        let mut norm = ValueNorm::new(0.9);
        norm.update(&[1.0, 3.0]);
        let (mean, var) = norm.mean_var();
        assert!((mean - 2.0).abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        let mut x = [4.0f32];
        norm.normalize(&mut x);
        assert!((x[0] - 2.0).abs() < 1e-6);
        norm.denormalize(&mut x);
        assert!((x[0] - 4.0).abs() < 1e-6);

        norm.update(&[10.0, 10.0]);
        // m = 0.9·0.1·2 + 0.1·10 = 1.18, w = 0.19; mean = 1.18 / 0.19.
        // m2 = 0.9·0.1·5 + 0.1·100 = 10.45; var = 10.45 / 0.19 − mean².
        let (mean, var) = norm.mean_var();
        let want = 1.18 / 0.19;
        assert!((mean - want).abs() < 1e-12, "{mean}");
        assert!((var - (10.45 / 0.19 - want * want)).abs() < 1e-9, "{var}");
    }

    /// A constant target has no variance: the floor keeps σ = 0.1.
    #[test]
    fn variance_is_floored() {
        let mut norm = ValueNorm::new(0.99999);
        norm.update(&[-5.0; 8]);
        let (mean, var) = norm.mean_var();
        assert!((mean + 5.0).abs() < 1e-9);
        assert_eq!(var, MIN_VARIANCE);
    }
}
