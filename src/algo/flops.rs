//! The arithmetic of training, counted from the network shapes, so that `make bench` can put
//! the achieved rate of an update next to the machine's matrix-multiply rate.
//!
//! A dense layer over a batch is one `B×m · m×n` product: 2·B·m·n FLOPs forward. Its backward
//! pass costs 2·B·m·n more for the weights' gradient and 2·B·m·n for the input's; the first
//! layer of a net trained on data skips the input's (nothing upstream needs it). Bias adds,
//! activations, losses and the optimiser are O(B·n) or O(m·n) and not counted, so the rates
//! derived from these counts are lower bounds.

use std::collections::BTreeMap;

/// One dense layer applied to a batch: a `batch × input · input × output` product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Product {
    pub batch: usize,
    pub input: usize,
    pub output: usize,
}

impl Product {
    /// 2·B·m·n: one multiply and one add per term.
    pub fn flop(&self) -> f64 {
        2.0 * self.batch as f64 * self.input as f64 * self.output as f64
    }
}

/// How a network is run within an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Forward only (a target network, an action for the target).
    Forward,
    /// Forward and back to the weights (a net trained on data): each layer's product three
    /// times, the first layer's twice.
    Train,
    /// Forward and back to the input only (a frozen critic under the actor's loss): each
    /// layer's product twice.
    ThroughInput,
}

/// The matrix products of a run's training: how many gradient updates the budget makes and what
/// one of them multiplies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateWork {
    /// Gradient updates (minibatch steps) over the run's budget.
    pub updates: u64,
    /// Each distinct product of one update, with the times it is computed (fractional for a
    /// part that runs every k-th update, as TD3's delayed actor).
    pub products: BTreeMap<Product, f64>,
}

impl UpdateWork {
    pub fn new(updates: u64) -> Self {
        Self {
            updates,
            products: BTreeMap::new(),
        }
    }

    /// Adds `times` passes of the MLP `input → hidden… → output` over `batch` rows.
    pub fn mlp(
        mut self,
        pass: Pass,
        times: f64,
        batch: usize,
        (input, hidden, output): (usize, &[usize], usize),
    ) -> Self {
        let mut sizes = vec![input];
        sizes.extend_from_slice(hidden);
        sizes.push(output);
        for (layer, w) in sizes.windows(2).enumerate() {
            let products = match pass {
                Pass::Forward => 1.0,
                Pass::Train if layer == 0 => 2.0,
                Pass::Train => 3.0,
                Pass::ThroughInput => 2.0,
            };
            let product = Product {
                batch,
                input: w[0],
                output: w[1],
            };
            *self.products.entry(product).or_default() += times * products;
        }
        self
    }

    /// FLOPs of one update.
    pub fn flop_per_update(&self) -> f64 {
        self.products
            .iter()
            .map(|(p, times)| times * p.flop())
            .sum()
    }

    /// FLOPs of all the updates of the run.
    pub fn total_flop(&self) -> f64 {
        self.updates as f64 * self.flop_per_update()
    }

    /// The rate the update's products would run at if each ran at `rate(product)` FLOP/s: the
    /// FLOP-weighted harmonic mean (total FLOPs over total time).
    pub fn rate_at(&self, mut rate: impl FnMut(&Product) -> f64) -> f64 {
        let time: f64 = self
            .products
            .iter()
            .map(|(p, times)| times * p.flop() / rate(p))
            .sum();
        self.flop_per_update() / time
    }
}

/// Training rounds of an off-policy learner: one every `train_freq` vector-env steps once more
/// than `learning_starts` env steps are taken, `num_envs` env steps per vector step.
pub fn off_policy_rounds(
    total_steps: u64,
    num_envs: usize,
    learning_starts: u64,
    train_freq: u64,
) -> u64 {
    let num_envs = num_envs.max(1) as u64;
    let vector_steps = total_steps.div_ceil(num_envs);
    let warm_up = learning_starts / num_envs;
    (vector_steps / train_freq).saturating_sub(warm_up / train_freq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trained_mlp_costs_three_products_a_layer_but_two_for_the_first() {
        // 4 → 64 → 2 over 256 rows: 2·256·(4·64·2 + 64·2·3) FLOPs.
        let w = UpdateWork::new(10).mlp(Pass::Train, 1.0, 256, (4, &[64], 2));
        let expected = 2.0 * 256.0 * (4.0 * 64.0 * 2.0 + 64.0 * 2.0 * 3.0);
        assert_eq!(w.flop_per_update(), expected);
        assert_eq!(w.total_flop(), 10.0 * expected);
    }

    #[test]
    fn sac_pendulum_is_the_550_mflop_of_the_issue() {
        // Batch 256, 256-wide: twin critics trained, their targets forward, the actor forward for
        // the next action and trained, the twin critics under the actor's loss.
        let (b, h) = (256, [256, 256]);
        let w = UpdateWork::new(1)
            .mlp(Pass::Train, 2.0, b, (4, &h, 1))
            .mlp(Pass::Forward, 2.0, b, (4, &h, 1))
            .mlp(Pass::Forward, 1.0, b, (3, &h, 2))
            .mlp(Pass::Train, 1.0, b, (3, &h, 2))
            .mlp(Pass::ThroughInput, 2.0, b, (4, &h, 1));
        let mflop = w.flop_per_update() / 1e6;
        assert!((500.0..560.0).contains(&mflop), "{mflop}");
    }

    #[test]
    fn equal_rates_give_that_rate_and_a_slow_product_weighs_by_its_flops() {
        let w = UpdateWork::new(1)
            .mlp(Pass::Forward, 1.0, 8, (2, &[], 2))
            .mlp(Pass::Forward, 3.0, 8, (4, &[], 4));
        assert!((w.rate_at(|_| 5.0) - 5.0).abs() < 1e-12);
        // FLOPs 64 at rate 1 and 768 at rate 2: (64 + 768) / (64 + 384).
        let rate = w.rate_at(|p| if p.input == 2 { 1.0 } else { 2.0 });
        assert!((rate - 832.0 / 448.0).abs() < 1e-12);
    }

    #[test]
    fn rounds_start_after_the_warm_up_and_follow_train_freq() {
        // Steps 101..=1000 train: 900 rounds; every 4th vector step: 250 − 25.
        assert_eq!(off_policy_rounds(1000, 1, 100, 1), 900);
        assert_eq!(off_policy_rounds(1000, 1, 100, 4), 225);
        // Two envs: 500 vector steps, the warm-up is 50 of them.
        assert_eq!(off_policy_rounds(1000, 2, 100, 1), 450);
        assert_eq!(off_policy_rounds(50, 1, 100, 1), 0);
    }
}
