//! One gradient step of the deterministic-policy actor-critics on a minibatch of transitions,
//! as Stable-Baselines3 computes it:
//!
//! - TD3 (Fujimoto et al. 2018): twin critics with the clipped double-Q target
//!   y = r + γ (1 − d) min_i Q'_i(s', clip(μ'(s') + clip(ε, −c, c), −1, 1)), ε ~ N(0, σ̃²)
//!   (target policy smoothing), J(Q) = Σ_i E[(Q_i(s, a) − y)²]; every `policy_delay` steps the
//!   actor J(μ) = −E[Q_1(s, μ(s))], through the updated critic held fixed, and the Polyak
//!   targets;
//! - DDPG (Lillicrap et al. 2016): the same with one critic, σ̃ = c = 0 and no delay.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::ActorCriticNets;
use super::td3::Td3Config;
use crate::buffer::ReplayBatch;
use crate::nn::actors::DeterministicActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{SavedModule, SavedOptimizer, adam, matrix};
use crate::rng::{Rng, standard_normal};

/// The actor μ, the critics Q_i and their targets.
pub struct Td3Nets {
    pub actor: DeterministicActor,
    pub critics: Critics,
    pub actor_target: DeterministicActor,
    pub critics_target: Critics,
}

impl Td3Nets {
    /// Freshly initialised networks (actor, then `n_critics` critics, from `rng`).
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        policy: &ActorCriticNets,
        n_critics: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let (hidden, activation) = (&policy.net_arch, policy.activation);
        let actor = DeterministicActor::new(obs_dim, act_dim, hidden, activation, rng, device);
        let critics = Critics::new(obs_dim, act_dim, hidden, activation, n_critics, rng, device);
        Self {
            actor_target: target_copy(&actor),
            critics_target: target_copy(&critics),
            actor,
            critics,
        }
    }
}

/// The actor's and the critics' optimisers (Adam, ε = 1e-8) and the number of steps taken.
pub struct Td3Optimizers {
    pub actor: ModuleOptimizer,
    pub critic: ModuleOptimizer,
    /// Critic steps so far (the actor and the targets follow every `policy_delay`).
    pub steps: usize,
}

impl Default for Td3Optimizers {
    fn default() -> Self {
        Self {
            actor: adam(1e-8),
            critic: adam(1e-8),
            steps: 0,
        }
    }
}

/// The hyperparameters of one TD3 step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Td3Update {
    /// Adam step size of the actor and the critics.
    pub learning_rate: f64,
    /// Polyak coefficient of the targets.
    pub tau: f64,
    /// Critic steps per actor and target update.
    pub policy_delay: usize,
    /// σ̃ of the target smoothing noise.
    pub target_policy_noise: f64,
    /// c: the smoothing noise is clipped to ±c.
    pub target_noise_clip: f64,
}

impl Td3Update {
    /// The settings of `cfg` (DDPG: of [`super::td3::DdpgConfig::as_td3`]).
    pub fn new(cfg: &Td3Config) -> Self {
        Self {
            learning_rate: cfg.off_policy.learning_rate,
            tau: cfg.off_policy.tau,
            policy_delay: cfg.policy_delay,
            target_policy_noise: cfg.target_policy_noise,
            target_noise_clip: cfg.target_noise_clip,
        }
    }
}

/// What one TD3 step measured (one-element tensors, detached, on the training device).
pub struct Td3Stats {
    /// J(Q).
    pub loss_q: Tensor<1>,
    /// E[Q_1(s, a)] on the batch.
    pub q_mean: Tensor<1>,
    /// J(μ), on the steps that updated the actor.
    pub loss_pi: Option<Tensor<1>>,
}

/// `n` draws of clip(ε, −c, c), ε ~ N(0, σ̃²), as f32 (σ̃ = 0 still draws, as DDPG does).
pub fn smoothing_noise(n: usize, sigma: f64, clip: f64, rng: &mut Rng) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let e = sigma * standard_normal(rng);
            e.clamp(-clip, clip) as f32
        })
        .collect()
}

/// One gradient step of TD3 on `batch` (its rows on `device`, the networks' device), drawing
/// the target smoothing noise from `rng`.
pub fn update(
    mut nets: Td3Nets,
    opt: &mut Td3Optimizers,
    batch: &ReplayBatch,
    hp: &Td3Update,
    rng: &mut Rng,
    device: &Device,
) -> (Td3Nets, Td3Stats) {
    debug_assert!(batch.weights.is_empty(), "TD3 replays uniformly");
    opt.steps += 1;
    let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
    let obs = matrix(&batch.observations, obs_dim, device);
    let next_obs = matrix(&batch.next_observations, obs_dim, device);

    let y = {
        let smoothing = smoothing_noise(
            b * act_dim,
            hp.target_policy_noise,
            hp.target_noise_clip,
            rng,
        );
        let next_actions = (nets.actor_target.forward(next_obs.clone())
            + matrix(&smoothing, act_dim, device))
        .clamp(-1.0, 1.0);
        let next_q = nets.critics_target.min(next_obs, next_actions);
        batch.td_target(next_q, device)
    }
    .detach();
    let qs = nets
        .critics
        .forward(obs.clone(), matrix(&batch.actions, act_dim, device));
    let q_mean = qs[0].clone().detach().mean();
    let loss_q = qs
        .into_iter()
        .map(|q| (q - y.clone()).square().mean())
        .reduce(|a, b| a + b)
        .expect("at least one critic");
    let grads = GradientsParams::from_grads(loss_q.backward(), &nets.critics);
    nets.critics = opt.critic.step(hp.learning_rate, nets.critics, grads);

    let mut loss_pi = None;
    if opt.steps.is_multiple_of(hp.policy_delay) {
        let q = nets
            .critics
            .clone()
            .no_grad()
            .first(obs.clone(), nets.actor.forward(obs));
        let loss = q.mean().neg();
        let grads = GradientsParams::from_grads(loss.backward(), &nets.actor);
        nets.actor = opt.actor.step(hp.learning_rate, nets.actor, grads);
        loss_pi = Some(loss.detach());
        nets.critics_target = polyak_update(nets.critics_target, &nets.critics, hp.tau);
        nets.actor_target = polyak_update(nets.actor_target, &nets.actor, hp.tau);
    }
    let stats = Td3Stats {
        loss_q: loss_q.detach(),
        q_mean,
        loss_pi,
    };
    (nets, stats)
}

