//! One gradient step of the off-policy actor-critic of the course notes (CS285 lecture 6,
//! "Off-policy actor-critic algorithm"; /work/shared/seeds) on a minibatch of replayed
//! transitions (s, a, r, s'):
//!
//! - critic: L(φ) = E[(Q_φ(s, a) − y)²] with y = r + γ (1 − d)(Q_φ'(s', ã') − α log π(ã'|s')),
//!   where ã' ~ π_θ(·|s') is drawn afresh from the CURRENT policy (the notes' step 2: the
//!   replayed next action, taken by an older policy, would estimate Q of that policy), and φ'
//!   is a Polyak-averaged copy of φ;
//! - actor, on the replayed states with ã ~ π_θ(·|s) (step 4), by either
//!   - the likelihood-ratio gradient ∇θ J ≈ E[∇θ log π_θ(ã|s) (Q_φ(s, ã) − α log π_θ(ã|s))]
//!     (the notes' estimator, A(s, ã) = Q_φ(s, ã) with no baseline), or
//!   - the reparameterised gradient ∇θ J ≈ E[∇θ (Q_φ(s, ã_θ(ε)) − α log π_θ(ã_θ(ε)|s))] with
//!     ã_θ(ε) = tanh(μ_θ(s) + σ_θ(s) ε) (lecture 6's alternative; Kingma & Welling 2014),
//!
//!   both through the critic just updated, held fixed.
//!
//! α = `ent_coef` is a fixed entropy bonus (0 in the notes); learning it would be SAC.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::offpolicy_ac::{ActorGradient, OffPolicyAcConfig};
use super::sac_update::normals;
use crate::buffer::ReplayBatch;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{SavedModule, SavedOptimizer, adam, matrix};
use crate::rng::Rng;

/// The networks: a tanh-squashed Gaussian actor, one critic Q_φ(s, a) and its target Q_φ'.
pub struct OffPolicyAcNets {
    pub actor: SquashedGaussianActor,
    pub critic: Critics,
    pub critic_target: Critics,
}

impl OffPolicyAcNets {
    /// Freshly initialised networks (actor, then critic, from `rng`).
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        cfg: &OffPolicyAcConfig,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let (hidden, activation) = (&cfg.policy.net_arch, cfg.policy.activation);
        let actor =
            SquashedGaussianActor::new(obs_dim, act_dim, hidden, activation, None, rng, device);
        let critic = Critics::new(obs_dim, act_dim, hidden, activation, 1, rng, device);
        let critic_target = target_copy(&critic);
        Self {
            actor,
            critic,
            critic_target,
        }
    }
}

/// Adam (ε = 1e-8) for the actor and for the critic.
pub struct OffPolicyAcOptimizers {
    pub actor: ModuleOptimizer,
    pub critic: ModuleOptimizer,
}

impl Default for OffPolicyAcOptimizers {
    fn default() -> Self {
        Self {
            actor: adam(1e-8),
            critic: adam(1e-8),
        }
    }
}

/// The hyperparameters of one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffPolicyAcUpdate {
    /// Adam step size of the actor and the critic.
    pub learning_rate: f64,
    /// Polyak coefficient of the target critic.
    pub tau: f64,
    /// Fixed entropy bonus α ≥ 0.
    pub ent_coef: f64,
    pub actor_gradient: ActorGradient,
}

impl OffPolicyAcUpdate {
    pub fn new(cfg: &OffPolicyAcConfig) -> Self {
        Self {
            learning_rate: cfg.off_policy.learning_rate,
            tau: cfg.off_policy.tau,
            ent_coef: cfg.ent_coef,
            actor_gradient: cfg.actor_gradient,
        }
    }
}

/// What one step measured (one-element tensors, detached, on the training device).
pub struct OffPolicyAcStats {
    /// The actor's loss (its gradient is the chosen estimator's).
    pub loss_pi: Tensor<1>,
    /// L(φ).
    pub loss_q: Tensor<1>,
    /// −E[log π(ã|s)], a one-sample estimate of the policy's entropy.
    pub entropy: Tensor<1>,
    /// E[Q_φ(s, a)] on the batch.
    pub q_mean: Tensor<1>,
}

impl OffPolicyAcStats {
    /// The values in the order loss_pi, loss_q, entropy, q_mean.
    pub fn row(self) -> Vec<Tensor<1>> {
        vec![self.loss_pi, self.loss_q, self.entropy, self.q_mean]
    }
}

