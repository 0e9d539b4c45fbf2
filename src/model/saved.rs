//! A fitted model in a run folder, for `rl eval` of the planners on learned models: the
//! ensemble's weights (`model.bpk`, Burn's burnpack) and the normalisers of its last fit
//! (`normalizers.json`), written at the end of the run.

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::ensemble::Ensemble;
use super::learned::Model;
use super::normalizer::Normalizer;
use crate::nn::burnpack;
use crate::rng::{Stream, stream};

pub const MODEL_FILE: &str = "model.bpk";
pub const NORMALIZERS_FILE: &str = "normalizers.json";

/// The normalisers of (s, a) and of Δs.
#[derive(Serialize, Deserialize)]
struct Normalizers {
    input: Normalizer,
    target: Normalizer,
}

/// The architecture of a saved model, as the run's config states it.
pub struct ModelShape<'a> {
    pub members: usize,
    pub obs_dim: usize,
    pub act_dim: usize,
    pub hidden: &'a [usize],
    pub probabilistic: bool,
}

impl Model {
    /// The artifacts [`MODEL_FILE`] (bytes) and [`NORMALIZERS_FILE`] (JSON) of this model.
    pub fn artifacts(&self) -> anyhow::Result<(Vec<u8>, String)> {
        let normalizers = Normalizers {
            input: self.input.clone(),
            target: self.target.clone(),
        };
        Ok((
            burnpack(self.ensemble.clone())?,
            serde_json::to_string(&normalizers)?,
        ))
    }

    /// The model a run of `shape` saved in `run_dir`, on `device`.
    pub fn load(run_dir: &Path, shape: &ModelShape, device: &Device) -> anyhow::Result<Self> {
        let blank = Ensemble::new(
            shape.members,
            shape.obs_dim + shape.act_dim,
            shape.hidden,
            shape.obs_dim,
            shape.probabilistic,
            &mut stream(0, Stream::Init),
            device,
        );
        let path = run_dir.join(MODEL_FILE);
        let ensemble = blank
            .try_load_file(&path)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .with_context(|| format!("cannot load the model from {}", path.display()))?;
        let path = run_dir.join(NORMALIZERS_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let normalizers: Normalizers = serde_json::from_str(&text)
            .with_context(|| format!("{}: not the normalisers of a model", path.display()))?;
        let dims = (normalizers.input.dim(), normalizers.target.dim());
        if dims != (shape.obs_dim + shape.act_dim, shape.obs_dim) {
            anyhow::bail!(
                "{}: normalisers of {} inputs and {} targets, the env needs {} and {}",
                path.display(),
                dims.0,
                dims.1,
                shape.obs_dim + shape.act_dim,
                shape.obs_dim
            );
        }
        Ok(Self {
            ensemble,
            input: normalizers.input,
            target: normalizers.target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::learned::LearnedModel;
    use crate::nn::to_vec;
    use crate::rng::from_seed;

    /// A saved probabilistic ensemble and its normalisers load back to the same predictions,
    /// bit for bit; the wrong architecture is refused.
    #[test]
    fn a_saved_model_loads_back_to_the_same_predictions() {
        let device = Device::flex();
        let mut learned = LearnedModel::new(
            3,
            (3, 1),
            &[16, 8],
            true,
            &mut from_seed(4),
            &device.clone().autodiff(),
        );
        learned.input = Normalizer::fit(&[0.5, -0.5, 1.0, 0.0, -0.5, 0.5, -1.0, 2.0], 4);
        learned.target = Normalizer::fit(&[0.1, 0.2, -0.3, 0.3, -0.2, 0.5], 3);
        let model = learned.model();
        let dir = std::env::temp_dir().join(format!("rl-saved-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (bytes, json) = model.artifacts().unwrap();
        std::fs::write(dir.join(MODEL_FILE), bytes).unwrap();
        std::fs::write(dir.join(NORMALIZERS_FILE), json).unwrap();
        let shape = ModelShape {
            members: 3,
            obs_dim: 3,
            act_dim: 1,
            hidden: &[16, 8],
            probabilistic: true,
        };
        let loaded = Model::load(&dir, &shape, &device).unwrap();
        let inputs = [0.3f32, -0.2, 0.9, 1.5, -1.0, 0.4, 0.0, -2.0];
        assert_eq!(loaded.member_means(&inputs), model.member_means(&inputs));
        let logvar = |m: &Model| {
            let x = Tensor::<3>::from_data(TensorData::new(inputs.repeat(3), [3, 2, 4]), &device);
            to_vec(m.ensemble.forward(x).logvar.expect("probabilistic"))
        };
        assert_eq!(logvar(&loaded), logvar(&model));
        assert_eq!(loaded.input, model.input);
        assert_eq!(loaded.target, model.target);
        let wrong = ModelShape {
            hidden: &[16, 16],
            ..shape
        };
        assert!(Model::load(&dir, &wrong, &device).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
