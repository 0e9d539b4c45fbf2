//! Actor-critic networks of the on-policy methods and the policies built from them.
//!
//! Stable-Baselines3's `ActorCriticPolicy` layout: an optional shared trunk, then a policy net
//! ending in the action head (logits, or the mean of a diagonal Gaussian with a
//! state-independent log σ) and a value net ending in V(s). Orthogonal init with gain √2 for
//! hidden layers, 0.01 for the policy head and 1 for the value head (Engstrom et al. 2020).

use anyhow::Context;
use burn::module::{ModuleVisitor, Param, ParamId};
use burn::prelude::*;

use super::device::computes_on_host;
use super::distributions::{
    argmax, categorical_entropy, categorical_log_prob, gaussian_entropy, gaussian_log_prob,
    sample_categorical, sample_gaussian,
};
use super::host_policy::HostActorCritic;
use super::mlp::{Activation, Init, Mlp};
use crate::hyper::{Checker, hyperparameters};
use crate::rng::Rng;
use crate::space::Space;

hyperparameters! {
    /// `[algo.policy]` of the on-policy methods: the networks (SB3's `policy_kwargs`).
    pub struct PolicyConfig {
        /// hidden layer sizes of the policy and value nets (of the trunk when shared)
        net_arch: Vec<usize> = vec![64, 64], all_nonzero;
        /// "tanh" or "relu"
        activation: Activation = Activation::Tanh;
        /// orthogonal initialisation (else PyTorch's default uniform one)
        ortho_init: bool = true;
        /// one trunk for policy and value (else two separate nets)
        share_features_extractor: bool = false;
        /// initial log σ of Gaussian policies
        log_std_init: f64 = 0.0, finite;
    }
    check: Self::check_trunk;
}

impl PolicyConfig {
    fn check_trunk(&self, c: &mut Checker) {
        c.require(
            "share_features_extractor",
            !self.share_features_extractor || !self.net_arch.is_empty(),
            || "a shared trunk needs at least one hidden layer in net_arch".into(),
        );
    }
}

/// What the action head produces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActionKind {
    /// Logits over `n` actions.
    Discrete(usize),
    /// The mean of a `dim`-dimensional Gaussian.
    Continuous(usize),
}

impl ActionKind {
    pub fn of(space: &Space) -> Self {
        match space {
            Space::Discrete(n) => ActionKind::Discrete(*n),
            Space::Box { low, .. } => ActionKind::Continuous(low.len()),
        }
    }

    /// f32 values stored per action (1 index, or `dim` values).
    pub fn stored_dim(self) -> usize {
        match self {
            ActionKind::Discrete(_) => 1,
            ActionKind::Continuous(dim) => dim,
        }
    }

    fn head_dim(self) -> usize {
        match self {
            ActionKind::Discrete(n) => n,
            ActionKind::Continuous(dim) => dim,
        }
    }
}

/// Policy π(a|s) and value V(s) networks.
///
/// A centralised critic ([`ActorCritic::centralised`], MAPPO) reads other inputs than the
/// policy: an input row is then the policy's columns followed by the value net's.
#[derive(Module, Debug)]
pub struct ActorCritic {
    /// The shared trunk (no layers when the nets are separate).
    pub(super) trunk: Mlp,
    pub(super) pi: Mlp,
    pub(super) vf: Mlp,
    /// log σ of a Gaussian policy, one per action dimension.
    pub(super) log_std: Option<Param<Tensor<1>>>,
    /// The policy's leading columns of an input row when the value net reads the rest (`None`:
    /// both read the whole row).
    #[module(skip)]
    pub(super) policy_inputs: Option<usize>,
}

impl ActorCritic {
    pub fn new(
        obs_dim: usize,
        action: ActionKind,
        cfg: &PolicyConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        Self::with_inputs(obs_dim, obs_dim, action, cfg, rng, device)
    }

    /// A policy on `policy_inputs` values and a value net on `value_inputs` other values (a
    /// centralised critic); `cfg` must not share a trunk.
    pub fn centralised(
        policy_inputs: usize,
        value_inputs: usize,
        action: ActionKind,
        cfg: &PolicyConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        assert!(
            !cfg.share_features_extractor,
            "a centralised critic has its own inputs"
        );
        let mut model = Self::with_inputs(policy_inputs, value_inputs, action, cfg, rng, device);
        model.policy_inputs = Some(policy_inputs);
        model
    }

    /// These nets with layer normalisation of their inputs and hidden activations
    /// ([`Mlp::with_layer_norm`]; MAPPO's `use_feature_normalization`). Forward-mode products
    /// ([`ActorCritic::actor_jvp`], TRPO's) do not go through it.
    pub fn with_layer_norm(mut self, device: &Device) -> Self {
        self.trunk = self.trunk.with_layer_norm(device);
        self.pi = self.pi.with_layer_norm(device);
        self.vf = self.vf.with_layer_norm(device);
        self
    }

