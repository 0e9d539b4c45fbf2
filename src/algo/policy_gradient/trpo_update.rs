//! The natural-gradient update on one rollout (Kakade 2002; Schulman et al. 2015), as
//! sb3-contrib's TRPO computes it:
//!
//! 1. the surrogate L(θ) = E[π_θ(a|s) / π_old(a|s) · Â] on the rollout (every
//!    `sub_sampling_factor`-th transition; Â standardised when `normalize_advantage`) and its
//!    gradient g at θ_old;
//! 2. the direction x ≈ (F + λI)⁻¹ g by `cg_max_steps` conjugate-gradient iterations, F the
//!    Fisher (the Hessian of the mean KL; [`natural_gradient`](super::natural_gradient));
//! 3. the full step β x with β = √(2δ / xᵀ(F + λI)x), the step whose quadratic KL estimate is
//!    δ = `target_kl` (Schulman et al. 2015, eq. 14 and appendix C);
//! 4. NPG takes it as it is; TRPO backtracks ([`LineSearch`]) until the surrogate improves and
//!    the exact mean KL is below δ, or takes no step;
//! 5. the value function: `n_critic_updates` epochs of Adam on E[(V(s) − R)²] in minibatches of
//!    `batch_size` (the policy's parameters untouched).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::seq::SliceRandom;

use super::checkpoint::MinibatchOrder;
use super::line_search::LineSearch;
use super::natural_gradient::{
    Distributions, Fisher, PolicyLayout, conjugate_gradient, dot, mean_kl,
};
use crate::buffer::RolloutBuffer;
use crate::buffer::rollout::Minibatch;
use crate::nn::{ActionKind, Actions, ActorCritic};

/// ‖r‖² at which conjugate gradient stops early (sb3-contrib's value).
const CG_RESIDUAL_TOL: f64 = 1e-10;

/// The hyperparameters of one update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NaturalGradientUpdate {
    /// δ: the KL bound of the step.
    pub target_kl: f64,
    pub cg_max_steps: usize,
    /// λ of (F + λI).
    pub cg_damping: f64,
    /// Use every k-th transition for the policy step.
    pub sub_sampling_factor: usize,
    pub normalize_advantage: bool,
    /// TRPO's search; `None`: NPG's fixed step.
    pub line_search: Option<LineSearch>,
    /// Adam step size of the value function.
    pub learning_rate: f64,
    pub n_critic_updates: usize,
    /// Minibatch size of the value function's epochs.
    pub batch_size: usize,
}

/// What one update did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NaturalGradientStats {
    /// The surrogate after the step (the old one when no step was taken).
    pub policy_objective: f64,
    /// Mean KL(π_old ‖ π_new) of the step taken (0 when none was).
    pub kl: f64,
    /// 1 when a step was taken (always for NPG), 0 when the line search found none.
    pub step_accepted: f64,
    /// The multiple β sⁱ of the CG direction x that was taken (0 when none was).
    pub step_size: f64,
    /// Mean entropy of the policy before the step.
    pub entropy: f64,
    /// Mean value loss over the critic's minibatches.
    pub loss_v: f64,
}

