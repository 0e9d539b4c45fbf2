//! Observation normalisation and reward scaling with running statistics, as Stable-Baselines3's
//! `VecNormalize` does them (Engstrom et al. 2020, "Implementation Matters"):
//! - observations: (o − μ) / √(σ² + ε), clipped to ±`clip`, μ and σ² over every observation seen;
//! - rewards: r / √(Var[R] + ε), clipped to ±`clip`, where R ← γ R + r is the running discounted
//!   return of each env (reset at episode ends).
//!
//! The statistics are saved with the run and frozen for evaluation.

use serde::{Deserialize, Serialize};

/// Added to variances before the square root.
const EPSILON: f64 = 1e-8;

/// Mean and variance over a stream of vectors, merged batch by batch (Chan et al. 1979).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    /// Starts at 10⁻⁴ as in SB3, so the first batch dominates at once.
    pub count: f64,
}

impl RunningMeanStd {
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Merges a batch of `rows.len() / dim` vectors (row-major).
    pub fn update(&mut self, rows: &[f32]) {
        let dim = self.mean.len();
        let n = rows.len() / dim;
        if n == 0 {
            return;
        }
        let mut batch_mean = vec![0.0; dim];
        for row in rows.chunks_exact(dim) {
            for (m, &x) in batch_mean.iter_mut().zip(row) {
                *m += x as f64;
            }
        }
        batch_mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut batch_var = vec![0.0; dim];
        for row in rows.chunks_exact(dim) {
            for ((v, &x), m) in batch_var.iter_mut().zip(row).zip(&batch_mean) {
                *v += (x as f64 - m).powi(2);
            }
        }
        batch_var.iter_mut().for_each(|v| *v /= n as f64);
        self.merge(&batch_mean, &batch_var, n as f64);
    }

    fn merge(&mut self, batch_mean: &[f64], batch_var: &[f64], batch_count: f64) {
        let total = self.count + batch_count;
        for i in 0..self.mean.len() {
            let delta = batch_mean[i] - self.mean[i];
            let m2 = self.var[i] * self.count
                + batch_var[i] * batch_count
                + delta * delta * self.count * batch_count / total;
            self.mean[i] += delta * batch_count / total;
            self.var[i] = m2 / total;
        }
        self.count = total;
    }
}

/// Normalises observations with running statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObsNormalizer {
    pub stats: RunningMeanStd,
    pub clip: f64,
}

impl ObsNormalizer {
    pub fn new(dim: usize, clip: f64) -> Self {
        Self {
            stats: RunningMeanStd::new(dim),
            clip,
        }
    }

    /// Writes the normalised `rows` into `out` (same length), statistics unchanged.
    pub fn normalize(&self, rows: &[f32], out: &mut [f32]) {
        let dim = self.stats.mean.len();
        for (row, out_row) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            for i in 0..dim {
                let z = (row[i] as f64 - self.stats.mean[i]) / (self.stats.var[i] + EPSILON).sqrt();
                out_row[i] = z.clamp(-self.clip, self.clip) as f32;
            }
        }
    }
}

/// Scales rewards by the running standard deviation of the discounted return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RewardScaler {
    pub stats: RunningMeanStd,
    /// The running discounted return of each env.
    pub returns: Vec<f64>,
    pub gamma: f64,
    pub clip: f64,
}

impl RewardScaler {
    pub fn new(num_envs: usize, gamma: f64, clip: f64) -> Self {
        Self {
            stats: RunningMeanStd::new(1),
            returns: vec![0.0; num_envs],
            gamma,
            clip,
        }
    }

    /// Updates the statistics with one step's `rewards` (one per env), scales them in place and
    /// resets the return of envs whose episode `ended`.
    pub fn scale(&mut self, rewards: &mut [f64], ended: &[bool]) {
        let returns: Vec<f32> = self
            .returns
            .iter_mut()
            .zip(rewards.iter())
            .map(|(ret, &r)| {
                *ret = *ret * self.gamma + r;
                *ret as f32
            })
            .collect();
        self.stats.update(&returns);
        let std = (self.stats.var[0] + EPSILON).sqrt();
        for (r, (ret, &end)) in rewards.iter_mut().zip(self.returns.iter_mut().zip(ended)) {
            *r = (*r / std).clamp(-self.clip, self.clip);
            if end {
                *ret = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merging batches gives the mean and (population) variance of all the data at once.
    #[test]
    fn running_stats_match_the_whole_sample() {
        let data: Vec<f32> = (0..60)
            .map(|i| ((i * 37) % 11) as f32 * 0.5 - 1.0)
            .collect();
        let mut rms = RunningMeanStd::new(2);
        for batch in data.chunks(6) {
            rms.update(batch);
        }
        for d in 0..2 {
            let col: Vec<f64> = data.iter().skip(d).step_by(2).map(|&x| x as f64).collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            // The 1e-4 prior count shifts the result by about 1e-4 / 30.
            assert!(
                (rms.mean[d] - mean).abs() < 1e-5,
                "{} vs {mean}",
                rms.mean[d]
            );
            assert!((rms.var[d] - var).abs() < 1e-4, "{} vs {var}", rms.var[d]);
        }
    }

    #[test]
    fn normalized_observations_are_standardised_and_clipped() {
        let mut norm = ObsNormalizer::new(1, 2.0);
        norm.stats = RunningMeanStd {
            mean: vec![1.0],
            var: vec![4.0],
            count: 10.0,
        };
        let mut out = [0.0f32; 3];
        norm.normalize(&[3.0, 1.0, 100.0], &mut out);
        assert!((out[0] - 1.0).abs() < 1e-6);
        assert_eq!(out[1], 0.0);
        assert_eq!(out[2], 2.0);
    }

    /// Reward 1 at every step with γ = 0.5: the discounted return runs 1, 1.5, 1.75, …, and each
    /// reward is divided by the running std of those returns.
    #[test]
    fn rewards_divide_by_the_std_of_the_discounted_return() {
        let mut scaler = RewardScaler::new(1, 0.5, 10.0);
        let mut expected = RunningMeanStd::new(1);
        let mut ret = 0.0f64;
        for _ in 0..5 {
            ret = ret * 0.5 + 1.0;
            expected.update(&[ret as f32]);
            let mut r = [1.0];
            scaler.scale(&mut r, &[false]);
            let want = (1.0 / (expected.var[0] + EPSILON).sqrt()).min(10.0);
            assert!((r[0] - want).abs() < 1e-9, "{} vs {want}", r[0]);
        }
        let mut r = [1.0];
        scaler.scale(&mut r, &[true]);
        assert_eq!(scaler.returns, vec![0.0]);
    }
}