    /// The nets on `obs_dim` policy inputs (the shared trunk's, when shared) and `value_dim`
    /// value inputs (of separate nets).
    fn with_inputs(
        obs_dim: usize,
        value_dim: usize,
        action: ActionKind,
        cfg: &PolicyConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let init = |gain| {
            if cfg.ortho_init {
                Init::Orthogonal { output_gain: gain }
            } else {
                Init::Default
            }
        };
        let hidden = &cfg.net_arch;
        let (trunk, head_in, value_in, head_hidden): (Mlp, usize, usize, &[usize]) =
            if cfg.share_features_extractor {
                let sizes: Vec<usize> = std::iter::once(obs_dim)
                    .chain(hidden.iter().copied())
                    .collect();
                let trunk = Mlp::new(&sizes, cfg.activation, true, init(1.0), rng, device);
                let features = *hidden.last().expect("checked: a shared trunk has layers");
                (trunk, features, features, &[])
            } else {
                (Mlp::identity(), obs_dim, value_dim, hidden)
            };
        let sizes = |input: usize, out: usize| -> Vec<usize> {
            std::iter::once(input)
                .chain(head_hidden.iter().copied())
                .chain(std::iter::once(out))
                .collect()
        };
        let pi = Mlp::new(
            &sizes(head_in, action.head_dim()),
            cfg.activation,
            false,
            init(0.01),
            rng,
            device,
        );
        let vf = Mlp::new(
            &sizes(value_in, 1),
            cfg.activation,
            false,
            init(1.0),
            rng,
            device,
        );
        let log_std = match action {
            ActionKind::Discrete(_) => None,
            ActionKind::Continuous(dim) => Some(Param::from_data(
                TensorData::new(vec![cfg.log_std_init as f32; dim], [dim]),
                device,
            )),
        };
        Self {
            trunk,
            pi,
            vf,
            log_std,
            policy_inputs: None,
        }
    }

    /// Logits (discrete) or Gaussian means (continuous), and V(s), for a batch of observations
    /// (of a centralised critic: rows of the policy's inputs, then the value net's).
    pub fn forward(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        if let Some(k) = self.policy_inputs {
            let columns = obs.dims()[1];
            let value = self.value(obs.clone().narrow(1, k, columns - k));
            return (self.actor(obs.narrow(1, 0, k)), value);
        }
        let features = self.trunk.forward(obs);
        let out = self.pi.forward(features.clone());
        let value = self.vf.forward(features).squeeze_dim::<1>(1);
        (out, value)
    }

    /// The action head alone (of a centralised critic: on the policy's inputs only).
    pub fn actor(&self, obs: Tensor<2>) -> Tensor<2> {
        self.pi.forward(self.trunk.forward(obs))
    }

    /// V(s) alone (of a centralised critic: on the value net's inputs only).
    pub fn value(&self, obs: Tensor<2>) -> Tensor<1> {
        self.vf.forward(self.trunk.forward(obs)).squeeze_dim::<1>(1)
    }

    /// log π(a|s) and the entropy per row, from the head's output `out`.
    pub fn log_prob_entropy(&self, out: Tensor<2>, actions: &Actions) -> (Tensor<1>, Tensor<1>) {
        match (actions, &self.log_std) {
            (Actions::Discrete(a), None) => (
                categorical_log_prob(out.clone(), a.clone()),
                categorical_entropy(out),
            ),
            (Actions::Continuous(a), Some(log_std)) => {
                let batch = out.dims()[0];
                let log_std = log_std.val();
                let entropy = gaussian_entropy(log_std.clone()).expand([batch]);
                (gaussian_log_prob(out, log_std, a.clone()), entropy)
            }
            _ => unreachable!("the action head matches the action space"),
        }
    }

    /// The ids of the value net's parameters (to give the critic its own optimiser).
    pub fn value_param_ids(&self) -> Vec<ParamId> {
        struct Ids(Vec<ParamId>);
        impl ModuleVisitor for Ids {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.id);
            }
        }
        let mut ids = Ids(Vec::new());
        self.vf.visit(&mut ids);
        ids.0
    }

    /// The action head and its directional derivative along the parameter tangent
    /// `tangent(layer) = (dW, db)` of every layer of the trunk and the policy net (forward-mode,
    /// see [`Mlp::jvp`]); log σ is not an output of the head.
    pub fn actor_jvp(
        &self,
        obs: Tensor<2>,
        tangent: &mut dyn FnMut(&burn::nn::Linear) -> (Tensor<2>, Option<Tensor<1>>),
    ) -> (Tensor<2>, Tensor<2>) {
        let (features, d_features) = self.trunk.jvp(obs, None, tangent);
        let (out, d_out) = self.pi.jvp(features, d_features, tangent);
        let d_out = d_out.unwrap_or_else(|| out.zeros_like());
        (out, d_out)
    }

    /// log σ of a Gaussian policy as a tensor in the graph (`None` for a categorical one).
    pub fn log_std_tensor(&self) -> Option<Tensor<1>> {
        self.log_std.as_ref().map(|p| p.val())
    }

    /// The id of a Gaussian policy's log σ parameter.
    pub fn log_std_id(&self) -> Option<ParamId> {
        self.log_std.as_ref().map(|p| p.id)
    }

    /// log σ of a Gaussian policy (empty for a categorical one).
    pub fn log_std(&self) -> Vec<f32> {
        self.log_std
            .as_ref()
            .map(|p| to_vec(p.val()))
            .unwrap_or_default()
    }
}

