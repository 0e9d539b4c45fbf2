//! `rl check`'s verdicts: expectations on one experiment's seeds (`[expect]` or the command
//! line), and a one-sided regression test of a candidate against a baseline.
//!
//! The regression test is a permutation test (Fisher; Pitman 1937) on the difference of the
//! metric between the two groups of seeds, the candidate shifted up by the tolerance: under
//! "same code, other seeds" the seeds of both groups are exchangeable, so the test's false-alarm
//! rate is at most α exactly, whatever the distribution of returns and however few the seeds — a
//! bootstrap interval on five seeds is too narrow and alarms more often than α.

use std::collections::BTreeSet;

use rand::RngExt;

use super::results::ExperimentResults;
use super::stats::{iqm, mean, median, quantile};
use crate::error::UsageError;
use crate::record::Expectations;
use crate::rng::{self, Rng};

/// What the regression test compares between candidate and baseline seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Mean final evaluation return.
    Final,
    /// Interquartile mean of the final returns.
    Iqm,
    /// Mean normalised area under the evaluation curve.
    Auc,
}

/// One expectation's verdict, as the reports show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The experiment it is about.
    pub experiment: String,
    /// What is expected, e.g. `final ≥ -200 on ≥ 4/5 seeds`.
    pub expectation: String,
    /// What was measured, e.g. `5/5 seeds (-150.2, ...)`.
    pub measured: String,
    pub passed: bool,
}

/// Seeds of `experiment.seeds` (over every seed folder's config.toml) and of the folders.
fn expected_seeds(e: &ExperimentResults) -> BTreeSet<u64> {
    let mut seeds: BTreeSet<u64> = e.seeds.iter().map(|s| s.meta.seed).collect();
    for s in &e.seeds {
        let listed = std::fs::read_to_string(s.dir.join("config.toml"))
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| t.get("experiment")?.get("seeds")?.as_array().cloned());
        for v in listed.into_iter().flatten() {
            if let Some(k) = v.as_integer().and_then(|k| u64::try_from(k).ok()) {
                seeds.insert(k);
            }
        }
    }
    seeds
}

/// The `[expect]` table the experiment's seeds recorded (the first seed's that has one).
pub fn recorded_expectations(e: &ExperimentResults) -> Result<Option<Expectations>, UsageError> {
    for s in &e.seeds {
        let path = s.dir.join("config.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let table: toml::Table = text
            .parse()
            .map_err(|err| UsageError::new(format!("{}: {err}", path.display())))?;
        if let Some(expect) = table.get("expect") {
            let x: Expectations = expect
                .clone()
                .try_into()
                .map_err(|err| UsageError::new(format!("{}: [expect]: {err}", path.display())))?;
            return Ok(Some(x));
        }
    }
    Ok(None)
}

/// Each expectation of `x` on `e`. A seed listed but missing or incomplete counts as failing.
pub fn expectations(e: &ExperimentResults, x: &Expectations) -> Vec<Verdict> {
    let listed = expected_seeds(e);
    let finals: Vec<(u64, Option<f64>)> = listed
        .iter()
        .map(|&k| {
            let last = e
                .complete()
                .find(|(s, _)| s.meta.seed == k)
                .map(|(_, c)| c.last_return());
            (k, last)
        })
        .collect();
    let absent: Vec<String> = finals
        .iter()
        .filter(|(_, f)| f.is_none())
        .map(|(k, _)| k.to_string())
        .collect();
    let absent_note = if absent.is_empty() {
        String::new()
    } else {
        format!("; seeds {} missing or incomplete", absent.join(","))
    };
    let complete: Vec<f64> = finals.iter().filter_map(|(_, f)| *f).collect();
    let n = listed.len();
    let verdict = |expectation: String, measured: String, passed: bool| Verdict {
        experiment: e.name.clone(),
        expectation,
        measured,
        passed,
    };
    let mut out = Vec::new();
    if let Some(min) = x.min_final {
        let need = x.seeds_passing.unwrap_or(n);
        let passing = complete.iter().filter(|&&f| f >= min).count();
        let values: Vec<String> = finals
            .iter()
            .map(|(_, f)| f.map_or("-".to_string(), |v| format!("{v:.1}")))
            .collect();
        out.push(verdict(
            format!("final ≥ {min} on ≥ {need}/{n} seeds"),
            format!("{passing}/{n} seeds ({}){absent_note}", values.join(", ")),
            passing >= need,
        ));
    }
    if let Some(min) = x.min_iqm {
        // A missing seed cannot be averaged: the expectation fails with it.
        let value = (!complete.is_empty()).then(|| iqm(&complete));
        out.push(verdict(
            format!("IQM of finals ≥ {min}"),
            format!(
                "{}{absent_note}",
                value.map_or("no complete seed".to_string(), |v| format!("{v:.2}"))
            ),
            absent.is_empty() && value.is_some_and(|v| v >= min),
        ));
    }
    if let Some(max) = x.max_steps_to_threshold {
        let threshold = x.threshold.or(e.reward_threshold.flatten());
        let (measured, passed) = match threshold {
            None => (
                "the env has no solve threshold: set [expect] threshold".to_string(),
                false,
            ),
            Some(t) => {
                let steps: Vec<f64> = listed
                    .iter()
                    .map(|&k| {
                        e.complete()
                            .find(|(s, _)| s.meta.seed == k)
                            .and_then(|(_, c)| c.first_crossing(t))
                            .unwrap_or(f64::INFINITY)
                    })
                    .collect();
                let m = median(&steps);
                let shown = if m.is_finite() {
                    format!("{m:.0}")
                } else {
                    "never".to_string()
                };
                (
                    format!("median {shown} steps to {t}{absent_note}"),
                    m <= max as f64,
                )
            }
        };
        out.push(verdict(
            format!("median steps to threshold ≤ {max}"),
            measured,
            passed,
        ));
    }
    out
}

/// One value per complete seed: its final return or its normalised area under the curve.
fn per_seed(e: &ExperimentResults, metric: Metric) -> Vec<f64> {
    e.complete()
        .map(|(_, c)| match metric {
            Metric::Auc => c.normalised_auc(),
            Metric::Final | Metric::Iqm => c.last_return(),
        })
        .collect()
}

/// The statistic over seeds that `metric` compares.
fn statistic(metric: Metric) -> fn(&[f64]) -> f64 {
    match metric {
        Metric::Iqm => iqm,
        Metric::Final | Metric::Auc => mean,
    }
}

/// The regression test's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// statistic(candidate) − statistic(baseline).
    pub difference: f64,
    /// Two-sided (1 − 2α) percentile-bootstrap interval of the difference (for the report).
    pub interval: (f64, f64),
    /// One-sided permutation p-value of "the candidate is worse by more than the tolerance".
    pub p_value: f64,
}

