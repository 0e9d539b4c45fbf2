//! Statistics over seeds and along learning curves: mean, interquartile mean (IQM),
//! bootstrap confidence intervals, area under the curve, threshold crossing, interpolation.

use rand::RngExt;

use crate::rng::Rng;

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Median (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Interquartile mean as rliable defines it (Agarwal et al. 2021): the mean of the values left
/// after dropping ⌊0.25·n⌋ from each end (scipy's `trim_mean(x, 0.25)`).
pub fn iqm(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let cut = v.len() / 4;
    mean(&v[cut..v.len() - cut])
}

/// The `q`-quantile of sorted values with linear interpolation (numpy's default method).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Percentile-bootstrap 95% confidence interval of `statistic` over `values` (resampled with
/// replacement `reps` times). One experiment is one stratum (one task), so the stratified
/// bootstrap of rliable reduces to resampling its seeds.
pub fn bootstrap_ci(
    values: &[f64],
    statistic: fn(&[f64]) -> f64,
    reps: usize,
    rng: &mut Rng,
) -> (f64, f64) {
    let n = values.len();
    let mut sample = vec![0.0; n];
    let mut stats: Vec<f64> = (0..reps)
        .map(|_| {
            for x in sample.iter_mut() {
                *x = values[rng.random_range(0..n)];
            }
            statistic(&sample)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    (quantile(&stats, 0.025), quantile(&stats, 0.975))
}

/// A learning curve: evaluation steps (ascending) and mean returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub steps: Vec<f64>,
    pub returns: Vec<f64>,
}

impl Curve {
    /// The return at `step` by linear interpolation, held constant beyond the ends.
    pub fn at(&self, step: f64) -> f64 {
        let i = self.steps.partition_point(|s| *s < step);
        if i == 0 {
            return self.returns[0];
        }
        if i == self.steps.len() {
            return self.returns[i - 1];
        }
        let (x0, x1) = (self.steps[i - 1], self.steps[i]);
        let (y0, y1) = (self.returns[i - 1], self.returns[i]);
        if x1 == x0 {
            y1
        } else {
            y0 + (y1 - y0) * (step - x0) / (x1 - x0)
        }
    }

    /// Area under the curve by the trapezoid rule, divided by the step range: the average
    /// evaluation return over training (in return units; a lone point is its own value).
    pub fn normalised_auc(&self) -> f64 {
        let span = self.steps.last().expect("non-empty") - self.steps[0];
        if span <= 0.0 {
            return *self.returns.last().expect("non-empty");
        }
        let area: f64 = self
            .steps
            .windows(2)
            .zip(self.returns.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
            .sum();
        area / span
    }

    /// The first evaluation step after step 0 whose return reaches `threshold`.
    pub fn first_crossing(&self, threshold: f64) -> Option<f64> {
        self.steps
            .iter()
            .zip(&self.returns)
            .find(|(s, r)| **s > 0.0 && **r >= threshold)
            .map(|(s, _)| *s)
    }

    pub fn last_return(&self) -> f64 {
        *self.returns.last().expect("non-empty")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn iqm_drops_a_quarter_at_each_end() {
        assert_eq!(iqm(&[100.0, 1.0, 3.0, 2.0, 4.0]), 3.0); // mean of 2, 3, 4
        assert_eq!(iqm(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]), 4.5); // mean of 3..6
        assert_eq!(iqm(&[7.0, 9.0]), 8.0);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn bootstrap_ci_closed_forms() {
        let mut rng = rng::from_seed(0);
        // Identical seeds: no uncertainty.
        assert_eq!(bootstrap_ci(&[5.0; 4], mean, 1000, &mut rng), (5.0, 5.0));
        // Two seeds {0, 1}: the resampled mean is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4,
        // so the 2.5% and 97.5% quantiles are 0 and 1.
        assert_eq!(
            bootstrap_ci(&[0.0, 1.0], mean, 10_000, &mut rng),
            (0.0, 1.0)
        );
        // Reproducible with a fixed seed.
        let values = [1.0, 4.0, 2.0, 8.0, 5.0];
        let a = bootstrap_ci(&values, mean, 2000, &mut rng::from_seed(1));
        let b = bootstrap_ci(&values, mean, 2000, &mut rng::from_seed(1));
        assert_eq!(a, b);
        assert!(a.0 < mean(&values) && mean(&values) < a.1);
    }

    #[test]
    fn curve_interpolation_auc_and_crossing() {
        let c = Curve {
            steps: vec![0.0, 10.0, 20.0],
            returns: vec![0.0, 10.0, 30.0],
        };
        assert_eq!(c.at(5.0), 5.0);
        assert_eq!(c.at(15.0), 20.0);
        assert_eq!(c.at(-1.0), 0.0);
        assert_eq!(c.at(99.0), 30.0);
        // Trapezoids: 10·5 + 10·20 = 250 over a span of 20.
        assert_eq!(c.normalised_auc(), 12.5);
        assert_eq!(c.first_crossing(10.0), Some(10.0));
        assert_eq!(c.first_crossing(31.0), None);
        let untrained_but_lucky = Curve {
            steps: vec![0.0, 5.0],
            returns: vec![500.0, 20.0],
        };
        assert_eq!(
            untrained_but_lucky.first_crossing(475.0),
            None,
            "step 0 does not count"
        );
    }
}
