//! TD3's (and DDPG's) gradient steps on the host, for the CPU backends and plain networks: the
//! losses of [`super::td3_update::update`], differentiated by hand.
//!
//! The actor, the critics, their targets and both Adam states leave Burn once per run
//! ([`HostTd3::new`]); the training loop writes the actor back after every train call (for
//! acting) and takes Burn copies of everything for a checkpoint ([`HostTd3::to_burn`]). Per step,
//! with B rows and μ(s) = tanh f(s), f the actor's network:
//!
//! - target: ã' = clip(μ'(s') + ε, −1, 1), y = r + γ (1 − d) min_i Q'_i(s', ã') (not
//!   differentiated);
//! - critics: J(Q) = Σ_i (1/B) Σ_j (Q_i(s_j, a_j) − y_j)², so ∂J/∂Q_i(s_j, a_j) = 2(Q_i − y_j)/B,
//!   back through each critic ([`HostMlp::backward`]) and one Adam step of all of them;
//! - every `policy_delay` steps, the actor: J(μ) = −(1/B) Σ_j Q_1(s_j, μ(s_j)) through the updated
//!   first critic held fixed: ∂J/∂μ(s_j) is the action columns of ∂J/∂[s, a] =
//!   [`HostMlp::backward_input`] of −1/B, ∂J/∂f(s_j) = ∂J/∂μ(s_j) ⊙ (1 − μ(s_j)²); then the Adam
//!   step and both Polyak targets.

use burn::optim::ModuleOptimizer;

use super::td3_update::{Td3Nets, Td3Optimizers, Td3Update, smoothing_noise};
use crate::buffer::ReplayBatch;
use crate::nn::critics::critic_input;
use crate::nn::host::load_params;
use crate::nn::host_adam::HostAdam;
use crate::nn::host_mlp::{HostMlp, LinearGrad, Tape};
use crate::nn::polyak::polyak_host;
use crate::rng::Rng;

/// Adam's ε of TD3's optimisers ([`Td3Optimizers::default`]).
const ADAM_EPSILON: f32 = 1e-8;

/// TD3's networks and optimiser states on the host, and the buffers its steps reuse.
pub struct HostTd3 {
    actor: HostMlp,
    actor_target: HostMlp,
    critics: Vec<HostMlp>,
    critics_target: Vec<HostMlp>,
    actor_adam: HostAdam,
    critic_adam: HostAdam,
    /// Critic steps so far ([`Td3Optimizers::steps`]).
    steps: usize,
    tape: Tape,
    actor_tape: Tape,
    critic_grads: Vec<Vec<LinearGrad>>,
    actor_grads: Vec<LinearGrad>,
    /// Rows [s, a] (or [s', ã']) of a critic's input.
    input: Vec<f32>,
    /// The target y, then per critic ∂J/∂Q_i.
    y: Vec<f32>,
    d_q: Vec<f32>,
    /// min_i Q'_i(s', ã').
    next_q: Vec<f32>,
    /// ∂J/∂[s, a] of the actor step.
    d_input: Vec<f32>,
    /// The target's ã'; in the actor step μ(s), then in its place ∂J/∂f(s).
    actions: Vec<f32>,
}

/// What one host step measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostTd3Stats {
    /// J(Q).
    pub loss_q: f32,
    /// E[Q_1(s, a)] on the batch.
    pub q_mean: f32,
    /// J(μ), on the steps that updated the actor.
    pub loss_pi: Option<f32>,
}

impl HostTd3 {
    /// The networks `nets` and the optimiser states `opt` holds for them; `None` where the host
    /// pass does not cover a network (layer normalisation).
    pub fn new(nets: &Td3Nets, opt: &Td3Optimizers) -> Option<Self> {
        Some(Self {
            actor: nets.actor.to_host()?,
            actor_target: nets.actor_target.to_host()?,
            critics: nets.critics.to_host()?,
            critics_target: nets.critics_target.to_host()?,
            actor_adam: HostAdam::take(&opt.actor, &nets.actor, ADAM_EPSILON),
            critic_adam: HostAdam::take(&opt.critic, &nets.critics, ADAM_EPSILON),
            steps: opt.steps,
            tape: Tape::default(),
            actor_tape: Tape::default(),
            critic_grads: Vec::new(),
            actor_grads: Vec::new(),
            input: Vec::new(),
            y: Vec::new(),
            d_q: Vec::new(),
            next_q: Vec::new(),
            d_input: Vec::new(),
            actions: Vec::new(),
        })
    }

