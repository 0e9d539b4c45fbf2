//! PPO's update on one rollout (Schulman et al. 2017), as Stable-Baselines3 computes it:
//! `n_epochs` passes of shuffled minibatches, each a gradient step (clipped to a global norm) on
//!
//! L = −E[min(r_t Â_t, clip(r_t, 1 − ε, 1 + ε) Â_t)] + c_v E[(V(s_t) − R_t)²] − c_e E[H(π(·|s_t))]
//!
//! with r_t = π(a_t|s_t) / π_old(a_t|s_t), optional value clipping, and an early stop once the
//! approximate KL (Schulman's k3 estimator, E[(r − 1) − log r]) exceeds 1.5 × `target_kl`.
//!
//! The rollout needs its advantages and returns computed; a method that changes the rewards
//! first (GAIL's discriminator rewards) recomputes them before calling [`update`].

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::seq::SliceRandom;

use super::checkpoint::MinibatchOrder;
use super::ppo::PpoConfig;
use crate::buffer::RolloutBuffer;
use crate::buffer::rollout::Minibatch;
use crate::nn::device::computes_on_host;
use crate::nn::{ActorCritic, clip_grad_norm, to_vec};

/// ε of PPO's Adam (Stable-Baselines3's `optimizer_kwargs`: `eps=1e-5`).
pub const ADAM_EPSILON: f32 = 1e-5;

/// How the value loss keeps V(s) near its rollout value V_old, with
/// V_clip = V_old + clip(V − V_old, −c, c).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueClip {
    /// ℓ(R − V), unclipped.
    Off,
    /// ℓ(R − V_clip) alone (SB3's `clip_range_vf` = c).
    Clipped(f64),
    /// max(ℓ(R − V), ℓ(R − V_clip)), pessimistic as PPO's surrogate (the MAPPO code's,
    /// Yu et al. 2022).
    Pessimistic(f64),
}

/// The hyperparameters of one PPO update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PpoUpdate {
    /// Adam step size of this update (annealed or not by the caller).
    pub learning_rate: f64,
    /// ε of the surrogate's clipping, for this update.
    pub clip_range: f64,
    /// Whether and how V(s) is kept near its rollout value.
    pub value_clip: ValueClip,
    /// ℓ is Huber's loss with this δ; squared error when `None`.
    pub huber_delta: Option<f64>,
    /// Standardise advantages per minibatch.
    pub normalize_advantage: bool,
    pub ent_coef: f64,
    pub vf_coef: f64,
    pub max_grad_norm: f64,
    /// Stop the epochs once the approximate KL exceeds 1.5 × this.
    pub target_kl: Option<f64>,
    pub n_epochs: usize,
    /// Transitions per minibatch.
    pub batch_size: usize,
}

impl PpoUpdate {
    /// The settings of `cfg` for the update after `step` of `total` env steps: `anneal_lr` and
    /// `anneal_clip_range` decay the step size and ε linearly to 0, evaluated as SB3 evaluates
    /// its schedules, after the rollout, at progress 1 − step / total.
    pub fn scheduled(cfg: &PpoConfig, step: u64, total: u64) -> Self {
        let remaining = 1.0 - (step as f64 / total as f64).min(1.0);
        let anneal = |value: f64, on: bool| if on { value * remaining } else { value };
        Self::new(
            cfg,
            anneal(cfg.learning_rate, cfg.anneal_lr),
            anneal(cfg.clip_range, cfg.anneal_clip_range),
        )
    }

    /// The settings of `cfg` with this update's (possibly annealed) step size and ε.
    pub fn new(cfg: &PpoConfig, learning_rate: f64, clip_range: f64) -> Self {
        Self {
            learning_rate,
            clip_range,
            value_clip: cfg.clip_range_vf.map_or(ValueClip::Off, ValueClip::Clipped),
            huber_delta: None,
            normalize_advantage: cfg.normalize_advantage,
            ent_coef: cfg.ent_coef,
            vf_coef: cfg.vf_coef,
            max_grad_norm: cfg.max_grad_norm,
            target_kl: cfg.target_kl,
            n_epochs: cfg.n_epochs,
            batch_size: cfg.batch_size,
        }
    }
}

