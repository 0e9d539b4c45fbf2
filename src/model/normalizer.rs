//! Per-component standardisation of network inputs and targets (Nagabandi et al. 2018, §IV.A:
//! "we normalise the inputs and outputs by subtracting the mean and dividing by the standard
//! deviation" of the data collected so far): x̂ = (x − μ) / σ and back, x = μ + σ x̂.

use serde::{Deserialize, Serialize};

/// Means and standard deviations of `dim` components.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// Below this σ a component is taken as constant and only centred (σ = 1).
const MIN_STD: f64 = 1e-6;

impl Normalizer {
    /// μ = 0, σ = 1.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            std: vec![1.0; dim],
        }
    }

    /// μ and σ (population) of the rows of `values` (row-major, `dim` per row), in f64.
    pub fn fit(values: &[f32], dim: usize) -> Self {
        let n = (values.len() / dim).max(1) as f64;
        let mut sum = vec![0.0f64; dim];
        let mut sum_sq = vec![0.0f64; dim];
        for row in values.chunks_exact(dim) {
            for (j, &x) in row.iter().enumerate() {
                sum[j] += f64::from(x);
                sum_sq[j] += f64::from(x) * f64::from(x);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sum_sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let sd = (s / n - m * m).max(0.0).sqrt();
                if sd < MIN_STD { 1.0 } else { sd as f32 }
            })
            .collect();
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// x̂ = (x − μ) / σ of one component.
    pub fn normalize(&self, j: usize, x: f32) -> f32 {
        (x - self.mean[j]) / self.std[j]
    }

    /// x = μ + σ x̂ of one component.
    pub fn denormalize(&self, j: usize, x: f32) -> f32 {
        self.mean[j] + self.std[j] * x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_data_has_zero_mean_unit_std_and_round_trips() {
        let values: Vec<f32> = (0..300)
            .map(|i| match i % 3 {
                0 => (i as f32 * 0.37).sin() * 5.0 + 2.0,
                1 => i as f32 * 0.01,
                _ => 4.0,
            })
            .collect();
        let norm = Normalizer::fit(&values, 3);
        for j in 0..3 {
            let column: Vec<f64> = values
                .iter()
                .skip(j)
                .step_by(3)
                .map(|&x| f64::from(norm.normalize(j, x)))
                .collect();
            let mean = column.iter().sum::<f64>() / 100.0;
            let var = column.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 100.0;
            assert!(mean.abs() < 1e-5, "component {j}: mean {mean}");
            let want_var = if j == 2 { 0.0 } else { 1.0 };
            assert!((var - want_var).abs() < 1e-4, "component {j}: var {var}");
        }
        for (i, &x) in values.iter().enumerate() {
            let back = norm.denormalize(i % 3, norm.normalize(i % 3, x));
            assert!((back - x).abs() < 1e-5, "{x} → {back}");
        }
    }
}
