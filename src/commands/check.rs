//! `rl check`: pass or fail result folders on their expectations and against a baseline.

use crate::cli::CheckArgs;
use crate::error::UsageError;
use crate::record::Expectations;
use crate::report::gate::{self, Verdict};
use crate::report::results;
use crate::report::verdicts::{ReportFormat, render};

/// The report and whether every expectation holds.
pub fn check(args: &CheckArgs) -> Result<(String, bool), UsageError> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(UsageError::new(format!(
            "--alpha {}: must be in (0, 1), e.g. 0.05",
            args.alpha
        )));
    }
    if !args.tolerance.is_finite() || args.tolerance < 0.0 {
        return Err(UsageError::new(format!(
            "--tolerance {}: must be a finite number ≥ 0",
            args.tolerance
        )));
    }
    let flags = Expectations {
        min_final: args.min_final,
        seeds_passing: args.seeds_passing,
        min_iqm: args.min_iqm,
        max_steps_to_threshold: args.max_steps_to_threshold,
        threshold: args.threshold,
    };
    let candidates = results::load(&args.results)?;
    let baselines = if args.baseline.is_empty() {
        Vec::new()
    } else {
        results::load(&args.baseline)?
    };
    let mut verdicts: Vec<Verdict> = Vec::new();
    for e in &candidates {
        // The command line's expectations replace the recorded [expect] table.
        let expect = if flags.is_empty() {
            gate::recorded_expectations(e)?.unwrap_or_default()
        } else {
            flags.clone()
        };
        verdicts.extend(gate::expectations(e, &expect));
        if !args.baseline.is_empty() {
            let baseline = baselines.iter().find(|b| b.name == e.name).ok_or_else(|| {
                UsageError::new(format!(
                    "--baseline {}: holds no experiment {}",
                    args.baseline.join(" "),
                    e.name
                ))
            })?;
            verdicts.push(gate::regression(
                e,
                baseline,
                args.metric,
                args.tolerance,
                args.alpha,
            ));
        }
    }
    if verdicts.is_empty() {
        return Err(UsageError::new(format!(
            "nothing to check in {}: give --min-final, --min-iqm, --max-steps-to-threshold or \
             --baseline, or an [expect] table in the experiment file",
            args.results.join(" ")
        )));
    }
    if let Some(path) = &args.report {
        let format = ReportFormat::of_file(path).unwrap_or(args.format);
        std::fs::write(path, render(&verdicts, format)).map_err(|e| {
            UsageError::new(format!("--report {}: cannot write: {e}", path.display()))
        })?;
    }
    let passed = verdicts.iter().all(|v| v.passed);
    Ok((render(&verdicts, args.format), passed))
}
