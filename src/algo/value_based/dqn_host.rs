//! DQN's gradient steps on the host, for the CPU backends and a plain (not dueling) Q-network:
//! the same loss as [`super::dqn_update::update`], differentiated by hand.
//!
//! The online and target networks and the Adam state leave Burn once per run ([`HostDqn::new`]);
//! the training loop writes the online network back after every train call (for acting) and
//! takes Burn copies of all three for a checkpoint ([`HostDqn::to_burn`]). Per step, with B rows,
//! the Q-values Q(s_i, ·) of the online network and the target y_i (not differentiated):
//!
//! δ_i = Q(s_i, a_i) − y_i,  L = (1/B) Σ_i w_i ℓ(δ_i),  ∂L/∂Q(s_i, a_i) = w_i ℓ′(δ_i) / B,
//!
//! with ℓ′(δ) = clamp(δ, −1, 1) for Huber (δ = 1) and 2δ for the squared error; the other
//! actions' Q-values get no gradient. The gradient goes back through the network
//! ([`HostMlp::backward`]), is clipped to its global norm and stepped by [`HostAdam`].

use burn::optim::ModuleOptimizer;

use super::dqn::TdLoss;
use super::dqn_update::{ADAM_EPSILON, DqnUpdate};
use crate::buffer::ReplayBatch;
use crate::nn::distributions::argmax;
use crate::nn::host::load_params;
use crate::nn::host_adam::HostAdam;
use crate::nn::host_mlp::{HostMlp, LinearGrad, Tape, clip_global_norm};
use crate::nn::polyak::polyak_host;
use crate::nn::q_network::QNetwork;

/// The online and target networks and the Adam state of a run, and the buffers its steps reuse.
pub struct HostDqn {
    online: HostMlp,
    target: HostMlp,
    adam: HostAdam,
    tape: Tape,
    target_tape: Tape,
    grads: Vec<LinearGrad>,
    /// ∂L/∂Q(s, ·), `batch × n_actions`.
    d_q: Vec<f32>,
    /// The bootstrapped values Q'(s', a*) of a batch.
    next_q: Vec<f32>,
    /// The TD errors δ of the last step.
    td: Vec<f32>,
}

/// What one host step measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostStepStats {
    /// L.
    pub loss: f32,
    /// E[Q(s, a)] on the batch.
    pub q_mean: f32,
}

impl HostDqn {
    /// The networks `q` and `q_target` and the state `optimizer` (an Adam with
    /// [`ADAM_EPSILON`]) holds for `q`; `None` for a network the host pass does not cover.
    pub fn new(q: &QNetwork, q_target: &QNetwork, optimizer: &ModuleOptimizer) -> Option<Self> {
        Some(Self {
            online: q.to_host()?,
            target: q_target.to_host()?,
            adam: HostAdam::take(optimizer, q, ADAM_EPSILON),
            tape: Tape::default(),
            target_tape: Tape::default(),
            grads: Vec::new(),
            d_q: Vec::new(),
            next_q: Vec::new(),
            td: Vec::new(),
        })
    }

    /// One gradient step on `batch`.
    pub fn step(&mut self, batch: &ReplayBatch, hp: &DqnUpdate) -> HostStepStats {
        let b = batch.len();
        self.bootstrap(batch, hp.double);
        let q = self.online.forward(&batch.observations, b, &mut self.tape);
        let n_actions = q.len() / b;
        self.d_q.clear();
        self.d_q.resize(q.len(), 0.0);
        self.td.clear();
        let (mut loss, mut q_sum) = (0f64, 0f64);
        for i in 0..b {
            let taken = i * n_actions + batch.actions[i] as usize;
            let not_terminated = 1.0 - batch.terminated[i];
            let y = batch.rewards[i] + batch.discounts[i] * not_terminated * self.next_q[i];
            let delta = q[taken] - y;
            let (per_sample, slope) = match hp.loss {
                TdLoss::Huber => {
                    let quadratic = delta.abs().min(1.0);
                    let linear = delta.abs() - quadratic;
                    (0.5 * quadratic * quadratic + linear, delta.clamp(-1.0, 1.0))
                }
                TdLoss::Mse => (delta * delta, 2.0 * delta),
            };
            let w = batch.weights.get(i).copied().unwrap_or(1.0);
            loss += f64::from(w * per_sample);
            q_sum += f64::from(q[taken]);
            self.d_q[taken] = w * slope / b as f32;
            self.td.push(delta);
        }
        self.online
            .backward(&mut self.tape, &self.d_q, &mut self.grads);
        let grads = self.grads.iter_mut().flat_map(LinearGrad::tensors_mut);
        clip_global_norm(grads.collect(), hp.max_grad_norm);
        let grads = self.grads.iter().flat_map(LinearGrad::tensors).collect();
        self.adam
            .step(self.online.params_mut(), grads, hp.learning_rate);
        HostStepStats {
            loss: (loss / b as f64) as f32,
            q_mean: (q_sum / b as f64) as f32,
        }
    }

