//! Means of per-update diagnostics (losses, Q-values, α), summed on the device and read back
//! only when a curve row is written: on a GPU every read is a synchronisation.
//!
//! A NaN or infinite update makes its column's running sum non-finite from then on, so a
//! divergence is seen at the next read; the device also counts, per column, the updates whose
//! running sum was still finite, which names the first bad update (and its env step) without
//! reading anything back before then.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::nn::{to_vec, vector};
use crate::session::Session;

/// The running sums of [`DeviceMeans`] on the host (f32, as on the device: exact).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeansState {
    sums: Option<Vec<f32>>,
    count: usize,
    #[serde(default)]
    finite_updates: Option<Vec<f32>>,
    #[serde(default)]
    steps: Vec<u64>,
}

/// Running sums of one scalar per named column per update.
pub struct DeviceMeans {
    names: Vec<&'static str>,
    sums: Option<Tensor<1>>,
    /// Per column, how many updates since the last read left the running sum finite.
    finite_updates: Option<Tensor<1>>,
    /// The env step of each update since the last read.
    steps: Vec<u64>,
}

impl DeviceMeans {
    /// Means of the columns `names` (as in curve.csv, where errors name them).
    pub fn new(names: &[&'static str]) -> Self {
        Self {
            names: names.to_vec(),
            sums: None,
            finite_updates: None,
            steps: Vec::new(),
        }
    }

    /// Adds the scalars (one-element tensors, detached, in column order) of the update made
    /// at env step `step`.
    ///
    /// The sums live on the inner (non-autodiff) backend: Burn's autodiff registers even ops on
    /// detached tensors, and its sweep after each backward pass visits every node still alive,
    /// so a chain of sums on the autodiff device made each backward pass slower than the last
    /// until the next read.
    pub fn add(&mut self, step: u64, values: Vec<Tensor<1>>) {
        debug_assert_eq!(values.len(), self.names.len());
        self.add_row(
            step,
            Tensor::cat(values.into_iter().map(Tensor::inner).collect(), 0),
        );
    }

    /// [`DeviceMeans::add`] for scalars computed on the host, summed on `device`'s inner
    /// backend.
    pub fn add_host(&mut self, step: u64, values: &[f32], device: &Device) {
        debug_assert_eq!(values.len(), self.names.len());
        self.add_row(step, vector(values, device).inner());
    }

    /// Adds one row of scalars (on the inner backend).
    fn add_row(&mut self, step: u64, row: Tensor<1>) {
        let sums = match self.sums.take() {
            Some(s) => s + row,
            None => row,
        };
        let finite = sums.clone().is_finite().float();
        self.finite_updates = Some(match self.finite_updates.take() {
            Some(c) => c + finite,
            None => finite,
        });
        self.sums = Some(sums);
        self.steps.push(step);
    }

    /// The sums and counts so far, for a checkpoint.
    pub fn state(&self) -> MeansState {
        MeansState {
            sums: self.sums.clone().map(to_vec),
            count: self.steps.len(),
            finite_updates: self.finite_updates.clone().map(to_vec),
            steps: self.steps.clone(),
        }
    }

    /// Continues from a checkpoint's sums, on the `device` the updates' scalars live on.
    pub fn restore(&mut self, state: MeansState, device: &Device) {
        self.sums = state.sums.map(|s| vector(&s, device).inner());
        self.finite_updates = state.finite_updates.map(|s| vector(&s, device).inner());
        self.steps = state.steps;
    }

    /// The means since the last call (NaN where no update happened). A column that stopped
    /// being finite is reported to `session` ([`Session::non_finite`]) with the env step of
    /// the update that made it so: with `on_nonfinite = "fail"` that is an error.
    pub fn take(&mut self, session: &Session) -> anyhow::Result<Vec<f64>> {
        let steps = std::mem::take(&mut self.steps);
        let finite_updates = self.finite_updates.take();
        let Some(sums) = self.sums.take() else {
            return Ok(vec![f64::NAN; self.names.len()]);
        };
        let means: Vec<f64> = to_vec(sums)
            .iter()
            .map(|&x| f64::from(x) / steps.len() as f64)
            .collect();
        if let Some(column) = means.iter().position(|m| !m.is_finite()) {
            let finite = finite_updates.map_or(0.0, |c| to_vec(c)[column]);
            let first_bad = steps[(finite as usize).min(steps.len() - 1)];
            session.non_finite(first_bad, self.names[column], means[column])?;
        }
        Ok(means)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvSection;
    use crate::session::{MemoryRecorder, OnNonFinite, RunSpec};

    fn with_session(on_nonfinite: OnNonFinite, f: impl FnOnce(&Session)) {
        let env: EnvSection = toml::from_str("id = \"CartPole-v1\"").unwrap();
        let mut spec = RunSpec::new(0, env, 100, 100);
        spec.on_nonfinite = on_nonfinite;
        let mut recorder = MemoryRecorder::default();
        let session = Session::new(&spec, &mut recorder, None).unwrap();
        f(&session);
    }

    fn scalar(x: f32) -> Tensor<1> {
        Tensor::<1>::from_floats([x], &Device::flex())
    }

    #[test]
    fn means_since_the_last_read() {
        with_session(OnNonFinite::Fail, |session| {
            let mut m = DeviceMeans::new(&["a", "b"]);
            assert!(m.take(session).unwrap().iter().all(|x| x.is_nan()));
            m.add(1, vec![scalar(1.0), scalar(10.0)]);
            m.add(2, vec![scalar(3.0), scalar(20.0)]);
            assert_eq!(m.take(session).unwrap(), vec![2.0, 15.0]);
            m.add(3, vec![scalar(5.0), scalar(0.0)]);
            assert_eq!(m.take(session).unwrap(), vec![5.0, 0.0]);
        });
    }

    #[test]
    fn a_non_finite_update_is_named_with_its_step() {
        with_session(OnNonFinite::Fail, |session| {
            let mut m = DeviceMeans::new(&["loss_pi", "loss_q"]);
            m.add(100, vec![scalar(1.0), scalar(1.0)]);
            m.add(200, vec![scalar(1.0), scalar(f32::NAN)]);
            m.add(300, vec![scalar(f32::INFINITY), scalar(1.0)]);
            let error = m.take(session).unwrap_err().to_string();
            // The first column that is not finite is reported, at its first bad update.
            assert!(
                error.starts_with("diverged at step 300: loss_pi is inf"),
                "{error}"
            );
            m.add(400, vec![scalar(1.0), scalar(f32::NEG_INFINITY)]);
            let error = m.take(session).unwrap_err().to_string();
            assert!(
                error.starts_with("diverged at step 400: loss_q is -inf"),
                "{error}"
            );
        });
    }

    #[test]
    fn continue_records_non_finite_means() {
        with_session(OnNonFinite::Continue, |session| {
            let mut m = DeviceMeans::new(&["loss"]);
            m.add(1, vec![scalar(f32::NAN)]);
            assert!(m.take(session).unwrap()[0].is_nan());
        });
    }
}
