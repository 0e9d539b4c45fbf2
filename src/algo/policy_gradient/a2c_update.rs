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
use crate::buffer::RolloutBuffer;
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
    let mb = rollout.minibatch(&all, hp.normalize_advantage, device);
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