/// The critic's regression target y = r + γ (1 − d)(Q_φ'(s', ã') − α log π(ã'|s')) with
/// ã' = tanh(μ_θ(s') + σ_θ(s') ε') drawn from `actor` (the current policy) for the standard
/// normal draws `next_noise` [batch, d]. The replayed action of s' plays no part. Detached.
pub fn critic_target(
    actor: &SquashedGaussianActor,
    critic_target: &Critics,
    batch: &ReplayBatch,
    next_noise: Tensor<2>,
    ent_coef: f64,
    device: &Device,
) -> Tensor<1> {
    let next_obs = matrix(&batch.next_observations, batch.obs_dim(), device);
    let (next_actions, next_log_prob) =
        actor.clone().no_grad().sample(next_obs.clone(), next_noise);
    let next_q = critic_target.first(next_obs, next_actions) - next_log_prob.mul_scalar(ent_coef);
    batch.td_target(next_q, device).detach()
}

/// The likelihood-ratio surrogate −E[log π_θ(ã|s) · SG(Q(s, ã) − α log π_θ(ã|s))] for actions
/// ã ~ π_θ held fixed: its gradient is minus the score-function estimate of ∇θ E[Q − α log π]
/// (the score's own mean, E[∇θ log π] = 0, drops the derivative of the entropy term's log π).
pub fn likelihood_ratio_loss(log_prob: Tensor<1>, q: Tensor<1>, ent_coef: f64) -> Tensor<1> {
    let signal = (q - log_prob.clone().mul_scalar(ent_coef)).detach();
    (log_prob * signal).mean().neg()
}

/// The reparameterised loss E[α log π_θ(ã_θ|s) − Q(s, ã_θ)], ã_θ = tanh(μ_θ + σ_θ ε): its
/// gradient flows through the action into the (frozen) critic.
pub fn reparameterized_loss(log_prob: Tensor<1>, q: Tensor<1>, ent_coef: f64) -> Tensor<1> {
    (log_prob.mul_scalar(ent_coef) - q).mean()
}

/// One gradient step on `batch` (its rows on `device`, the networks' device), drawing the
/// actor's noise ε (for ã) and then ε' (for ã') from `rng`.
pub fn update(
    mut nets: OffPolicyAcNets,
    opt: &mut OffPolicyAcOptimizers,
    batch: &ReplayBatch,
    hp: &OffPolicyAcUpdate,
    rng: &mut Rng,
    device: &Device,
) -> (OffPolicyAcNets, OffPolicyAcStats) {
    debug_assert!(batch.weights.is_empty(), "replay is uniform");
    let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
    let obs = matrix(&batch.observations, obs_dim, device);
    let noise = matrix(&normals(rng, b * act_dim), act_dim, device);
    let next_noise = matrix(&normals(rng, b * act_dim), act_dim, device);

    // Critic, towards the target of the current policy's next action.
    let y = critic_target(
        &nets.actor,
        &nets.critic_target,
        batch,
        next_noise,
        hp.ent_coef,
        device,
    );
    let q = nets
        .critic
        .first(obs.clone(), matrix(&batch.actions, act_dim, device));
    let q_mean = q.clone().detach().mean();
    let loss_q = (q - y).square().mean();
    let grads = GradientsParams::from_grads(loss_q.backward(), &nets.critic);
    nets.critic = opt.critic.step(hp.learning_rate, nets.critic, grads);

    // Actor, on the replayed states, through the updated critic held fixed.
    let critic = nets.critic.clone().no_grad();
    let (loss_pi, log_prob) = match hp.actor_gradient {
        ActorGradient::Reparameterized => {
            let (actions, log_prob) = nets.actor.sample(obs.clone(), noise);
            let q = critic.first(obs, actions);
            (
                reparameterized_loss(log_prob.clone(), q, hp.ent_coef),
                log_prob,
            )
        }
        ActorGradient::LikelihoodRatio => {
            let (u, _) = nets
                .actor
                .clone()
                .no_grad()
                .sample_pre_squash(obs.clone(), noise);
            let u = u.detach();
            let log_prob = nets.actor.log_prob(obs.clone(), u.clone());
            let q = critic.first(obs, u.tanh()).detach();
            (
                likelihood_ratio_loss(log_prob.clone(), q, hp.ent_coef),
                log_prob,
            )
        }
    };
    let grads = GradientsParams::from_grads(loss_pi.backward(), &nets.actor);
    nets.actor = opt.actor.step(hp.learning_rate, nets.actor, grads);

    nets.critic_target = polyak_update(nets.critic_target, &nets.critic, hp.tau);
    let stats = OffPolicyAcStats {
        loss_pi: loss_pi.detach(),
        loss_q: loss_q.detach(),
        entropy: log_prob.detach().mean().neg(),
        q_mean,
    };
    (nets, stats)
}

