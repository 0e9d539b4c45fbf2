//! An [`ActorCritic`] on host memory: log π(a|s), the entropy and V(s) of a minibatch, and the
//! gradients of a loss built from them, for the CPU backends' on-policy updates (issue #22).
//!
//! The loss is given by its partial derivatives per row (∂L/∂log π(aᵢ|sᵢ), ∂L/∂Hᵢ, ∂L/∂V(sᵢ));
//! this file carries them through the action head and the two [`HostMlp`]s:
//!
//! - categorical, logits l: log π(a) = l_a − logsumexp(l), H = −Σ_j p_j log p_j, so
//!   ∂log π(a)/∂l_j = 1[j = a] − p_j and ∂H/∂l_j = −p_j (log p_j + H);
//! - diagonal Gaussian, mean μ and state-independent log σ, z = (a − μ)/σ:
//!   log π(a) = Σ_k −½z_k² − log σ_k − ½ log 2π, so ∂log π/∂μ_k = z_k/σ_k,
//!   ∂log π/∂log σ_k = z_k² − 1; H = Σ_k ½ + ½ log 2π + log σ_k, so ∂H/∂log σ_k = 1.

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;

use super::distributions::HALF_LOG_TWO_PI;
use super::host_mlp::{HostMlp, LinearGrad, Tape, clip_global_norm};
use super::policy::ActorCritic;
use super::to_vec;

/// The networks' parameters as host vectors.
#[derive(Clone, Debug)]
pub struct HostActorCritic {
    pub pi: HostMlp,
    pub vf: HostMlp,
    /// log σ of a Gaussian policy; `None` for a categorical one.
    pub log_std: Option<Vec<f32>>,
}

/// A minibatch's forward pass (per row log π(a|s), H(π(·|s)) and V(s)) and gradient, with
/// what the backward pass needs; kept across minibatches, so that an update allocates its
/// buffers once.
#[derive(Default)]
pub struct HostWorkspace {
    pub log_prob: Vec<f32>,
    pub entropy: Vec<f32>,
    pub values: Vec<f32>,
    /// The gradient of the last [`HostActorCritic::backward`].
    pub grads: HostGrads,
    /// log softmax of the logits (categorical) or z = (a − μ)/σ (Gaussian), row-major.
    head: Vec<f32>,
    /// ∂L/∂(the action head's output).
    d_out: Vec<f32>,
    pi_tape: Tape,
    vf_tape: Tape,
}

/// ∂L/∂θ for every parameter of a [`HostActorCritic`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostGrads {
    pub pi: Vec<LinearGrad>,
    pub vf: Vec<LinearGrad>,
    pub log_std: Option<Vec<f32>>,
}

impl HostGrads {
    /// The gradients in [`HostActorCritic::params_mut`]'s order.
    pub fn params(&self) -> Vec<&Vec<f32>> {
        self.pi
            .iter()
            .chain(&self.vf)
            .flat_map(LinearGrad::tensors)
            .chain(&self.log_std)
            .collect()
    }

    /// `self ← self + other`, parameter by parameter.
    pub fn add(&mut self, other: &HostGrads) {
        let theirs = other.params().into_iter().flatten();
        self.values_mut().zip(theirs).for_each(|(g, &x)| *g += x);
    }

    /// Every gradient value, in [`HostGrads::params`]'s order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.pi
            .iter_mut()
            .chain(self.vf.iter_mut())
            .flat_map(LinearGrad::values_mut)
            .chain(self.log_std.iter_mut().flatten())
    }

    /// The gradients in [`HostGrads::params`]'s order, to change.
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.pi
            .iter_mut()
            .chain(self.vf.iter_mut())
            .flat_map(LinearGrad::tensors_mut)
            .chain(&mut self.log_std)
            .collect()
    }

    /// Clips the gradients to a global norm ([`clip_global_norm`]); returns the norm before.
    pub fn clip_global_norm(&mut self, max_norm: f64) -> f64 {
        clip_global_norm(self.params_mut(), max_norm)
    }
}

