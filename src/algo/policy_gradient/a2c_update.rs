//! A2C's update on one rollout (Mnih et al. 2016, synchronous), as Stable-Baselines3 computes
//! it: one gradient step on the whole rollout,
//!
//! L = −E[log π(a_t|s_t) Â_t] + c_v E[(V(s_t) − R_t)²] − c_e E[H(π(·|s_t))],
//!
//! clipped to a global norm, with one optimiser for both nets or one each (actor: the policy and
//! entropy terms; critic: the value term, each clipped and stepped on its own).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::a2c::A2cConfig;
use crate::buffer::rollout::Minibatch;
use crate::buffer::{HostMinibatch, RolloutBuffer};
use crate::nn::device::computes_on_host;
use crate::nn::host_policy::{HostActorCritic, HostGrads, HostWorkspace};
use crate::nn::{ActorCritic, clip_grad_norm, to_vec};

/// One optimiser for the whole model, or the actor's and the critic's.
pub struct A2cOptimizers {
    /// The actor's (or the only) optimiser.
    pub actor: ModuleOptimizer,
    /// The value net's own optimiser (the nets must then be separate).
    pub critic: Option<ModuleOptimizer>,
}

/// The hyperparameters of one A2C update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct A2cUpdate {
    /// Step size of this update (annealed or not by the caller).
    pub learning_rate: f64,
    /// Standardise the rollout's advantages.
    pub normalize_advantage: bool,
    pub ent_coef: f64,
    pub vf_coef: f64,
    pub max_grad_norm: f64,
}

impl A2cUpdate {
    /// The settings of `cfg` with this update's (possibly annealed) step size.
    pub fn new(cfg: &A2cConfig, learning_rate: f64) -> Self {
        Self {
            learning_rate,
            normalize_advantage: cfg.normalize_advantage,
            ent_coef: cfg.ent_coef,
            vf_coef: cfg.vf_coef,
            max_grad_norm: cfg.max_grad_norm,
        }
    }
}

/// The losses of the update (before its step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct A2cStats {
    pub loss_pi: f64,
    pub loss_v: f64,
    pub entropy: f64,
}

/// The gradient of one A2C update, clipped to the global norm: of the whole model (one
/// optimiser), or the actor's and the critic's, each clipped on its own (two optimisers).
pub struct A2cGradients {
    pub actor: GradientsParams,
    pub critic: Option<GradientsParams>,
}

/// A2C's update of `model` on the whole of `rollout` (as a batch on `device`, the model's
/// device): [`gradients`], then [`apply`].
pub fn update(
    model: ActorCritic,
    optimizers: &mut A2cOptimizers,
    rollout: &RolloutBuffer,
    hp: &A2cUpdate,
    device: &Device,
) -> (ActorCritic, A2cStats) {
    let separate = optimizers.critic.is_some();
    let (grads, stats) = gradients(&model, rollout, hp, separate, device);
    (apply(model, optimizers, grads, hp.learning_rate), stats)
}

/// The clipped gradient of the A2C loss of `model` on the whole of `rollout`, split between
/// actor and critic when `separate`, and the losses (of `model`, before any step).
pub fn gradients(
    model: &ActorCritic,
    rollout: &RolloutBuffer,
    hp: &A2cUpdate,
    separate: bool,
    device: &Device,
) -> (A2cGradients, A2cStats) {
    let all: Vec<usize> = (0..rollout.n_steps * rollout.n_envs).collect();
    if computes_on_host(device)
        && let Some(host) = model.to_host()
    {
        let mb = rollout.host_minibatch(&all, hp.normalize_advantage);
        return host_gradients(model, &host, &mb, hp, separate, device);
    }
    let mb = rollout.minibatch(&all, hp.normalize_advantage, device);
    burn_gradients(model, mb, hp, separate)
}

/// [`gradients`] through Burn's autodiff.
fn burn_gradients(
    model: &ActorCritic,
    mb: Minibatch,
    hp: &A2cUpdate,
    separate: bool,
) -> (A2cGradients, A2cStats) {
    let (out, values) = model.forward(mb.observations);
    let (log_prob, entropy) = model.log_prob_entropy(out, &mb.actions);
    let loss_pi = (log_prob * mb.advantages).mean().neg();
    let loss_v = (mb.returns - values).square().mean();
    let entropy = entropy.mean();
    let loss = loss_pi.clone() + loss_v.clone().mul_scalar(hp.vf_coef)
        - entropy.clone().mul_scalar(hp.ent_coef);
    let stats = Tensor::cat(vec![loss_pi.detach(), loss_v.detach(), entropy.detach()], 0);

    let mut grads = loss.backward();
    let grads = if separate {
        // The critic's parameters only get the value loss's gradient, the actor's only
        // the policy and entropy terms': each net is clipped and stepped on its own.
        let critic_ids = model.value_param_ids();
        let mut critic = GradientsParams::from_params(&mut grads, model, &critic_ids);
        let mut actor = GradientsParams::from_module(&mut grads, model);
        clip_grad_norm(model, &mut critic, hp.max_grad_norm);
        clip_grad_norm(model, &mut actor, hp.max_grad_norm);
        A2cGradients {
            actor,
            critic: Some(critic),
        }
    } else {
        let mut grads = GradientsParams::from_grads(grads, model);
        clip_grad_norm(model, &mut grads, hp.max_grad_norm);
        A2cGradients {
            actor: grads,
            critic: None,
        }
    };
    let stats = to_vec(stats);
    let stats = A2cStats {
        loss_pi: f64::from(stats[0]),
        loss_v: f64::from(stats[1]),
        entropy: f64::from(stats[2]),
    };
    (grads, stats)
}

