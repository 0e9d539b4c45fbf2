//! The classifier of adversarial imitation: D tells expert pairs (label 1) from the policy's
//! (label 0) by binary cross-entropy on its logit, D = σ(logit),
//!
//! L(D) = −E_{π_E}[log D] − E_π[log(1 − D)]   (Goodfellow et al. 2014, eq. 1; Ho & Ermon 2016,
//! eq. 17 with D the probability of the expert rather than of the policy),
//!
//! minimised, for each input x, by D*(x) = ρ_E(x) / (ρ_E(x) + ρ_π(x)) (Goodfellow et al.,
//! Proposition 1). No gradient penalty. GAIL's D(s, a) reads [s, φ(a)]: φ a one-hot code of a
//! discrete action, a continuous one clipped to the action bounds (what the env executed).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

use crate::nn::mlp::{Init, Mlp};
use crate::nn::{Activation, to_vec};
use crate::nn::{SavedModule, SavedOptimizer};
use crate::rng::Rng;
use crate::space::Space;

/// L(D) from the logits of a batch of expert pairs and one of policy pairs.
pub fn bce(expert_logits: Tensor<1>, policy_logits: Tensor<1>) -> Tensor<1> {
    let expert = activation::log_sigmoid(expert_logits).mean();
    let policy = activation::log_sigmoid(policy_logits.neg()).mean();
    (expert + policy).neg()
}

/// A discriminator in a checkpoint: its network(s) and its Adam moments.
#[derive(Serialize, Deserialize)]
pub struct DiscriminatorState {
    module: SavedModule,
    optimizer: SavedOptimizer,
}

impl DiscriminatorState {
    pub fn of<M: Module>(module: &M, optimizer: &ModuleOptimizer) -> anyhow::Result<Self> {
        Ok(Self {
            module: SavedModule::of(module)?,
            optimizer: SavedOptimizer::of(optimizer)?,
        })
    }

    /// The freshly built `module` with the saved values; `optimizer` continues the saved one.
    pub fn restore<M: Module>(
        self,
        module: M,
        optimizer: &mut ModuleOptimizer,
    ) -> anyhow::Result<M> {
        *optimizer = self.optimizer.restore(optimizer.clone())?;
        self.module.restore(module)
    }
}

/// What one discriminator step measured: L(D), and the mean D on the expert's and on the
/// policy's pairs (before the step).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DiscriminatorStats {
    pub loss: f64,
    pub expert: f64,
    pub policy: f64,
}

impl DiscriminatorStats {
    /// One Adam step of `module` on L(D) of these logits (computed by `module`).
    pub fn step<M: Module>(
        module: M,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
        expert_logits: Tensor<1>,
        policy_logits: Tensor<1>,
    ) -> (M, Self) {
        let mean_d = |logits: &Tensor<1>| {
            f64::from(to_vec(activation::sigmoid(logits.clone().detach()).mean())[0])
        };
        let (expert, policy) = (mean_d(&expert_logits), mean_d(&policy_logits));
        let loss = bce(expert_logits, policy_logits);
        let value = f64::from(to_vec(loss.clone().detach())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &module);
        let module = optimizer.step(learning_rate, module, grads);
        let stats = Self {
            loss: value,
            expert,
            policy,
        };
        (module, stats)
    }
}

/// GAIL's reward −log(1 − D) = softplus(logit) (Ho & Ermon's cost log D of the policy's
/// probability, negated): positive, larger where the pair looks like the expert's.
pub fn gail_reward(logit: f64) -> f64 {
    logit.max(0.0) + (-logit.abs()).exp().ln_1p()
}

/// D(s, a): an MLP [s, φ(a)] → hidden (ReLU) → logit.
#[derive(Module, Debug)]
pub struct Discriminator {
    net: Mlp,
}

impl Discriminator {
    /// A fresh D for inputs of `input_dim` values (PyTorch's default initialisation).
    pub fn new(input_dim: usize, hidden: &[usize], rng: &mut Rng, device: &Device) -> Self {
        let sizes: Vec<usize> = std::iter::once(input_dim)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(1))
            .collect();
        Self {
            net: Mlp::new(&sizes, Activation::Relu, false, Init::Default, rng, device),
        }
    }

    /// The logit of D for each input row.
    pub fn logits(&self, inputs: Tensor<2>) -> Tensor<1> {
        self.net.forward(inputs).squeeze_dim::<1>(1)
    }
}

