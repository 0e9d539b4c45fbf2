//! Soft actor-critic (Haarnoja et al. 2018, "SAC: algorithms and applications"), as
//! Stable-Baselines3 implements it: the training loop. It acts with the stochastic actor
//! (uniform random actions until `learning_starts`; optionally gSDE, Raffin et al. 2022), stores
//! the transitions in replay and takes `gradient_steps` steps of [`update`] (temperature,
//! twin critics, actor, Polyak targets) every `train_freq` vector-env steps, with target
//! entropy H̄ = −dim(A) unless set.

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::collect::{Collector, CollectorState};
use super::sac_update::{SacCheckpoint, SacNets, SacOptimizers, SacUpdate, normals, update};
use super::saved::{Actor, ActorPolicy, MODEL_FILE};
use super::{ActorCriticNets, SacArch};
use crate::algo::Hyperparameters;
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::config::Checker;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::{matrix, plain_device, to_vec, training_device};
use crate::rng::Stream;
use crate::run::Session;

/// SAC's hyperparameters (Stable-Baselines3's names and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Adam step size of the actor, the critics and the temperature.
    pub learning_rate: f64,
    pub buffer_size: usize,
    pub learning_starts: u64,
    pub batch_size: usize,
    pub tau: f64,
    pub gamma: f64,
    pub train_freq: u64,
    pub gradient_steps: usize,
    /// The entropy temperature α: its initial value when learned, else fixed.
    pub ent_coef: f64,
    /// Learn α by dual gradient descent on the entropy constraint (SB3's `ent_coef = "auto"`).
    pub learn_ent_coef: bool,
    /// H̄ of the entropy constraint (unset: −dim(A)).
    pub target_entropy: Option<f64>,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// Generalised state-dependent exploration (Raffin et al. 2022) instead of a log σ(s) head.
    pub use_sde: bool,
    /// With gSDE, resample the exploration weights every this many steps (−1: only at the start
    /// of each `train_freq` round).
    pub sde_sample_freq: i64,
    /// With gSDE, the initial log σ of the exploration weights.
    pub log_std_init: f64,
    pub policy: ActorCriticNets<SacArch>,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            train_freq: 1,
            gradient_steps: 1,
            ent_coef: 1.0,
            learn_ent_coef: true,
            target_entropy: None,
            target_update_interval: 1,
            use_sde: false,
            sde_sample_freq: -1,
            log_std_init: -3.0,
            policy: ActorCriticNets::default(),
        }
    }
}

impl Hyperparameters for SacConfig {
    const HELP: &'static [(&'static str, &'static str)] = &[
        (
            "learning_rate",
            "Adam step size of actor, critics and temperature",
        ),
        ("buffer_size", "replay capacity in transitions"),
        (
            "learning_starts",
            "env steps of uniform random actions before training",
        ),
        ("batch_size", "transitions per gradient step"),
        ("tau", "Polyak coefficient of the target critics, in (0, 1]"),
        ("gamma", "discount factor γ ∈ [0, 1]"),
        ("train_freq", "train every this many vector-env steps"),
        ("gradient_steps", "gradient steps per training round"),
        (
            "ent_coef",
            "entropy temperature α > 0 (the initial value when learned)",
        ),
        (
            "learn_ent_coef",
            "learn α towards the target entropy (SB3's \"auto\")",
        ),
        (
            "target_entropy",
            "entropy target H̄ of the learned α (unset: −dim(A))",
        ),
        (
            "target_update_interval",
            "gradient steps between target updates",
        ),
        (
            "use_sde",
            "gSDE: exploration u = μ(s) + z(s)W with W held fixed between resamples",
        ),
        (
            "sde_sample_freq",
            "gSDE: resample W every this many steps (−1: once per train_freq round)",
        ),
        ("log_std_init", "gSDE: initial log σ of the weights W"),
        (
            "policy",
            "[algo.policy] table: net_arch (hidden sizes of the actor and each critic, default [256, 256]), activation (\"relu\")",
        ),
    ];

    fn check(&self, c: &mut Checker) {
        c.positive("learning_rate", self.learning_rate);
        c.require("buffer_size", self.buffer_size > 0, || "must be > 0".into());
        c.require("batch_size", self.batch_size > 0, || "must be > 0".into());
        c.require("tau", self.tau > 0.0 && self.tau <= 1.0, || {
            format!("must be in (0, 1], got {}", self.tau)
        });
        c.in_closed("gamma", self.gamma, 0.0, 1.0);
        c.require("train_freq", self.train_freq > 0, || "must be > 0".into());
        c.positive("ent_coef", self.ent_coef);
        if let Some(h) = self.target_entropy {
            c.finite("target_entropy", h);
        }
        c.require(
            "target_update_interval",
            self.target_update_interval > 0,
            || "must be > 0".into(),
        );
        c.require(
            "sde_sample_freq",
            self.sde_sample_freq == -1 || self.sde_sample_freq > 0,
            || format!("must be -1 or > 0, got {}", self.sde_sample_freq),
        );
        c.finite("log_std_init", self.log_std_init);
        self.policy.check(c);
    }
}

