//! One Q-Prop update (Gu et al. 2017, "Q-Prop: sample-efficient policy gradient with an
//! off-policy critic", Algorithm 1) of a Gaussian policy on one rollout:
//!
//! 1. the rollout goes into replay and the off-policy critic Q_w(s, a) takes
//!    `critic_gradient_steps` minibatch steps of Adam on E[(Q_w(s, a) − y)²] with the DDPG target
//!    y = r + γ (1 − d) Q_w'(s', μ_θ(s')) of the policy's mean action (eq. 4), Q_w' a Polyak
//!    average of Q_w;
//! 2. the control variate, the first-order Taylor expansion of Q_w at the policy mean:
//!    Ā(s, a) = ∇_a Q_w(s, a)|_{a=μ_θ(s)} · (a − μ_θ(s)) (eq. 7);
//! 3. η from the sample covariance of Â (GAE) and Ā on the batch (§3.3, [`Adaptation`]);
//! 4. the gradient (eq. 8)
//!    g = E[∇θ log π_θ(a|s) (Â − η Ā)] + E[η ∇_a Q_w(s, a)|_{μ_θ(s)} ∇θ μ_θ(s)],
//!    as the gradient at θ_old of the surrogate
//!    L(θ) = E[π_θ/π_old (Â − η Ā)] + E[η ∇_a Q_w|_{μ_old} · (μ_θ(s) − μ_old(s))],
//!    which TRPO's natural step and line search then use in place of its own
//!    ([`natural_step`]). With `normalize_advantage` the learning signal and the analytic
//!    weights are divided by the sample standard deviation of Â (and Â centred), so that the
//!    estimator is TRPO's standardised one plus the same control variate, rescaled;
//! 5. the value function's epochs, as TRPO's ([`critic_epochs`]).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::MinibatchOrder;
use super::trpo_update::{
    NaturalGradientStats, NaturalGradientUpdate, critic_epochs, natural_step, policy_rows,
};
use crate::buffer::{ReplayBatch, ReplayBuffer, RolloutBuffer, Transition};
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{ActionKind, Activation, ActorCritic, matrix, to_vec};
use crate::rng::Rng;

/// How η(s) is set from Cov(Â, Ā) on the batch (Gu et al. 2017, §3.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adaptation {
    /// η = 1 when Cov(Â, Ā) > 0, else 0 (the control variate is used only when it correlates).
    #[default]
    Conservative,
    /// η = sign Cov(Â, Ā).
    Aggressive,
    /// η = 1 (standard Q-Prop).
    None,
    /// The variance-optimal η* of [`optimal_eta`].
    Optimal,
}

/// η for a batch whose sample covariance of Â and Ā is `cov`; `optimal` is called for
/// [`Adaptation::Optimal`] only.
pub fn eta(adaptation: Adaptation, cov: f64, optimal: impl FnOnce() -> f64) -> f64 {
    match adaptation {
        Adaptation::Conservative => f64::from(u8::from(cov > 0.0)),
        Adaptation::Aggressive if cov > 0.0 => 1.0,
        Adaptation::Aggressive if cov < 0.0 => -1.0,
        Adaptation::Aggressive => 0.0,
        Adaptation::None => 1.0,
        Adaptation::Optimal => optimal(),
    }
}

/// The variance-optimal control-variate weight (Gu et al. 2017, §3.3, in the spirit of its
/// η* = Cov(Â, Ā) / Var(Ā)), taken on the per-sample gradients rather than on the scalar
/// advantages: Q-Prop's per-sample gradient with respect to (μ(sᵢ), log σ) is
/// ψᵢ(η) = gᵢ − η hᵢ, with gᵢ the plain one ([`per_sample_gradients`] of Â) and hᵢ the control
/// variate's term (of Ā, minus the analytic ∇_a Q), so
/// tr Cov ψ(η) = tr Var g − 2η tr Cov(g, h) + η² tr Var h, whose minimum is at
///
///   η* = tr Cov(g, h) / tr Var h
///
/// (0 when tr Var h = 0). The scalar η* minimises Var(Â − ηĀ) only, which ignores the
/// analytic term and the score's weighting; this one minimises the variance the diagnostic
/// measures, so that it is never above the plain estimator's (η = 0) on the batch.
/// `plain` are the gᵢ, `unit` the ψᵢ(1) = gᵢ − hᵢ.
pub fn optimal_eta(plain: &[Vec<f64>], unit: &[Vec<f64>]) -> f64 {
    let width = plain.first().map_or(0, Vec::len);
    let (mut cross, mut var_h) = (0.0, 0.0);
    for j in 0..width {
        let g: Vec<f64> = plain.iter().map(|r| r[j]).collect();
        let h: Vec<f64> = plain.iter().zip(unit).map(|(g, u)| g[j] - u[j]).collect();
        cross += covariance(&g, &h);
        var_h += covariance(&h, &h);
    }
    if var_h > 0.0 { cross / var_h } else { 0.0 }
}

