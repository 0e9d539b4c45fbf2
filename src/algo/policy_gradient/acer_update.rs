//! ACER's update on one batch of trajectory segments (Wang et al. 2017, alg. 2, discrete
//! actions), as OpenAI Baselines and Stable-Baselines compute it:
//!
//! - Retrace targets (eq. 5) backwards along each env's column:
//!   Q^ret_t = r_t + γ [c̄_{t+1} (Q^ret_{t+1} − Q(x_{t+1}, a_{t+1})) + V(x_{t+1})] with
//!   c̄ = min(1, ρ); a terminal step stops there (Q^ret = r), a truncated step and the segment's
//!   last step bootstrap from V of the observation after it. V = Σ_a π Q, of the current network.
//! - The truncated importance weight with bias correction (eq. 8): the policy objective of a row
//!   is min(c, ρ(a_t)) log f(a_t) (Q^ret − V) + Σ_a [1 − c/ρ(a)]_+ f(a) log f(a) (Q(a) − V)
//!   (f weighting the sum held fixed), plus β H(f).
//! - The efficient trust region (§3.3): g, the gradient of that objective with respect to the
//!   policy's statistics f = π(·|x) (the probabilities), is projected against
//!   k = ∂ KL(f_avg ‖ f)/∂f = −f_avg/f of the averaged policy network:
//!   z* = g − max(0, (kᵀg − δ)/‖k‖²) k (eq. 13), and z* is backpropagated through f.
//! - Q(x_t, a_t) regressed on Q^ret with `q_coef` × ½ (Q^ret − Q)², through the same torso.
//!
//! The targets, weights and z* are computed on the host from one forward pass; the gradient of
//! the surrogate Σ f · (−z*)/N + q_coef·½ mean (Q^ret − Q)² is then the update's. Constants
//! ε = 10⁻⁶ guard ρ = f/(μ + ε), log(f + ε) and k as in Baselines.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::acer_replay::Segment;
use crate::nn::acer::AcerNetwork;
use crate::nn::{clip_grad_norm, matrix, to_vec};

const EPS: f64 = 1e-6;

/// The hyperparameters of one ACER update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcerUpdate {
    pub learning_rate: f64,
    pub gamma: f64,
    pub q_coef: f64,
    pub ent_coef: f64,
    /// The truncation c of the importance weights.
    pub correction_term: f64,
    /// δ of the trust region (`None`: no projection).
    pub delta: Option<f64>,
    pub max_grad_norm: f64,
}

/// The losses of an update (of the network before its step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcerStats {
    pub loss_policy: f64,
    pub loss_q: f64,
    pub entropy: f64,
    /// Mean KL(π_avg ‖ π) over the batch.
    pub kl_average: f64,
    /// The fraction of rows whose gradient the trust region changed.
    pub trust_region_active: f64,
    /// The mean of c̄ = min(1, ρ(a_t)).
    pub rho_bar: f64,
}

/// Whether row `row` of `segment` bootstraps from V(next observation): a truncated step that
/// did not terminate, or the segment's last step of an episode going on.
pub fn needs_bootstrap(segment: &Segment, row: usize) -> bool {
    let last = row / segment.n_envs + 1 == segment.n_steps;
    !segment.terminated[row] && (segment.truncated[row] || last)
}

/// The Retrace targets Q^ret of every row of `segment` (eq. 5), from Q(x_t, a_t) `q_taken`,
/// V(x_t) `values`, c̄_t `rho_bar` and, for the rows that [`needs_bootstrap`], V of the next
/// observation in `next_values` (other rows' entries are not read).
pub fn retrace(
    segment: &Segment,
    q_taken: &[f64],
    values: &[f64],
    rho_bar: &[f64],
    next_values: &[f64],
    gamma: f64,
) -> Vec<f64> {
    let (steps, envs) = (segment.n_steps, segment.n_envs);
    let mut targets = vec![0.0; steps * envs];
    for e in 0..envs {
        // c̄_{t+1} (Q^ret_{t+1} − Q(x_{t+1}, a_{t+1})) + V(x_{t+1}), once t + 1 is done.
        let mut carry = 0.0;
        for t in (0..steps).rev() {
            let row = t * envs + e;
            let r = segment.rewards[row];
            let target = if segment.terminated[row] {
                r
            } else if needs_bootstrap(segment, row) {
                r + gamma * next_values[row]
            } else {
                r + gamma * carry
            };
            targets[row] = target;
            carry = rho_bar[row] * (target - q_taken[row]) + values[row];
        }
    }
    targets
}

