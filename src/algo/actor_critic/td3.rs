//! Deterministic-policy actor-critics, as Stable-Baselines3 implements them: TD3 (Fujimoto et
//! al. 2018) and DDPG (Lillicrap et al. 2016, TD3 with one critic, no target smoothing and no
//! actor delay). The training loop acts with μ(s) plus Gaussian or Ornstein–Uhlenbeck noise in
//! the normalised box (uniform random actions until `learning_starts`), stores the transitions
//! in replay and takes `gradient_steps` steps of [`update`] every `train_freq` vector-env steps.
//! With `her` on a goal env, each finished episode is also stored relabelled with achieved goals
//! (Andrychowicz et al. 2017; see [`HerConfig`]).

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::ActorCriticNets;
use super::collect::{Collector, CollectorState};
use super::noise::{ActionNoise, NoiseConfig};
use super::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use super::td3_host::HostTd3;
use super::td3_update::{Td3Checkpoint, Td3Nets, Td3Optimizers, Td3Update, update};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::her_config::HerConfig;
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::nn::actors::DeterministicActor;
use crate::nn::device::computes_on_host;
use crate::rng::{Rng, Stream};
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
        ..hindsight: HerConfig;
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
        ..hindsight: HerConfig;
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
            hindsight: self.hindsight.clone(),
            policy: self.policy.clone(),
        }
    }
}

impl Algorithm for Td3Config {
    const NAME: &'static str = "td3";
    const SUMMARY: &'static str = "twin delayed DDPG: clipped double Q, target policy smoothing, delayed actor (Fujimoto et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        self.hindsight.check_env(env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (actor, critic) = self.policy.parameters(run, 1);
        let nets = actor + 2 * critic;
        self.off_policy.footprint(run, false, nets, nets)
    }

    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        Some(update_work(self, 2, run))
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
        super::check_env(Self::NAME, env)?;
        self.hindsight.check_env(env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (actor, critic) = self.policy.parameters(run, 1);
        self.off_policy
            .footprint(run, false, actor + critic, actor + critic)
    }

    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        Some(update_work(&self.as_td3(), 1, run))
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

/// `n_critics` critics trained and their targets forward, the target actor forward for the
/// next action; every `policy_delay`-th step the actor trained through the first (frozen) critic.
fn update_work(cfg: &Td3Config, n_critics: usize, run: &RunShape) -> UpdateWork {
    let (obs, act, hidden) = (run.obs_dim(), run.act_dim(), &cfg.policy.net_arch[..]);
    let (critic, actor) = ((obs + act, hidden, 1), (obs, hidden, act));
    let (batch, critics) = (cfg.off_policy.batch_size, n_critics as f64);
    let delayed = 1.0 / cfg.policy_delay as f64;
    UpdateWork::new(cfg.off_policy.updates(run))
        .mlp(Pass::Train, critics, batch, critic)
        .mlp(Pass::Forward, critics, batch, critic)
        .mlp(Pass::Forward, 1.0, batch, actor)
        .mlp(Pass::Train, delayed, batch, actor)
        .mlp(Pass::ThroughInput, delayed, batch, critic)
}

const DIAGNOSTICS: [&str; 3] = ["loss_pi", "loss_q", "q_mean"];

/// TD3's (and DDPG's) own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct Td3State {
    learner: Td3Checkpoint,
    noise: ActionNoise,
    collector: CollectorState,
    stats: MeansState,
    actor_losses: MeansState,
}

