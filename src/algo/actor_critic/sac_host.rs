//! SAC's gradient steps and acting on the host, for the CPU backends and plain networks
//! without gSDE: the losses of [`super::sac_update::update`], differentiated by hand.
//!
//! The actor (trunk, mean head, log σ head), the critics, their targets, log α and the three
//! Adam states leave Burn once per run ([`HostSac::new`]); the training loop acts with the host
//! actor, writes it back to Burn for evaluation and takes Burn copies of everything for a
//! checkpoint ([`HostSac::to_burn`]). The actor's sample, with B rows, ε ~ N(0, I):
//!
//! u = μ(s) + σ(s) ε, σ = exp(clip(ℓ(s), −20, 2)), a = tanh u,
//! log π(a|s) = Σ_j (−½ z_j² − log σ_j − ½ log 2π − log(1 − tanh² u_j)), z = (u − μ)/σ (= ε),
//!
//! so that, through u, ∂log π/∂μ_j = 2a_j and ∂log π/∂log σ_j = 2a_j (u_j − μ_j) − 1 (the
//! Gaussian term's dependence on μ and σ cancels: z = ε). Per step:
//!
//! - temperature: J(α) = −(1/B) Σ_i log α (log π_i + H̄), ∂J/∂log α = −(1/B) Σ_i (log π_i + H̄);
//! - critics: y = r + γ (1 − d)(min_k Q'_k(s', ã') − α log π(ã'|s')), J(Q) = ½ Σ_k (1/B) Σ_i
//!   (Q_k(s_i, a_i) − y_i)², ∂J/∂Q_k = (Q_k − y)/B;
//! - actor: J(π) = (1/B) Σ_i (α log π_i − min_k Q_k(s_i, ã_i)) through the updated critics held
//!   fixed; each row's gradient −1/B goes to its smaller critic (the first on a tie, as Burn's
//!   `min_pair`), back to ã ([`HostMlp::backward_input`]), then g_u = ∂J/∂ã (1 − ã²) + (α/B) 2ã,
//!   ∂J/∂μ = g_u, ∂J/∂ℓ = (g_u (u − μ) − α/B) where ℓ is inside the clip, else 0.

use burn::optim::ModuleOptimizer;

use super::sac_update::{LogAlpha, SacNets, SacOptimizers, SacUpdate, normals};
use crate::buffer::ReplayBatch;
use crate::nn::actors::{LOG_STD_MAX, LOG_STD_MIN};
use crate::nn::critics::critic_input;
use crate::nn::distributions::HALF_LOG_TWO_PI;
use crate::nn::host::load_params;
use crate::nn::host_adam::HostAdam;
use crate::nn::host_mlp::{HostMlp, LinearGrad, Tape};
use crate::nn::polyak::polyak_host;
use crate::rng::Rng;

/// Adam's ε of SAC's optimisers ([`SacOptimizers::default`]).
const ADAM_EPSILON: f32 = 1e-8;

/// The squashed Gaussian actor's networks: the trunk (activated output), the mean head and the
/// log σ head, each with the tape of its last forward pass.
struct HostActor {
    nets: [HostMlp; 3],
    tapes: [Tape; 3],
}

/// One reparameterised sample of a batch: u, a = tanh u, μ, the unclipped log σ head ℓ and
/// log π per row.
#[derive(Default)]
struct Sample {
    u: Vec<f32>,
    action: Vec<f32>,
    mean: Vec<f32>,
    log_std_raw: Vec<f32>,
    log_prob: Vec<f32>,
}