/// Means over the minibatches stepped on (NaN when the KL stopped the first one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PpoStats {
    /// How many minibatches were stepped on.
    pub minibatches: usize,
    pub loss_pi: f64,
    pub loss_v: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    /// The share of ratios outside [1 − ε, 1 + ε].
    pub clip_fraction: f64,
}

impl PpoStats {
    /// The means of `sums` (loss_pi, loss_v, entropy, approx_kl, clip_fraction, summed over the
    /// `minibatches` stepped on); NaN when none was (`sums` is `None`).
    pub fn mean_of(sums: Option<Tensor<1>>, minibatches: usize) -> Self {
        let sums = sums.map(|s| to_vec(s).into_iter().map(f64::from).collect());
        Self::from_sums(sums, minibatches)
    }

    /// The means of host `sums`, as [`PpoStats::mean_of`].
    pub fn from_sums(sums: Option<Vec<f64>>, minibatches: usize) -> Self {
        let means: Vec<f64> = match sums {
            Some(s) => s.iter().map(|&x| x / minibatches as f64).collect(),
            None => vec![f64::NAN; 5],
        };
        Self {
            minibatches,
            loss_pi: means[0],
            loss_v: means[1],
            entropy: means[2],
            approx_kl: means[3],
            clip_fraction: means[4],
        }
    }

    /// The values in the order loss_pi, loss_v, entropy, approx_kl, clip_fraction.
    pub fn row(&self) -> Vec<f64> {
        vec![
            self.loss_pi,
            self.loss_v,
            self.entropy,
            self.approx_kl,
            self.clip_fraction,
        ]
    }
}

/// −E[min(r Â, clip(r, 1 − ε, 1 + ε) Â)]: the clipped surrogate objective, negated.
pub fn clipped_surrogate_loss(ratio: Tensor<1>, advantages: Tensor<1>, clip: f64) -> Tensor<1> {
    let surrogate = advantages.clone() * ratio.clone();
    let clipped = advantages * ratio.clamp(1.0 - clip, 1.0 + clip);
    surrogate.min_pair(clipped).mean().neg()
}

/// Huber's loss with threshold δ (Huber 1964): ½e² for |e| ≤ δ, δ(|e| − ½δ) beyond, elementwise.
pub fn huber(e: Tensor<1>, delta: f64) -> Tensor<1> {
    let abs = e.abs();
    let quadratic = abs.clone().clamp_max(delta);
    let linear = abs - quadratic.clone();
    quadratic.square().mul_scalar(0.5) + linear.mul_scalar(delta)
}

/// The value loss E[ℓ(R − V)], ℓ(e) = e² or Huber's (`hp.huber_delta`), with V clipped as
/// `hp.value_clip` says.
pub fn value_loss(
    values: Tensor<1>,
    old_values: Tensor<1>,
    returns: Tensor<1>,
    hp: &PpoUpdate,
) -> Tensor<1> {
    let loss = |v: Tensor<1>| {
        let e = returns.clone() - v;
        match hp.huber_delta {
            Some(delta) => huber(e, delta),
            None => e.square(),
        }
    };
    let clipped = |c: f64| old_values.clone() + (values.clone() - old_values.clone()).clamp(-c, c);
    match hp.value_clip {
        ValueClip::Off => loss(values).mean(),
        ValueClip::Clipped(c) => loss(clipped(c)).mean(),
        ValueClip::Pessimistic(c) => loss(values.clone()).max_pair(loss(clipped(c))).mean(),
    }
}

/// PPO's loss on one minibatch, with what the update reports of it.
pub struct MinibatchLoss {
    /// L of the minibatch (to differentiate).
    pub loss: Tensor<1>,
    /// loss_pi, loss_v, entropy, approx_kl, clip_fraction (detached).
    pub stats: Tensor<1>,
    /// The approximate KL E[(r − 1) − log r] (detached).
    pub approx_kl: Tensor<1>,
}