    /// One gradient step on `batch`, drawing the target smoothing noise from `rng` (the draws of
    /// [`super::td3_update::update`]).
    pub fn step(&mut self, batch: &ReplayBatch, hp: &Td3Update, rng: &mut Rng) -> HostTd3Stats {
        debug_assert!(batch.weights.is_empty(), "TD3 replays uniformly");
        self.steps += 1;
        let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
        let smoothing = smoothing_noise(
            b * act_dim,
            hp.target_policy_noise,
            hp.target_noise_clip,
            rng,
        );
        self.target(batch, &smoothing);

        // Critics.
        let n_critics = self.critics.len();
        self.critic_grads.resize_with(n_critics, Vec::new);
        critic_input(
            &mut self.input,
            &batch.observations,
            obs_dim,
            &batch.actions,
        );
        let (mut loss_q, mut q_mean) = (0f32, 0f32);
        for (i, (critic, grads)) in self.critics.iter().zip(&mut self.critic_grads).enumerate() {
            let q = critic.forward(&self.input, b, &mut self.tape);
            let mut squares = 0f64;
            self.d_q.clear();
            for (&q, &y) in q.iter().zip(&self.y) {
                let delta = q - y;
                squares += f64::from(delta * delta);
                self.d_q.push(2.0 * delta / b as f32);
            }
            if i == 0 {
                q_mean = (q.iter().map(|&q| f64::from(q)).sum::<f64>() / b as f64) as f32;
            }
            loss_q += (squares / b as f64) as f32;
            critic.backward(&mut self.tape, &self.d_q, grads);
        }
        let params = self.critics.iter_mut().flat_map(HostMlp::params_mut);
        let grads = self
            .critic_grads
            .iter()
            .flatten()
            .flat_map(LinearGrad::tensors);
        self.critic_adam
            .step(params.collect(), grads.collect(), hp.learning_rate);

        let mut loss_pi = None;
        if self.steps.is_multiple_of(hp.policy_delay) {
            loss_pi = Some(self.actor_step(batch, hp));
            let online = self.critics.iter().flat_map(HostMlp::params);
            let target = self.critics_target.iter_mut().flat_map(HostMlp::params_mut);
            polyak_host(target.collect(), online.collect(), hp.tau);
            polyak_host(self.actor_target.params_mut(), self.actor.params(), hp.tau);
        }
        HostTd3Stats {
            loss_q,
            q_mean,
            loss_pi,
        }
    }

    /// y = r + γ (1 − d) min_i Q'_i(s', clip(μ'(s') + ε, −1, 1)) into `self.y`, for the clipped
    /// smoothing noise ε (`smoothing`, `batch × act_dim`).
    fn target(&mut self, batch: &ReplayBatch, smoothing: &[f32]) {
        let (b, obs_dim) = (batch.len(), batch.obs_dim());
        let next = &batch.next_observations;
        let pre = self.actor_target.forward(next, b, &mut self.actor_tape);
        self.actions.clear();
        let actions = pre.iter().zip(smoothing);
        self.actions
            .extend(actions.map(|(&f, &e)| (f.tanh() + e).clamp(-1.0, 1.0)));
        critic_input(&mut self.input, next, obs_dim, &self.actions);
        self.next_q.clear();
        for (i, critic) in self.critics_target.iter().enumerate() {
            let q = critic.forward(&self.input, b, &mut self.tape);
            if i == 0 {
                self.next_q.extend_from_slice(q);
            } else {
                self.next_q
                    .iter_mut()
                    .zip(q)
                    .for_each(|(m, &q)| *m = m.min(q));
            }
        }
        self.y.clear();
        for i in 0..b {
            let not_terminated = 1.0 - batch.terminated[i];
            let bootstrap = batch.discounts[i] * not_terminated * self.next_q[i];
            self.y.push(batch.rewards[i] + bootstrap);
        }
    }

    /// The actor's step through the first critic; returns J(μ).
    fn actor_step(&mut self, batch: &ReplayBatch, hp: &Td3Update) -> f32 {
        let (b, obs_dim, act_dim) = (batch.len(), batch.obs_dim(), batch.act_dim());
        let pre = self
            .actor
            .forward(&batch.observations, b, &mut self.actor_tape);
        self.actions.clear();
        self.actions.extend(pre.iter().map(|f| f.tanh()));
        critic_input(&mut self.input, &batch.observations, obs_dim, &self.actions);
        let critic = &self.critics[0];
        let q = critic.forward(&self.input, b, &mut self.tape);
        let loss = -(q.iter().map(|&q| f64::from(q)).sum::<f64>() / b as f64) as f32;
        self.d_q.clear();
        self.d_q.resize(b, -1.0 / b as f32);
        critic.backward_input(&mut self.tape, &self.d_q, &mut self.d_input);
        // ∂J/∂f = ∂J/∂μ ⊙ (1 − μ²), μ = tanh f, in place of μ.
        let width = obs_dim + act_dim;
        let rows = self.d_input.chunks_exact(width);
        for (mu, row) in self.actions.chunks_exact_mut(act_dim).zip(rows) {
            for (mu, &d) in mu.iter_mut().zip(&row[obs_dim..]) {
                *mu = d * (1.0 - *mu * *mu);
            }
        }
        self.actor
            .backward(&mut self.actor_tape, &self.actions, &mut self.actor_grads);
        let grads = self.actor_grads.iter().flat_map(LinearGrad::tensors);
        self.actor_adam
            .step(self.actor.params_mut(), grads.collect(), hp.learning_rate);
        loss
    }

    /// `nets`' actor with the host actor's parameters (for acting).
    pub fn write_actor(&self, nets: &mut Td3Nets) {
        nets.actor = load_params(nets.actor.clone(), self.actor.params());
    }

