//! Deterministic-policy actor-critics, as Stable-Baselines3 implements them: TD3 (Fujimoto et
//! al. 2018) and DDPG (Lillicrap et al. 2016, TD3 with one critic, no target smoothing and no
//! actor delay). The training loop acts with μ(s) plus Gaussian or Ornstein–Uhlenbeck noise in
//! the normalised box (uniform random actions until `learning_starts`), stores the transitions
//! in replay and takes `gradient_steps` steps of [`update`] every `train_freq` vector-env steps.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::collect::{Collector, CollectorState};
use super::noise::{ActionNoise, NoiseType};
use super::saved::{Actor, ActorPolicy, MODEL_FILE};
use super::td3_update::{Td3Checkpoint, Td3Nets, Td3Optimizers, Td3Update, update};
use super::{ActorCriticNets, Td3Arch};
use crate::algo::Hyperparameters;
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::config::Checker;
use crate::nn::actors::DeterministicActor;
use crate::nn::{plain_device, training_device};
use crate::rng::Stream;
use crate::run::Session;

/// TD3's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Td3Config {
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    pub noise_type: NoiseType,
    pub noise_std: f64,
    /// Update the actor and the targets every this many critic steps.
    pub policy_delay: usize,
    /// σ̃ of the target policy smoothing noise.
    pub target_policy_noise: f64,
    /// c: the smoothing noise is clipped to ±c.
    pub target_noise_clip: f64,
    pub policy: ActorCriticNets<Td3Arch>,
}

impl Default for Td3Config {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            train_freq: 1,
            gradient_steps: 1,
            noise_type: NoiseType::Normal,
            noise_std: 0.1,
            policy_delay: 2,
            target_policy_noise: 0.2,
            target_noise_clip: 0.5,
            policy: ActorCriticNets::default(),
        }
    }
}

/// DDPG's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DdpgConfig {
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    pub noise_type: NoiseType,
    pub noise_std: f64,
    pub policy: ActorCriticNets<Td3Arch>,
}

impl Default for DdpgConfig {
    fn default() -> Self {
        let td3 = Td3Config::default();
        Self {
            learning_rate: td3.learning_rate,
            buffer_size: td3.buffer_size,
            learning_starts: td3.learning_starts,
            batch_size: td3.batch_size,
            tau: td3.tau,
            gamma: td3.gamma,
            train_freq: td3.train_freq,
            gradient_steps: td3.gradient_steps,
            noise_type: td3.noise_type,
            noise_std: td3.noise_std,
            policy: td3.policy,
        }
    }
}

impl DdpgConfig {
    /// DDPG is TD3 with no target smoothing and no actor delay (train it with one critic).
    pub fn as_td3(&self) -> Td3Config {
        Td3Config {
            learning_rate: self.learning_rate,
            buffer_size: self.buffer_size,
            learning_starts: self.learning_starts,
            batch_size: self.batch_size,
            tau: self.tau,
            gamma: self.gamma,
            train_freq: self.train_freq,
            gradient_steps: self.gradient_steps,
            noise_type: self.noise_type,
            noise_std: self.noise_std,
            policy_delay: 1,
            target_policy_noise: 0.0,
            target_noise_clip: 0.0,
            policy: self.policy.clone(),
        }
    }
}

/// Help lines of the keys DDPG and TD3 share.
const SHARED_HELP: [(&str, &str); 11] = [
    ("learning_rate", "Adam step size of actor and critics"),
    ("buffer_size", "replay capacity in transitions"),
    (
        "learning_starts",
        "env steps of uniform random actions before training",
    ),
    ("batch_size", "transitions per gradient step"),
    ("tau", "Polyak coefficient of the target nets, in (0, 1]"),
    ("gamma", "discount factor γ ∈ [0, 1]"),
    ("train_freq", "train every this many vector-env steps"),
    ("gradient_steps", "gradient steps per training round"),
    (
        "noise_type",
        "exploration noise: \"normal\", \"ornstein_uhlenbeck\" or \"none\"",
    ),
    ("noise_std", "σ of the exploration noise in the [−1, 1] box"),
    (
        "policy",
        "[algo.policy] table: net_arch (hidden sizes of the actor and each critic, default [400, 300]), activation (\"relu\")",
    ),
];

