//! `rl compare`: one row per experiment with final return (mean and 95% bootstrap CI), IQM,
//! normalised AUC, steps to the solve threshold, wall seconds and steps/s.

use super::results::ExperimentResults;
use super::stats::{bootstrap_ci, iqm, mean, median};
use crate::rng;

/// Bootstrap resamples behind each confidence interval.
const BOOTSTRAP_REPS: usize = 10_000;
/// Seed of the bootstrap, so the same results always give the same table.
const BOOTSTRAP_SEED: u64 = 0;

/// What orders the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Mean final eval return, highest first.
    Final,
    /// Interquartile mean of final returns, highest first.
    Iqm,
    /// Normalised area under the eval curve, highest first.
    Auc,
    /// Median steps to the solve threshold, fewest first.
    Threshold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Markdown,
    Csv,
}

/// One experiment's summary; statistics cover its complete seeds only.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub experiment: String,
    pub algo: String,
    pub env: String,
    pub complete: usize,
    pub total: usize,
    pub final_mean: Option<f64>,
    pub final_ci: Option<(f64, f64)>,
    pub iqm: Option<f64>,
    pub auc: Option<f64>,
    pub threshold: Option<f64>,
    /// No threshold was given and the seeds' meta.json predate the record of the env's.
    pub threshold_unrecorded: bool,
    /// Median first step reaching the threshold, over the seeds that reached it.
    pub steps_to_threshold: Option<f64>,
    pub reached: usize,
    /// Whether the seeds trained (planners evaluate once, at step 0, and do not).
    pub trained: bool,
    pub wall_s: Option<f64>,
    pub steps_per_s: Option<f64>,
    /// Seeds left out, e.g. `seed 3 failed (diverged at step 2048: loss_q is NaN)`.
    pub flagged: Vec<String>,
}

/// Summarises `experiments`, grouped by env and ranked by `metric` within each env;
/// `threshold` overrides the solve threshold each experiment's meta.json records.
pub fn rows(experiments: &[ExperimentResults], threshold: Option<f64>, metric: Metric) -> Vec<Row> {
    let mut rows: Vec<Row> = experiments.iter().map(|e| row(e, threshold)).collect();
    // Rows of one env stay together (in the order the envs first appear), ranked within it.
    let mut envs: Vec<String> = Vec::new();
    for r in &rows {
        if !envs.contains(&r.env) {
            envs.push(r.env.clone());
        }
    }
    let env_rank = |r: &Row| envs.iter().position(|e| *e == r.env).expect("listed above");
    let key = |r: &Row| -> f64 {
        let value = match metric {
            Metric::Final => r.final_mean.map(|v| -v),
            Metric::Iqm => r.iqm.map(|v| -v),
            Metric::Auc => r.auc.map(|v| -v),
            Metric::Threshold => r.steps_to_threshold,
        };
        value.unwrap_or(f64::INFINITY)
    };
    rows.sort_by(|a, b| {
        env_rank(a)
            .cmp(&env_rank(b))
            .then(key(a).total_cmp(&key(b)))
    });
    rows
}

fn row(e: &ExperimentResults, threshold: Option<f64>) -> Row {
    let complete: Vec<_> = e.complete().collect();
    let finals: Vec<f64> = complete.iter().map(|(_, c)| c.last_return()).collect();
    let recorded = threshold.map(Some).or(e.reward_threshold);
    let threshold = recorded.flatten();
    let crossings: Vec<f64> = threshold.map_or(Vec::new(), |t| {
        complete
            .iter()
            .filter_map(|(_, c)| c.first_crossing(t))
            .collect()
    });
    let some = |v: f64| (!complete.is_empty()).then_some(v);
    let mut rng = rng::from_seed(BOOTSTRAP_SEED);
    Row {
        experiment: e.name.clone(),
        algo: e.algo.clone(),
        env: e.env.clone(),
        complete: complete.len(),
        total: e.seeds.len(),
        final_mean: (!finals.is_empty()).then(|| mean(&finals)),
        final_ci: (!finals.is_empty())
            .then(|| bootstrap_ci(&finals, mean, BOOTSTRAP_REPS, &mut rng)),
        iqm: (!finals.is_empty()).then(|| iqm(&finals)),
        auc: (!complete.is_empty()).then(|| {
            mean(
                &complete
                    .iter()
                    .map(|(_, c)| c.normalised_auc())
                    .collect::<Vec<_>>(),
            )
        }),
        threshold,
        threshold_unrecorded: recorded.is_none(),
        steps_to_threshold: (!crossings.is_empty()).then(|| median(&crossings)),
        reached: crossings.len(),
        trained: complete
            .iter()
            .any(|(_, c)| c.steps.iter().any(|s| *s > 0.0)),
        wall_s: some(mean(
            &complete
                .iter()
                .map(|(s, _)| s.meta.wall_s)
                .collect::<Vec<_>>(),
        )),
        steps_per_s: some(mean(
            &complete
                .iter()
                .map(|(s, _)| s.meta.steps_per_s)
                .collect::<Vec<_>>(),
        )),
        flagged: e
            .incomplete()
            .iter()
            .map(|(seed, status, error)| {
                let status = format!("{status:?}").to_lowercase();
                match error {
                    Some(e) => format!("seed {seed} {status} ({e})"),
                    None => format!("seed {seed} {status}"),
                }
            })
            .collect(),
    }
}

