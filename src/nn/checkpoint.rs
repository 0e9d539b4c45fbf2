//! Networks and optimiser states inside checkpoints, as burnpack bytes. A module's record keeps
//! its parameters' ids, and Adam's moments are keyed by those ids, so a network and its
//! optimiser restored together continue the very same updates.

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

/// The parameters of a module (with their ids).
#[derive(Serialize, Deserialize)]
pub struct SavedModule(Vec<u8>);

/// The parameters of `module` as a burnpack file's bytes (what `Module::save_file` writes).
pub fn burnpack<M: Module>(module: M) -> anyhow::Result<Vec<u8>> {
    let bytes = module
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("cannot record a network: {e:?}"))?;
    Ok(bytes.to_vec())
}

impl SavedModule {
    pub fn of<M: Module>(module: &M) -> anyhow::Result<Self> {
        Ok(Self(burnpack(module.clone())?))
    }

    /// `module` (of the same architecture, on the device to train on) with the saved values.
    pub fn restore<M: Module>(self, module: M) -> anyhow::Result<M> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.0))
            .map_err(|e| anyhow::anyhow!("cannot read a network of the checkpoint: {e:?}"))?;
        module
            .try_load_record(record)
            .map_err(|e| anyhow::anyhow!("the checkpoint's network does not fit: {e:?}"))
    }
}

/// The state of an optimiser (Adam's moments and step counts, per parameter id).
#[derive(Serialize, Deserialize)]
pub struct SavedOptimizer(Vec<u8>);

impl SavedOptimizer {
    pub fn of(optimizer: &ModuleOptimizer) -> anyhow::Result<Self> {
        let bytes = optimizer
            .to_record()
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("cannot record an optimiser: {e:?}"))?;
        Ok(Self(bytes.to_vec()))
    }

    /// `optimizer` (configured as the saved one) continuing from the saved state. Burn loads
    /// the moments on its default device and moves them to each parameter's device at the next
    /// step; `main` pins that default to the CPU (see [`crate::nn::device`]).
    pub fn restore(self, optimizer: ModuleOptimizer) -> anyhow::Result<ModuleOptimizer> {
        let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(self.0))
            .map_err(|e| anyhow::anyhow!("cannot read an optimiser of the checkpoint: {e:?}"))?;
        Ok(optimizer.load_record(record))
    }
}
