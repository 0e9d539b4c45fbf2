//! What a planner reports per real step: wall-clock planning time and simulated env steps.

use std::time::Instant;

/// Running means over the planning steps taken so far.
#[derive(Clone, Debug, Default)]
pub struct PlanStats {
    steps: u64,
    seconds: f64,
    sim_steps: u64,
}

impl PlanStats {
    /// Records one planning step that began at `started` and simulated `sim_steps` env steps.
    pub fn record(&mut self, started: Instant, sim_steps: usize) {
        self.steps += 1;
        self.seconds += started.elapsed().as_secs_f64();
        self.sim_steps += sim_steps as u64;
    }

    /// Mean wall-clock milliseconds per planning step (NaN before the first).
    pub fn mean_plan_ms(&self) -> f64 {
        1e3 * self.seconds / self.steps as f64
    }

    /// Mean simulated env steps per real step (NaN before the first).
    pub fn mean_sim_steps(&self) -> f64 {
        self.sim_steps as f64 / self.steps as f64
    }
}