/// The off-policy critic Q_w and its target Q_w'.
pub struct QCritic {
    pub online: Critics,
    pub target: Critics,
}

impl QCritic {
    /// A fresh critic `obs_dim + act_dim → hidden… → 1` (ReLU) and its frozen copy.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let online = Critics::new(obs_dim, act_dim, hidden, Activation::Relu, 1, rng, device);
        let target = target_copy(&online);
        Self { online, target }
    }
}

/// The hyperparameters of one update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QPropUpdate {
    pub natural: NaturalGradientUpdate,
    pub adaptation: Adaptation,
    /// Adam step size of Q_w.
    pub critic_learning_rate: f64,
    pub critic_batch_size: usize,
    pub critic_gradient_steps: usize,
    /// Polyak coefficient of Q_w'.
    pub tau: f64,
    /// γ of the critic's TD target.
    pub gamma: f64,
}

/// What one update did: TRPO's statistics and Q-Prop's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QPropStats {
    pub natural: NaturalGradientStats,
    /// Mean TD loss of Q_w over its minibatch steps.
    pub loss_q: f64,
    /// Sample covariance of Â and Ā on the batch.
    pub cov: f64,
    pub eta: f64,
    /// The gradient variances of [`GradientVariance`].
    pub variance: GradientVariance,
}

impl QPropStats {
    pub fn row(&self) -> Vec<f64> {
        let mut row = self.natural.row();
        row.extend([
            self.loss_q,
            self.cov,
            self.eta,
            self.variance.qprop,
            self.variance.plain,
        ]);
        row
    }
}

/// Stores every transition of `rollout` in `replay` (a time-limit end bootstraps, a terminal
/// one does not).
pub fn store(rollout: &RolloutBuffer, replay: &mut ReplayBuffer, gamma: f64) {
    let (o, a) = (rollout.obs_dim, rollout.act_dim);
    for i in 0..rollout.len() {
        replay.add(&Transition {
            obs: &rollout.observations[i * o..(i + 1) * o],
            action: &rollout.actions[i * a..(i + 1) * a],
            reward: rollout.rewards[i] as f32,
            next_obs: &rollout.next_observations[i * o..(i + 1) * o],
            terminated: rollout.terminated[i],
            truncated: rollout.ended[i] && !rollout.terminated[i],
            discount: gamma as f32,
        });
    }
}

/// One Adam step of Q_w towards y = r + γ (1 − d) Q_w'(s', μ_θ(s')) on `batch`, then the Polyak
/// step of Q_w'; returns the loss (detached).
pub fn critic_step(
    mut critic: QCritic,
    optimizer: &mut ModuleOptimizer,
    model: &ActorCritic,
    batch: &ReplayBatch,
    hp: &QPropUpdate,
    device: &Device,
) -> (QCritic, Tensor<1>) {
    let (obs_dim, act_dim) = (batch.obs_dim(), batch.act_dim());
    let obs = matrix(&batch.observations, obs_dim, device);
    let next_obs = matrix(&batch.next_observations, obs_dim, device);
    let next_mean = model.actor(next_obs.clone()).detach();
    let next_q = critic.target.first(next_obs, next_mean).detach();
    let y = batch.td_target(next_q, device).detach();
    let q = critic
        .online
        .first(obs, matrix(&batch.actions, act_dim, device));
    let loss = (q - y).square().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &critic.online);
    critic.online = optimizer.step(hp.critic_learning_rate, critic.online, grads);
    critic.target = polyak_update(critic.target, &critic.online, hp.tau);
    (critic, loss.detach())
}

