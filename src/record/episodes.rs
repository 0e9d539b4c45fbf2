//! `episodes.csv`: one row per finished training episode.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// Appends `step,return,length,wall_s` rows (a multi-agent env's: then one `return_<agent>`
/// column per agent); buffered, flushed at every evaluation and at the end.
pub struct EpisodeWriter {
    writer: csv::Writer<BufWriter<File>>,
}

impl EpisodeWriter {
    /// Creates `path` with the header, `agent_columns` after the fixed columns.
    pub fn create(path: &Path, agent_columns: &[String]) -> io::Result<Self> {
        let mut writer = csv::Writer::from_writer(BufWriter::new(File::create(path)?));
        let fixed = ["step", "return", "length", "wall_s"].map(String::from);
        writer.write_record(fixed.iter().chain(agent_columns))?;
        Ok(Self { writer })
    }

    /// Reopens `path` to append rows after its existing ones (a resumed run).
    pub fn append(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Self {
            writer: csv::Writer::from_writer(BufWriter::new(file)),
        })
    }

    /// Records an episode that ended at env step `step` (`agent_returns`: one per agent
    /// column).
    pub fn write(
        &mut self,
        step: u64,
        episode_return: f64,
        length: u32,
        wall_s: f64,
        agent_returns: &[f64],
    ) -> io::Result<()> {
        self.writer
            .serialize((step, episode_return, length, wall_s, agent_returns))?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
