//! `rl compare`.

use crate::cli::CompareArgs;
use crate::error::UsageError;
use crate::report::{compare, results};

/// The comparison table of the result folders in `args`.
pub fn compare(args: &CompareArgs) -> Result<String, UsageError> {
    if args.threshold.is_some_and(|t| !t.is_finite()) {
        return Err(UsageError::new("--threshold must be a finite number"));
    }
    let experiments = results::load(&args.paths)?;
    let rows = compare::rows(&experiments, args.threshold, args.metric);
    Ok(compare::render(&rows, args.format))
}
