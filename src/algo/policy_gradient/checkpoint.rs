//! Checkpoints of the on-policy methods. They are taken between updates, when the rollout
//! buffer holds nothing yet: the network, its optimiser(s), the collector (envs, normalisation
//! statistics, exploration stream) and the diagnostics of the last update are all there is.

use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use super::rollout::{Collector, CollectorState};
use crate::nn::{ActorCritic, SavedModule, SavedOptimizer};
use crate::rng::Rng;

/// The minibatch stream of PPO and the permutation it last shuffled (each epoch shuffles it
/// again, in place).
#[derive(Clone, Serialize, Deserialize)]
pub struct MinibatchOrder {
    pub rng: Rng,
    pub indices: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
pub struct OnPolicyState {
    model: SavedModule,
    optimizers: Vec<SavedOptimizer>,
    collector: CollectorState,
    diagnostics: Vec<f64>,
    minibatches: Option<MinibatchOrder>,
}

impl OnPolicyState {
    pub fn capture(
        model: &ActorCritic,
        optimizers: &[&ModuleOptimizer],
        collector: &Collector,
        diagnostics: &[f64],
        minibatches: Option<MinibatchOrder>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            model: SavedModule::of(model)?,
            optimizers: optimizers
                .iter()
                .map(|o| SavedOptimizer::of(o))
                .collect::<anyhow::Result<_>>()?,
            collector: collector.state(),
            diagnostics: diagnostics.to_vec(),
            minibatches,
        })
    }

    /// Puts the saved state into the freshly built `model`, `optimizers` (in the order they
    /// were captured) and `collector`; returns the diagnostics and the minibatch order.
    pub fn restore(
        self,
        model: &mut ActorCritic,
        optimizers: &mut [&mut ModuleOptimizer],
        collector: &mut Collector,
    ) -> anyhow::Result<(Vec<f64>, Option<MinibatchOrder>)> {
        anyhow::ensure!(
            self.optimizers.len() == optimizers.len(),
            "the checkpoint has {} optimisers, the run {}",
            self.optimizers.len(),
            optimizers.len()
        );
        *model = self.model.restore(model.clone())?;
        for (saved, optimizer) in self.optimizers.into_iter().zip(optimizers.iter_mut()) {
            **optimizer = saved.restore(optimizer.clone())?;
        }
        collector.restore(self.collector);
        Ok((self.diagnostics, self.minibatches))
    }
}