/// L on the minibatch of `rollout`'s rows `chunk` (advantages standardised within it when
/// `hp.normalize_advantage`).
pub fn minibatch_loss(
    model: &ActorCritic,
    rollout: &RolloutBuffer,
    chunk: &[usize],
    hp: &PpoUpdate,
    device: &Device,
) -> MinibatchLoss {
    loss_on(
        model,
        rollout.minibatch(chunk, hp.normalize_advantage, device),
        hp,
    )
}

/// L on the minibatch `mb`.
pub fn loss_on(model: &ActorCritic, mb: Minibatch, hp: &PpoUpdate) -> MinibatchLoss {
    let clip = hp.clip_range;
    let (out, values) = model.forward(mb.observations);
    let (log_prob, entropy) = model.log_prob_entropy(out, &mb.actions);
    let log_ratio = log_prob - mb.old_log_probs;
    let ratio = log_ratio.clone().exp();
    let loss_pi = clipped_surrogate_loss(ratio.clone(), mb.advantages, clip);
    let loss_v = value_loss(values, mb.old_values, mb.returns, hp);
    let entropy = entropy.mean();
    let loss = loss_pi.clone() + loss_v.clone().mul_scalar(hp.vf_coef)
        - entropy.clone().mul_scalar(hp.ent_coef);

    let ratio = ratio.detach();
    let approx_kl = (ratio.clone().sub_scalar(1.0) - log_ratio.detach()).mean();
    let clip_fraction = ratio
        .sub_scalar(1.0)
        .abs()
        .greater_elem(clip)
        .float()
        .mean();
    let stats = Tensor::cat(
        vec![
            loss_pi.detach(),
            loss_v.detach(),
            entropy.detach(),
            approx_kl.clone(),
            clip_fraction,
        ],
        0,
    );
    MinibatchLoss {
        loss,
        stats,
        approx_kl,
    }
}

/// PPO's update of `model` on `rollout` (minibatches on `device`, the model's device): each
/// epoch shuffles `order.indices` with `order.rng` and steps on its chunks. On the CPU backends
/// the gradients are computed on the host ([`super::ppo_host`]) for the layouts it covers.
pub fn update(
    model: ActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollout: &RolloutBuffer,
    order: &mut MinibatchOrder,
    hp: &PpoUpdate,
    device: &Device,
) -> (ActorCritic, PpoStats) {
    if computes_on_host(device)
        && let Some(host) = model.to_host()
    {
        return super::ppo_host::update(
            model,
            host,
            optimizer,
            std::slice::from_ref(rollout),
            std::slice::from_mut(order),
            hp,
        );
    }
    burn_update(model, optimizer, rollout, order, hp, device)
}

/// [`update`] through Burn's autodiff, a minibatch at a time.
pub(crate) fn burn_update(
    model: ActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollout: &RolloutBuffer,
    order: &mut MinibatchOrder,
    hp: &PpoUpdate,
    device: &Device,
) -> (ActorCritic, PpoStats) {
    minibatch_epochs(
        model,
        order,
        hp,
        |model, chunk| minibatch_loss(model, rollout, chunk, hp, device),
        |model, _, loss| {
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            clip_grad_norm(&model, &mut grads, hp.max_grad_norm);
            optimizer.step(hp.learning_rate, model, grads)
        },
    )
}