impl NaturalGradientStats {
    pub fn row(&self) -> Vec<f64> {
        vec![
            self.policy_objective,
            self.kl,
            self.step_accepted,
            self.step_size,
            self.entropy,
            self.loss_v,
        ]
    }
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

/// The surrogate's analytic term (Q-Prop, Gu et al. 2017 eq. 8): E[⟨wᵢ, μ_θ(sᵢ) − μ_old(sᵢ)⟩] for
/// the weights wᵢ `[N, k]` (η(sᵢ) ∇_a Q_w(sᵢ, a)|_{μ_old(sᵢ)}); `head` holds μ_θ.
fn analytic_term(head: Tensor<2>, old: &Distributions, weights: &Tensor<2>) -> Tensor<1> {
    ((head - old.head.clone()) * weights.clone())
        .sum_dim(1)
        .mean()
}

/// (surrogate, mean KL) of `model` on the batch.
fn surrogate_and_kl(
    model: &ActorCritic,
    obs: Tensor<2>,
    actions: &Actions,
    old_log_probs: Tensor<1>,
    advantages: Tensor<1>,
    old: &Distributions,
    analytic: Option<&Tensor<2>>,
) -> (f64, f64) {
    let head = model.actor(obs).detach();
    let (log_prob, _) = model.log_prob_entropy(head.clone(), actions);
    let ratio = (log_prob - old_log_probs).exp();
    let mut objective = (ratio * advantages).mean();
    if let Some(weights) = analytic {
        objective = objective + analytic_term(head.clone(), old, weights);
    }
    let objective = scalar(objective);
    let kl = scalar(mean_kl(
        old,
        head,
        model.log_std_tensor().map(|t| t.detach()),
    ));
    (objective, kl)
}

/// The rows of `rollout` the policy step uses (every `sub_sampling_factor`-th).
pub fn policy_rows(rollout: &RolloutBuffer, hp: &NaturalGradientUpdate) -> Vec<usize> {
    (0..rollout.len()).step_by(hp.sub_sampling_factor).collect()
}

/// The policy step (1–4 of the module doc) on `rollout`.
pub fn policy_step(
    model: ActorCritic,
    rollout: &RolloutBuffer,
    action: ActionKind,
    hp: &NaturalGradientUpdate,
    device: &Device,
) -> (ActorCritic, NaturalGradientStats) {
    let rows = policy_rows(rollout, hp);
    let mb = rollout.minibatch(&rows, hp.normalize_advantage, device);
    natural_step(model, &mb, None, action, hp)
}

/// The policy step (1–4 of the module doc) on the batch `mb`, whose `advantages` are the
/// learning signal; with `analytic` weights w `[N, k]` the surrogate gains Q-Prop's analytic
/// term E[⟨wᵢ, μ_θ(sᵢ) − μ_old(sᵢ)⟩] (Gu et al. 2017, eq. 8; continuous actions only).
pub fn natural_step(
    model: ActorCritic,
    mb: &Minibatch,
    analytic: Option<&Tensor<2>>,
    action: ActionKind,
    hp: &NaturalGradientUpdate,
) -> (ActorCritic, NaturalGradientStats) {
    let layout = PolicyLayout::of(&model);
    let theta_old = layout.values(&model);
    let old = Distributions::of(&model, mb.observations.clone());

    let head = model.actor(mb.observations.clone());
    // TRPO's own path keeps `head` unshared, so its kernels (and curves) are unchanged.
    let extra = analytic.map(|weights| analytic_term(head.clone(), &old, weights));
    let (log_prob, entropy) = model.log_prob_entropy(head, &mb.actions);
    let ratio = (log_prob - mb.old_log_probs.clone()).exp();
    let mut objective = (ratio * mb.advantages.clone()).mean();
    if let Some(extra) = extra {
        objective = objective + extra;
    }
    let g = layout.gradient(&objective.backward(), &model);
    let old_objective = scalar(objective.detach());
    let entropy = scalar(entropy.mean().detach());

    let fisher = Fisher::new(
        &model,
        &layout,
        mb.observations.clone(),
        action,
        hp.cg_damping,
    );
    let direction = conjugate_gradient(|v| fisher.product(v), &g, hp.cg_max_steps, CG_RESIDUAL_TOL);
    let curvature = dot(&direction, &fisher.product(&direction));
    let unchanged = NaturalGradientStats {
        policy_objective: old_objective,
        kl: 0.0,
        step_accepted: 0.0,
        step_size: 0.0,
        entropy,
        loss_v: f64::NAN,
    };
    if !(curvature > 0.0 && curvature.is_finite()) {
        // A zero gradient (e.g. all advantages zero): nothing to step along.
        return (model, unchanged);
    }
    let beta = (2.0 * hp.target_kl / curvature).sqrt();
    let moved = |coefficient: f64| -> Vec<f64> {
        theta_old
            .iter()
            .zip(&direction)
            .map(|(t, x)| t + coefficient * beta * x)
            .collect()
    };
    let evaluate = |candidate: &ActorCritic| {
        surrogate_and_kl(
            candidate,
            mb.observations.clone(),
            &mb.actions,
            mb.old_log_probs.clone(),
            mb.advantages.clone(),
            &old,
            analytic,
        )
    };
    match &hp.line_search {
        None => {
            let stepped = layout.with_values(model, &moved(1.0));
            let (policy_objective, kl) = evaluate(&stepped);
            let stats = NaturalGradientStats {
                policy_objective,
                kl,
                step_accepted: 1.0,
                step_size: beta,
                ..unchanged
            };
            (stepped, stats)
        }
        Some(search) => {
            let accepted = search.backtrack(old_objective, hp.target_kl, |coefficient| {
                evaluate(&layout.with_values(model.clone(), &moved(coefficient)))
            });
            match accepted {
                Some(step) => {
                    let stepped = layout.with_values(model, &moved(step.coefficient));
                    let stats = NaturalGradientStats {
                        policy_objective: step.objective,
                        kl: step.kl,
                        step_accepted: 1.0,
                        step_size: step.coefficient * beta,
                        ..unchanged
                    };
                    (stepped, stats)
                }
                None => (model, unchanged),
            }
        }
    }
}

/// The value function's epochs (5 of the module doc): returns the model and the mean loss.
pub fn critic_epochs(
    mut model: ActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollout: &RolloutBuffer,
    order: &mut MinibatchOrder,
    hp: &NaturalGradientUpdate,
    device: &Device,
) -> (ActorCritic, f64) {
    let critic = model.value_param_ids();
    let mut sum = None::<Tensor<1>>;
    let mut count = 0usize;
    for _ in 0..hp.n_critic_updates {
        order.indices.shuffle(&mut order.rng);
        for chunk in order.indices.chunks(hp.batch_size) {
            let mb = rollout.minibatch(chunk, false, device);
            let loss = (mb.returns - model.value(mb.observations)).square().mean();
            let mut grads = loss.backward();
            let grads = GradientsParams::from_params(&mut grads, &model, &critic);
            model = optimizer.step(hp.learning_rate, model, grads);
            let loss = loss.detach();
            sum = Some(match sum {
                Some(s) => s + loss,
                None => loss,
            });
            count += 1;
        }
    }
    let mean = sum.map_or(f64::NAN, |s| scalar(s) / count as f64);
    (model, mean)
}

/// One natural-gradient update of `model` on `rollout`: the policy step, then the critic's.
pub fn update(
    model: ActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollout: &RolloutBuffer,
    order: &mut MinibatchOrder,
    action: ActionKind,
    hp: &NaturalGradientUpdate,
    device: &Device,
) -> (ActorCritic, NaturalGradientStats) {
    let (model, mut stats) = policy_step(model, rollout, action, hp, device);
    let (model, loss_v) = critic_epochs(model, optimizer, rollout, order, hp, device);
    stats.loss_v = loss_v;
    (model, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::PolicyConfig;
    use crate::rng::{Stream, stream};
    use rand::RngExt;

    /// A random rollout of 4 steps × 8 envs with 3-dimensional observations, actions sampled
    /// from `model`, random advantages and returns.
    fn rollout(model: &ActorCritic, action: ActionKind, seed: u64) -> RolloutBuffer {
        let plain = Device::flex();
        let acting = crate::nn::Acting::new(model, action, 3, &plain);
        let mut rng = stream(seed, Stream::Explore);
        let (n_steps, n_envs) = (4, 8);
        let mut buf = RolloutBuffer::new(n_steps, n_envs, 3, action);
        let stored = action.stored_dim();
        for _ in 0..n_steps {
            let obs: Vec<f32> = (0..n_envs * 3)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let mut actions = vec![0.0; n_envs * stored];
            let (mut log_probs, mut values) = (vec![0.0; n_envs], vec![0.0; n_envs]);
            acting.sample(&obs, &mut rng, &mut actions, &mut log_probs, &mut values);
            buf.push(&obs, &actions, &log_probs, &values);
            buf.finish_test_step(&[0.0; 8], |_| false);
        }
        buf.advantages = (0..32).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf.returns = (0..32).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf
    }

    fn hp(line_search: Option<LineSearch>, target_kl: f64) -> NaturalGradientUpdate {
        NaturalGradientUpdate {
            target_kl,
            cg_max_steps: 10,
            cg_damping: 0.01,
            sub_sampling_factor: 1,
            normalize_advantage: true,
            line_search,
            learning_rate: 1e-3,
            n_critic_updates: 2,
            batch_size: 8,
        }
    }

    /// On real networks and rollouts: TRPO's accepted steps improve the surrogate with a KL,
    /// measured afresh, below δ; NPG's fixed step has a KL near δ (its quadratic estimate).
    #[test]
    fn trpo_steps_stay_inside_the_trust_region() {
        let device = Device::flex().autodiff();
        for action in [ActionKind::Discrete(3), ActionKind::Continuous(2)] {
            for seed in 0..4 {
                let cfg = PolicyConfig {
                    net_arch: vec![16],
                    ..PolicyConfig::default()
                };
                let model =
                    ActorCritic::new(3, action, &cfg, &mut stream(seed, Stream::Init), &device);
                let buf = rollout(&model, action, seed);
                let all: Vec<usize> = (0..buf.len()).collect();
                let mb = buf.minibatch(&all, true, &device);
                let old = Distributions::of(&model, mb.observations.clone());
                // A large δ so that the quadratic estimate is off and the search matters.
                for target_kl in [0.01, 0.5] {
                    let search = LineSearch {
                        shrinking_factor: 0.8,
                        max_iter: 10,
                    };
                    let (trpo, stats) = policy_step(
                        model.clone(),
                        &buf,
                        action,
                        &hp(Some(search), target_kl),
                        &device,
                    );
                    let kl = scalar(mean_kl(
                        &old,
                        trpo.actor(mb.observations.clone()),
                        trpo.log_std_tensor(),
                    ));
                    assert!(
                        kl < target_kl,
                        "{action:?} seed {seed}: KL {kl} ≥ {target_kl}"
                    );
                    if stats.step_accepted == 1.0 {
                        assert!((kl - stats.kl).abs() < 1e-6);
                        assert!(kl > 0.0);
                    }
                    let (npg, stats) =
                        policy_step(model.clone(), &buf, action, &hp(None, 0.01), &device);
                    let kl = scalar(mean_kl(
                        &old,
                        npg.actor(mb.observations.clone()),
                        npg.log_std_tensor(),
                    ));
                    assert_eq!(stats.step_accepted, 1.0);
                    assert!(
                        kl > 0.002 && kl < 0.03,
                        "{action:?} seed {seed}: NPG KL {kl}"
                    );
                }
            }
        }
    }

    /// The critic's epochs move only the value net.
    #[test]
    fn trpo_critic_epochs_leave_the_policy_alone() {
        let device = Device::flex().autodiff();
        let action = ActionKind::Discrete(2);
        let cfg = PolicyConfig {
            net_arch: vec![8],
            ..PolicyConfig::default()
        };
        let model = ActorCritic::new(3, action, &cfg, &mut stream(0, Stream::Init), &device);
        let buf = rollout(&model, action, 0);
        let layout = PolicyLayout::of(&model);
        let before = layout.values(&model);
        let mut order = MinibatchOrder {
            rng: stream(0, Stream::Minibatch),
            indices: (0..buf.len()).collect(),
        };
        let obs = buf.minibatch(&[0, 1, 2], false, &device).observations;
        let v_before = crate::nn::to_vec(model.value(obs.clone()));
        let mut optimizer = crate::nn::adam(1e-5);
        let (model, loss) = critic_epochs(
            model,
            &mut optimizer,
            &buf,
            &mut order,
            &hp(None, 0.01),
            &device,
        );
        assert!(loss.is_finite());
        assert_eq!(layout.values(&model), before);
        assert_ne!(crate::nn::to_vec(model.value(obs)), v_before);
    }
}