impl HostActor {
    /// The sample of the `b` rows of `obs` for the draws `noise` (`b × act_dim`) into `out`.
    fn sample(&mut self, obs: &[f32], b: usize, noise: &[f32], out: &mut Sample) {
        let [trunk, mean_head, log_std_head] = &self.nets;
        let [trunk_tape, mean_tape, log_std_tape] = &mut self.tapes;
        let features = trunk.forward(obs, b, trunk_tape);
        let mean = mean_head.forward(features, b, mean_tape);
        let log_std_raw = log_std_head.forward(features, b, log_std_tape);
        let act_dim = mean.len() / b;
        for v in [
            &mut out.u,
            &mut out.action,
            &mut out.mean,
            &mut out.log_std_raw,
        ] {
            v.clear();
        }
        out.log_prob.clear();
        out.mean.extend_from_slice(mean);
        out.log_std_raw.extend_from_slice(log_std_raw);
        let rows = mean
            .chunks_exact(act_dim)
            .zip(log_std_raw.chunks_exact(act_dim));
        for ((mean, raw), noise) in rows.zip(noise.chunks_exact(act_dim)) {
            let mut log_prob = -(act_dim as f64 * HALF_LOG_TWO_PI) as f32;
            for ((&mu, &raw), &eps) in mean.iter().zip(raw).zip(noise) {
                let log_std = raw.clamp(LOG_STD_MIN as f32, LOG_STD_MAX as f32);
                let u = mu + log_std.exp() * eps;
                let z = (u - mu) * (-log_std).exp();
                log_prob += -0.5 * z * z - log_std - log_one_minus_tanh_squared(u);
                out.u.push(u);
                out.action.push(u.tanh());
            }
            out.log_prob.push(log_prob);
        }
    }

    /// The actor's parameters in Burn's visiting order.
    fn params(&self) -> Vec<&[f32]> {
        self.nets.iter().flat_map(HostMlp::params).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.nets.iter_mut().flat_map(HostMlp::params_mut).collect()
    }
}

/// log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u)), stable for large |u|.
fn log_one_minus_tanh_squared(u: f32) -> f32 {
    let x = -2.0 * u;
    let softplus = if x > 20.0 { x } else { x.exp().ln_1p() };
    2.0 * (std::f32::consts::LN_2 - u - softplus)
}

/// SAC's networks, log α and optimiser states on the host, and the buffers its steps reuse.
pub struct HostSac {
    actor: HostActor,
    critics: Vec<HostMlp>,
    critics_target: Vec<HostMlp>,
    log_alpha: Vec<f32>,
    actor_adam: HostAdam,
    critic_adam: HostAdam,
    alpha_adam: HostAdam,
    /// Gradient steps so far ([`SacOptimizers::steps`]).
    steps: usize,
    /// One tape per critic (the actor step differentiates through every critic).
    critic_tapes: Vec<Tape>,
    critic_grads: Vec<Vec<LinearGrad>>,
    actor_grads: [Vec<LinearGrad>; 3],
    sample: Sample,
    /// Rows [s, a] of a critic's input, the target y, ∂J/∂Q and min_k Q.
    input: Vec<f32>,
    y: Vec<f32>,
    d_q: Vec<f32>,
    min_q: Vec<f32>,
    /// The index of each row's smaller critic.
    argmin: Vec<usize>,
    /// ∂J/∂[s, ã] of one critic, their sum over critics for ã, and ∂J/∂μ, ∂J/∂ℓ, ∂J/∂features.
    d_input: Vec<f32>,
    d_action: Vec<f32>,
    d_heads: [Vec<f32>; 2],
    d_features: [Vec<f32>; 2],
}

/// What one host step measured (the values of [`super::sac_update::SacStats`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostSacStats {
    pub loss_pi: f32,
    pub loss_q: f32,
    pub alpha: f32,
    pub entropy: f32,
    pub q_mean: f32,
}

impl HostSacStats {
    /// The values in [`super::sac_update::SacStats::row`]'s order.
    pub fn row(&self) -> [f32; 5] {
        [
            self.loss_pi,
            self.loss_q,
            self.alpha,
            self.entropy,
            self.q_mean,
        ]
    }
}

