//! Progress reporting for one seed: a live bar on a terminal, plain log lines otherwise.

use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How the runner shows progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// One live bar per running seed (stdout is a terminal).
    Bars,
    /// A log line per evaluation (stdout is a pipe or file).
    Lines,
    /// Nothing.
    Quiet,
}

/// Shared display state of a run; hands out one [`Progress`] per seed.
pub struct ProgressBoard {
    display: Display,
    multi: MultiProgress,
    /// Whether a seed's line names its experiment (a sweep runs many at once).
    named: bool,
}

impl ProgressBoard {
    pub fn new(display: Display) -> Self {
        let multi = MultiProgress::with_draw_target(match display {
            Display::Bars => ProgressDrawTarget::stdout(),
            _ => ProgressDrawTarget::hidden(),
        });
        Self {
            display,
            multi,
            named: false,
        }
    }

    /// A board whose lines name the experiment before the seed (a sweep's trials).
    pub fn named(display: Display) -> Self {
        Self {
            named: true,
            ..Self::new(display)
        }
    }

    /// A progress handle for `seed` of `experiment`, whose run lasts `total_steps`.
    pub fn seed(&self, experiment: &str, seed: u64, total_steps: u64) -> Progress {
        let label = if self.named {
            format!("{experiment} seed {seed}")
        } else {
            format!("seed {seed}")
        };
        let bar = (self.display == Display::Bars).then(|| {
            let bar = self.multi.add(ProgressBar::new(total_steps));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>8} [{bar:30.cyan/blue}] {human_pos:>9}/{human_len} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.clone());
            bar
        });
        Progress {
            display: self.display,
            label,
            total_steps,
            bar,
            last_draw: None,
            transient: self.named,
        }
    }

    /// The overall bar of `total` jobs of which `done` are complete already (a sweep).
    pub fn jobs(&self, done: u64, total: u64) -> JobsProgress {
        let bar = (self.display == Display::Bars).then(|| {
            let bar = self.multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "jobs [{bar:30.green/blue}] {pos}/{len} done, ETA {eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_position(done);
            bar.reset_eta();
            bar
        });
        JobsProgress {
            display: self.display,
            bar,
            done,
            at_start: done,
            total,
            started: Instant::now(),
        }
    }

    /// Prints a line without tearing the bars.
    /// Reports an error on stderr, in every display mode, without tearing the bars.
    pub fn error(&self, line: &str) {
        match self.display {
            Display::Bars => self.multi.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }
}

/// Progress of one seed.
pub struct Progress {
    display: Display,
    /// `seed 3`, or `<experiment> seed 3` on a named board.
    label: String,
    total_steps: u64,
    bar: Option<ProgressBar>,
    last_draw: Option<Instant>,
    /// The bar goes when the seed ends (a sweep's many jobs leave only the overall bar).
    transient: bool,
}

impl Progress {
    /// Called often from the training loop; redraws at most ten times a second.
    pub fn tick(&mut self, step: u64, sps: f64, last_eval: Option<f64>) {
        let Some(bar) = &self.bar else { return };
        if self
            .last_draw
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(Instant::now());
        if self.total_steps > 0 {
            bar.set_position(step.min(self.total_steps));
        }
        bar.set_message(status(sps, last_eval));
    }

    /// Called after each evaluation episode (long evaluations, e.g. planners, show progress).
    pub fn evaluating(&mut self, done: u32, total: u32) {
        let Some(bar) = &self.bar else { return };
        if done < total
            && self
                .last_draw
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(Instant::now());
        if self.total_steps == 0 {
            // A planner: its run is its evaluation, so the bar counts episodes.
            bar.set_length(u64::from(total));
            bar.set_position(u64::from(done));
        }
        if done < total {
            bar.set_message(format!("evaluating: episode {}/{total}", done + 1));
        }
    }

    /// Called after each evaluation.
    pub fn evaluated(&mut self, step: u64, eval_mean: f64, eval_std: f64, sps: f64) {
        match self.display {
            Display::Bars => {
                self.last_draw = None;
                self.tick(step, sps, Some(eval_mean));
            }
            Display::Lines => emit(&format!(
                "{}: step {step}/{}  eval {eval_mean:.2} ± {eval_std:.2}  {sps:.0} steps/s\n",
                self.label, self.total_steps
            )),
            Display::Quiet => {}
        }
    }

    /// Called once when the seed ends (`outcome` is a short word: complete, failed).
    pub fn finish(&mut self, outcome: &str) {
        match &self.bar {
            Some(bar) if self.transient => bar.finish_and_clear(),
            Some(bar) => bar.finish_with_message(outcome.to_string()),
            None => {}
        }
    }
}

/// The overall progress of a sweep's jobs: a bar with an ETA, or a line per finished job.
pub struct JobsProgress {
    display: Display,
    bar: Option<ProgressBar>,
    done: u64,
    /// Jobs complete before this command started (they do not count towards the ETA).
    at_start: u64,
    total: u64,
    started: Instant,
}

impl JobsProgress {
    /// Called when job `label` ends with `outcome` (complete, failed, interrupted).
    pub fn finished(&mut self, label: &str, outcome: &str) {
        self.done += 1;
        let ran = self.done - self.at_start;
        let left = self.total.saturating_sub(self.done);
        let eta = self.started.elapsed().mul_f64(left as f64 / ran as f64);
        match (&self.bar, self.display) {
            (Some(bar), _) => {
                bar.set_position(self.done);
                bar.set_message(format!("(last: {label} {outcome})"));
            }
            (None, Display::Lines) => emit(&format!(
                "[{}/{}] {label}: {outcome}, ETA {}\n",
                self.done,
                self.total,
                humantime::format_duration(Duration::from_secs(eta.as_secs()))
            )),
            (None, _) => {}
        }
    }

    /// Clears the bar at the end of the sweep.
    pub fn close(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

fn status(sps: f64, last_eval: Option<f64>) -> String {
    let speed = (sps > 0.0).then(|| format!("{sps:>7.0} steps/s"));
    let eval = last_eval.map(|e| format!("eval {e:.2}"));
    speed.into_iter().chain(eval).collect::<Vec<_>>().join("  ")
}

/// Writes `text` to stdout. A closed pipe (`rl envs | head`) means the reader has gone, so write
/// errors are ignored rather than allowed to panic.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
