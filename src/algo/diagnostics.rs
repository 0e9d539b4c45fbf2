//! Means of per-update diagnostics (losses, Q-values, α), summed on the device and read back
//! only when a curve row is written: on a GPU every read is a synchronisation.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::nn::{to_vec, vector};

/// The running sums of [`DeviceMeans`] on the host (f32, as on the device: exact).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeansState {
    sums: Option<Vec<f32>>,
    count: usize,
}

/// Running sums of `width` scalars per update.
pub struct DeviceMeans {
    width: usize,
    sums: Option<Tensor<1>>,
    count: usize,
}

impl DeviceMeans {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            sums: None,
            count: 0,
        }
    }

    /// Adds one update's scalars (one-element tensors, detached), in column order.
    ///
    /// The sums live on the inner (non-autodiff) backend: Burn's autodiff registers even ops on
    /// detached tensors, and its sweep after each backward pass visits every node still alive,
    /// so a chain of sums on the autodiff device made each backward pass slower than the last
    /// until the next read.
    pub fn add(&mut self, values: Vec<Tensor<1>>) {
        debug_assert_eq!(values.len(), self.width);
        let row = Tensor::cat(values.into_iter().map(Tensor::inner).collect(), 0);
        self.sums = Some(match self.sums.take() {
            Some(s) => s + row,
            None => row,
        });
        self.count += 1;
    }

    /// The sums and count so far, for a checkpoint.
    pub fn state(&self) -> MeansState {
        MeansState {
            sums: self.sums.clone().map(to_vec),
            count: self.count,
        }
    }

    /// Continues from a checkpoint's sums, on the `device` the updates' scalars live on.
    pub fn restore(&mut self, state: MeansState, device: &Device) {
        self.sums = state.sums.map(|s| vector(&s, device).inner());
        self.count = state.count;
    }

    /// The means since the last call (NaN where no update happened).
    pub fn take(&mut self) -> Vec<f64> {
        let n = std::mem::take(&mut self.count);
        match self.sums.take() {
            Some(s) => to_vec(s).iter().map(|&x| f64::from(x) / n as f64).collect(),
            None => vec![f64::NAN; self.width],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_since_the_last_read() {
        let device = Device::flex();
        let t = |x: f32| Tensor::<1>::from_floats([x], &device);
        let mut m = DeviceMeans::new(2);
        assert!(m.take().iter().all(|x| x.is_nan()));
        m.add(vec![t(1.0), t(10.0)]);
        m.add(vec![t(3.0), t(20.0)]);
        assert_eq!(m.take(), vec![2.0, 15.0]);
        m.add(vec![t(5.0), t(0.0)]);
        assert_eq!(m.take(), vec![5.0, 0.0]);
    }
}
