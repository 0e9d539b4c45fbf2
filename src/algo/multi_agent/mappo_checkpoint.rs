//! Checkpoints of MAPPO and IPPO, taken between updates (the rollout buffer then holds
//! nothing): the shared network and its Adam moments, the training envs (exactly: every
//! particle env's state and RNG, see [`MultiVecEnvSnapshot`]), the exploration stream, the
//! value normalisation's running statistics, PPO's minibatch order and the diagnostics of the
//! last update. A resumed seed therefore continues step for step as an uninterrupted one.

use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use super::value_norm::ValueNorm;
use crate::algo::policy_gradient::checkpoint::MinibatchOrder;
use crate::env::multi::MultiVecEnv;
use crate::env::multi::vector::MultiVecEnvSnapshot;
use crate::nn::{ActorCritic, SavedModule, SavedOptimizer};
use crate::rng::Rng;

#[derive(Serialize, Deserialize)]
pub struct MultiPpoState {
    model: SavedModule,
    optimizer: SavedOptimizer,
    envs: MultiVecEnvSnapshot,
    explore: Rng,
    value_norm: Option<ValueNorm>,
    minibatches: MinibatchOrder,
    diagnostics: Vec<f64>,
}

/// The freshly built training state a checkpoint is restored into.
pub struct MultiPpoParts<'a> {
    pub model: &'a mut ActorCritic,
    pub optimizer: &'a mut ModuleOptimizer,
    pub envs: &'a mut MultiVecEnv,
    pub explore: &'a mut Rng,
    pub value_norm: &'a mut Option<ValueNorm>,
    pub minibatches: &'a mut MinibatchOrder,
    pub diagnostics: &'a mut Vec<f64>,
}

impl MultiPpoState {
    pub fn capture(
        model: &ActorCritic,
        optimizer: &ModuleOptimizer,
        envs: &MultiVecEnv,
        explore: &Rng,
        value_norm: Option<&ValueNorm>,
        minibatches: &MinibatchOrder,
        diagnostics: &[f64],
    ) -> anyhow::Result<Self> {
        Ok(Self {
            model: SavedModule::of(model)?,
            optimizer: SavedOptimizer::of(optimizer)?,
            envs: envs.snapshot(),
            explore: explore.clone(),
            value_norm: value_norm.cloned(),
            minibatches: minibatches.clone(),
            diagnostics: diagnostics.to_vec(),
        })
    }

    /// Puts the saved state into the freshly built `parts`.
    pub fn restore(self, parts: MultiPpoParts<'_>) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.value_norm.is_some() == parts.value_norm.is_some(),
            "the checkpoint's value normalisation does not match algo.value_norm"
        );
        *parts.model = self.model.restore(parts.model.clone())?;
        *parts.optimizer = self.optimizer.restore(parts.optimizer.clone())?;
        parts.envs.restore(&self.envs);
        *parts.explore = self.explore;
        *parts.value_norm = self.value_norm;
        *parts.minibatches = self.minibatches;
        *parts.diagnostics = self.diagnostics;
        Ok(())
    }
}