impl HostActorCritic {
    /// The parameters in the order Burn visits an [`ActorCritic`]'s: each policy layer's weight
    /// and bias, each value layer's, then log σ.
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut params = self.pi.params_mut();
        params.extend(self.vf.params_mut());
        params.extend(&mut self.log_std);
        params
    }

    /// The parameters' values in [`HostActorCritic::params_mut`]'s order.
    pub fn into_params(mut self) -> Vec<Vec<f32>> {
        self.params_mut().into_iter().map(std::mem::take).collect()
    }

    /// The action head's output (logits or Gaussian means) on the `batch` rows of `obs`.
    pub fn actor(&self, obs: &[f32], batch: usize) -> Vec<f32> {
        self.pi.forward(obs, batch, &mut Tape::default()).to_vec()
    }

    /// V(s) of the `batch` rows of `obs`.
    pub fn value(&self, obs: &[f32], batch: usize) -> Vec<f32> {
        self.vf.forward(obs, batch, &mut Tape::default()).to_vec()
    }

    /// The action head's output and V(s) of the `batch` rows of `obs`.
    pub fn predict(&self, obs: &[f32], batch: usize) -> (Vec<f32>, Vec<f32>) {
        (self.actor(obs, batch), self.value(obs, batch))
    }

    /// The forward pass on the `batch` rows of `obs`, with the stored `actions` (an index per
    /// row, or `dim` values), into `ws`.
    pub fn forward(&self, obs: &[f32], actions: &[f32], batch: usize, ws: &mut HostWorkspace) {
        let out = self.pi.forward(obs, batch, &mut ws.pi_tape);
        ws.values.clear();
        ws.values
            .extend_from_slice(self.vf.forward(obs, batch, &mut ws.vf_tape));
        let width = out.len() / batch;
        let (head, log_prob, entropy) = (&mut ws.head, &mut ws.log_prob, &mut ws.entropy);
        head.resize(out.len(), 0.0);
        log_prob.resize(batch, 0.0);
        entropy.resize(batch, 0.0);
        match &self.log_std {
            None => {
                for (i, (logits, log_p)) in out
                    .chunks_exact(width)
                    .zip(head.chunks_exact_mut(width))
                    .enumerate()
                {
                    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
                    let log_sum_exp = max + sum.ln();
                    for (lp, &l) in log_p.iter_mut().zip(logits) {
                        *lp = l - log_sum_exp;
                    }
                    log_prob[i] = log_p[actions[i] as usize];
                    entropy[i] = -log_p.iter().map(|&lp| lp.exp() * lp).sum::<f32>();
                }
            }
            Some(log_std) => {
                let inv_std: Vec<f32> = log_std.iter().map(|&s| (-s).exp()).collect();
                let sum_log_std: f32 = log_std.iter().sum();
                let d = width as f32;
                let h = sum_log_std + d * (0.5 + HALF_LOG_TWO_PI as f32);
                for (i, (mean, z)) in out
                    .chunks_exact(width)
                    .zip(head.chunks_exact_mut(width))
                    .enumerate()
                {
                    let a = &actions[i * width..(i + 1) * width];
                    let mut quadratic = 0.0;
                    for k in 0..width {
                        z[k] = (a[k] - mean[k]) * inv_std[k];
                        quadratic += z[k] * z[k];
                    }
                    log_prob[i] = -0.5 * quadratic - sum_log_std - d * HALF_LOG_TWO_PI as f32;
                    entropy[i] = h;
                }
            }
        }
    }

    /// The gradients, into `ws.grads`, of a loss L whose partial derivatives per row are
    /// `d_log_prob` (∂L/∂log π(aᵢ|sᵢ)), `d_entropy` (∂L/∂Hᵢ) and `d_values` (∂L/∂V(sᵢ)), after
    /// the forward pass into `ws`.
    pub fn backward(
        &self,
        ws: &mut HostWorkspace,
        actions: &[f32],
        d_log_prob: &[f32],
        d_entropy: &[f32],
        d_values: &[f32],
    ) {
        let batch = d_log_prob.len();
        let width = ws.head.len() / batch;
        let d_out = &mut ws.d_out;
        d_out.resize(ws.head.len(), 0.0);
        ws.grads.log_std = None;
        match &self.log_std {
            None => {
                for (i, (log_p, d)) in ws
                    .head
                    .chunks_exact(width)
                    .zip(d_out.chunks_exact_mut(width))
                    .enumerate()
                {
                    let (g, h) = (d_log_prob[i], ws.entropy[i]);
                    for (d, &lp) in d.iter_mut().zip(log_p) {
                        let p = lp.exp();
                        *d = -g * p - d_entropy[i] * p * (lp + h);
                    }
                    d[actions[i] as usize] += g;
                }
            }
            Some(log_std) => {
                let inv_std: Vec<f32> = log_std.iter().map(|&s| (-s).exp()).collect();
                let mut d_ls = vec![0.0; width];
                for (i, (z, d)) in ws
                    .head
                    .chunks_exact(width)
                    .zip(d_out.chunks_exact_mut(width))
                    .enumerate()
                {
                    let g = d_log_prob[i];
                    for k in 0..width {
                        d[k] = g * z[k] * inv_std[k];
                        d_ls[k] += g * (z[k] * z[k] - 1.0) + d_entropy[i];
                    }
                }
                ws.grads.log_std = Some(d_ls);
            }
        }
        self.pi.backward(&mut ws.pi_tape, d_out, &mut ws.grads.pi);
        self.vf
            .backward(&mut ws.vf_tape, d_values, &mut ws.grads.vf);
    }
}