/// Trains TD3 with `n_critics` critics (2; DDPG passes its settings with 1).
pub fn train(cfg: &Td3Config, n_critics: usize, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector =
        Collector::new(session, cfg.off_policy.gamma)?.with_hindsight(session, &cfg.hindsight)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let mut init = session.rng(Stream::Init);
    let mut nets = Td3Nets::new(obs_dim, act_dim, &cfg.policy, n_critics, &mut init, &device);
    let mut optimizers = Td3Optimizers::default();
    let hp = Td3Update::new(cfg);
    let settings = Settings {
        buffer_size: cfg.off_policy.buffer_size,
        batch_size: cfg.off_policy.batch_size,
        learning_starts: cfg.off_policy.learning_starts,
        train_freq: cfg.off_policy.train_freq,
        prioritized: None,
    };
    let diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut off = OffPolicy::new(session, settings, obs_dim, act_dim, diagnostics);
    let mut noise = ActionNoise::new(cfg.noise.noise_type, cfg.noise.noise_std, n_envs, act_dim);
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
    let mut stats = DeviceMeans::new(&DIAGNOSTICS[1..]);
    // The actor loss is only computed every `policy_delay` steps: its mean is over those.
    let mut actor_losses = DeviceMeans::new(&DIAGNOSTICS[..1]);
    if let Some(s) = off.resume::<Td3State>(session)? {
        (nets, optimizers) = s.learner.restore(nets, optimizers)?;
        noise = s.noise;
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
        actor_losses.restore(s.actor_losses, &device);
    }
    // On the CPU backends the gradient steps run on the host ([`HostTd3`]) where it covers the
    // networks; Burn's actor is brought up to date after every train call.
    let mut host = computes_on_host(&device)
        .then(|| HostTd3::new(&nets, &optimizers))
        .flatten();
    let mut policy = snapshot(&nets.actor);
    off.evaluate_at_start(session, &mut policy)?;
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while off.step < total {
        if off.exploring() {
            actions.fill_with(|| off.explore.random_range(-1.0..=1.0));
        } else {
            actions = policy.scaled_actions(&collector.obs);
            for (e, row) in actions.chunks_exact_mut(act_dim).enumerate() {
                noise.perturb(e, row, &mut off.explore);
                row.iter_mut().for_each(|a| *a = a.clamp(-1.0, 1.0));
            }
        }
        let ended = collector.step(&actions, &mut off.replay, session, &mut off.step)?;
        for (e, _) in ended.iter().enumerate().filter(|(_, ended)| **ended) {
            noise.reset(e);
        }
        off.vector_steps += 1;

        if off.train_due() {
            for _ in 0..cfg.off_policy.gradient_steps {
                off.sample();
                if let Some(host) = host.as_mut() {
                    let s = host.step(&off.batch, &hp, &mut off.sampler);
                    stats.add_host(off.step, &[s.loss_q, s.q_mean], &plain);
                    if let Some(loss_pi) = s.loss_pi {
                        actor_losses.add_host(off.step, &[loss_pi], &plain);
                    }
                    continue;
                }
                let step_stats;
                (nets, step_stats) = update(
                    nets,
                    &mut optimizers,
                    &off.batch,
                    &hp,
                    &mut off.sampler,
                    &device,
                );
                stats.add(off.step, vec![step_stats.loss_q, step_stats.q_mean]);
                if let Some(loss_pi) = step_stats.loss_pi {
                    actor_losses.add(off.step, vec![loss_pi]);
                }
            }
            if let Some(host) = &host {
                host.write_actor(&mut nets);
            }
            policy = snapshot(&nets.actor);
        }
        if session.eval_due(off.step) {
            let mut diagnostics = actor_losses.take(session)?;
            diagnostics.extend(stats.take(session)?);
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            // The host's networks and optimiser states are ahead of Burn's copies.
            let learner = match &host {
                Some(host) => {
                    let (nets, optimizers) = host.to_burn(&nets, &optimizers);
                    Td3Checkpoint::of(&nets, &optimizers)?
                }
                None => Td3Checkpoint::of(&nets, &optimizers)?,
            };
            Ok(Td3State {
                learner,
                noise: noise.clone(),
                collector: collector.state(),
                stats: stats.state(),
                actor_losses: actor_losses.state(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &policy.to_bytes()?)
}