/// [`gradients`] on the host (CPU backends, [`ActorCritic::to_host`]'s layouts): per row i of
/// B, ∂L/∂log π = −Â_i / B, ∂L/∂V = −2 c_v (R_i − V_i) / B and ∂L/∂H = −c_e / B, carried
/// through the networks by [`HostActorCritic::backward`].
fn host_gradients(
    model: &ActorCritic,
    host: &HostActorCritic,
    mb: &HostMinibatch,
    hp: &A2cUpdate,
    separate: bool,
    device: &Device,
) -> (A2cGradients, A2cStats) {
    let batch = mb.len();
    let n = batch as f32;
    let mut ws = HostWorkspace::default();
    host.forward(&mb.observations, &mb.actions, batch, &mut ws);
    let (mut d_log_prob, mut d_values) = (vec![0.0; batch], vec![0.0; batch]);
    let mut sums = [0.0f64; 3];
    for i in 0..batch {
        let error = mb.returns[i] - ws.values[i];
        d_log_prob[i] = -mb.advantages[i] / n;
        d_values[i] = -2.0 * hp.vf_coef as f32 * error / n;
        sums[0] -= f64::from(ws.log_prob[i] * mb.advantages[i]);
        sums[1] += f64::from(error * error);
        sums[2] += f64::from(ws.entropy[i]);
    }
    let d_entropy = vec![-(hp.ent_coef as f32) / n; batch];
    host.backward(&mut ws, &mb.actions, &d_log_prob, &d_entropy, &d_values);
    let plain = device.clone().inner();
    let HostGrads { pi, vf, log_std } = ws.grads;
    let grads = if separate {
        let mut actor = HostGrads {
            pi,
            vf: Vec::new(),
            log_std,
        };
        let mut critic = HostGrads {
            pi: Vec::new(),
            vf,
            log_std: None,
        };
        critic.clip_global_norm(hp.max_grad_norm);
        actor.clip_global_norm(hp.max_grad_norm);
        A2cGradients {
            actor: model.gradients_params(&actor, &plain),
            critic: Some(model.gradients_params(&critic, &plain)),
        }
    } else {
        let mut all = HostGrads { pi, vf, log_std };
        all.clip_global_norm(hp.max_grad_norm);
        A2cGradients {
            actor: model.gradients_params(&all, &plain),
            critic: None,
        }
    };
    let [loss_pi, loss_v, entropy] = sums.map(|s| s / batch as f64);
    let stats = A2cStats {
        loss_pi,
        loss_v,
        entropy,
    };
    (grads, stats)
}

