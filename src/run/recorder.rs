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
    episodes: Option<EpisodeWriter>,
    /// Rows of curve.csv and episodes.csv that belong to the checkpoint being resumed.
    resumed_rows: Option<(u64, u64)>,
}

impl<'a> FileRecorder<'a> {
    /// Records into `dir`: new files, or, resuming from `resume`, the files cut back to the
    /// rows that checkpoint counted.
    pub fn open(
        dir: &'a Path,
        progress: &'a mut Progress,
        resume: Option<&Checkpoint>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            dir,
            progress,
            curve: None,
            episodes: None,
            resumed_rows: resume.map(|c| (c.session.curve_rows, c.session.episode_rows)),
        })
    }
}

impl Recorder for FileRecorder<'_> {
    fn start_episodes(&mut self, agent_columns: &[String]) -> anyhow::Result<()> {
        let path = self.dir.join("episodes.csv");
        let writer = match self.resumed_rows {
            None => EpisodeWriter::create(&path, agent_columns),
            Some((_, rows)) => {
                checkpoint::truncate_csv(&path, rows)?;
                EpisodeWriter::append(&path)
            }
        };
        self.episodes = Some(writer.with_context(|| format!("cannot open {}", path.display()))?);
        Ok(())
    }

    fn start_curve(&mut self, diagnostics: &[&str]) -> anyhow::Result<()> {
        let path = self.dir.join("curve.csv");
        let writer = match self.resumed_rows {
            None => CurveWriter::create(&path, diagnostics),
            Some((rows, _)) => {
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
        let episodes = self
            .episodes
            .as_mut()
            .context("the episodes were not started")?;
        Ok(episodes.write(
            row.step,
            row.episode_return,
            row.length,
            row.wall_s,
            &row.agent_returns,
        )?)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        match &mut self.episodes {
            Some(episodes) => Ok(episodes.flush()?),
            None => Ok(()),
        }
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