/// The truncated importance weight of the taken action, min(c, ρ(a_t)), and the bias
/// correction's weight of every action, [1 − c/ρ(a)]_+ (eq. 8), from ρ(a) = f(a)/μ(a).
pub fn truncated_weights(rho: &[f64], taken: usize, c: f64) -> (f64, Vec<f64>) {
    let correction = rho
        .iter()
        .map(|&r| (1.0 - c / (r + EPS)).max(0.0))
        .collect();
    (rho[taken].min(c), correction)
}

/// z* = g − max(0, (kᵀg − δ)/‖k‖²) k (eq. 13): the step closest to `g` whose first-order KL
/// change kᵀz stays within `delta`; and whether the constraint was active.
pub fn trust_region_projection(g: &[f64], k: &[f64], delta: f64) -> (Vec<f64>, bool) {
    let kg: f64 = k.iter().zip(g).map(|(k, g)| k * g).sum();
    let kk: f64 = k.iter().map(|k| k * k).sum();
    let scale = if kk > 0.0 {
        ((kg - delta) / kk).max(0.0)
    } else {
        0.0
    };
    let z = g.iter().zip(k).map(|(g, k)| g - scale * k).collect();
    (z, scale > 0.0)
}

/// One row's policy part: its objective's gradient g with respect to f (before any
/// projection), and its loss (the objective's negative, entropy aside).
struct PolicyRow {
    g: Vec<f64>,
    loss: f64,
}

/// g = ∂/∂f [min(c, ρ_t) log f(a_t) A^ret + Σ_a w_a f̄(a) log f(a) A(a) + β H(f)] with
/// A^ret = Q^ret − V, A(a) = Q(a) − V, w_a = [1 − c/ρ(a)]_+ and f̄ = f held fixed.
#[allow(clippy::too_many_arguments)]
fn policy_row(
    f: &[f64],
    q: &[f64],
    mu: &[f64],
    taken: usize,
    value: f64,
    q_ret: f64,
    c: f64,
    ent_coef: f64,
) -> PolicyRow {
    let rho: Vec<f64> = f.iter().zip(mu).map(|(f, m)| f / (m + EPS)).collect();
    let (weight, correction) = truncated_weights(&rho, taken, c);
    let log_f: Vec<f64> = f.iter().map(|f| (f + EPS).ln()).collect();
    let mut g: Vec<f64> = (0..f.len())
        .map(|a| correction[a] * (q[a] - value) - ent_coef * (log_f[a] + 1.0))
        .collect();
    g[taken] += weight * (q_ret - value) / (f[taken] + EPS);
    let bias: f64 = (0..f.len())
        .map(|a| correction[a] * f[a] * log_f[a] * (q[a] - value))
        .sum();
    PolicyRow {
        g,
        loss: -(weight * log_f[taken] * (q_ret - value) + bias),
    }
}

