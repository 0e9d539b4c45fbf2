//! `rl compare` and `rl plot`.

use crate::cli::{CompareArgs, PlotArgs};
use crate::error::UsageError;
use crate::report::plot::{XRange, YAxis};
use crate::report::{compare, plot, results};

/// The comparison table of the result folders in `args`.
pub fn compare(args: &CompareArgs) -> Result<String, UsageError> {
    if args.threshold.is_some_and(|t| !t.is_finite()) {
        return Err(UsageError::new("--threshold must be a finite number"));
    }
    let experiments = results::load(&args.paths)?;
    let rows = compare::rows(&experiments, args.threshold, args.metric);
    Ok(compare::render(&rows, args.format))
}

/// Draws the curves of the result folders in `args` (with `--top K`, of the best K by
/// `--metric`); returns what was written.
pub fn plot(args: &PlotArgs) -> Result<String, UsageError> {
    let mut experiments = results::load(&args.paths)?;
    if let Some(k) = args.top {
        let rows = compare::rows(&experiments, None, args.metric);
        let best: Vec<&str> = rows
            .iter()
            .filter(|r| r.complete > 0)
            .take(k)
            .map(|r| r.experiment.as_str())
            .collect();
        experiments.retain(|e| best.contains(&e.name.as_str()));
    }
    if let YAxis::Column(column) = &args.y {
        for seed in experiments.iter_mut().flat_map(|e| e.seeds.iter_mut()) {
            if seed.curve.is_some() {
                let (curve, wall_s) =
                    results::read_column(&seed.dir.join("curve.csv"), column, true)?;
                seed.curve = Some(curve);
                seed.wall_s = wall_s;
            }
        }
    }
    let range = args.x_range.unwrap_or(XRange::ALL);
    plot::plot(
        &experiments,
        &args.output,
        (args.x, range),
        &args.y,
        args.smooth,
    )?;
    Ok(format!("wrote {}\n", args.output.display()))
}