impl HostSac {
    /// The networks `nets` and the optimiser states `opt` holds for them; `None` with gSDE or
    /// where the host pass does not cover a network (layer normalisation).
    pub fn new(nets: &SacNets, opt: &SacOptimizers) -> Option<Self> {
        let log_alpha = crate::nn::to_vec(nets.log_alpha.value.val());
        Some(Self {
            actor: HostActor {
                nets: nets.actor.to_host()?,
                tapes: Default::default(),
            },
            critics: nets.critics.to_host()?,
            critics_target: nets.critics_target.to_host()?,
            log_alpha,
            actor_adam: HostAdam::take(&opt.actor, &nets.actor, ADAM_EPSILON),
            critic_adam: HostAdam::take(&opt.critic, &nets.critics, ADAM_EPSILON),
            alpha_adam: HostAdam::take(&opt.alpha, &nets.log_alpha, ADAM_EPSILON),
            steps: opt.steps,
            critic_tapes: Vec::new(),
            critic_grads: Vec::new(),
            actor_grads: Default::default(),
            sample: Sample::default(),
            input: Vec::new(),
            y: Vec::new(),
            d_q: Vec::new(),
            min_q: Vec::new(),
            argmin: Vec::new(),
            d_input: Vec::new(),
            d_action: Vec::new(),
            d_heads: Default::default(),
            d_features: Default::default(),
        })
    }

    /// Actions a = tanh(μ + σ ε) for the rows of `obs` and the draws `noise` (one row of
    /// `act_dim` per observation), as Burn's [`SquashedGaussianActor::sample`] acts.
    ///
    /// [`SquashedGaussianActor::sample`]: crate::nn::actors::SquashedGaussianActor::sample
    pub fn act(&mut self, obs: &[f32], noise: &[f32], actions: &mut Vec<f32>) {
        let act_dim = self.actor.nets[1].layers.last().map_or(0, |l| l.d_out);
        let rows = noise.len() / act_dim;
        self.actor.sample(obs, rows, noise, &mut self.sample);
        actions.clear();
        actions.extend_from_slice(&self.sample.action);
    }

    /// One gradient step on `batch`, drawing the actor's noise from `rng` (the draws of
    /// [`super::sac_update::update`]: ε for s, then ε' for s').
    pub fn step(&mut self, batch: &ReplayBatch, hp: &SacUpdate, rng: &mut Rng) -> HostSacStats {
        debug_assert!(batch.weights.is_empty(), "SAC replays uniformly");
        let (b, act_dim) = (batch.len(), batch.act_dim());
        let noise = normals(rng, b * act_dim);
        let next_noise = normals(rng, b * act_dim);
        let alpha = self.log_alpha[0].exp();
        self.target(batch, &next_noise, alpha);
        self.actor
            .sample(&batch.observations, b, &noise, &mut self.sample);
        let log_prob_sum: f64 = self.sample.log_prob.iter().map(|&l| f64::from(l)).sum();
        if hp.learn_ent_coef {
            let gap: f64 = self
                .sample
                .log_prob
                .iter()
                .map(|&l| f64::from(l + hp.target_entropy as f32))
                .sum();
            let grad = vec![-(gap / b as f64) as f32];
            self.alpha_adam
                .step(vec![&mut self.log_alpha], vec![&grad], hp.learning_rate);
        }
        let (loss_q, q_mean) = self.critic_step(batch, hp);
        let loss_pi = self.actor_step(batch, hp, alpha);
        self.steps += 1;
        if self.steps.is_multiple_of(hp.target_update_interval) {
            let online = self.critics.iter().flat_map(HostMlp::params);
            let target = self.critics_target.iter_mut().flat_map(HostMlp::params_mut);
            polyak_host(target.collect(), online.collect(), hp.tau);
        }
        HostSacStats {
            loss_pi,
            loss_q,
            alpha,
            entropy: -(log_prob_sum / b as f64) as f32,
            q_mean,
        }
    }