const HEADER: [&str; 10] = [
    "experiment",
    "algo",
    "env",
    "seeds",
    "final (95% CI)",
    "IQM",
    "AUC",
    "steps to threshold",
    "wall s",
    "steps/s",
];

fn num(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

fn cells(r: &Row) -> Vec<String> {
    let final_ = match (r.final_mean, r.final_ci) {
        (Some(m), Some((lo, hi))) => format!("{m:.2} [{lo:.2}, {hi:.2}]"),
        _ => "-".into(),
    };
    let threshold = match (r.threshold, r.steps_to_threshold) {
        _ if !r.trained => "- (no training)".into(),
        (None, _) if r.threshold_unrecorded => "- (not in meta.json; use --threshold)".into(),
        (None, _) => "-".into(),
        (Some(t), None) => format!("never ≥ {t} (0/{})", r.complete),
        (Some(t), Some(s)) => format!("{s:.0} ≥ {t} ({}/{})", r.reached, r.complete),
    };
    vec![
        r.experiment.clone(),
        r.algo.clone(),
        r.env.clone(),
        format!("{}/{}", r.complete, r.total),
        final_,
        num(r.iqm),
        num(r.auc),
        threshold,
        num(r.wall_s),
        r.steps_per_s
            .filter(|_| r.trained)
            .map_or("-".into(), |v| format!("{v:.0}")),
    ]
}

/// Renders the rows, then a note per experiment with seeds left out.
pub fn render(rows: &[Row], format: Format) -> String {
    let mut out = match format {
        Format::Table => table(rows),
        Format::Markdown => markdown(rows),
        Format::Csv => csv_text(rows),
    };
    if format != Format::Csv {
        for r in rows {
            for seed in &r.flagged {
                out += &format!("note: {}: left out {seed}\n", r.experiment);
            }
        }
    }
    out
}

fn table(rows: &[Row]) -> String {
    let all: Vec<Vec<String>> = std::iter::once(HEADER.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(cells))
        .collect();
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    all.iter()
        .map(|r| {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            line.join("  ").trim_end().to_string() + "\n"
        })
        .collect()
}

fn markdown(rows: &[Row]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    );
    for r in rows {
        out += &format!("| {} |\n", cells(r).join(" | "));
    }
    out
}

fn csv_text(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    w.write_record([
        "experiment",
        "algo",
        "env",
        "complete",
        "total",
        "final_mean",
        "final_ci_low",
        "final_ci_high",
        "iqm",
        "auc",
        "threshold",
        "steps_to_threshold",
        "reached",
        "wall_s",
        "steps_per_s",
        "left_out",
    ])
    .expect("in-memory write");
    for r in rows {
        w.write_record([
            r.experiment.clone(),
            r.algo.clone(),
            r.env.clone(),
            r.complete.to_string(),
            r.total.to_string(),
            opt(r.final_mean),
            opt(r.final_ci.map(|c| c.0)),
            opt(r.final_ci.map(|c| c.1)),
            opt(r.iqm),
            opt(r.auc),
            opt(r.threshold),
            opt(r.steps_to_threshold),
            r.reached.to_string(),
            opt(r.wall_s),
            opt(r.steps_per_s),
            r.flagged.join("; "),
        ])
        .expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("CSV is UTF-8")
}