    /// The TD errors δ = Q(s, a) − y of the last step (for prioritised replay's priorities).
    pub fn td_errors(&self) -> &[f32] {
        &self.td
    }

    /// Q'(s', a*) of every row into `next_q`: a* = argmax_a Q'(s', a), or argmax_a Q(s', a)
    /// with `double` (van Hasselt et al. 2016).
    fn bootstrap(&mut self, batch: &ReplayBatch, double: bool) {
        let b = batch.len();
        let next = &batch.next_observations;
        self.next_q.clear();
        if double {
            let chosen = self.online.forward(next, b, &mut self.tape);
            let n_actions = chosen.len() / b;
            let best: Vec<usize> = chosen.chunks_exact(n_actions).map(argmax).collect();
            let values = self.target.forward(next, b, &mut self.target_tape);
            let rows = values.chunks_exact(n_actions).zip(best);
            self.next_q.extend(rows.map(|(row, a)| row[a]));
        } else {
            let values = self.target.forward(next, b, &mut self.target_tape);
            let n_actions = values.len() / b;
            let rows = values.chunks_exact(n_actions);
            self.next_q
                .extend(rows.map(|row| row.iter().copied().fold(f32::NEG_INFINITY, f32::max)));
        }
    }

    /// The target network moved a fraction `tau` of the way to the online one, θ' ← (1 − τ)θ' +
    /// τθ, as [`polyak_update`] does it on Burn (τ = 1: a copy).
    ///
    /// [`polyak_update`]: crate::nn::polyak::polyak_update
    pub fn update_target(&mut self, tau: f64) {
        polyak_host(self.target.params_mut(), self.online.params(), tau);
    }

    /// `q` with the online network's parameters.
    pub fn write_online(&self, q: QNetwork) -> QNetwork {
        load_params(q, self.online.params())
    }