    /// y = r + γ (1 − d)(min_k Q'_k(s', ã') − α log π(ã'|s')) into `self.y`, ã' drawn with
    /// `next_noise`.
    fn target(&mut self, batch: &ReplayBatch, next_noise: &[f32], alpha: f32) {
        let (b, obs_dim) = (batch.len(), batch.obs_dim());
        let next = &batch.next_observations;
        self.actor.sample(next, b, next_noise, &mut self.sample);
        critic_input(&mut self.input, next, obs_dim, &self.sample.action);
        self.critic_tapes
            .resize_with(self.critics.len(), Tape::default);
        self.min_q.clear();
        for (k, critic) in self.critics_target.iter().enumerate() {
            let q = critic.forward(&self.input, b, &mut self.critic_tapes[0]);
            if k == 0 {
                self.min_q.extend_from_slice(q);
            } else {
                self.min_q
                    .iter_mut()
                    .zip(q)
                    .for_each(|(m, &q)| *m = m.min(q));
            }
        }
        self.y.clear();
        for i in 0..b {
            let soft_q = self.min_q[i] - self.sample.log_prob[i] * alpha;
            let not_terminated = 1.0 - batch.terminated[i];
            let bootstrap = batch.discounts[i] * not_terminated * soft_q;
            self.y.push(batch.rewards[i] + bootstrap);
        }
    }

    /// The critics' step towards `self.y`; returns J(Q) and E[Q_1(s, a)].
    fn critic_step(&mut self, batch: &ReplayBatch, hp: &SacUpdate) -> (f32, f32) {
        let (b, obs_dim) = (batch.len(), batch.obs_dim());
        critic_input(
            &mut self.input,
            &batch.observations,
            obs_dim,
            &batch.actions,
        );
        self.critic_grads.resize_with(self.critics.len(), Vec::new);
        let (mut loss_q, mut q_mean) = (0f32, 0f32);
        let critics = self.critics.iter().zip(&mut self.critic_grads);
        for (k, (critic, grads)) in critics.enumerate() {
            let tape = &mut self.critic_tapes[k];
            let q = critic.forward(&self.input, b, tape);
            let mut squares = 0f64;
            self.d_q.clear();
            for (&q, &y) in q.iter().zip(&self.y) {
                let delta = q - y;
                squares += f64::from(delta * delta);
                self.d_q.push(delta / b as f32);
            }
            if k == 0 {
                q_mean = (q.iter().map(|&q| f64::from(q)).sum::<f64>() / b as f64) as f32;
            }
            loss_q += (0.5 * squares / b as f64) as f32;
            critic.backward(tape, &self.d_q, grads);
        }
        let params = self.critics.iter_mut().flat_map(HostMlp::params_mut);
        let grads = self
            .critic_grads
            .iter()
            .flatten()
            .flat_map(LinearGrad::tensors);
        self.critic_adam
            .step(params.collect(), grads.collect(), hp.learning_rate);
        (loss_q, q_mean)
    }

