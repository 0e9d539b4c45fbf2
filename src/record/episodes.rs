//! `episodes.csv`: one row per finished training episode.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// Appends `step,return,length,wall_s` rows; buffered, flushed at every evaluation and at the end.
pub struct EpisodeWriter {
    writer: csv::Writer<BufWriter<File>>,
}

impl EpisodeWriter {
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut writer = csv::Writer::from_writer(BufWriter::new(File::create(path)?));
        writer.write_record(["step", "return", "length", "wall_s"])?;
        Ok(Self { writer })
    }

    /// Reopens `path` to append rows after its existing ones (a resumed run).
    pub fn append(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Self {
            writer: csv::Writer::from_writer(BufWriter::new(file)),
        })
    }

    /// Records an episode that ended at env step `step`.
    pub fn write(
        &mut self,
        step: u64,
        episode_return: f64,
        length: u32,
        wall_s: f64,
    ) -> io::Result<()> {
        self.writer
            .serialize((step, episode_return, length, wall_s))?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
