//! One gradient step of soft actor-critic (Haarnoja et al. 2018, "SAC: algorithms and
//! applications") on a minibatch of transitions, as Stable-Baselines3 computes it:
//!
//! - temperature: J(α) = −E[log α · (log π(ã|s) + H̄)] (eq. 18), ã ~ π(·|s);
//! - critics: y = r + γ (1 − d)(min_i Q'_i(s', ã') − α log π(ã'|s')), ã' ~ π(·|s'),
//!   J(Q) = ½ Σ_i E[(Q_i(s, a) − y)²] (twin critics, clipped double Q);
//! - actor: J(π) = E[α log π(ã|s) − min_i Q_i(s, ã)], ã = tanh(μ + σε) reparameterised, through
//!   the updated critics held fixed (no critic weight gradient is computed there);
//! - Polyak-averaged target critics every `target_update_interval` steps.
//!
//! The batch may come from a replay buffer or from elsewhere (a learned model's rollouts in
//! MBPO, relabelled rewards in DIAYN): any [`ReplayBatch`] without importance weights.

use burn::module::Param;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::sac::SacConfig;
use crate::buffer::ReplayBatch;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{SavedModule, SavedOptimizer, adam, matrix};
use crate::rng::{Rng, standard_normal};

/// log α as a one-parameter module, so that an optimiser can step it.
#[derive(Module, Debug)]
pub struct LogAlpha {
    pub value: Param<Tensor<1>>,
}

/// SAC's networks: the squashed Gaussian actor, twin critics, their targets and log α.
pub struct SacNets {
    pub actor: SquashedGaussianActor,
    pub critics: Critics,
    pub critics_target: Critics,
    pub log_alpha: LogAlpha,
}

impl SacNets {
    /// Freshly initialised networks (actor, then critics, from `rng`) with α = `cfg.ent_coef`.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        cfg: &SacConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let (hidden, activation) = (&cfg.policy.net_arch, cfg.policy.activation);
        let actor = SquashedGaussianActor::new(
            obs_dim,
            act_dim,
            hidden,
            activation,
            cfg.use_sde.then_some(cfg.log_std_init),
            rng,
            device,
        );
        let critics = Critics::new(obs_dim, act_dim, hidden, activation, 2, rng, device);
        let critics_target = target_copy(&critics);
        let log_alpha = LogAlpha {
            value: Param::from_data(TensorData::new(vec![cfg.ent_coef.ln() as f32], [1]), device),
        };
        Self {
            actor,
            critics,
            critics_target,
            log_alpha,
        }
    }
}

/// SAC's optimisers (Adam, ε = 1e-8) and the number of gradient steps taken.
pub struct SacOptimizers {
    pub actor: ModuleOptimizer,
    pub critic: ModuleOptimizer,
    pub alpha: ModuleOptimizer,
    /// Gradient steps so far (the target critics follow every `target_update_interval`).
    pub steps: usize,
}

impl Default for SacOptimizers {
    fn default() -> Self {
        Self {
            actor: adam(1e-8),
            critic: adam(1e-8),
            alpha: adam(1e-8),
            steps: 0,
        }
    }
}

/// The hyperparameters of one SAC step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SacUpdate {
    /// Adam step size of the actor, the critics and the temperature.
    pub learning_rate: f64,
    /// Polyak coefficient of the target critics.
    pub tau: f64,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// Learn α towards `target_entropy` (else α stays fixed).
    pub learn_ent_coef: bool,
    /// H̄ of the entropy constraint.
    pub target_entropy: f64,
    /// gSDE: one draw of the exploration weights W serves the batch and its targets.
    pub use_sde: bool,
}

impl SacUpdate {
    /// The settings of `cfg` for actions of `act_dim` components (H̄ = −dim(A) unless set).
    pub fn new(cfg: &SacConfig, act_dim: usize) -> Self {
        Self {
            learning_rate: cfg.off_policy.learning_rate,
            tau: cfg.off_policy.tau,
            target_update_interval: cfg.target_update_interval,
            learn_ent_coef: cfg.learn_ent_coef,
            target_entropy: cfg.target_entropy.unwrap_or(-(act_dim as f64)),
            use_sde: cfg.use_sde,
        }
    }
}

