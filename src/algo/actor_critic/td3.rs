//! Deterministic-policy actor-critics, as Stable-Baselines3 implements them:
//!
//! - TD3 (Fujimoto et al. 2018): twin critics with the clipped double-Q target
//!   y = r + γ (1 − d) min_i Q'_i(s', clip(μ'(s') + clip(ε, −c, c), −1, 1)), ε ~ N(0, σ̃²)
//!   (target policy smoothing), J(Q) = Σ_i E[(Q_i(s, a) − y)²], and the actor
//!   J(μ) = −E[Q_1(s, μ(s))] with the target nets updated only every `policy_delay` steps;
//! - DDPG (Lillicrap et al. 2016): the same with one critic, no smoothing and no delay.
//!
//! Exploration adds Gaussian or Ornstein–Uhlenbeck noise to μ(s) in the normalised box. The actor
//! step differentiates through a frozen copy of the critic, so no critic weight gradient is
//! computed there.

use std::path::Path;

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::ActorCriticNets;
use super::collect::{Collector, CollectorState};
use super::noise::{ActionNoise, NoiseConfig};
use super::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, Kind};
use crate::buffer::{ReplayBatch, ReplayBuffer};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::nn::actors::DeterministicActor;
use crate::nn::critics::Critics;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{SavedModule, SavedOptimizer, adam, matrix, vector};
use crate::rng::{Rng, Stream, standard_normal};
use crate::session::{Policy, Session};

hyperparameters! {
    /// TD3's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct Td3Config {
        ..off_policy: OffPolicyConfig = OffPolicyConfig {
            learning_rate: 1e-3,
            ..Default::default()
        };
        ..noise: NoiseConfig;
        /// critic steps per actor and target update (≥ 1)
        policy_delay: usize = 2, nonzero;
        /// σ̃ of the target smoothing noise
        target_policy_noise: f64 = 0.2, non_negative;
        /// the smoothing noise is clipped to ±this
        target_noise_clip: f64 = 0.5, non_negative;
        [policy]: ActorCriticNets = ActorCriticNets {
            net_arch: vec![400, 300],
            ..Default::default()
        };
    }
}

hyperparameters! {
    /// DDPG's hyperparameters: TD3's without its three additions, with TD3's defaults.
    pub struct DdpgConfig {
        ..off_policy: OffPolicyConfig = Td3Config::default().off_policy;
        ..noise: NoiseConfig = Td3Config::default().noise;
        [policy]: ActorCriticNets = Td3Config::default().policy;
    }
}

impl DdpgConfig {
    /// DDPG is TD3 with no target smoothing and no actor delay (train it with one critic).
    pub fn as_td3(&self) -> Td3Config {
        Td3Config {
            off_policy: self.off_policy.clone(),
            noise: self.noise.clone(),
            policy_delay: 1,
            target_policy_noise: 0.0,
            target_noise_clip: 0.0,
            policy: self.policy.clone(),
        }
    }
}

impl Algorithm for Td3Config {
    const NAME: &'static str = "td3";
    const SUMMARY: &'static str = "twin delayed DDPG: clipped double Q, target policy smoothing, delayed actor (Fujimoto et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, 2, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let kind = ActorKind::Deterministic;
        Ok(Box::new(saved::load(
            &self.policy,
            kind,
            backend,
            env,
            run_dir,
        )?))
    }
}

impl Algorithm for DdpgConfig {
    const NAME: &'static str = "ddpg";
    const SUMMARY: &'static str = "deep deterministic policy gradient: replay, target nets, exploration noise (Lillicrap et al. 2016)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.as_td3(), 1, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let kind = ActorKind::Deterministic;
        Ok(Box::new(saved::load(
            &self.policy,
            kind,
            backend,
            env,
            run_dir,
        )?))
    }
}

const DIAGNOSTICS: [&str; 3] = ["loss_pi", "loss_q", "q_mean"];

/// Trains TD3 with `n_critics` critics (2; DDPG passes its settings with 1).
/// Everything a checkpoint needs to continue TD3/DDPG exactly (taken between env steps).
#[derive(Serialize, Deserialize)]
struct Td3State {
    actor: SavedModule,
    critics: SavedModule,
    actor_target: SavedModule,
    critics_target: SavedModule,
    actor_opt: SavedOptimizer,
    critic_opt: SavedOptimizer,
    explore: Rng,
    sampler: Rng,
    noise: ActionNoise,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<ReplayBuffer>,
    /// Training waits until this step (`learning_starts`, later after a resume without replay).
    train_from: u64,
    collector: CollectorState,
    vector_steps: u64,
    updates: usize,
    stats: MeansState,
    actor_losses: MeansState,
    diagnostics: Vec<f64>,
}