/// Most random permutations drawn when there are too many to enumerate.
const PERMUTATIONS: usize = 20_000;
const BOOTSTRAP_REPS: usize = 5_000;

/// The permutation test of `candidate` against `baseline` (seed values), `statistic` compared,
/// the candidate shifted up by `tolerance`: p = P(D* ≤ D) over relabellings of the pooled seeds.
pub fn regression_test(
    candidate: &[f64],
    baseline: &[f64],
    statistic: fn(&[f64]) -> f64,
    tolerance: f64,
    alpha: f64,
    rng: &mut Rng,
) -> Regression {
    let shifted: Vec<f64> = candidate.iter().map(|c| c + tolerance).collect();
    let observed = statistic(&shifted) - statistic(baseline);
    let pooled: Vec<f64> = shifted.iter().chain(baseline).copied().collect();
    let (n, total) = (candidate.len(), pooled.len());
    let diff_of = |chosen: &[bool]| {
        let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(total - n));
        for (x, &c) in pooled.iter().zip(chosen) {
            if c { a.push(*x) } else { b.push(*x) }
        }
        statistic(&a) - statistic(&b)
    };
    // Ties count as "as extreme" (≤), with a small slack for floating-point sums.
    let eps = 1e-9 * (1.0 + observed.abs());
    let p_value = if binomial(total, n) <= PERMUTATIONS as f64 {
        let mut at_most = 0usize;
        let mut count = 0usize;
        for_each_subset(total, n, &mut |chosen| {
            count += 1;
            if diff_of(chosen) <= observed + eps {
                at_most += 1;
            }
        });
        at_most as f64 / count as f64
    } else {
        let mut at_most = 0usize;
        let mut order: Vec<usize> = (0..total).collect();
        let mut chosen = vec![false; total];
        for _ in 0..PERMUTATIONS {
            for i in (1..total).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            chosen.fill(false);
            for &i in &order[..n] {
                chosen[i] = true;
            }
            if diff_of(&chosen) <= observed + eps {
                at_most += 1;
            }
        }
        (at_most + 1) as f64 / (PERMUTATIONS + 1) as f64
    };
    let mut diffs: Vec<f64> = (0..BOOTSTRAP_REPS)
        .map(|_| {
            let draw = |v: &[f64], rng: &mut Rng| -> Vec<f64> {
                (0..v.len())
                    .map(|_| v[rng.random_range(0..v.len())])
                    .collect()
            };
            statistic(&draw(candidate, rng)) - statistic(&draw(baseline, rng))
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    Regression {
        difference: statistic(candidate) - statistic(baseline),
        interval: (quantile(&diffs, alpha), quantile(&diffs, 1.0 - alpha)),
        p_value,
    }
}

/// C(n, k) as a float (exact for the sizes enumerated).
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Calls `f` with every choice of `k` of `n` items (as flags).
fn for_each_subset(n: usize, k: usize, f: &mut dyn FnMut(&[bool])) {
    fn go(i: usize, left: usize, chosen: &mut Vec<bool>, f: &mut dyn FnMut(&[bool])) {
        let n = chosen.len();
        if left == 0 {
            f(chosen);
            return;
        }
        if n - i < left {
            return;
        }
        chosen[i] = true;
        go(i + 1, left - 1, chosen, f);
        chosen[i] = false;
        go(i + 1, left, chosen, f);
    }
    let mut chosen = vec![false; n];
    go(0, k, &mut chosen, f);
}

/// Seed of the regression test's resampling: reports are reproducible.
const GATE_SEED: u64 = 25;

/// The regression verdict of `candidate` against `baseline` on `metric`.
pub fn regression(
    candidate: &ExperimentResults,
    baseline: &ExperimentResults,
    metric: Metric,
    tolerance: f64,
    alpha: f64,
) -> Verdict {
    let (c, b) = (per_seed(candidate, metric), per_seed(baseline, metric));
    let name = match metric {
        Metric::Iqm => "IQM of finals",
        Metric::Auc => "mean AUC",
        Metric::Final => "mean final",
    };
    let expectation = format!(
        "{name} not worse than baseline by > {tolerance} (one-sided permutation test, α = {alpha})"
    );
    let verdict = |measured: String, passed: bool| Verdict {
        experiment: candidate.name.clone(),
        expectation: expectation.clone(),
        measured,
        passed,
    };
    if c.len() < 2 || b.len() < 2 {
        return verdict(
            format!(
                "needs 2 complete seeds on each side: candidate {}, baseline {}",
                c.len(),
                b.len()
            ),
            false,
        );
    }
    let mut rng = rng::from_seed(GATE_SEED);
    let r = regression_test(&c, &b, statistic(metric), tolerance, alpha, &mut rng);
    let level = 100.0 * (1.0 - 2.0 * alpha);
    verdict(
        format!(
            "difference {:+.2} ({level:.0}% CI [{:.2}, {:.2}]), p = {:.4} ({} vs {} seeds)",
            r.difference,
            r.interval.0,
            r.interval.1,
            r.p_value,
            c.len(),
            b.len()
        ),
        r.p_value > alpha,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn normal(rng: &mut Rng) -> f64 {
        // Box–Muller.
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Returns as RL seeds give them: most seeds solve, some collapse.
    fn returns(rng: &mut Rng, n: usize, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let solved = rng.random::<f64>() < 0.8;
                shift
                    + if solved {
                        480.0 + 10.0 * normal(rng)
                    } else {
                        150.0 + 60.0 * normal(rng)
                    }
            })
            .collect()
    }

    #[test]
    fn subsets_are_enumerated_once_each() {
        let mut count = 0;
        for_each_subset(10, 5, &mut |c| {
            assert_eq!(c.iter().filter(|&&x| x).count(), 5);
            count += 1;
        });
        assert_eq!(count, 252);
        assert_eq!(binomial(10, 5), 252.0);
    }

    /// Same code, other seeds: the gate alarms at most α of the time (≥ 1,000 repetitions).
    #[test]
    fn false_alarms_stay_below_alpha() {
        let mut rng = Rng::seed_from_u64(1);
        let alpha = 0.05;
        let reps = 1_000;
        let alarms = (0..reps)
            .filter(|_| {
                let (c, b) = (returns(&mut rng, 5, 0.0), returns(&mut rng, 5, 0.0));
                regression_test(&c, &b, mean, 0.0, alpha, &mut rng).p_value <= alpha
            })
            .count();
        let rate = alarms as f64 / reps as f64;
        println!("false-alarm rate {rate} over {reps} same-distribution pairs of 5 + 5 seeds");
        // α plus three binomial standard errors.
        let slack = 3.0 * (alpha * (1.0 - alpha) / reps as f64).sqrt();
        assert!(rate <= alpha + slack, "false-alarm rate {rate}");
    }

    /// A real regression (every seed collapsed) is caught.
    #[test]
    fn a_collapsed_candidate_fails() {
        let mut rng = Rng::seed_from_u64(2);
        let baseline = returns(&mut rng, 5, 0.0);
        let candidate: Vec<f64> = (0..5).map(|_| 100.0 + 20.0 * normal(&mut rng)).collect();
        let r = regression_test(&candidate, &baseline, mean, 10.0, 0.05, &mut rng);
        assert!(r.p_value <= 0.05, "{r:?}");
        assert!(r.difference < -100.0 && r.interval.1 < 0.0, "{r:?}");
    }

    /// A candidate within the tolerance passes even if its mean is a little lower.
    #[test]
    fn the_tolerance_forgives_small_differences() {
        let baseline = [500.0, 500.0, 499.0, 500.0, 498.0];
        let candidate = [495.0, 494.0, 496.0, 495.0, 494.0];
        let mut rng = Rng::seed_from_u64(3);
        let strict = regression_test(&candidate, &baseline, mean, 0.0, 0.05, &mut rng);
        let tolerant = regression_test(&candidate, &baseline, mean, 10.0, 0.05, &mut rng);
        assert!(strict.p_value <= 0.05 && tolerant.p_value > 0.05);
    }

    #[test]
    fn large_groups_are_sampled() {
        let mut rng = Rng::seed_from_u64(4);
        let (c, b) = (returns(&mut rng, 20, -300.0), returns(&mut rng, 20, 0.0));
        let r = regression_test(&c, &b, iqm, 0.0, 0.05, &mut rng);
        assert!(r.p_value < 0.001, "{r:?}");
    }
}