/// The networks and optimisers in a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct OffPolicyAcCheckpoint {
    actor: SavedModule,
    critic: SavedModule,
    critic_target: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
}

impl OffPolicyAcCheckpoint {
    pub fn of(nets: &OffPolicyAcNets, opt: &OffPolicyAcOptimizers) -> anyhow::Result<Self> {
        Ok(Self {
            actor: SavedModule::of(&nets.actor)?,
            critic: SavedModule::of(&nets.critic)?,
            critic_target: SavedModule::of(&nets.critic_target)?,
            actor_opt: SavedOptimizer::of(&opt.actor)?,
            critic_opt: SavedOptimizer::of(&opt.critic)?,
        })
    }

    /// The saved values in freshly built `nets` and `opt` (same architecture and device).
    pub fn restore(
        self,
        nets: OffPolicyAcNets,
        opt: OffPolicyAcOptimizers,
    ) -> anyhow::Result<(OffPolicyAcNets, OffPolicyAcOptimizers)> {
        let nets = OffPolicyAcNets {
            actor: self.actor.restore(nets.actor)?,
            critic: self.critic.restore(nets.critic)?,
            critic_target: self.critic_target.restore(nets.critic_target)?,
        };
        let opt = OffPolicyAcOptimizers {
            actor: self.actor_opt.restore(opt.actor)?,
            critic: self.critic_opt.restore(opt.critic)?,
        };
        Ok((nets, opt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::distributions::squashed_gaussian_log_prob;
    use crate::nn::{to_vec, vector};
    use crate::rng::{Stream, stream};

    fn nets(seed: u64, device: &Device) -> (OffPolicyAcNets, OffPolicyAcConfig) {
        let mut cfg = OffPolicyAcConfig {
            ent_coef: 0.2,
            ..OffPolicyAcConfig::default()
        };
        cfg.policy.net_arch = vec![8];
        let nets = OffPolicyAcNets::new(3, 1, &cfg, &mut stream(seed, Stream::Init), device);
        (nets, cfg)
    }

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    /// y = r + γ(Q'(s', ã') − α log π(ã'|s')) with ã' = tanh(μ(s') + σ(s')ε') of the current
    /// actor: another actor gives another target, other replayed actions the same one.
    #[test]
    fn the_critic_target_resamples_the_next_action_from_the_current_policy() {
        let device = Device::flex().autodiff();
        let (nets, _) = nets(0, &device);
        let b = ReplayBatch::example(0.0);
        let eps = vector(&[0.3, -1.2, 0.8, 0.05], &device).reshape([4, 1]);
        let y = to_vec(critic_target(
            &nets.actor,
            &nets.critic_target,
            &b,
            eps.clone(),
            0.2,
            &device,
        ));
        let next_obs = matrix(&b.next_observations, 3, &device);
        let (a_next, log_prob) = nets.actor.sample(next_obs.clone(), eps.clone());
        let q_next = to_vec(nets.critic_target.first(next_obs, a_next));
        let log_prob = to_vec(log_prob);
        let expected: Vec<f32> = (0..4)
            .map(|i| b.rewards[i] + 0.99 * (q_next[i] - 0.2 * log_prob[i]))
            .collect();
        assert!(close(&y, &expected), "{y:?} vs {expected:?}");

        let mut other_actions = b.clone();
        other_actions.actions = vec![0.7, -0.9, 0.0, -0.3];
        let same = to_vec(critic_target(
            &nets.actor,
            &nets.critic_target,
            &other_actions,
            eps.clone(),
            0.2,
            &device,
        ));
        assert_eq!(same, y, "the replayed actions do not enter the target");

        let (other, _) = self::nets(1, &device);
        let moved = to_vec(critic_target(
            &other.actor,
            &nets.critic_target,
            &b,
            eps,
            0.2,
            &device,
        ));
        assert!(
            moved.iter().zip(&y).all(|(m, y)| (m - y).abs() > 1e-4),
            "another policy's next action: {moved:?} vs {y:?}"
        );
    }

    /// The update's critic loss is E[(Q(s, a) − y)²] with y from the second noise draw of its
    /// stream (the first serves the actor), for either actor gradient.
    #[test]
    fn the_update_regresses_the_critic_on_the_resampled_target() {
        let device = Device::flex().autodiff();
        for actor_gradient in [
            ActorGradient::LikelihoodRatio,
            ActorGradient::Reparameterized,
        ] {
            let (nets, mut cfg) = nets(0, &device);
            cfg.actor_gradient = actor_gradient;
            let b = ReplayBatch::example(0.0);
            let mut rng = stream(3, Stream::Minibatch);
            let mut replay = rng.clone();
            let _ = normals(&mut replay, 4);
            let eps = matrix(&normals(&mut replay, 4), 1, &device);
            let y = critic_target(&nets.actor, &nets.critic_target, &b, eps, 0.2, &device);
            let q = nets.critic.first(
                matrix(&b.observations, 3, &device),
                matrix(&b.actions, 1, &device),
            );
            let expected = (q - y).square().mean().into_scalar::<f32>();
            let hp = OffPolicyAcUpdate::new(&cfg);
            let mut opt = OffPolicyAcOptimizers::default();
            let (_, stats) = update(nets, &mut opt, &b, &hp, &mut rng, &device);
            let loss_q = stats.loss_q.into_scalar::<f32>();
            assert!((loss_q - expected).abs() < 1e-5, "{loss_q} vs {expected}");
            assert!(stats.loss_pi.into_scalar::<f32>().is_finite());
        }
    }

    /// On a closed-form case, a = tanh u with u ~ N(μ, σ²) and Q(a) = w a, both estimators'
    /// means over many draws match ∂/∂μ E[Q] = w E[1 − tanh² u] (by quadrature): the
    /// likelihood-ratio one within a few of its standard errors, the reparameterised one
    /// tightly. The losses are minimised, so their gradients are minus the estimate.
    #[test]
    fn both_estimators_are_unbiased_on_a_closed_form_case() {
        let device = Device::flex().autodiff();
        let (mu, log_std, w) = (0.3f64, -0.5f64, 2.0f64);
        let sigma = log_std.exp();
        // ∫ w (1 − tanh² u) N(u; μ, σ²) du on a fine grid of ±10σ.
        let n_grid = 20_001;
        let h = 20.0 * sigma / (n_grid - 1) as f64;
        let exact: f64 = (0..n_grid)
            .map(|i| {
                let u = mu - 10.0 * sigma + i as f64 * h;
                let z = (u - mu) / sigma;
                let density = (-0.5 * z * z).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt());
                w * (1.0 - u.tanh().powi(2)) * density * h
            })
            .sum();
        let n = 200_000;
        let eps = normals(&mut stream(11, Stream::Explore), n);
        for gradient in [
            ActorGradient::LikelihoodRatio,
            ActorGradient::Reparameterized,
        ] {
            let mean_param = Tensor::<1>::from_floats([mu as f32], &device).require_grad();
            let mean = Tensor::<2>::ones([n, 1], &device) * mean_param.clone().reshape([1, 1]);
            let log_std_t = Tensor::<2>::full([n, 1], log_std as f32, &device);
            let noise = matrix(&eps, 1, &device);
            let u = mean.clone() + log_std_t.clone().exp() * noise;
            let loss = match gradient {
                ActorGradient::LikelihoodRatio => {
                    let u = u.detach();
                    let log_prob = squashed_gaussian_log_prob(mean, log_std_t, u.clone());
                    let q = u.tanh().mul_scalar(w).squeeze_dim::<1>(1);
                    likelihood_ratio_loss(log_prob, q, 0.0)
                }
                ActorGradient::Reparameterized => {
                    let log_prob = squashed_gaussian_log_prob(mean, log_std_t, u.clone());
                    let q = u.tanh().mul_scalar(w).squeeze_dim::<1>(1);
                    reparameterized_loss(log_prob, q, 0.0)
                }
            };
            let grads = loss.backward();
            let estimate = -f64::from(to_vec(mean_param.grad(&grads).unwrap())[0]);
            // Per-draw LR term w tanh(u)(u − μ)/σ² has a standard deviation below w/σ.
            let tolerance = match gradient {
                ActorGradient::LikelihoodRatio => 4.0 * w / sigma / (n as f64).sqrt(),
                ActorGradient::Reparameterized => 4.0 * w / (n as f64).sqrt(),
            };
            assert!(
                (estimate - exact).abs() < tolerance,
                "{gradient:?}: {estimate} vs {exact} (±{tolerance})"
            );
        }
    }
}