/// PPO's epochs on Burn's autodiff: each epoch shuffles `order.indices` with `order.rng` and,
/// for each chunk of `hp.batch_size` rows, computes `loss(&model, chunk)` and hands the loss to
/// `step`, which returns the stepped model. With `target_kl` the update stops before the first
/// minibatch whose approximate KL exceeds 1.5·target_kl (Stable-Baselines3's early stop).
/// Returns the model and the mean statistics of the minibatches stepped.
pub(crate) fn minibatch_epochs<M>(
    mut model: M,
    order: &mut MinibatchOrder,
    hp: &PpoUpdate,
    loss: impl Fn(&M, &[usize]) -> MinibatchLoss,
    mut step: impl FnMut(M, &[usize], Tensor<1>) -> M,
) -> (M, PpoStats) {
    let mut sums = None::<Tensor<1>>;
    let mut stepped = 0usize;
    'epochs: for _ in 0..hp.n_epochs {
        order.indices.shuffle(&mut order.rng);
        for chunk in order.indices.chunks(hp.batch_size) {
            let MinibatchLoss {
                loss,
                stats,
                approx_kl,
            } = loss(&model, chunk);
            if let Some(target) = hp.target_kl {
                let kl = f64::from(approx_kl.into_scalar::<f32>());
                if kl > 1.5 * target {
                    break 'epochs;
                }
            }
            sums = Some(match sums {
                Some(s) => s + stats,
                None => stats,
            });
            stepped += 1;
            model = step(model, chunk, loss);
        }
    }
    (model, PpoStats::mean_of(sums, stepped))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Ratios inside, above and below [0.8, 1.2] with advantages of both signs: the minimum
    /// takes the clipped term only where it is the pessimistic one.
    #[test]
    fn the_clipped_surrogate_is_the_pessimistic_bound() {
        let device = Device::flex();
        let t = |v: [f32; 4]| Tensor::<1>::from_floats(v, &device);
        let ratio = t([1.0, 1.5, 1.5, 0.5]);
        let advantages = t([2.0, 1.0, -1.0, -2.0]);
        // min(rÂ, clip(r)Â): min(2, 2) = 2; min(1.5, 1.2) = 1.2; min(−1.5, −1.2) = −1.5;
        // min(−1, −1.6) = −1.6. Mean 0.1/4 = 0.025, negated.
        let loss = clipped_surrogate_loss(ratio, advantages, 0.2).into_scalar::<f32>();
        assert!((loss + 0.025).abs() < 1e-6, "{loss}");
    }

    pub(crate) fn hp(value_clip: ValueClip, huber_delta: Option<f64>) -> PpoUpdate {
        PpoUpdate {
            learning_rate: 1e-3,
            clip_range: 0.2,
            value_clip,
            huber_delta,
            normalize_advantage: true,
            ent_coef: 0.0,
            vf_coef: 1.0,
            max_grad_norm: 10.0,
            target_kl: None,
            n_epochs: 1,
            batch_size: 2,
        }
    }

    /// Huber with δ = 10 at errors 4 (quadratic: ½·16 = 8, gradient e = 4) and −30 (linear:
    /// 10·(30 − 5) = 250, gradient δ·sign(e) = −10).
    #[test]
    fn the_huber_value_loss_is_quadratic_then_linear() {
        let device = Device::flex().autodiff();
        let e = Tensor::<1>::from_floats([4.0, -30.0], &device).require_grad();
        let h = huber(e.clone(), 10.0);
        assert_eq!(to_vec(h.clone()), vec![8.0, 250.0]);
        let grads = h.sum().backward();
        assert_eq!(
            to_vec(e.grad(&grads).expect("e is tracked")),
            vec![4.0, -10.0]
        );
    }

    /// V = [3, 0], V_old = [0, 0], R = [1, 2], c = 1: V_clip = [1, 0]. Squared errors of V
    /// [4, 4], of V_clip [0, 4]: SB3 regresses V_clip (mean 2), the pessimistic form takes the
    /// max, [4, 4] (mean 4); unclipped, 4.
    #[test]
    fn value_clipping_takes_the_max_of_the_clipped_and_unclipped_losses() {
        let device = Device::flex();
        let t = |v: [f32; 2]| Tensor::<1>::from_floats(v, &device);
        let loss = |hp: PpoUpdate| {
            value_loss(t([3.0, 0.0]), t([0.0, 0.0]), t([1.0, 2.0]), &hp).into_scalar::<f32>()
        };
        assert_eq!(loss(hp(ValueClip::Clipped(1.0), None)), 2.0);
        assert_eq!(loss(hp(ValueClip::Pessimistic(1.0), None)), 4.0);
        assert_eq!(loss(hp(ValueClip::Off, None)), 4.0);
        // Huber δ = 1 on errors [−2, 2] and [0, 2]: [1.5, 1.5] vs [0, 1.5], max mean 1.5.
        assert_eq!(loss(hp(ValueClip::Pessimistic(1.0), Some(1.0))), 1.5);
    }
}
