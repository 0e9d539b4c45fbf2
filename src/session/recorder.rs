//! Where a session's results go: the [`Recorder`] trait. The runner implements it with the seed
//! folder's files and a progress bar (`run::FileRecorder`); [`MemoryRecorder`] keeps everything
//! in memory, so an algorithm can be trained and tested without writing a file.

use std::collections::BTreeMap;

use super::checkpoint::Checkpoint;
use crate::record::CurveRow;

/// What the session reports for the progress display.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProgressEvent {
    /// Training reached `step` at `sps` env steps per training second.
    Step {
        step: u64,
        sps: f64,
        last_eval: Option<f64>,
    },
    /// `done` of `total` evaluation episodes have finished.
    Evaluating { done: u32, total: u32 },
    /// An evaluation at `step` ended with this mean and standard deviation.
    Evaluated {
        step: u64,
        mean: f64,
        std: f64,
        sps: f64,
    },
}

/// One finished training episode (a row of `episodes.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeRow {
    pub step: u64,
    /// The return (on a multi-agent env, the team return: the sum of the agents' returns).
    pub episode_return: f64,
    pub length: u32,
    pub wall_s: f64,
    /// Each agent's return on a multi-agent env, in agent order (empty on a single-agent one).
    pub agent_returns: Vec<f64>,
}

/// The sink of one seed's results.
pub trait Recorder {
    /// Declares the per-agent return columns of the episode rows (none on a single-agent env);
    /// once, before the first episode.
    fn start_episodes(&mut self, agent_columns: &[String]) -> anyhow::Result<()>;

    /// Declares the algorithm's diagnostic columns of the learning curve (once, before the
    /// first row).
    fn start_curve(&mut self, diagnostics: &[&str]) -> anyhow::Result<()>;

    /// Appends one evaluation row.
    fn curve_row(&mut self, row: &CurveRow) -> anyhow::Result<()>;

    /// Appends one finished training episode.
    fn episode(&mut self, row: &EpisodeRow) -> anyhow::Result<()>;

    /// Makes everything recorded so far durable (before a checkpoint, after an evaluation).
    fn flush(&mut self) -> anyhow::Result<()>;

    /// Stores `checkpoint`, replacing the previous one.
    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> anyhow::Result<()>;

    /// Stores an artifact of the trained policy (`policy.json`, `model.bpk`, ...) under `name`.
    fn artifact(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()>;

    /// Shows progress (a no-op where nobody watches).
    fn progress(&mut self, _event: ProgressEvent) {}
}

/// One curve row, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryCurveRow {
    pub step: u64,
    pub episodes: u64,
    pub eval_returns: Vec<f64>,
    pub train_return_mean: Option<f64>,
    pub diagnostics: Vec<f64>,
}

/// A recorder that keeps everything in memory (tests, library use).
#[derive(Debug, Default)]
pub struct MemoryRecorder {
    pub agent_columns: Vec<String>,
    pub diagnostics: Vec<String>,
    pub curve: Vec<MemoryCurveRow>,
    pub episodes: Vec<EpisodeRow>,
    pub checkpoint: Option<Checkpoint>,
    pub artifacts: BTreeMap<String, Vec<u8>>,
}

impl MemoryRecorder {
    /// Mean evaluation return of the last curve row.
    pub fn final_eval(&self) -> Option<f64> {
        let returns = &self.curve.last()?.eval_returns;
        Some(returns.iter().sum::<f64>() / returns.len() as f64)
    }
}

impl Recorder for MemoryRecorder {
    fn start_episodes(&mut self, agent_columns: &[String]) -> anyhow::Result<()> {
        self.agent_columns = agent_columns.to_vec();
        Ok(())
    }

    fn start_curve(&mut self, diagnostics: &[&str]) -> anyhow::Result<()> {
        self.diagnostics = diagnostics.iter().map(|d| d.to_string()).collect();
        Ok(())
    }

    fn curve_row(&mut self, row: &CurveRow) -> anyhow::Result<()> {
        self.curve.push(MemoryCurveRow {
            step: row.step,
            episodes: row.episodes,
            eval_returns: row.eval_returns.to_vec(),
            train_return_mean: row.train_return_mean,
            diagnostics: row.diagnostics.to_vec(),
        });
        Ok(())
    }

    fn episode(&mut self, row: &EpisodeRow) -> anyhow::Result<()> {
        self.episodes.push(row.clone());
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        self.checkpoint = Some(checkpoint.clone());
        Ok(())
    }

    fn artifact(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.artifacts.insert(name.to_string(), bytes.to_vec());
        Ok(())
    }
}
