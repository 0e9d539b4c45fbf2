//! MBPO's rollout-length schedule (Janner et al. 2019, appendix C, "[a, b, x, y]: linearly
//! increasing rollout length from x to y over epochs a to b"): k = x up to epoch a, then
//! x + (e − a)/(b − a) · (y − x) rounded down (the reference code's `int`), y from epoch b on.

/// The schedule [a, b, x, y] = [min_epoch, max_epoch, min_length, max_length] (a < b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolloutSchedule {
    pub min_epoch: u64,
    pub max_epoch: u64,
    pub min_length: usize,
    pub max_length: usize,
}

impl RolloutSchedule {
    /// k, the rollout length in `epoch`.
    pub fn length(&self, epoch: u64) -> usize {
        if epoch <= self.min_epoch {
            return self.min_length;
        }
        let progress =
            ((epoch - self.min_epoch) as f64 / (self.max_epoch - self.min_epoch) as f64).min(1.0);
        let (x, y) = (self.min_length as f64, self.max_length as f64);
        (x + progress * (y - x)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's Hopper schedule [20, 100, 1, 15]: 1 up to epoch 20, 1 + 14(e − 20)/80
    /// rounded down in between, 15 from epoch 100.
    #[test]
    fn the_length_is_linear_in_the_epoch_between_a_and_b() {
        let schedule = RolloutSchedule {
            min_epoch: 20,
            max_epoch: 100,
            min_length: 1,
            max_length: 15,
        };
        for (epoch, want) in [
            (0, 1),
            (20, 1),
            (25, 1),
            (26, 2),
            (60, 8),
            (99, 14),
            (100, 15),
            (1000, 15),
        ] {
            assert_eq!(schedule.length(epoch), want, "epoch {epoch}");
            let closed = (1.0 + 14.0 * (epoch.clamp(20, 100) - 20) as f64 / 80.0).floor();
            assert_eq!(schedule.length(epoch), closed as usize, "epoch {epoch}");
        }
    }
}
