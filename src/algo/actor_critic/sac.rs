//! Soft actor-critic (Haarnoja et al. 2018, "SAC: algorithms and applications"), as
//! Stable-Baselines3 implements it: the training loop. It acts with the stochastic actor
//! (uniform random actions until `learning_starts`; optionally gSDE, Raffin et al. 2022), stores
//! the transitions in replay and takes `gradient_steps` steps of [`update`] (temperature,
//! twin critics, actor, Polyak targets) every `train_freq` vector-env steps, with target
//! entropy H̄ = −dim(A) unless set. With `her` on a goal env, each finished episode is also
//! stored relabelled with achieved goals (Andrychowicz et al. 2017; see [`HerConfig`]).

use std::path::Path;

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::ActorCriticNets;
use super::collect::{Collector, CollectorState};
use super::sac_host::HostSac;
use super::sac_update::{SacCheckpoint, SacNets, SacOptimizers, SacUpdate, normals, update};
use super::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::her_config::HerConfig;
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::device::computes_on_host;
use crate::nn::{Backend, matrix, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// SAC's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct SacConfig {
        ..off_policy: OffPolicyConfig;
        /// entropy temperature α > 0 (the initial value when learned)
        ent_coef: f64 = 1.0, positive;
        /// learn α towards the target entropy (SB3's "auto")
        learn_ent_coef: bool = true;
        /// entropy target H̄ of the learned α (unset: −dim(A))
        target_entropy: Option<f64> = None, finite;
        /// gradient steps between target updates
        target_update_interval: usize = 1, nonzero;
        /// gSDE: exploration u = μ(s) + z(s)W with W held fixed between resamples (Raffin et
        /// al. 2022)
        use_sde: bool = false;
        /// gSDE: resample W every this many steps (−1: once per train_freq round)
        sde_sample_freq: i64 = -1;
        /// gSDE: initial log σ of the weights W
        log_std_init: f64 = -3.0, finite;
        ..hindsight: HerConfig;
        [policy]: ActorCriticNets;
    }
    check: Self::check_sde_sample_freq;
}

impl SacConfig {
    fn check_sde_sample_freq(&self, c: &mut Checker) {
        c.require(
            "sde_sample_freq",
            self.sde_sample_freq == -1 || self.sde_sample_freq > 0,
            || format!("must be -1 or > 0, got {}", self.sde_sample_freq),
        );
    }
}

impl Algorithm for SacConfig {
    const NAME: &'static str = "sac";
    const SUMMARY: &'static str = "soft actor-critic: twin critics, tanh-squashed Gaussian, learned temperature (Haarnoja et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        self.hindsight.check_env(env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (actor, critic) = self.policy.parameters(run, 2);
        self.off_policy
            .footprint(run, false, actor + 2 * critic, 2 * critic)
    }

    /// The twin critics trained and their targets forward; the actor forward for the next
    /// action and trained through both (frozen) critics. The temperature's step is a scalar.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let (obs, act, hidden) = (run.obs_dim(), run.act_dim(), &self.policy.net_arch[..]);
        let (critic, actor) = ((obs + act, hidden, 1), (obs, hidden, 2 * act));
        let batch = self.off_policy.batch_size;
        let work = UpdateWork::new(self.off_policy.updates(run))
            .mlp(Pass::Train, 2.0, batch, critic)
            .mlp(Pass::Forward, 2.0, batch, critic)
            .mlp(Pass::Forward, 1.0, batch, actor)
            .mlp(Pass::Train, 1.0, batch, actor)
            .mlp(Pass::ThroughInput, 2.0, batch, critic);
        Some(work)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(self, session)
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        let kind = ActorKind::Squashed { sde: self.use_sde };
        Ok(Box::new(saved::load(
            &self.policy,
            kind,
            backend,
            env,
            run_dir,
        )?))
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
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector =
        Collector::new(session, cfg.off_policy.gamma)?.with_hindsight(session, &cfg.hindsight)?;
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
        buffer_size: cfg.off_policy.buffer_size,
        batch_size: cfg.off_policy.batch_size,
        learning_starts: cfg.off_policy.learning_starts,
        train_freq: cfg.off_policy.train_freq,
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
    let mut stats = DeviceMeans::new(&DIAGNOSTICS);
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
    // On the CPU backends the gradient steps and acting run on the host ([`HostSac`]) where it
    // covers the networks; Burn's actor is brought up to date for evaluation and the model.
    let mut host = computes_on_host(&device)
        .then(|| HostSac::new(&nets, &optimizers))
        .flatten();
    let mut policy = snapshot(&nets.actor);
    let mut acting = nets.actor.valid();
    off.evaluate_at_start(session, &mut policy)?;
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while off.step < total {
        let round_step = off.vector_steps % cfg.off_policy.train_freq;
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
        } else if let Some(host) = host.as_mut() {
            let noise = normals(&mut off.explore, n_envs * act_dim);
            host.act(&collector.obs, &noise, &mut actions);
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
            for _ in 0..cfg.off_policy.gradient_steps {
                off.sample();
                if let Some(host) = host.as_mut() {
                    let step_stats = host.step(&off.batch, &hp, &mut off.sampler);
                    stats.add_host(off.step, &step_stats.row(), &plain);
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
                stats.add(off.step, step_stats.row());
            }
            if host.is_none() {
                acting = nets.actor.valid();
            }
        }
        if session.eval_due(off.step) {
            let diagnostics = stats.take(session)?;
            if let Some(host) = &host {
                host.write_actor(&mut nets);
            }
            policy = snapshot(&nets.actor);
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            // The host's networks and optimiser states are ahead of Burn's copies.
            let learner = match &host {
                Some(host) => {
                    let (nets, optimizers) = host.to_burn(&nets, &optimizers);
                    SacCheckpoint::of(&nets, &optimizers)?
                }
                None => SacCheckpoint::of(&nets, &optimizers)?,
            };
            Ok(SacState {
                learner,
                collector: collector.state(),
                sde_noise: sde_noise.iter().cloned().map(to_vec).collect(),
                stats: stats.state(),
            })
        })?;
    }
    if let Some(host) = &host {
        host.write_actor(&mut nets);
    }
    session.save_artifact(MODEL_FILE, &snapshot(&nets.actor).to_bytes()?)
}