    /// Burn copies of the online network (into `q`), the target network (into `q_target`) and
    /// the Adam state (into a copy of `optimizer`), for a checkpoint or the end of a run.
    pub fn to_burn(
        &self,
        q: QNetwork,
        q_target: QNetwork,
        optimizer: &ModuleOptimizer,
    ) -> (QNetwork, QNetwork, ModuleOptimizer) {
        let mut optimizer = optimizer.clone();
        let params = self.online.params().into_iter().map(<[f32]>::to_vec);
        let q = self.adam.clone().put(&mut optimizer, q, params.collect());
        (q, load_params(q_target, self.target.params()), optimizer)
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::super::dqn_update::update;
    use super::*;
    use crate::nn::adam;
    use crate::nn::host::{assert_params_close, close};
    use crate::nn::q_network::QNetworkConfig;
    use crate::nn::{Activation, to_vec};
    use crate::rng::{Stream, stream};

    /// A batch of 24 transitions (4-dimensional observations, 3 actions), some terminal, with
    /// TD errors on both sides of Huber's kink, and importance weights when `weighted`.
    fn batch(weighted: bool) -> ReplayBatch {
        let n = 24;
        ReplayBatch {
            observations: (0..n * 4).map(|i| (i as f32 * 0.37).sin() * 2.0).collect(),
            actions: (0..n).map(|i| (i % 3) as f32).collect(),
            rewards: (0..n).map(|i| (i as f32 * 0.91).cos() * 3.0).collect(),
            next_observations: (0..n * 4).map(|i| (i as f32 * 0.53).cos()).collect(),
            terminated: (0..n).map(|i| f32::from(i % 5 == 0)).collect(),
            discounts: vec![0.99; n],
            weights: if weighted {
                (0..n).map(|i| 0.25 + (i % 4) as f32 * 0.25).collect()
            } else {
                Vec::new()
            },
            ..ReplayBatch::default()
        }
    }

    /// Three steps on the host end where three of Burn's steps ([`update`]) end: the losses,
    /// Q-means and TD errors agree, and so do the parameters, for both losses, plain and
    /// double DQN, uniform and weighted batches, ReLU and tanh, with clipping active.
    ///
    /// [`update`]: super::super::dqn_update::update
    #[test]
    fn host_steps_track_burns_steps() {
        let device = Device::flex().autodiff();
        for (k, (loss, double, weighted, activation, max_grad_norm)) in [
            (TdLoss::Huber, false, false, Activation::Relu, 10.0),
            (TdLoss::Huber, true, true, Activation::Tanh, 0.5),
            (TdLoss::Mse, false, true, Activation::Relu, 0.5),
            (TdLoss::Mse, true, false, Activation::Tanh, 10.0),
        ]
        .into_iter()
        .enumerate()
        {
            let cfg = QNetworkConfig {
                net_arch: vec![32, 16],
                activation,
            };
            let init = &mut stream(k as u64, Stream::Init);
            let q = QNetwork::new(4, 3, &cfg, false, init, &device);
            // A target network apart from the online one.
            let q_target = QNetwork::new(4, 3, &cfg, false, init, &device);
            let hp = DqnUpdate {
                learning_rate: 1e-2,
                double,
                loss,
                max_grad_norm,
            };
            let batch = batch(weighted);
            let (mut burn_q, mut burn_opt) = (q.clone(), adam(ADAM_EPSILON));
            let mut host = HostDqn::new(&q, &q_target, &adam(ADAM_EPSILON)).expect("plain net");
            for round in 0..3 {
                let stats;
                (burn_q, stats) = update(burn_q, &q_target, &mut burn_opt, &batch, &hp, &device);
                let ours = host.step(&batch, &hp);
                let (loss, q_mean) = (stats.loss.into_scalar::<f32>(), stats.q_mean.into_scalar());
                assert!(
                    close(ours.loss, loss),
                    "{k}/{round}: loss {ours:?} vs {loss}"
                );
                assert!(
                    close(ours.q_mean, q_mean),
                    "{k}/{round}: {ours:?} vs {q_mean}"
                );
                match stats.td_errors {
                    Some(td) => {
                        let td = to_vec(td);
                        assert!(weighted);
                        for (a, b) in host.td_errors().iter().zip(&td) {
                            assert!(close(*a, *b), "{k}/{round}: δ {a} vs {b}");
                        }
                    }
                    None => assert!(!weighted),
                }
            }
            let (host_q, host_target, mut host_opt) =
                host.to_burn(q.clone(), q_target.clone(), &adam(ADAM_EPSILON));
            let ours = host_q.to_host().unwrap().into_params();
            let theirs = burn_q.to_host().unwrap().into_params();
            assert_params_close(&ours, &theirs, &format!("{k}"));
            let written = host.write_online(q).to_host().unwrap().into_params();
            assert_eq!(written, ours, "{k}: the online network written back");
            let target = host_target.to_host().unwrap();
            assert_eq!(
                target,
                q_target.to_host().unwrap(),
                "{k}: the target, untouched"
            );
            // The state went back: a fourth Burn step from either agrees.
            let (after_host, _) = update(host_q, &q_target, &mut host_opt, &batch, &hp, &device);
            let (after_burn, _) = update(burn_q, &q_target, &mut burn_opt, &batch, &hp, &device);
            let ours = after_host.to_host().unwrap().into_params();
            let theirs = after_burn.to_host().unwrap().into_params();
            assert_params_close(&ours, &theirs, &format!("{k}"));
        }
    }

    /// Dueling streams stay on Burn's path.
    #[test]
    fn dueling_networks_are_not_taken() {
        let device = Device::flex().autodiff();
        let cfg = QNetworkConfig::default();
        let q = QNetwork::new(4, 3, &cfg, true, &mut stream(0, Stream::Init), &device);
        assert!(HostDqn::new(&q, &q, &adam(ADAM_EPSILON)).is_none());
    }

    /// The host's target update is [`polyak_update`]'s to the bit, soft (τ = 0.25) and hard.
    ///
    /// [`polyak_update`]: crate::nn::polyak::polyak_update
    #[test]
    fn target_updates_are_burns() {
        let device = Device::flex().autodiff();
        let cfg = QNetworkConfig::default();
        let init = &mut stream(3, Stream::Init);
        let q = QNetwork::new(4, 2, &cfg, false, init, &device);
        let q_target = QNetwork::new(4, 2, &cfg, false, init, &device);
        for tau in [0.25, 1.0] {
            let mut host = HostDqn::new(&q, &q_target, &adam(ADAM_EPSILON)).unwrap();
            host.update_target(tau);
            let (_, ours, _) = host.to_burn(q.clone(), q_target.clone(), &adam(ADAM_EPSILON));
            let theirs = crate::nn::polyak::polyak_update(q_target.clone(), &q, tau);
            assert_eq!(ours.to_host(), theirs.to_host(), "τ = {tau}");
        }
    }
}