    /// Burn copies of every network (into `nets`' modules) and of both optimiser states (into
    /// copies of `opt`'s), for a checkpoint or the end of a run.
    pub fn to_burn(&self, nets: &Td3Nets, opt: &Td3Optimizers) -> (Td3Nets, Td3Optimizers) {
        let (mut actor_opt, mut critic_opt): (ModuleOptimizer, ModuleOptimizer) =
            (opt.actor.clone(), opt.critic.clone());
        let values = |mlps: &[HostMlp]| -> Vec<Vec<f32>> {
            let params = mlps.iter().flat_map(HostMlp::params);
            params.map(<[f32]>::to_vec).collect()
        };
        let actor = self.actor_adam.clone().put(
            &mut actor_opt,
            nets.actor.clone(),
            values(std::slice::from_ref(&self.actor)),
        );
        let critics = self.critic_adam.clone().put(
            &mut critic_opt,
            nets.critics.clone(),
            values(&self.critics),
        );
        let critics_target = {
            let params = self.critics_target.iter().flat_map(HostMlp::params);
            load_params(nets.critics_target.clone(), params.collect())
        };
        let nets = Td3Nets {
            actor,
            critics,
            actor_target: load_params(nets.actor_target.clone(), self.actor_target.params()),
            critics_target,
        };
        let opt = Td3Optimizers {
            actor: actor_opt,
            critic: critic_opt,
            steps: self.steps,
        };
        (nets, opt)
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::super::ActorCriticNets;
    use super::super::td3_update::update;
    use super::*;
    use crate::nn::Activation;
    use crate::nn::host::{assert_params_close, close};
    use crate::rng::{Stream, stream};

    fn params(nets: &Td3Nets) -> Vec<Vec<f32>> {
        let mut all = vec![
            nets.actor.to_host().unwrap(),
            nets.actor_target.to_host().unwrap(),
        ];
        all.extend(nets.critics.to_host().unwrap());
        all.extend(nets.critics_target.to_host().unwrap());
        all.into_iter().flat_map(HostMlp::into_params).collect()
    }

    /// Four host steps end where four of Burn's steps ([`update`]) end: losses, Q-means and
    /// every parameter agree, for TD3 (twin critics, actor and targets every second step, target
    /// smoothing) and DDPG (one critic, no delay, no smoothing), ReLU and tanh. A Burn step
    /// from the state put back agrees with one from Burn's own.
    #[test]
    fn host_steps_track_burns_steps() {
        let device = Device::flex().autodiff();
        for (k, (n_critics, policy_delay, noise, activation)) in
            [(2, 2, 0.2, Activation::Relu), (1, 1, 0.0, Activation::Tanh)]
                .into_iter()
                .enumerate()
        {
            let policy = ActorCriticNets {
                net_arch: vec![32, 16],
                activation,
            };
            let nets = Td3Nets::new(
                3,
                2,
                &policy,
                n_critics,
                &mut stream(k as u64, Stream::Init),
                &device,
            );
            let hp = Td3Update {
                learning_rate: 1e-2,
                tau: 0.05,
                policy_delay,
                target_policy_noise: noise,
                target_noise_clip: 0.5,
            };
            let batch = ReplayBatch::continuous_example(2);
            let mut host = HostTd3::new(&nets, &Td3Optimizers::default()).expect("plain nets");
            let (mut burn, mut burn_opt) = (nets, Td3Optimizers::default());
            let (mut burn_rng, mut host_rng) =
                (stream(9, Stream::Minibatch), stream(9, Stream::Minibatch));
            for round in 0..4 {
                let stats;
                (burn, stats) = update(burn, &mut burn_opt, &batch, &hp, &mut burn_rng, &device);
                let ours = host.step(&batch, &hp, &mut host_rng);
                let loss_q = stats.loss_q.into_scalar::<f32>();
                assert!(
                    close(ours.loss_q, loss_q),
                    "{k}/{round}: {ours:?} vs J(Q) {loss_q}"
                );
                let q_mean = stats.q_mean.into_scalar::<f32>();
                assert!(
                    close(ours.q_mean, q_mean),
                    "{k}/{round}: {ours:?} vs {q_mean}"
                );
                match (ours.loss_pi, stats.loss_pi) {
                    (Some(a), Some(b)) => {
                        let b = b.into_scalar::<f32>();
                        assert!(close(a, b), "{k}/{round}: J(μ) {a} vs {b}");
                    }
                    (None, None) => {}
                    (a, b) => panic!(
                        "{k}/{round}: actor stepped on one side only: {a:?} vs {}",
                        b.is_some()
                    ),
                }
            }
            let (mut from_host, mut host_opt) = host.to_burn(&burn, &burn_opt);
            assert_eq!(host_opt.steps, burn_opt.steps);
            assert_params_close(&params(&from_host), &params(&burn), &format!("{k}"));
            let init = &mut stream(7, Stream::Init);
            let mut written = Td3Nets::new(3, 2, &policy, n_critics, init, &device);
            host.write_actor(&mut written);
            assert_eq!(
                written.actor.to_host(),
                from_host.actor.to_host(),
                "{k}: the actor written back"
            );
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