impl Hyperparameters for Td3Config {
    const HELP: &'static [(&'static str, &'static str)] = &[
        SHARED_HELP[0],
        SHARED_HELP[1],
        SHARED_HELP[2],
        SHARED_HELP[3],
        SHARED_HELP[4],
        SHARED_HELP[5],
        SHARED_HELP[6],
        SHARED_HELP[7],
        SHARED_HELP[8],
        SHARED_HELP[9],
        (
            "policy_delay",
            "critic steps per actor and target update (≥ 1)",
        ),
        ("target_policy_noise", "σ̃ of the target smoothing noise"),
        (
            "target_noise_clip",
            "the smoothing noise is clipped to ±this",
        ),
        SHARED_HELP[10],
    ];

    fn check(&self, c: &mut Checker) {
        check_shared(
            c,
            (self.learning_rate, self.buffer_size, self.batch_size),
            (self.tau, self.gamma, self.train_freq, self.noise_std),
            &self.policy,
        );
        c.require("policy_delay", self.policy_delay >= 1, || {
            "must be >= 1".into()
        });
        c.require(
            "target_policy_noise",
            self.target_policy_noise.is_finite() && self.target_policy_noise >= 0.0,
            || "must be a finite number >= 0".into(),
        );
        c.require(
            "target_noise_clip",
            self.target_noise_clip.is_finite() && self.target_noise_clip >= 0.0,
            || "must be a finite number >= 0".into(),
        );
    }
}

impl Hyperparameters for DdpgConfig {
    const HELP: &'static [(&'static str, &'static str)] = &SHARED_HELP;

    fn check(&self, c: &mut Checker) {
        check_shared(
            c,
            (self.learning_rate, self.buffer_size, self.batch_size),
            (self.tau, self.gamma, self.train_freq, self.noise_std),
            &self.policy,
        );
    }
}

fn check_shared(
    c: &mut Checker,
    (learning_rate, buffer_size, batch_size): (f64, usize, usize),
    (tau, gamma, train_freq, noise_std): (f64, f64, u64, f64),
    policy: &ActorCriticNets<Td3Arch>,
) {
    c.positive("learning_rate", learning_rate);
    c.require("buffer_size", buffer_size > 0, || "must be > 0".into());
    c.require("batch_size", batch_size > 0, || "must be > 0".into());
    c.require("tau", tau > 0.0 && tau <= 1.0, || {
        format!("must be in (0, 1], got {tau}")
    });
    c.in_closed("gamma", gamma, 0.0, 1.0);
    c.require("train_freq", train_freq > 0, || "must be > 0".into());
    c.require(
        "noise_std",
        noise_std.is_finite() && noise_std >= 0.0,
        || "must be a finite number >= 0".into(),
    );
    policy.check(c);
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
    let backend = session.experiment().experiment.backend;
    let device = training_device(backend)?;
    let plain = plain_device(backend)?;
    let mut collector = Collector::new(session, cfg.gamma)?;
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
        buffer_size: cfg.buffer_size,
        batch_size: cfg.batch_size,
        learning_starts: cfg.learning_starts,
        train_freq: cfg.train_freq,
        prioritized: None,
    };
    let diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut off = OffPolicy::new(session, settings, obs_dim, act_dim, diagnostics);
    let mut noise = ActionNoise::new(cfg.noise_type, cfg.noise_std, n_envs, act_dim);
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
    if let Some(s) = off.resume::<Td3State>(session)? {
        (nets, optimizers) = s.learner.restore(nets, optimizers)?;
        noise = s.noise;
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
        actor_losses.restore(s.actor_losses, &device);
    }
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
            for _ in 0..cfg.gradient_steps {
                off.sample();
                let step_stats;
                (nets, step_stats) = update(
                    nets,
                    &mut optimizers,
                    &off.batch,
                    &hp,
                    &mut off.sampler,
                    &device,
                );
                stats.add(vec![step_stats.loss_q, step_stats.q_mean]);
                if let Some(loss_pi) = step_stats.loss_pi {
                    actor_losses.add(vec![loss_pi]);
                }
            }
            policy = snapshot(&nets.actor);
        }
        if session.eval_due(off.step) {
            let mut diagnostics = actor_losses.take();
            diagnostics.extend(stats.take());
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(Td3State {
                learner: Td3Checkpoint::of(&nets, &optimizers)?,
                noise: noise.clone(),
                collector: collector.state(),
                stats: stats.state(),
                actor_losses: actor_losses.state(),
            })
        })?;
    }
    policy.save(&session.file(MODEL_FILE))
}