/// TD3's networks and optimisers in a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct Td3Checkpoint {
    actor: SavedModule,
    critics: SavedModule,
    actor_target: SavedModule,
    critics_target: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
    steps: usize,
}

impl Td3Checkpoint {
    pub fn of(nets: &Td3Nets, opt: &Td3Optimizers) -> anyhow::Result<Self> {
        Ok(Self {
            actor: SavedModule::of(&nets.actor)?,
            critics: SavedModule::of(&nets.critics)?,
            actor_target: SavedModule::of(&nets.actor_target)?,
            critics_target: SavedModule::of(&nets.critics_target)?,
            actor_opt: SavedOptimizer::of(&opt.actor)?,
            critic_opt: SavedOptimizer::of(&opt.critic)?,
            steps: opt.steps,
        })
    }

    /// The saved values in freshly built `nets` and `opt` (same architecture and device).
    pub fn restore(
        self,
        nets: Td3Nets,
        opt: Td3Optimizers,
    ) -> anyhow::Result<(Td3Nets, Td3Optimizers)> {
        let nets = Td3Nets {
            actor: self.actor.restore(nets.actor)?,
            critics: self.critics.restore(nets.critics)?,
            actor_target: self.actor_target.restore(nets.actor_target)?,
            critics_target: self.critics_target.restore(nets.critics_target)?,
        };
        let opt = Td3Optimizers {
            actor: self.actor_opt.restore(opt.actor)?,
            critic: self.critic_opt.restore(opt.critic)?,
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

    fn setup(n_critics: usize) -> (Td3Nets, Td3Update, Device) {
        let device = Device::flex().autodiff();
        let mut cfg = Td3Config::default();
        cfg.policy.net_arch = vec![8];
        let nets = Td3Nets::new(
            3,
            1,
            &cfg.policy,
            n_critics,
            &mut stream(0, Stream::Init),
            &device,
        );
        (nets, Td3Update::new(&cfg), device)
    }

    /// With every transition terminal, y = r: J(Q) = Σ_i E[(Q_i(s, a) − r)²] of the critics
    /// before the step, for DDPG's one critic and TD3's two.
    #[test]
    fn terminal_transitions_regress_the_critics_on_the_reward() {
        for n_critics in [1, 2] {
            let (nets, hp, device) = setup(n_critics);
            let b = ReplayBatch::example(1.0);
            let obs = matrix(&b.observations, 3, &device);
            let r = vector(&b.rewards, &device);
            let expected: f32 = nets
                .critics
                .forward(obs, matrix(&b.actions, 1, &device))
                .into_iter()
                .map(|q| (q - r.clone()).square().mean().into_scalar::<f32>())
                .sum();
            let mut opt = Td3Optimizers::default();
            let mut rng = stream(0, Stream::Minibatch);
            let (_, stats) = update(nets, &mut opt, &b, &hp, &mut rng, &device);
            let loss_q = stats.loss_q.into_scalar::<f32>();
            assert!((loss_q - expected).abs() < 1e-5, "{loss_q} vs {expected}");
        }
    }

    /// With `policy_delay` 2 the actor and the targets move on every second step only.
    #[test]
    fn the_actor_and_the_targets_follow_every_policy_delay_steps() {
        let (mut nets, hp, device) = setup(2);
        assert_eq!(hp.policy_delay, 2);
        let obs = matrix(&ReplayBatch::example(0.0).observations, 3, &device);
        let actions = |nets: &Td3Nets| to_vec(nets.actor.forward(obs.clone()));
        let targets = |nets: &Td3Nets| to_vec(nets.actor_target.forward(obs.clone()));
        let mut opt = Td3Optimizers::default();
        let mut rng = stream(0, Stream::Minibatch);
        for k in 1..=4 {
            let (before, target_before) = (actions(&nets), targets(&nets));
            let stats;
            (nets, stats) = update(
                nets,
                &mut opt,
                &ReplayBatch::example(0.0),
                &hp,
                &mut rng,
                &device,
            );
            let delayed = k % 2 == 0;
            assert_eq!(stats.loss_pi.is_some(), delayed, "step {k}");
            assert_eq!(actions(&nets) != before, delayed, "step {k}");
            assert_eq!(targets(&nets) != target_before, delayed, "step {k}");
        }
    }

    /// The smoothing noise lies in [−c, c]; with σ̃ = 0 (DDPG) it is zero, from the same draws.
    #[test]
    fn smoothing_noise_is_clipped_and_ddpg_draws_the_same_numbers() {
        let (mut a, mut b) = (stream(3, Stream::Minibatch), stream(3, Stream::Minibatch));
        let noise = smoothing_noise(1000, 0.2, 0.5, &mut a);
        assert!(noise.iter().all(|x| x.abs() <= 0.5));
        assert!(
            noise.iter().any(|x| x.abs() == 0.5),
            "some draws are clipped"
        );
        assert!(
            smoothing_noise(1000, 0.0, 0.0, &mut b)
                .iter()
                .all(|&x| x == 0.0)
        );
        assert_eq!(a, b);
    }
}