    /// The actor's step through the updated critics on the sample in `self.sample` (of s);
    /// returns J(π).
    fn actor_step(&mut self, batch: &ReplayBatch, hp: &SacUpdate, alpha: f32) -> f32 {
        let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
        critic_input(
            &mut self.input,
            &batch.observations,
            obs_dim,
            &self.sample.action,
        );
        self.min_q.clear();
        self.argmin.clear();
        for (k, critic) in self.critics.iter().enumerate() {
            let q = critic.forward(&self.input, b, &mut self.critic_tapes[k]);
            if k == 0 {
                self.min_q.extend_from_slice(q);
                self.argmin.resize(b, 0);
            } else {
                for (i, &q) in q.iter().enumerate() {
                    if q < self.min_q[i] {
                        (self.min_q[i], self.argmin[i]) = (q, k);
                    }
                }
            }
        }
        let log_prob = &self.sample.log_prob;
        let loss: f64 = log_prob
            .iter()
            .zip(&self.min_q)
            .map(|(&l, &q)| f64::from(l * alpha - q))
            .sum();
        // ∂J/∂ã: each row's −1/B through its smaller critic.
        self.d_action.clear();
        self.d_action.resize(b * act_dim, 0.0);
        for (k, critic) in self.critics.iter().enumerate() {
            self.d_q.clear();
            let rows = self.argmin.iter();
            self.d_q
                .extend(rows.map(|&m| if m == k { -1.0 / b as f32 } else { 0.0 }));
            critic.backward_input(&mut self.critic_tapes[k], &self.d_q, &mut self.d_input);
            let rows = self.d_input.chunks_exact(obs_dim + act_dim);
            for (d, row) in self.d_action.chunks_exact_mut(act_dim).zip(rows) {
                d.iter_mut()
                    .zip(&row[obs_dim..])
                    .for_each(|(d, &g)| *d += g);
            }
        }
        // ∂J/∂μ and ∂J/∂ℓ.
        let weight = alpha / b as f32;
        let [d_mean, d_log_std] = &mut self.d_heads;
        d_mean.clear();
        d_log_std.clear();
        let s = &self.sample;
        for i in 0..b * act_dim {
            let a = s.action[i];
            let g_u = self.d_action[i] * (1.0 - a * a) + weight * 2.0 * a;
            d_mean.push(g_u);
            let raw = s.log_std_raw[i];
            let inside = (LOG_STD_MIN as f32..=LOG_STD_MAX as f32).contains(&raw);
            let d = g_u * (s.u[i] - s.mean[i]) - weight;
            d_log_std.push(if inside { d } else { 0.0 });
        }
        let [trunk, mean_head, log_std_head] = &self.actor.nets;
        let [trunk_tape, mean_tape, log_std_tape] = &mut self.actor.tapes;
        let [trunk_grads, mean_grads, log_std_grads] = &mut self.actor_grads;
        let [d_features, d_other] = &mut self.d_features;
        mean_head.backward_with_input(mean_tape, &self.d_heads[0], mean_grads, d_features);
        log_std_head.backward_with_input(log_std_tape, &self.d_heads[1], log_std_grads, d_other);
        d_features
            .iter_mut()
            .zip(d_other.iter())
            .for_each(|(d, &o)| *d += o);
        trunk.backward(trunk_tape, d_features, trunk_grads);
        let grads = self
            .actor_grads
            .iter()
            .flatten()
            .flat_map(LinearGrad::tensors);
        let grads = grads.collect();
        self.actor_adam
            .step(self.actor.params_mut(), grads, hp.learning_rate);
        (loss / b as f64) as f32
    }

    /// `nets`' actor with the host actor's parameters (for evaluation and the saved model).
    pub fn write_actor(&self, nets: &mut SacNets) {
        nets.actor = load_params(nets.actor.clone(), self.actor.params());
    }

