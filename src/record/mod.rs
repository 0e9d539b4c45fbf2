//! The result files of one seed (the contract between training and reporting):
//! `curve.csv`, `episodes.csv`, `config.toml`, `meta.json`.

mod config_diff;
mod curve;
pub mod dataset;
mod episodes;
mod expect;
mod meta;

pub use config_diff::first_differing_key;
pub use curve::{CURVE_COLUMNS, CurveRow, CurveWriter, ReturnStats};
pub use episodes::EpisodeWriter;
pub use expect::Expectations;
pub use meta::{Meta, Status, git_commit};

use std::path::Path;

/// Writes `contents` to `path` through a temporary file and a rename, so that a reader never
/// sees a half-written file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}