impl ActorCritic {
    /// The parameters on the host; `None` for the layouts the host pass does not cover (a
    /// shared trunk, a centralised critic, layer normalisation).
    pub fn to_host(&self) -> Option<HostActorCritic> {
        if self.policy_inputs.is_some() || !self.trunk.is_identity() {
            return None;
        }
        Some(HostActorCritic {
            pi: self.pi.to_host()?,
            vf: self.vf.to_host()?,
            log_std: self.log_std.as_ref().map(|p| to_vec(p.val())),
        })
    }

    /// `grads` as Burn gradients of these parameters, on the plain `device`.
    /// Layers with no gradient in `grads` (an empty list) get none.
    pub fn gradients_params(&self, grads: &HostGrads, device: &Device) -> GradientsParams {
        let mut out = GradientsParams::new();
        self.pi.register_grads(&grads.pi, &mut out, device);
        self.vf.register_grads(&grads.vf, &mut out, device);
        if let (Some(param), Some(g)) = (&self.log_std, &grads.log_std) {
            register(&mut out, param, g, device);
        }
        out
    }
}

/// Registers `values` as the gradient of `param`, in its shape, on `device`.
pub fn register<const D: usize>(
    grads: &mut GradientsParams,
    param: &Param<Tensor<D>>,
    values: &[f32],
    device: &Device,
) {
    let data = TensorData::new(values.to_vec(), param.val().shape());
    grads.register(param.id, Tensor::<D>::from_data(data, device));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::nn::{ActionKind, Activation, PolicyConfig};
    use crate::rng::{Stream, stream};

    /// Separate nets of `net_arch` on `obs_dim` inputs, initialised from `seed`'s stream, with
    /// log σ = −0.3 for a Gaussian head.
    pub(crate) fn model(
        obs_dim: usize,
        action: ActionKind,
        net_arch: &[usize],
        activation: Activation,
        seed: u64,
        device: &Device,
    ) -> ActorCritic {
        let cfg = PolicyConfig {
            net_arch: net_arch.to_vec(),
            activation,
            log_std_init: -0.3,
            ..PolicyConfig::default()
        };
        ActorCritic::new(
            obs_dim,
            action,
            &cfg,
            &mut stream(seed, Stream::Init),
            device,
        )
    }

    /// The host forward pass is flex's to the bit (the acting path relies on it: curves do not
    /// depend on which one acted), for both heads and activations, a one-unit value head
    /// included.
    #[test]
    fn host_forward_is_bit_identical_to_flex() {
        let device = Device::flex();
        for (k, action) in [ActionKind::Discrete(3), ActionKind::Continuous(2)]
            .into_iter()
            .enumerate()
        {
            for activation in [Activation::Tanh, Activation::Relu] {
                let model = model(5, action, &[64, 64], activation, k as u64, &device);
                let host = model.to_host().expect("separate nets");
                let batch = 37;
                let obs: Vec<f32> = (0..batch * 5)
                    .map(|i| (i as f32 * 0.77).sin() * 2.0)
                    .collect();
                let (out, values) = host.predict(&obs, batch);
                let (want_out, want_values) = model.forward(crate::nn::matrix(&obs, 5, &device));
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&out),
                    bits(&to_vec(want_out)),
                    "{action:?} {activation:?}"
                );
                assert_eq!(
                    bits(&values),
                    bits(&to_vec(want_values)),
                    "{action:?} {activation:?}"
                );
            }
        }
    }
}