    /// Burn copies of every network and log α (into `nets`' modules) and of the optimiser
    /// states (into copies of `opt`'s), for a checkpoint or the end of a run.
    pub fn to_burn(&self, nets: &SacNets, opt: &SacOptimizers) -> (SacNets, SacOptimizers) {
        let (mut actor_opt, mut critic_opt, mut alpha_opt): (
            ModuleOptimizer,
            ModuleOptimizer,
            ModuleOptimizer,
        ) = (opt.actor.clone(), opt.critic.clone(), opt.alpha.clone());
        let owned = |params: Vec<&[f32]>| params.into_iter().map(<[f32]>::to_vec).collect();
        let actor = self.actor_adam.clone().put(
            &mut actor_opt,
            nets.actor.clone(),
            owned(self.actor.params()),
        );
        let critic_params = self.critics.iter().flat_map(HostMlp::params).collect();
        let critics = self.critic_adam.clone().put(
            &mut critic_opt,
            nets.critics.clone(),
            owned(critic_params),
        );
        let log_alpha: LogAlpha = self.alpha_adam.clone().put(
            &mut alpha_opt,
            nets.log_alpha.clone(),
            vec![self.log_alpha.clone()],
        );
        let target_params = self.critics_target.iter().flat_map(HostMlp::params);
        let nets = SacNets {
            actor,
            critics,
            critics_target: load_params(nets.critics_target.clone(), target_params.collect()),
            log_alpha,
        };
        let opt = SacOptimizers {
            actor: actor_opt,
            critic: critic_opt,
            alpha: alpha_opt,
            steps: self.steps,
        };
        (nets, opt)
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::super::sac::SacConfig;
    use super::super::sac_update::update;
    use super::*;
    use crate::nn::host::{assert_params_close, close};
    use crate::nn::{Activation, to_vec};
    use crate::rng::{Stream, stream};

    fn params(nets: &SacNets) -> Vec<Vec<f32>> {
        let mut all: Vec<HostMlp> = nets.actor.to_host().unwrap().into();
        all.extend(nets.critics.to_host().unwrap());
        all.extend(nets.critics_target.to_host().unwrap());
        let mut values: Vec<Vec<f32>> = all.into_iter().flat_map(HostMlp::into_params).collect();
        values.push(to_vec(nets.log_alpha.value.val()));
        values
    }

    /// Four host steps end where four of Burn's steps ([`update`]) end: every statistic and
    /// every parameter (actor, critics, targets, log α) agree, with a learned and a fixed
    /// temperature, one- and two-dimensional actions, ReLU and tanh, target updates every step
    /// and every second. A Burn step from the state put back agrees with one from Burn's own.
    #[test]
    fn host_steps_track_burns_steps() {
        let device = Device::flex().autodiff();
        for (k, (learn_ent_coef, act_dim, activation, interval)) in [
            (true, 2, Activation::Relu, 1),
            (false, 1, Activation::Tanh, 2),
        ]
        .into_iter()
        .enumerate()
        {
            let mut cfg = SacConfig {
                learn_ent_coef,
                target_update_interval: interval,
                ..SacConfig::default()
            };
            cfg.off_policy.learning_rate = 1e-2;
            cfg.off_policy.tau = 0.05;
            cfg.policy.net_arch = vec![32, 16];
            cfg.policy.activation = activation;
            let init = &mut stream(k as u64, Stream::Init);
            let nets = SacNets::new(3, act_dim, &cfg, init, &device);
            let hp = SacUpdate::new(&cfg, act_dim);
            let batch = ReplayBatch::continuous_example(act_dim);
            let mut host = HostSac::new(&nets, &SacOptimizers::default()).expect("plain nets");
            let (mut burn, mut burn_opt) = (nets, SacOptimizers::default());
            let mut burn_rng = stream(9, Stream::Minibatch);
            let mut host_rng = stream(9, Stream::Minibatch);
            for round in 0..4 {
                let stats;
                (burn, stats) = update(burn, &mut burn_opt, &batch, &hp, &mut burn_rng, &device);
                let ours = host.step(&batch, &hp, &mut host_rng).row();
                let theirs = stats.row().into_iter().map(|t| t.into_scalar::<f32>());
                for (i, (a, b)) in ours.into_iter().zip(theirs).enumerate() {
                    assert!(close(a, b), "{k}/{round}: statistic {i}: {a} vs {b}");
                }
            }
            let (mut from_host, mut host_opt) = host.to_burn(&burn, &burn_opt);
            assert_eq!(host_opt.steps, burn_opt.steps);
            assert_params_close(&params(&from_host), &params(&burn), &format!("{k}"));
            let mut written = SacNets::new(3, act_dim, &cfg, &mut stream(7, Stream::Init), &device);
            host.write_actor(&mut written);
            assert_eq!(
                written.actor.to_host(),
                from_host.actor.to_host(),
                "{k}: the actor written back"
            );
            // Acting: the host actor's actions are Burn's sample of the same draws.
            let obs = &batch.observations[..6];
            let noise: Vec<f32> = (0..2 * act_dim).map(|i| i as f32 * 0.4 - 0.5).collect();
            let mut actions = Vec::new();
            host.act(obs, &noise, &mut actions);
            let (theirs, _) = from_host.actor.sample(
                crate::nn::matrix(obs, 3, &device),
                crate::nn::matrix(&noise, act_dim, &device),
            );
            for (a, b) in actions.iter().zip(to_vec(theirs)) {
                assert!(close(*a, b), "{k}: action {a} vs {b}");
            }
            // The state went back: two more Burn steps from either agree.
            for _ in 0..2 {
                (from_host, _) = update(
                    from_host,
                    &mut host_opt,
                    &batch,
                    &hp,
                    &mut host_rng,
                    &device,
                );
                (burn, _) = update(burn, &mut burn_opt, &batch, &hp, &mut burn_rng, &device);
            }
            assert_params_close(
                &params(&from_host),
                &params(&burn),
                &format!("{k}, resumed"),
            );
        }
    }
}