/// ACER's update of `model` on `batch` (on `device`, the model's): the trust region against
/// `average` when `hp.delta` is set, the gradient clipped to `max_grad_norm`, one step of
/// `optimizer`.
pub fn update(
    model: AcerNetwork,
    average: &AcerNetwork,
    optimizer: &mut ModuleOptimizer,
    batch: &Segment,
    hp: &AcerUpdate,
    device: &Device,
) -> (AcerNetwork, AcerStats) {
    let (n, d, na) = (batch.rows(), batch.obs_dim, batch.n_actions);
    // One forward pass of x_t and of the observations to bootstrap from.
    let bootstrap: Vec<usize> = (0..n).filter(|&i| needs_bootstrap(batch, i)).collect();
    let mut input = batch.obs.clone();
    for &i in &bootstrap {
        input.extend_from_slice(&batch.next_obs[i * d..(i + 1) * d]);
    }
    let (probs, q) = model.forward(matrix(&input, d, device));
    let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    let f_all = wide(to_vec(probs.clone()));
    let q_all = wide(to_vec(q.clone()));
    let f_avg = wide(to_vec(average.forward(matrix(&batch.obs, d, device)).0));
    let mu = wide(batch.mu.clone());
    let row = |v: &[f64], i: usize| v[i * na..(i + 1) * na].to_vec();
    let value = |i: usize| -> f64 {
        row(&f_all, i)
            .iter()
            .zip(row(&q_all, i))
            .map(|(f, q)| f * q)
            .sum()
    };
    let values: Vec<f64> = (0..n).map(value).collect();
    let mut next_values = vec![0.0; n];
    for (j, &i) in bootstrap.iter().enumerate() {
        next_values[i] = value(n + j);
    }
    let q_taken: Vec<f64> = (0..n).map(|i| q_all[i * na + batch.actions[i]]).collect();
    let rho_bar: Vec<f64> = (0..n)
        .map(|i| {
            let a = batch.actions[i];
            (f_all[i * na + a] / (mu[i * na + a] + EPS)).min(1.0)
        })
        .collect();
    let q_ret = retrace(batch, &q_taken, &values, &rho_bar, &next_values, hp.gamma);

    let (mut loss_policy, mut entropy, mut kl, mut active) = (0.0, 0.0, 0.0, 0usize);
    let mut surrogate = vec![0.0f32; n * na];
    for i in 0..n {
        let (f, f_bar) = (row(&f_all, i), row(&f_avg, i));
        let policy = policy_row(
            &f,
            &row(&q_all, i),
            &row(&mu, i),
            batch.actions[i],
            values[i],
            q_ret[i],
            hp.correction_term,
            hp.ent_coef,
        );
        let z = match hp.delta {
            Some(delta) => {
                let k: Vec<f64> = f_bar.iter().zip(&f).map(|(a, f)| -a / (f + EPS)).collect();
                let (z, changed) = trust_region_projection(&policy.g, &k, delta);
                active += usize::from(changed);
                z
            }
            None => policy.g,
        };
        // Descent on −objective: ∂L/∂f = −z/N.
        for (s, z) in surrogate[i * na..(i + 1) * na].iter_mut().zip(z) {
            *s = (-z / n as f64) as f32;
        }
        loss_policy += policy.loss / n as f64;
        entropy -= f.iter().map(|f| f * (f + EPS).ln()).sum::<f64>() / n as f64;
        kl += f_bar
            .iter()
            .zip(&f)
            .map(|(a, f)| a * ((a + EPS).ln() - (f + EPS).ln()))
            .sum::<f64>()
            / n as f64;
    }
    let loss_q = q_ret
        .iter()
        .zip(&q_taken)
        .map(|(r, q)| 0.5 * (r - q) * (r - q))
        .sum::<f64>()
        / n as f64;

    let mut one_hot = vec![0.0f32; n * na];
    for (i, &a) in batch.actions.iter().enumerate() {
        one_hot[i * na + a] = 1.0;
    }
    let targets: Vec<f32> = q_ret.iter().map(|&r| r as f32).collect();
    let q_selected = (q.narrow(0, 0, n) * matrix(&one_hot, na, device)).sum_dim(1);
    let q_error = matrix(&targets, 1, device) - q_selected;
    let loss = (probs.narrow(0, 0, n) * matrix(&surrogate, na, device)).sum()
        + q_error.square().mean().mul_scalar(0.5 * hp.q_coef);
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    clip_grad_norm(&model, &mut grads, hp.max_grad_norm);
    let model = optimizer.step(hp.learning_rate, model, grads);
    let stats = AcerStats {
        loss_policy,
        loss_q,
        entropy,
        kl_average: kl,
        trust_region_active: active as f64 / n as f64,
        rho_bar: rho_bar.iter().sum::<f64>() / n as f64,
    };
    (model, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three steps of two envs with the given flags and rewards (rows t·2 + e).
    fn segment(terminated: &[bool], truncated: &[bool], rewards: &[f64]) -> Segment {
        let mut s = Segment::new(3, 2, 1, 2);
        s.terminated = terminated.to_vec();
        s.truncated = truncated.to_vec();
        s.rewards = rewards.to_vec();
        s
    }

    /// Three steps of two envs, by hand: env 0 terminates at t = 1 and its next episode runs on
    /// through t = 2 (bootstrap from the next observation); env 1 is truncated at t = 0 (bootstrap from the final observation, not
    /// from t = 1) and terminates at t = 2.
    #[test]
    fn retrace_targets_of_a_hand_computed_segment() {
        // Rows t·2 + e.
        let s = segment(
            &[false, false, true, false, false, true],
            &[false, true, false, false, false, false],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        );
        let q_taken = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        let values = [0.4, 0.3, 0.2, 0.1, 0.15, 0.25];
        let rho_bar = [1.0, 0.5, 0.25, 1.0, 0.8, 0.6];
        // Read only where a bootstrap is due: row 1 (truncated) and row 4 (last step of env 0).
        let mut next_values = [f64::NAN; 6];
        next_values[1] = 10.0;
        next_values[4] = 20.0;
        let gamma = 0.9;
        let q = retrace(&s, &q_taken, &values, &rho_bar, &next_values, gamma);
        // Env 0: t = 2 bootstraps, t = 1 terminal, t = 0 continues from t = 1.
        let q4 = 5.0 + 0.9 * 20.0;
        let q2 = 3.0;
        let q0 = 1.0 + 0.9 * (0.25 * (q2 - 0.7) + 0.2);
        // Env 1: t = 2 terminal, t = 1 continues from it, t = 0 truncated.
        let q5 = 6.0;
        let q3 = 4.0 + 0.9 * (0.6 * (q5 - 1.0) + 0.25);
        let q1 = 2.0 + 0.9 * 10.0;
        let expected = [q0, q1, q2, q3, q4, q5];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{q:?} vs {expected:?}");
        }
        // A step both terminated and truncated is terminal.
        let both = segment(&[true; 6], &[true; 6], &[1.0; 6]);
        let q = retrace(&both, &q_taken, &values, &rho_bar, &[f64::NAN; 6], gamma);
        assert_eq!(q, vec![1.0; 6]);
    }

    /// min(c, ρ(a_t)) and [1 − c/ρ(a)]_+: zero below c, positive above it; with ρ ≤ c the
    /// correction vanishes and the weight is ρ itself.
    #[test]
    fn truncated_weights_with_bias_correction() {
        let (w, correction) = truncated_weights(&[20.0, 0.5, 10.0], 0, 10.0);
        assert_eq!(w, 10.0);
        assert!((correction[0] - 0.5).abs() < 1e-6);
        assert_eq!(correction[1], 0.0);
        assert!(correction[2].abs() < 1e-6);
        let (w, correction) = truncated_weights(&[0.3, 2.0], 1, 10.0);
        assert_eq!(w, 2.0);
        assert_eq!(correction, vec![0.0, 0.0]);
        // Σ_a μ(a) [ρ(a) min(c, ρ(a))/ρ(a) + ...]: the truncated and the correction terms add
        // back to the full weight ρ for every action, min(c, ρ) + ρ·[1 − c/ρ]_+ = ρ.
        for rho in [0.1, 1.0, 9.0, 10.0, 11.0, 100.0] {
            let (w, correction) = truncated_weights(&[rho], 0, 10.0);
            assert!((w + rho * correction[0] - rho).abs() < 1e-4, "{rho}");
        }
    }

    /// kᵀz* ≤ δ always, with equality when the constraint binds; z* = g when kᵀg ≤ δ.
    #[test]
    fn the_trust_region_projection_keeps_k_dot_z_within_delta() {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        let k = [-1.5, -0.2, -0.8];
        let inactive = [-1.0, 2.0, 0.5];
        assert!(dot(&k, &inactive) <= 1.0);
        let (z, active) = trust_region_projection(&inactive, &k, 1.0);
        assert_eq!((z, active), (inactive.to_vec(), false));
        let g = [-3.0, 1.0, -2.0];
        let kg = dot(&k, &g);
        assert!(kg > 1.0);
        let (z, active) = trust_region_projection(&g, &k, 1.0);
        assert!(active);
        assert!((dot(&k, &z) - 1.0).abs() < 1e-12, "{}", dot(&k, &z));
        // z* − g is along k, by (kᵀg − δ)/‖k‖².
        let scale = (kg - 1.0) / dot(&k, &k);
        for i in 0..3 {
            assert!((z[i] - (g[i] - scale * k[i])).abs() < 1e-12);
        }
    }

    /// The gradient of the policy objective with respect to f by finite differences of the
    /// objective itself (f̄, the weights and the advantages held fixed).
    #[test]
    fn the_policy_gradient_with_respect_to_f_is_the_objective_s() {
        let (f, q, mu) = ([0.2, 0.5, 0.3], [1.0, -0.5, 2.0], [0.01, 0.6, 0.39]);
        let (taken, value, q_ret, c, beta) = (2, 0.3, 1.7, 10.0, 0.05);
        let row = policy_row(&f, &q, &mu, taken, value, q_ret, c, beta);
        let objective = |x: &[f64]| {
            let rho: Vec<f64> = f.iter().zip(&mu).map(|(f, m)| f / (m + EPS)).collect();
            let (w, corr) = truncated_weights(&rho, taken, c);
            let mut o = w * (x[taken] + EPS).ln() * (q_ret - value);
            for a in 0..3 {
                o += corr[a] * f[a] * (x[a] + EPS).ln() * (q[a] - value);
                o -= beta * x[a] * (x[a] + EPS).ln();
            }
            o
        };
        // The objective is the loss's negative plus the entropy bonus.
        assert!((row.loss + objective(&f) - beta * entropy_of(&f)).abs() < 1e-12);
        for a in 0..3 {
            let h = 1e-6;
            let (mut up, mut down) = (f, f);
            up[a] += h;
            down[a] -= h;
            let numeric = (objective(&up) - objective(&down)) / (2.0 * h);
            assert!(
                (row.g[a] - numeric).abs() < 1e-5,
                "{a}: {} vs {numeric}",
                row.g[a]
            );
        }
        // Action 0 has ρ = 20 > c: its correction term is there.
        assert!(f[0] / mu[0] > c);
    }

    fn entropy_of(f: &[f64]) -> f64 {
        -f.iter().map(|f| f * (f + EPS).ln()).sum::<f64>()
    }
}