/// ∇_a q(a) at a = `means`, row by row, for a batch function `q` (`[N, k] → [N]`, each row's
/// value depending on its own action only): one backward pass of Σᵢ q(a)ᵢ.
pub fn action_gradient(q: impl FnOnce(Tensor<2>) -> Tensor<1>, means: Tensor<2>) -> Vec<f32> {
    let actions = means.detach().require_grad();
    let grads = q(actions.clone()).sum().backward();
    to_vec(
        actions
            .grad(&grads)
            .expect("the critic depends on the action"),
    )
}

/// The Taylor control variate Ā(sᵢ, aᵢ) = ∇_a Q(sᵢ, μᵢ) · (aᵢ − μᵢ) (eq. 7), rows of width
/// `k` in `gradient`, `actions` and `means`.
pub fn taylor_control_variate(
    gradient: &[f32],
    actions: &[f32],
    means: &[f32],
    k: usize,
) -> Vec<f64> {
    gradient
        .chunks_exact(k)
        .zip(actions.chunks_exact(k).zip(means.chunks_exact(k)))
        .map(|(g, (a, m))| {
            g.iter()
                .zip(a.iter().zip(m))
                .map(|(&g, (&a, &m))| f64::from(g) * (f64::from(a) - f64::from(m)))
                .sum()
        })
        .collect()
}

/// The sample covariance of `x` and `y` (n − 1 in the denominator).
pub fn covariance(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (n - 1.0)
}

/// Per-sample gradient estimates with respect to the Gaussian's parameters (μ(sᵢ), log σ):
/// ψᵢ = [(aᵢ − μᵢ)/σ² ℓᵢ + wᵢ ; ((aᵢ − μᵢ)²/σ² − 1) ℓᵢ], for the learning signal ℓᵢ (Â, or
/// Q-Prop's Â − ηĀ) and the analytic weights wᵢ (0, or Q-Prop's η ∇_a Q). The policy gradient
/// is E[Jᵢᵀ ψᵢ] with Jᵢ the Jacobian of (μ(sᵢ), log σ) in θ. Rows of width 2k.
pub fn per_sample_gradients(
    actions: &[f32],
    means: &[f32],
    log_std: &[f32],
    signal: &[f64],
    analytic: Option<&[f64]>,
) -> Vec<Vec<f64>> {
    let k = log_std.len();
    let inv_var: Vec<f64> = log_std
        .iter()
        .map(|&l| (-2.0 * f64::from(l)).exp())
        .collect();
    (0..signal.len())
        .map(|i| {
            let mut row = vec![0.0; 2 * k];
            for j in 0..k {
                let z = f64::from(actions[i * k + j]) - f64::from(means[i * k + j]);
                let w = analytic.map_or(0.0, |w| w[i * k + j]);
                row[j] = z * inv_var[j] * signal[i] + w;
                row[k + j] = (z * z * inv_var[j] - 1.0) * signal[i];
            }
            row
        })
        .collect()
}

/// tr Cov(ψ) of per-sample vectors: the sum over components of their sample variances.
pub fn trace_covariance(rows: &[Vec<f64>]) -> f64 {
    let width = rows.first().map_or(0, Vec::len);
    (0..width)
        .map(|j| {
            let column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            covariance(&column, &column)
        })
        .sum()
}

/// The gradient-variance diagnostic on the policy step's batch: tr Cov of the per-sample
/// gradient estimates with respect to the action distribution's parameters (μ(sᵢ), log σ)
/// ([`per_sample_gradients`]) — a cheap stand-in for the per-sample gradients in θ, which are
/// these through the network's Jacobian — for Q-Prop's estimator and for the plain
/// likelihood-ratio one (η = 0) on the same batch, with the same scaling of Â.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientVariance {
    pub qprop: f64,
    pub plain: f64,
}

