//! Pooling the seeds of one experiment found in several folders (CI shards downloaded side by
//! side): folders whose runs share the experiment's name and [`Identity`] become one
//! experiment, each seed once. A seed found twice must hold the same results.

use super::identity::{Identity, same_results};
use super::results::ExperimentResults;
use crate::error::UsageError;

/// `experiments` with those that are one experiment pooled (in first-seen order).
pub fn pool(experiments: Vec<ExperimentResults>) -> Result<Vec<ExperimentResults>, UsageError> {
    // A folder without a readable config.toml (older results) is never pooled.
    let mut pooled: Vec<(Option<Identity>, ExperimentResults)> = Vec::new();
    for e in experiments {
        let first = &e.seeds[0];
        let identity = Identity::of(&first.dir, &first.meta).ok();
        let same = pooled
            .iter_mut()
            .find(|(id, p)| p.name == e.name && identity.is_some() && *id == identity);
        match same {
            None => pooled.push((identity, e)),
            Some((_, into)) => add_seeds(into, e)?,
        }
    }
    Ok(pooled.into_iter().map(|(_, e)| e).collect())
}

/// Adds the seeds of `from` to `into`: a seed both hold must hold the same results.
pub fn add_seeds(into: &mut ExperimentResults, from: ExperimentResults) -> Result<(), UsageError> {
    for seed in from.seeds {
        match into.seeds.iter().find(|s| s.meta.seed == seed.meta.seed) {
            Some(held) => {
                if !same_results(&held.dir, &held.meta, &seed.dir, &seed.meta)? {
                    return Err(UsageError::new(format!(
                        "seed {} of {} is in {} and in {} with different results",
                        seed.meta.seed,
                        into.name,
                        held.dir.display(),
                        seed.dir.display()
                    )));
                }
            }
            None => into.seeds.push(seed),
        }
    }
    into.seeds.sort_by_key(|s| s.meta.seed);
    Ok(())
}