pub fn train(cfg: &Td3Config, n_critics: usize, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.off_policy.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let (hidden, activation) = (&cfg.policy.net_arch, cfg.policy.activation);
    let mut init = session.rng(Stream::Init);
    let mut actor =
        DeterministicActor::new(obs_dim, act_dim, hidden, activation, &mut init, &device);
    let mut critics = Critics::new(
        obs_dim, act_dim, hidden, activation, n_critics, &mut init, &device,
    );
    let mut actor_target = target_copy(&actor);
    let mut critics_target = target_copy(&critics);
    let (mut actor_opt, mut critic_opt) = (adam(1e-8), adam(1e-8));
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let mut noise = ActionNoise::new(cfg.noise.noise_type, cfg.noise.noise_std, n_envs, act_dim);
    let mut replay = ReplayBuffer::new(cfg.off_policy.buffer_size, obs_dim, act_dim);
    let mut batch = ReplayBatch::default();
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let action_box = collector.action_box.clone();
    let snapshot = |actor: &DeterministicActor| {
        ActorPolicy::new(
            &Actor::Deterministic(actor.clone()),
            obs_dim,
            action_box.clone(),
            &plain,
        )
    };
    let mut stats = DeviceMeans::new(2);
    // The actor loss is only computed every `policy_delay` steps: its mean is over those.
    let mut actor_losses = DeviceMeans::new(1);
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let (mut step, mut vector_steps, mut updates) = (0u64, 0u64, 0usize);
    let mut train_from = cfg.off_policy.learning_starts;
    let keep_replay = session.checkpoint_replay();
    if let Some((at, s)) = session.resumed::<Td3State>()? {
        actor = s.actor.restore(actor)?;
        critics = s.critics.restore(critics)?;
        actor_target = s.actor_target.restore(actor_target)?;
        critics_target = s.critics_target.restore(critics_target)?;
        actor_opt = s.actor_opt.restore(actor_opt)?;
        critic_opt = s.critic_opt.restore(critic_opt)?;
        (explore, sampler, noise, train_from) = (s.explore, s.sampler, s.noise, s.train_from);
        match s.replay {
            Some(saved) => replay = saved,
            None => train_from = at + cfg.off_policy.learning_starts,
        }
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
        actor_losses.restore(s.actor_losses, &device);
        (step, vector_steps, updates) = (at, s.vector_steps, s.updates);
        diagnostics = s.diagnostics;
    }
    let mut policy = snapshot(&actor);
    // A checkpoint follows the evaluation of its step: a resumed run has had it.
    if step == 0 {
        session.evaluate(0, &mut policy, &diagnostics)?;
    }
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while step < total {
        if step < cfg.off_policy.learning_starts {
            actions.fill_with(|| explore.random_range(-1.0..=1.0));
        } else {
            actions = policy.scaled_actions(&collector.obs);
            for (e, row) in actions.chunks_exact_mut(act_dim).enumerate() {
                noise.perturb(e, row, &mut explore);
                row.iter_mut().for_each(|a| *a = a.clamp(-1.0, 1.0));
            }
        }
        let ended = collector.step(&actions, &mut replay, session, &mut step)?;
        for (e, _) in ended.iter().enumerate().filter(|(_, ended)| **ended) {
            noise.reset(e);
        }
        vector_steps += 1;

        if vector_steps % cfg.off_policy.train_freq == 0 && step > train_from {
            for _ in 0..cfg.off_policy.gradient_steps {
                updates += 1;
                replay.sample_uniform(cfg.off_policy.batch_size, &mut sampler, &mut batch);
                let b = batch.len();
                let obs = matrix(&batch.observations, obs_dim, &device);
                let next_obs = matrix(&batch.next_observations, obs_dim, &device);

                let y = {
                    let smoothing: Vec<f32> = (0..b * act_dim)
                        .map(|_| {
                            let e = cfg.target_policy_noise * standard_normal(&mut sampler);
                            e.clamp(-cfg.target_noise_clip, cfg.target_noise_clip) as f32
                        })
                        .collect();
                    let next_actions = (actor_target.forward(next_obs.clone())
                        + matrix(&smoothing, act_dim, &device))
                    .clamp(-1.0, 1.0);
                    let next_q = critics_target.min(next_obs, next_actions);
                    let not_terminated = vector(&batch.terminated, &device).neg().add_scalar(1.0);
                    vector(&batch.rewards, &device)
                        + vector(&batch.discounts, &device) * not_terminated * next_q
                }
                .detach();
                let qs = critics.forward(obs.clone(), matrix(&batch.actions, act_dim, &device));
                let q_mean = qs[0].clone().detach().mean();
                let loss_q = qs
                    .into_iter()
                    .map(|q| (q - y.clone()).square().mean())
                    .reduce(|a, b| a + b)
                    .expect("at least one critic");
                let grads = GradientsParams::from_grads(loss_q.backward(), &critics);
                critics = critic_opt.step(cfg.off_policy.learning_rate, critics, grads);
                stats.add(vec![loss_q.detach(), q_mean]);

                if updates % cfg.policy_delay == 0 {
                    let q = critics
                        .clone()
                        .no_grad()
                        .first(obs.clone(), actor.forward(obs));
                    let loss_pi = q.mean().neg();
                    let grads = GradientsParams::from_grads(loss_pi.backward(), &actor);
                    actor = actor_opt.step(cfg.off_policy.learning_rate, actor, grads);
                    actor_losses.add(vec![loss_pi.detach()]);
                    critics_target = polyak_update(critics_target, &critics, cfg.off_policy.tau);
                    actor_target = polyak_update(actor_target, &actor, cfg.off_policy.tau);
                }
            }
            policy = snapshot(&actor);
        }
        if session.eval_due(step) {
            diagnostics = actor_losses.take();
            diagnostics.extend(stats.take());
            session.evaluate(step, &mut policy, &diagnostics)?;
        }
        session.checkpoint(step, || {
            Ok(Td3State {
                actor: SavedModule::of(&actor)?,
                critics: SavedModule::of(&critics)?,
                actor_target: SavedModule::of(&actor_target)?,
                critics_target: SavedModule::of(&critics_target)?,
                actor_opt: SavedOptimizer::of(&actor_opt)?,
                critic_opt: SavedOptimizer::of(&critic_opt)?,
                explore: explore.clone(),
                sampler: sampler.clone(),
                noise: noise.clone(),
                replay: keep_replay.then(|| replay.clone()),
                train_from,
                collector: collector.state(),
                vector_steps,
                updates,
                stats: stats.state(),
                actor_losses: actor_losses.state(),
                diagnostics: diagnostics.clone(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &policy.to_bytes()?)
}