/// What one SAC step measured (one-element tensors, detached, on the training device).
pub struct SacStats {
    /// J(π).
    pub loss_pi: Tensor<1>,
    /// J(Q).
    pub loss_q: Tensor<1>,
    /// α used in this step (before its own update).
    pub alpha: Tensor<1>,
    /// −E[log π(ã|s)], a one-sample estimate of the policy's entropy.
    pub entropy: Tensor<1>,
    /// E[Q_1(s, a)] on the batch.
    pub q_mean: Tensor<1>,
}

impl SacStats {
    /// The values in the order loss_pi, loss_q, alpha, entropy, q_mean.
    pub fn row(self) -> Vec<Tensor<1>> {
        vec![
            self.loss_pi,
            self.loss_q,
            self.alpha,
            self.entropy,
            self.q_mean,
        ]
    }
}

/// `n` standard normal draws as f32 (the ε of the reparameterised actor).
pub fn normals(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| standard_normal(rng) as f32).collect()
}

/// One gradient step of SAC on `batch` (its rows on `device`, the networks' device), drawing
/// the actor's noise from `rng` (for ã, then for ã' unless gSDE shares it).
pub fn update(
    mut nets: SacNets,
    opt: &mut SacOptimizers,
    batch: &ReplayBatch,
    hp: &SacUpdate,
    rng: &mut Rng,
    device: &Device,
) -> (SacNets, SacStats) {
    debug_assert!(batch.weights.is_empty(), "SAC replays uniformly");
    let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
    let obs = matrix(&batch.observations, obs_dim, device);
    let next_obs = matrix(&batch.next_observations, obs_dim, device);

    // Temperature.
    let shape = nets.actor.noise_shape(b);
    let mut draw = || matrix(&normals(rng, shape[0] * shape[1]), shape[1], device);
    let noise = draw();
    let next_noise = if hp.use_sde { noise.clone() } else { draw() };
    let (pi_actions, log_prob) = nets.actor.sample(obs.clone(), noise);
    let alpha = nets.log_alpha.value.val().detach().exp();
    if hp.learn_ent_coef {
        let gap = log_prob.clone().detach().add_scalar(hp.target_entropy);
        let loss = (nets.log_alpha.value.val() * gap).mean().neg();
        let grads = GradientsParams::from_grads(loss.backward(), &nets.log_alpha);
        nets.log_alpha = opt.alpha.step(hp.learning_rate, nets.log_alpha, grads);
    }

    // Critics.
    let y = {
        let (next_actions, next_log_prob) = nets
            .actor
            .clone()
            .no_grad()
            .sample(next_obs.clone(), next_noise);
        let soft_q =
            nets.critics_target.min(next_obs, next_actions) - next_log_prob * alpha.clone();
        batch.td_target(soft_q, device)
    }
    .detach();
    let replayed = matrix(&batch.actions, act_dim, device);
    let qs = nets.critics.forward(obs.clone(), replayed);
    let q_mean = qs[0].clone().detach().mean();
    let loss_q = qs
        .into_iter()
        .map(|q| (q - y.clone()).square().mean())
        .reduce(|a, b| a + b)
        .expect("two critics")
        .mul_scalar(0.5);
    let grads = GradientsParams::from_grads(loss_q.backward(), &nets.critics);
    nets.critics = opt.critic.step(hp.learning_rate, nets.critics, grads);

    // Actor, through the updated critics held fixed.
    let q_pi = nets.critics.clone().no_grad().min(obs, pi_actions);
    let loss_pi = (log_prob.clone() * alpha.clone() - q_pi).mean();
    let grads = GradientsParams::from_grads(loss_pi.backward(), &nets.actor);
    nets.actor = opt.actor.step(hp.learning_rate, nets.actor, grads);

    opt.steps += 1;
    if opt.steps.is_multiple_of(hp.target_update_interval) {
        nets.critics_target = polyak_update(nets.critics_target, &nets.critics, hp.tau);
    }
    let stats = SacStats {
        loss_pi: loss_pi.detach(),
        loss_q: loss_q.detach(),
        alpha,
        entropy: log_prob.detach().mean().neg(),
        q_mean,
    };
    (nets, stats)
}

/// SAC's networks and optimisers in a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct SacCheckpoint {
    actor: SavedModule,
    critics: SavedModule,
    critics_target: SavedModule,
    log_alpha: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
    alpha_opt: SavedOptimizer,
    steps: usize,
}