const DIAGNOSTICS: [&str; 5] = ["loss_pi", "loss_q", "alpha", "entropy", "q_mean"];

/// SAC's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct SacState {
    learner: SacCheckpoint,
    collector: CollectorState,
    /// gSDE's exploration matrices, one per env (row-major).
    sde_noise: Vec<Vec<f32>>,
    stats: MeansState,
}

pub fn train(cfg: &SacConfig, session: &mut Session) -> anyhow::Result<()> {
    let backend = session.experiment().experiment.backend;
    let device = training_device(backend)?;
    let plain = plain_device(backend)?;
    let mut collector = Collector::new(session, cfg.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let mut nets = SacNets::new(
        obs_dim,
        act_dim,
        cfg,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizers = SacOptimizers::default();
    let hp = SacUpdate::new(cfg, act_dim);
    let settings = Settings {
        buffer_size: cfg.buffer_size,
        batch_size: cfg.batch_size,
        learning_starts: cfg.learning_starts,
        train_freq: cfg.train_freq,
        prioritized: None,
    };
    let diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut off = OffPolicy::new(session, settings, obs_dim, act_dim, diagnostics);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let action_box = collector.action_box.clone();
    let snapshot = |actor: &SquashedGaussianActor| {
        ActorPolicy::new(
            &Actor::Squashed(actor.clone()),
            obs_dim,
            action_box.clone(),
            &plain,
        )
    };
    let mut stats = DeviceMeans::new(DIAGNOSTICS.len());
    let mut sde_noise: Vec<Tensor<2>> = Vec::new();
    if let Some(s) = off.resume::<SacState>(session)? {
        (nets, optimizers) = s.learner.restore(nets, optimizers)?;
        collector.restore(&s.collector);
        let cols = nets.actor.noise_shape(1)[1];
        sde_noise = s
            .sde_noise
            .iter()
            .map(|w| matrix(w, cols, &plain))
            .collect();
        stats.restore(s.stats, &device);
    }
    let mut policy = snapshot(&nets.actor);
    let mut acting = nets.actor.valid();
    off.evaluate_at_start(session, &mut policy)?;
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while off.step < total {
        let round_step = off.vector_steps % cfg.train_freq;
        if cfg.use_sde
            && (round_step == 0
                || (cfg.sde_sample_freq > 0
                    && round_step.is_multiple_of(cfg.sde_sample_freq as u64)))
        {
            let shape = acting.noise_shape(1);
            sde_noise = (0..n_envs)
                .map(|_| {
                    matrix(
                        &normals(&mut off.explore, shape[0] * shape[1]),
                        shape[1],
                        &plain,
                    )
                })
                .collect();
        }
        if off.exploring() {
            actions.fill_with(|| off.explore.random_range(-1.0..=1.0));
        } else if cfg.use_sde {
            // Each env keeps its own exploration weights W.
            for (e, noise) in sde_noise.iter().enumerate() {
                let obs = matrix(
                    &collector.obs[e * obs_dim..(e + 1) * obs_dim],
                    obs_dim,
                    &plain,
                );
                let (a, _) = acting.sample(obs, noise.clone());
                actions[e * act_dim..(e + 1) * act_dim].copy_from_slice(&to_vec(a));
            }
        } else {
            let noise = matrix(
                &normals(&mut off.explore, n_envs * act_dim),
                act_dim,
                &plain,
            );
            let (a, _) = acting.sample(matrix(&collector.obs, obs_dim, &plain), noise);
            actions = to_vec(a);
        }
        collector.step(&actions, &mut off.replay, session, &mut off.step)?;
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
                stats.add(step_stats.row());
            }
            acting = nets.actor.valid();
        }
        if session.eval_due(off.step) {
            let diagnostics = stats.take();
            policy = snapshot(&nets.actor);
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(SacState {
                learner: SacCheckpoint::of(&nets, &optimizers)?,
                collector: collector.state(),
                sde_noise: sde_noise.iter().cloned().map(to_vec).collect(),
                stats: stats.state(),
            })
        })?;
    }
    snapshot(&nets.actor).save(&session.file(MODEL_FILE))
}