/// The learning signal Â − ηĀ and the analytic weights η ∇_a Q (rows of width k), both scaled
/// as TRPO scales Â: centred and divided by the sample standard deviation (+ 1e-8) when
/// `normalize`. Returns (signal, weights, plain signal).
fn learning_signal(
    advantages: &[f64],
    control_variate: &[f64],
    gradient: &[f32],
    eta: f64,
    normalize: bool,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (centre, scale) = if normalize {
        let n = advantages.len() as f64;
        let mean = advantages.iter().sum::<f64>() / n;
        (mean, covariance(advantages, advantages).sqrt() + 1e-8)
    } else {
        (0.0, 1.0)
    };
    let plain: Vec<f64> = advantages.iter().map(|a| (a - centre) / scale).collect();
    let signal = plain
        .iter()
        .zip(control_variate)
        .map(|(a, cv)| a - eta * cv / scale)
        .collect();
    let weights = gradient
        .iter()
        .map(|&g| eta * f64::from(g) / scale)
        .collect();
    (signal, weights, plain)
}

/// One Q-Prop update (1–5 of the module doc): returns the model, the critic and what it did.
#[allow(clippy::too_many_arguments)]
pub fn update(
    model: ActorCritic,
    mut critic: QCritic,
    optimizers: (&mut ModuleOptimizer, &mut ModuleOptimizer),
    rollout: &RolloutBuffer,
    replay: &mut ReplayBuffer,
    order: &mut MinibatchOrder,
    hp: &QPropUpdate,
    device: &Device,
) -> (ActorCritic, QCritic, QPropStats) {
    let (value_optimizer, critic_optimizer) = optimizers;
    let act_dim = rollout.act_dim;
    // 1. The off-policy critic.
    store(rollout, replay, hp.gamma);
    let mut batch = ReplayBatch::default();
    let mut sum = None::<Tensor<1>>;
    for _ in 0..hp.critic_gradient_steps {
        replay.sample_uniform(hp.critic_batch_size, &mut order.rng, &mut batch);
        let loss;
        (critic, loss) = critic_step(critic, critic_optimizer, &model, &batch, hp, device);
        sum = Some(sum.map_or(loss.clone(), |s| s + loss));
    }
    let loss_q = sum.map_or(f64::NAN, |s| {
        f64::from(s.into_scalar::<f32>()) / hp.critic_gradient_steps as f64
    });

    // 2–3. The control variate and η on the policy step's rows.
    let rows = policy_rows(rollout, &hp.natural);
    let mut mb = rollout.minibatch(&rows, false, device);
    let means = model.actor(mb.observations.clone()).detach();
    let means_host = to_vec(means.clone());
    let q = critic.online.clone().no_grad();
    let obs = mb.observations.clone();
    let gradient = action_gradient(|a| q.first(obs, a), means.clone());
    let actions: Vec<f32> = rows
        .iter()
        .flat_map(|&i| {
            rollout.actions[i * act_dim..(i + 1) * act_dim]
                .iter()
                .copied()
        })
        .collect();
    let control_variate = taylor_control_variate(&gradient, &actions, &means_host, act_dim);
    let advantages: Vec<f64> = rows
        .iter()
        .map(|&i| f64::from(rollout.advantages[i]))
        .collect();
    let cov = covariance(&advantages, &control_variate);
    let normalize = hp.natural.normalize_advantage;
    let log_std = model.log_std();
    // The plain policy gradient's per-sample rows do not depend on η: computed once.
    let (_, _, plain) = learning_signal(&advantages, &control_variate, &gradient, 0.0, normalize);
    let plain_rows = per_sample_gradients(&actions, &means_host, &log_std, &plain, None);
    let rows_at = |eta: f64| {
        let (signal, weights, _) =
            learning_signal(&advantages, &control_variate, &gradient, eta, normalize);
        let rows = per_sample_gradients(&actions, &means_host, &log_std, &signal, Some(&weights));
        (signal, weights, rows)
    };
    let eta = eta(hp.adaptation, cov, || {
        let (_, _, unit) = rows_at(1.0);
        optimal_eta(&plain_rows, &unit)
    });
    let (signal, weights, rows) = rows_at(eta);
    let variance = GradientVariance {
        qprop: trace_covariance(&rows),
        plain: trace_covariance(&plain_rows),
    };

    // 4. TRPO's step on Q-Prop's surrogate.
    let to_f32 = |v: &[f64]| -> Vec<f32> { v.iter().map(|&x| x as f32).collect() };
    mb.advantages = crate::nn::vector(&to_f32(&signal), device);
    let weights = matrix(&to_f32(&weights), act_dim, device);
    let action = ActionKind::Continuous(act_dim);
    let (model, mut natural) = natural_step(model, &mb, Some(&weights), action, &hp.natural);

    // 5. The value function.
    let (model, loss_v) =
        critic_epochs(model, value_optimizer, rollout, order, &hp.natural, device);
    natural.loss_v = loss_v;
    let stats = QPropStats {
        natural,
        loss_q,
        cov,
        eta,
        variance,
    };
    (model, critic, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};
    use rand::RngExt;

    /// Ā of Q(a) = −Σⱼ kⱼ (aⱼ − cⱼ)², through Burn's autodiff, equals the closed form
    /// Σⱼ −2 kⱼ (μⱼ − cⱼ)(aⱼ − μⱼ).
    #[test]
    fn qprop_taylor_control_variate_of_a_quadratic_q() {
        let device = Device::flex().autodiff();
        let (k, c) = ([0.5f32, 2.0], [0.3f32, -0.7]);
        let means = [0.1f32, 0.2, -1.0, 0.4, 0.9, -0.3];
        let actions = [0.6f32, -0.1, -0.5, 0.0, 1.2, 0.8];
        let q = |a: Tensor<2>| {
            let centre = matrix(&c, 2, &device);
            let weight = matrix(&k, 2, &device);
            ((a - centre).square() * weight)
                .sum_dim(1)
                .squeeze_dim::<1>(1)
                .neg()
        };
        let gradient = action_gradient(q, matrix(&means, 2, &device));
        let cv = taylor_control_variate(&gradient, &actions, &means, 2);
        for (i, cv) in cv.iter().enumerate() {
            let exact: f64 = (0..2)
                .map(|j| {
                    let (m, a) = (f64::from(means[2 * i + j]), f64::from(actions[2 * i + j]));
                    -2.0 * f64::from(k[j]) * (m - f64::from(c[j])) * (a - m)
                })
                .sum();
            assert!((cv - exact).abs() < 1e-5, "row {i}: {cv} vs {exact}");
        }
    }

    #[test]
    fn qprop_eta_rules() {
        let (c, a, none) = (
            Adaptation::Conservative,
            Adaptation::Aggressive,
            Adaptation::None,
        );
        let unused = || -> f64 { unreachable!("only the optimal adaptation estimates η*") };
        assert_eq!(eta(c, 0.3, unused), 1.0);
        assert_eq!(eta(c, -0.3, unused), 0.0);
        assert_eq!(eta(c, 0.0, unused), 0.0);
        assert_eq!(eta(a, 0.3, unused), 1.0);
        assert_eq!(eta(a, -0.3, unused), -1.0);
        assert_eq!(eta(a, 0.0, unused), 0.0);
        assert_eq!(eta(none, -0.3, unused), 1.0);
        assert_eq!(eta(none, 0.3, unused), 1.0);
        assert_eq!(eta(Adaptation::Optimal, -0.3, || 0.25), 0.25);
    }

    /// A synthetic batch g = 0.7 h + e, with e uncorrelated with h in every component: the
    /// optimal η is exactly 0.7, and tr Cov(g − ηh) at η* is below its value at η = 0 (plain),
    /// η = 1 and η* ± 0.1. With h = 0, η* = 0.
    #[test]
    fn qprop_optimal_eta_minimises_the_trace_of_the_gradient_covariance() {
        let h = [[1.0, 2.0], [-1.0, -2.0], [1.0, 2.0], [-1.0, -2.0]];
        let e = [[1.0, -3.0], [1.0, -3.0], [-1.0, 3.0], [-1.0, 3.0]];
        let plain: Vec<Vec<f64>> = h
            .iter()
            .zip(&e)
            .map(|(h, e)| (0..2).map(|j| 0.7 * h[j] + e[j]).collect())
            .collect();
        let at = |eta: f64| -> Vec<Vec<f64>> {
            plain
                .iter()
                .zip(&h)
                .map(|(g, h)| (0..2).map(|j| g[j] - eta * h[j]).collect())
                .collect()
        };
        let best = optimal_eta(&plain, &at(1.0));
        assert!((best - 0.7).abs() < 1e-12, "η* = {best}");
        let variance = |eta: f64| trace_covariance(&at(eta));
        for other in [0.0, 1.0, best - 0.1, best + 0.1] {
            assert!(variance(best) < variance(other), "η = {other}");
        }
        // tr Cov at η* is that of e alone: (4 + 36) / 3.
        assert!((variance(best) - 40.0 / 3.0).abs() < 1e-12);
        assert_eq!(optimal_eta(&plain, &plain), 0.0);
    }

    /// A Gaussian policy N(μ, σ²) on one state, Q(a) = −2(a − 1)², Â = Q(a) − E[Q]: the true
    /// gradient is ∂/∂μ E[Q] = −4(μ − 1) and ∂/∂log σ E[Q] = −4σ². The mean of Q-Prop's
    /// per-sample estimates (η = 1 and η = −1 alike) matches it within 4 standard errors, as
    /// the plain one's does, and Q-Prop's variance is lower (here Â − Ā = −2((a − μ)² − σ²)).
    #[test]
    fn qprop_estimator_is_unbiased_and_reduces_variance() {
        let (mu, log_std) = (0.3f64, (0.5f64).ln());
        let sigma = log_std.exp();
        let n = 200_000;
        let mut rng = stream(5, Stream::Explore);
        let actions: Vec<f32> = (0..n)
            .map(|_| {
                let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                (mu + sigma * z) as f32
            })
            .collect();
        let means = vec![mu as f32; n];
        let q = |a: f64| -2.0 * (a - 1.0).powi(2);
        let expected_q = -2.0 * (sigma * sigma + (mu - 1.0).powi(2));
        let advantages: Vec<f64> = actions
            .iter()
            .map(|&a| q(f64::from(a)) - expected_q)
            .collect();
        let device = Device::flex().autodiff();
        let gradient = action_gradient(
            |a| (a.sub_scalar(1.0).square().mul_scalar(-2.0)).squeeze_dim::<1>(1),
            matrix(&means[..1], 1, &device),
        );
        let gradient = vec![gradient[0]; n];
        let cv = taylor_control_variate(&gradient, &actions, &means, 1);
        let exact = [-4.0 * (mu - 1.0), -4.0 * sigma * sigma];
        let estimate = |rows: &[Vec<f64>]| -> ([f64; 2], [f64; 2]) {
            let mean = |j: usize| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64;
            let column = |j: usize| rows.iter().map(|r| r[j]).collect::<Vec<_>>();
            let se = |j: usize| (covariance(&column(j), &column(j)) / n as f64).sqrt();
            ([mean(0), mean(1)], [se(0), se(1)])
        };
        let plain_rows =
            per_sample_gradients(&actions, &means, &[log_std as f32], &advantages, None);
        let (plain, se) = estimate(&plain_rows);
        for j in 0..2 {
            assert!(
                (plain[j] - exact[j]).abs() < 4.0 * se[j],
                "plain {plain:?} vs {exact:?}"
            );
        }
        for eta in [1.0, -1.0] {
            let (signal, weights, _) = learning_signal(&advantages, &cv, &gradient, eta, false);
            let rows =
                per_sample_gradients(&actions, &means, &[log_std as f32], &signal, Some(&weights));
            let (qprop, se) = estimate(&rows);
            for j in 0..2 {
                assert!(
                    (qprop[j] - exact[j]).abs() < 4.0 * se[j].max(1e-3),
                    "η = {eta}: {qprop:?} vs {exact:?}"
                );
            }
            if eta == 1.0 {
                assert!(trace_covariance(&rows) < 0.5 * trace_covariance(&plain_rows));
            }
        }
    }
}