impl SacCheckpoint {
    pub fn of(nets: &SacNets, opt: &SacOptimizers) -> anyhow::Result<Self> {
        Ok(Self {
            actor: SavedModule::of(&nets.actor)?,
            critics: SavedModule::of(&nets.critics)?,
            critics_target: SavedModule::of(&nets.critics_target)?,
            log_alpha: SavedModule::of(&nets.log_alpha)?,
            actor_opt: SavedOptimizer::of(&opt.actor)?,
            critic_opt: SavedOptimizer::of(&opt.critic)?,
            alpha_opt: SavedOptimizer::of(&opt.alpha)?,
            steps: opt.steps,
        })
    }

    /// The saved values in freshly built `nets` and `opt` (same architecture and device).
    pub fn restore(
        self,
        nets: SacNets,
        opt: SacOptimizers,
    ) -> anyhow::Result<(SacNets, SacOptimizers)> {
        let nets = SacNets {
            actor: self.actor.restore(nets.actor)?,
            critics: self.critics.restore(nets.critics)?,
            critics_target: self.critics_target.restore(nets.critics_target)?,
            log_alpha: self.log_alpha.restore(nets.log_alpha)?,
        };
        let opt = SacOptimizers {
            actor: self.actor_opt.restore(opt.actor)?,
            critic: self.critic_opt.restore(opt.critic)?,
            alpha: self.alpha_opt.restore(opt.alpha)?,
            steps: self.steps,
        };
        Ok((nets, opt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{to_vec, vector};
    use crate::rng::{Stream, stream};

    fn setup(learn_ent_coef: bool, target_entropy: f64) -> (SacNets, SacUpdate, Device) {
        let device = Device::flex().autodiff();
        let mut cfg = SacConfig {
            learn_ent_coef,
            target_entropy: Some(target_entropy),
            ..SacConfig::default()
        };
        cfg.off_policy.learning_rate = 0.01;
        cfg.policy.net_arch = vec![8];
        let nets = SacNets::new(3, 1, &cfg, &mut stream(0, Stream::Init), &device);
        (nets, SacUpdate::new(&cfg, 1), device)
    }

    /// With every transition terminal, y = r: J(Q) = ½ Σ_i E[(Q_i(s, a) − r)²] of the critics
    /// before the step.
    #[test]
    fn terminal_transitions_regress_the_critics_on_the_reward() {
        let (nets, hp, device) = setup(true, -1.0);
        let b = ReplayBatch::example(1.0);
        let obs = matrix(&b.observations, 3, &device);
        let r = vector(&b.rewards, &device);
        let expected: f32 = nets
            .critics
            .forward(obs, matrix(&b.actions, 1, &device))
            .into_iter()
            .map(|q| 0.5 * (q - r.clone()).square().mean().into_scalar::<f32>())
            .sum();
        let mut opt = SacOptimizers::default();
        let (_, stats) = update(
            nets,
            &mut opt,
            &b,
            &hp,
            &mut stream(0, Stream::Minibatch),
            &device,
        );
        let loss_q = stats.loss_q.into_scalar::<f32>();
        assert!((loss_q - expected).abs() < 1e-5, "{loss_q} vs {expected}");
        assert_eq!(opt.steps, 1);
    }

    /// ∂J(α)/∂log α = H − H̄ (H the batch's entropy estimate): Adam's first step moves log α by
    /// the learning rate against its sign, and not at all when α is fixed.
    #[test]
    fn the_temperature_steps_against_the_entropy_gap() {
        for (learn, target_entropy, expected) in [
            (true, 100.0, 0.01),
            (true, -100.0, -0.01),
            (false, 100.0, 0.0),
        ] {
            let (nets, hp, device) = setup(learn, target_entropy);
            let before = to_vec(nets.log_alpha.value.val())[0];
            let mut opt = SacOptimizers::default();
            let mut rng = stream(0, Stream::Minibatch);
            let (nets, stats) = update(
                nets,
                &mut opt,
                &ReplayBatch::example(0.0),
                &hp,
                &mut rng,
                &device,
            );
            let moved = to_vec(nets.log_alpha.value.val())[0] - before;
            assert!(
                (moved - expected).abs() < 1e-6,
                "moved {moved}, expected {expected}"
            );
            // The step's α is the one before its own update.
            assert_eq!(stats.alpha.into_scalar::<f32>(), before.exp());
        }
    }
}