/// One optimiser step of `model` on `grads` with step size `learning_rate` (the critic's
/// optimiser first when there are two). `grads` may come from an older copy of `model` with the
/// same parameters (A3C's workers): the step goes by parameter id.
pub fn apply(
    mut model: ActorCritic,
    optimizers: &mut A2cOptimizers,
    grads: A2cGradients,
    learning_rate: f64,
) -> ActorCritic {
    if let (Some(critic_optimizer), Some(critic)) = (&mut optimizers.critic, grads.critic) {
        model = critic_optimizer.step(learning_rate, model, critic);
    }
    optimizers.actor.step(learning_rate, model, grads.actor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::policy_gradient::a2c::A2cOptimizer;
    use crate::nn::{ActionKind, PolicyConfig};
    use crate::rng::{Stream, stream};

    /// Two steps of two envs with 2-dimensional observations and 2 actions; zero advantages,
    /// value targets ±1.
    fn rollout() -> RolloutBuffer {
        let mut buf = RolloutBuffer::new(2, 2, 2, ActionKind::Discrete(2));
        buf.push(
            &[0.0, 1.0, 2.0, 3.0],
            &[1.0, 0.0],
            &[-0.1, -0.2],
            &[0.5, 0.6],
        );
        buf.finish_test_step(&[1.0, 2.0], |_| false);
        buf.push(
            &[4.0, 5.0, 6.0, 7.0],
            &[0.0, 1.0],
            &[-0.3, -0.4],
            &[0.7, 0.8],
        );
        buf.finish_test_step(&[3.0, 4.0], |_| true);
        buf.advantages = vec![0.0; 4];
        buf.returns = vec![1.0, -1.0, 1.0, -1.0];
        buf
    }

    /// The host gradient (clipped, split or not) and losses equal Burn's autodiff of the loss.
    #[test]
    fn host_gradients_match_burn_autodiff() {
        use burn::module::{Module, ModuleVisitor, Param};
        struct Collect<'a>(&'a GradientsParams, Vec<Vec<f32>>);
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.1
                    .push(self.0.get::<D>(param.id).map(to_vec).unwrap_or_default());
            }
        }
        let collect = |model: &ActorCritic, g: &GradientsParams| {
            let mut c = Collect(g, Vec::new());
            model.visit(&mut c);
            c.1
        };
        let device = Device::flex().autodiff();
        let mut buf = rollout();
        buf.advantages = vec![0.5, -1.0, 2.0, 0.3];
        let cfg = A2cConfig {
            ent_coef: 0.01,
            max_grad_norm: 0.05,
            ..A2cConfig::default()
        };
        let hp = A2cUpdate::new(&cfg, 0.01);
        for action in [ActionKind::Discrete(2), ActionKind::Continuous(1)] {
            if let ActionKind::Continuous(_) = action {
                buf.actions = vec![0.3, -0.8, 1.2, 0.1];
                buf.discrete = false;
            }
            let model = ActorCritic::new(
                2,
                action,
                &cfg.policy,
                &mut stream(3, Stream::Init),
                &device,
            );
            let host = model.to_host().expect("separate nets");
            for separate in [false, true] {
                let mb = buf.host_minibatch(&[0, 1, 2, 3], true);
                let (got, got_stats) = host_gradients(&model, &host, &mb, &hp, separate, &device);
                let (want, want_stats) =
                    burn_gradients(&model, mb.clone().to_tensors(&device), &hp, separate);
                for (g, w) in [
                    (got_stats.loss_pi, want_stats.loss_pi),
                    (got_stats.loss_v, want_stats.loss_v),
                    (got_stats.entropy, want_stats.entropy),
                ] {
                    assert!((g - w).abs() < 1e-5, "{got_stats:?} vs {want_stats:?}");
                }
                let pairs = [
                    (Some(got.actor), Some(want.actor)),
                    (got.critic, want.critic),
                ];
                for (g, w) in pairs {
                    let (Some(g), Some(w)) = (g, w) else {
                        assert!(!separate, "two optimisers: a critic gradient each");
                        continue;
                    };
                    for (g, w) in collect(&model, &g).iter().zip(collect(&model, &w)) {
                        assert_eq!(g.len(), w.len(), "the same parameters get gradients");
                        for (g, w) in g.iter().zip(&w) {
                            assert!((g - w).abs() < 1e-6 + 1e-4 * w.abs(), "{g} vs {w}");
                        }
                    }
                }
            }
        }
    }

    /// loss_v = E[(R − V(s))²] and loss_pi = −E[log π Â] = 0 on zero advantages, with one
    /// optimiser or two; without an entropy bonus the policy then does not move, V does.
    #[test]
    fn the_losses_are_those_of_the_model_before_the_step() {
        let device = Device::flex().autodiff();
        let mut cfg = A2cConfig {
            optimizer: A2cOptimizer::Adam,
            ..A2cConfig::default()
        };
        cfg.policy = PolicyConfig {
            net_arch: vec![8],
            ..PolicyConfig::default()
        };
        let buf = rollout();
        let obs = buf.minibatch(&[0, 1, 2, 3], false, &device).observations;
        for separate in [false, true] {
            let model = ActorCritic::new(
                2,
                ActionKind::Discrete(2),
                &cfg.policy,
                &mut stream(0, Stream::Init),
                &device,
            );
            let (logits, values) = model.forward(obs.clone());
            let (logits, values) = (to_vec(logits), to_vec(values));
            let expected = values
                .iter()
                .zip(&buf.returns)
                .map(|(v, r)| (r - v) * (r - v))
                .sum::<f32>()
                / 4.0;
            let mut optimizers = A2cOptimizers {
                actor: crate::nn::adam(1e-5),
                critic: separate.then(|| crate::nn::adam(1e-5)),
            };
            let hp = A2cUpdate::new(&cfg, 0.01);
            let (model, stats) = update(model, &mut optimizers, &buf, &hp, &device);
            assert!(
                (stats.loss_v - f64::from(expected)).abs() < 1e-6,
                "{stats:?}"
            );
            assert_eq!(stats.loss_pi, 0.0);
            let (after, values_after) = model.forward(obs.clone());
            assert_eq!(to_vec(after), logits, "separate: {separate}");
            assert_ne!(to_vec(values_after), values, "separate: {separate}");
        }
    }
}
