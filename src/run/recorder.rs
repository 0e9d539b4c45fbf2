//! The seed folder as a [`Recorder`]: `curve.csv`, `episodes.csv`, the checkpoint files and the
//! trained policy's artifacts, plus the seed's progress bar. A resumed run keeps the rows its
//! checkpoint counted and appends after them.

use std::path::Path;

use anyhow::Context;

use super::checkpoint;
use super::progress::Progress;
use crate::record::{CurveRow, CurveWriter, EpisodeWriter};
use crate::session::checkpoint::Checkpoint;
use crate::session::{EpisodeRow, ProgressEvent, Recorder};

/// Records one seed into its folder `dir`.
pub struct FileRecorder<'a> {
    dir: &'a Path,
    progress: &'a mut Progress,
    curve: Option<CurveWriter>,
    episodes: EpisodeWriter,
    /// Rows of curve.csv that belong to the checkpoint being resumed.
    resumed_curve_rows: Option<u64>,
}

impl<'a> FileRecorder<'a> {
    /// Opens `episodes.csv` in `dir`: a new file, or, resuming from `resume`, the file cut back
    /// to the rows that checkpoint counted.
    pub fn open(
        dir: &'a Path,
        progress: &'a mut Progress,
        resume: Option<&Checkpoint>,
    ) -> anyhow::Result<Self> {
        let path = dir.join("episodes.csv");
        let episodes = match resume {
            None => EpisodeWriter::create(&path),
            Some(c) => {
                checkpoint::truncate_csv(&path, c.session.episode_rows)?;
                EpisodeWriter::append(&path)
            }
        }
        .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self {
            dir,
            progress,
            curve: None,
            episodes,
            resumed_curve_rows: resume.map(|c| c.session.curve_rows),
        })
    }
}

impl Recorder for FileRecorder<'_> {
    fn start_curve(&mut self, diagnostics: &[&str]) -> anyhow::Result<()> {
        let path = self.dir.join("curve.csv");
        let writer = match self.resumed_curve_rows {
            None => CurveWriter::create(&path, diagnostics),
            Some(rows) => {
                checkpoint::truncate_csv(&path, rows)?;
                CurveWriter::append(&path, diagnostics)
            }
        };
        self.curve = Some(writer.with_context(|| format!("cannot open {}", path.display()))?);
        Ok(())
    }

    fn curve_row(&mut self, row: &CurveRow) -> anyhow::Result<()> {
        let curve = self.curve.as_mut().context("the curve was not started")?;
        Ok(curve.write(row)?)
    }

    fn episode(&mut self, row: &EpisodeRow) -> anyhow::Result<()> {
        Ok(self
            .episodes
            .write(row.step, row.episode_return, row.length, row.wall_s)?)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(self.episodes.flush()?)
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        checkpoint::write(self.dir, checkpoint)
    }

    fn artifact(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        crate::record::write_atomically(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn progress(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::Step {
                step,
                sps,
                last_eval,
            } => self.progress.tick(step, sps, last_eval),
            ProgressEvent::Evaluating { done, total } => self.progress.evaluating(done, total),
            ProgressEvent::Evaluated {
                step,
                mean,
                std,
                sps,
            } => self.progress.evaluated(step, mean, std, sps),
        }
    }
}