/// Actions of a minibatch as tensors.
pub enum Actions {
    Discrete(Tensor<1, Int>),
    Continuous(Tensor<2>),
}

/// A tensor's values on the host.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float tensors read back as f32")
}

/// The acting copy of an [`ActorCritic`]: no autodiff, one forward pass for all envs (on the
/// host, with the same matrix kernels as flex, where the device computes there and the layout
/// allows: [`ActorCritic::to_host`]).
#[derive(Clone)]
pub struct Acting {
    model: ActorCritic,
    host: Option<HostActorCritic>,
    device: Device,
    action: ActionKind,
    obs_dim: usize,
    log_std: Vec<f32>,
}

impl Acting {
    /// Snapshots `model` (trained on an autodiff device) for acting on the plain `device`.
    pub fn new(model: &ActorCritic, action: ActionKind, obs_dim: usize, device: &Device) -> Self {
        let model = model.valid();
        let log_std = model.log_std();
        let host = computes_on_host(device).then(|| model.to_host()).flatten();
        Self {
            model,
            host,
            device: device.clone(),
            action,
            obs_dim,
            log_std,
        }
    }

    fn input(&self, obs: &[f32]) -> Tensor<2> {
        let rows = obs.len() / self.obs_dim;
        Tensor::<2>::from_data(
            TensorData::new(obs.to_vec(), [rows, self.obs_dim]),
            &self.device,
        )
    }

    /// Samples actions for the `n` observations in `obs` (row-major); writes the actions (as
    /// stored: index or values, unclipped), their log-probabilities and V(s).
    pub fn sample(
        &self,
        obs: &[f32],
        rng: &mut Rng,
        actions: &mut [f32],
        log_probs: &mut [f32],
        values: &mut [f32],
    ) {
        let out = match &self.host {
            Some(host) => {
                let (out, value) = host.predict(obs, obs.len() / self.obs_dim);
                values.copy_from_slice(&value);
                out
            }
            None => {
                let (out, value) = self.model.forward(self.input(obs));
                values.copy_from_slice(&to_vec(value));
                to_vec(out)
            }
        };
        let width = self.action.head_dim();
        let stored = self.action.stored_dim();
        for (i, row) in out.chunks_exact(width).enumerate() {
            log_probs[i] = match self.action {
                ActionKind::Discrete(_) => {
                    let (a, lp) = sample_categorical(row, rng);
                    actions[i] = a as f32;
                    lp
                }
                ActionKind::Continuous(_) => sample_gaussian(
                    row,
                    &self.log_std,
                    rng,
                    &mut actions[i * stored..(i + 1) * stored],
                ),
            };
        }
    }

    /// V(s) of the observations in `obs`.
    pub fn values(&self, obs: &[f32]) -> Vec<f32> {
        match &self.host {
            Some(host) => host.value(obs, obs.len() / self.obs_dim),
            None => to_vec(self.model.value(self.input(obs))),
        }
    }

    /// The deterministic action for one observation: the most probable one, or the mean.
    pub fn deterministic(&self, obs: &[f32], out: &mut [f32]) {
        let head = match &self.host {
            Some(host) => host.actor(obs, obs.len() / self.obs_dim),
            None => to_vec(self.model.actor(self.input(obs))),
        };
        match self.action {
            ActionKind::Discrete(_) => out[0] = argmax(&head) as f32,
            ActionKind::Continuous(_) => out.copy_from_slice(&head),
        }
    }

    pub fn model(&self) -> &ActorCritic {
        &self.model
    }
}

impl ActorCritic {
    /// The parameters as burnpack bytes (the `model.bpk` artifact).
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        super::burnpack(self.valid())
    }

    /// Loads parameters saved by [`Self::save`] into this network's shape.
    pub fn load(self, path: &std::path::Path) -> anyhow::Result<Self> {
        self.try_load_file(path)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .with_context(|| format!("cannot load the network from {}", path.display()))
    }
}
