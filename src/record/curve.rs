//! `curve.csv`: one row per evaluation.

use std::fs::File;
use std::io;
use std::path::Path;

/// The fixed leading columns; algorithm diagnostics and `sps` follow.
pub const CURVE_COLUMNS: &[&str] = &[
    "step",
    "episodes",
    "wall_s",
    "eval_return_mean",
    "eval_return_std",
    "eval_return_min",
    "eval_return_max",
    "eval_episodes",
    "train_return_mean",
];

/// One evaluation. `None` and non-finite values are written as empty cells.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveRow<'a> {
    pub step: u64,
    /// Training episodes finished so far.
    pub episodes: u64,
    /// Training wall-clock seconds (evaluation time excluded).
    pub wall_s: f64,
    pub eval_returns: &'a [f64],
    /// Mean return of the last (up to) 100 training episodes.
    pub train_return_mean: Option<f64>,
    /// One value per diagnostic column declared in the header.
    pub diagnostics: &'a [f64],
    /// Env steps per training second.
    pub sps: f64,
}

/// Appends rows to `curve.csv`, flushing each so that progress is visible while a run lasts.
pub struct CurveWriter {
    writer: csv::Writer<File>,
    diagnostics: usize,
}

impl CurveWriter {
    /// Creates `path` and writes the header with the given diagnostic columns.
    pub fn create(path: &Path, diagnostics: &[&str]) -> io::Result<Self> {
        let mut writer = csv::Writer::from_writer(File::create(path)?);
        let header = CURVE_COLUMNS.iter().chain(diagnostics).chain(&["sps"]);
        writer.write_record(header)?;
        writer.flush()?;
        Ok(Self {
            writer,
            diagnostics: diagnostics.len(),
        })
    }

    /// Reopens `path` to append rows after its existing ones (a resumed run).
    pub fn append(path: &Path, diagnostics: &[&str]) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Self {
            writer: csv::Writer::from_writer(file),
            diagnostics: diagnostics.len(),
        })
    }

    pub fn write(&mut self, row: &CurveRow) -> io::Result<()> {
        assert_eq!(
            row.diagnostics.len(),
            self.diagnostics,
            "one value per diagnostic column"
        );
        let stats = ReturnStats::of(row.eval_returns);
        let mut record = vec![
            row.step.to_string(),
            row.episodes.to_string(),
            cell(Some(row.wall_s)),
            cell(Some(stats.mean)),
            cell(Some(stats.std)),
            cell(Some(stats.min)),
            cell(Some(stats.max)),
            row.eval_returns.len().to_string(),
            cell(row.train_return_mean),
        ];
        record.extend(row.diagnostics.iter().map(|d| cell(Some(*d))));
        record.push(cell(Some(row.sps)));
        self.writer.write_record(&record)?;
        self.writer.flush()
    }
}

/// Mean, population standard deviation (numpy's default), min and max of episode returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReturnStats {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl ReturnStats {
    pub fn of(returns: &[f64]) -> Self {
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n;
        let min = returns.iter().copied().fold(f64::INFINITY, f64::min);
        let max = returns.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Self {
            mean,
            std: var.sqrt(),
            min,
            max,
        }
    }
}

/// Shortest round-trip text of a finite value; empty for missing or non-finite values.
fn cell(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => v.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_stats_closed_form() {
        let s = ReturnStats::of(&[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(s.mean, 3.0);
        assert!((s.std - 3.5f64.sqrt()).abs() < 1e-15);
        assert_eq!((s.min, s.max), (1.0, 6.0));
    }

    #[test]
    fn writes_header_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curve.csv");
        let mut w = CurveWriter::create(&path, &["epsilon"]).unwrap();
        let row = CurveRow {
            step: 10,
            episodes: 2,
            wall_s: 0.5,
            eval_returns: &[-13.0, -13.0],
            train_return_mean: None,
            diagnostics: &[f64::NAN],
            sps: 20.0,
        };
        w.write(&row).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "step,episodes,wall_s,eval_return_mean,eval_return_std,eval_return_min,eval_return_max,\
             eval_episodes,train_return_mean,epsilon,sps"
        );
        assert_eq!(lines.next().unwrap(), "10,2,0.5,-13,0,-13,-13,2,,,20");
    }
}