/// φ(a), the action part of D's input.
#[derive(Clone, Debug)]
pub struct ActionFeatures {
    space: Space,
}

impl ActionFeatures {
    pub fn new(space: &Space) -> Self {
        Self {
            space: space.clone(),
        }
    }

    /// Values per action: n (one-hot) or the box's dimension.
    pub fn dim(&self) -> usize {
        match &self.space {
            Space::Discrete(n) => *n,
            Space::Box { low, .. } => low.len(),
        }
    }

    /// Rows [s, φ(a)] of observations and stored actions (an index, or the values).
    pub fn inputs(&self, obs: &[f32], obs_dim: usize, actions: &[f32]) -> Vec<f32> {
        let rows = obs.len() / obs_dim;
        let stored = actions.len() / rows.max(1);
        let mut out = Vec::with_capacity(rows * (obs_dim + self.dim()));
        for (s, a) in obs.chunks_exact(obs_dim).zip(actions.chunks_exact(stored)) {
            out.extend_from_slice(s);
            match &self.space {
                Space::Discrete(n) => {
                    out.extend((0..*n).map(|i| if i == a[0] as usize { 1.0 } else { 0.0 }))
                }
                Space::Box { low, high } => out.extend(
                    a.iter()
                        .zip(low.iter().zip(high))
                        .map(|(&x, (&l, &h))| x.clamp(l, h)),
                ),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{adam, matrix};
    use crate::rng::{Stream, stream};

    /// −log(1 − σ(x)) = log(1 + eˣ), stable far out on both sides.
    #[test]
    fn the_gail_reward_is_minus_log_one_minus_d() {
        for x in [-3.0f64, -0.5, 0.0, 0.7, 4.0] {
            let d = 1.0 / (1.0 + (-x).exp());
            assert!((gail_reward(x) + (1.0 - d).ln()).abs() < 1e-12, "{x}");
        }
        assert!((gail_reward(800.0) - 800.0).abs() < 1e-12);
        assert!(gail_reward(-800.0) >= 0.0 && gail_reward(-800.0) < 1e-300);
    }

    #[test]
    fn action_features_are_one_hot_or_clipped() {
        let discrete = ActionFeatures::new(&Space::Discrete(3));
        assert_eq!(
            discrete.inputs(&[0.5, 1.5], 1, &[2.0, 0.0]),
            vec![0.5, 0.0, 0.0, 1.0, 1.5, 1.0, 0.0, 0.0]
        );
        let boxed = ActionFeatures::new(&Space::Box {
            low: vec![-2.0],
            high: vec![2.0],
        });
        assert_eq!(boxed.inputs(&[1.0, 2.0], 2, &[3.5]), vec![1.0, 2.0, 2.0]);
    }

    /// Goodfellow et al.'s Proposition 1: on four inputs visited with frequencies ρ_E by the
    /// expert and ρ_π by the policy, the trained D reaches ρ_E / (ρ_E + ρ_π) on each.
    #[test]
    fn the_discriminator_reaches_the_optimum_of_the_cross_entropy() {
        let device = Device::flex().autodiff();
        let mut rng = stream(0, Stream::Init);
        let mut disc = Discriminator::new(4, &[16], &mut rng, &device);
        let mut optimizer = adam(1e-8);
        let (rho_e, rho_pi) = ([4usize, 2, 1, 1], [1usize, 1, 2, 4]);
        let one_hot = |counts: [usize; 4]| -> Vec<f32> {
            let mut rows = Vec::new();
            for (x, &c) in counts.iter().enumerate() {
                for _ in 0..c {
                    rows.extend((0..4).map(|i| if i == x { 1.0 } else { 0.0 }));
                }
            }
            rows
        };
        let (expert, policy) = (one_hot(rho_e), one_hot(rho_pi));
        for _ in 0..1500 {
            let e = disc.logits(matrix(&expert, 4, &device));
            let p = disc.logits(matrix(&policy, 4, &device));
            (disc, _) = DiscriminatorStats::step(disc, &mut optimizer, 1e-2, e, p);
        }
        let d = to_vec(activation::sigmoid(disc.valid().logits(matrix(
            &one_hot([1; 4]),
            4,
            &Device::flex(),
        ))));
        for x in 0..4 {
            let optimum = rho_e[x] as f32 / (rho_e[x] + rho_pi[x]) as f32;
            assert!(
                (d[x] - optimum).abs() < 0.01,
                "D({x}) = {} vs {optimum}",
                d[x]
            );
        }
    }
}
