//! The off-policy actor-critic of the course notes (CS285 lecture 6, "Off-policy actor-critic
//! algorithm"): act with the current stochastic policy π_θ and store each step in replay (step
//! 1); learn Q_φ from replayed transitions with the next action drawn afresh from π_θ (step
//! 2); take A(s, a) = Q_φ(s, a) (step 3) and ascend it on replayed states with actions from
//! π_θ, by the likelihood-ratio or the reparameterised gradient (steps 4–5). The steps are
//! [`update`]'s; a target critic (Polyak) steadies the bootstrap, as in DDPG.
//!
//! The policy is a tanh-squashed Gaussian in the normalised box (SAC's actor, without gSDE);
//! evaluation acts with tanh μ(s). Actions are uniform random for the first
//! `learning_starts` steps. The entropy bonus `ent_coef` is fixed (0 in the notes).

use std::path::Path;

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::ActorCriticNets;
use super::collect::{Collector, CollectorState};
use super::offpolicy_ac_update::{
    OffPolicyAcCheckpoint, OffPolicyAcNets, OffPolicyAcOptimizers, OffPolicyAcUpdate, update,
};
use super::sac_update::normals;
use super::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::hyperparameters;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::{Backend, matrix, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// How the actor's gradient is estimated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorGradient {
    /// ∇θ log π_θ(ã|s) Q(s, ã), ã ~ π_θ (the notes' step 4).
    #[default]
    LikelihoodRatio,
    /// ∇θ Q(s, tanh(μ_θ(s) + σ_θ(s) ε)), ε ~ N(0, I), through the critic.
    Reparameterized,
}

hyperparameters! {
    /// The off-policy actor-critic's hyperparameters (replay keys as Stable-Baselines3 names
    /// them, with its base-class defaults).
    pub struct OffPolicyAcConfig {
        ..off_policy: OffPolicyConfig;
        /// actor gradient: "likelihood_ratio" (∇ log π · Q, the notes') or "reparameterized"
        /// (∇ Q(s, tanh(μ + σε)))
        actor_gradient: ActorGradient = ActorGradient::LikelihoodRatio;
        /// fixed entropy bonus α ≥ 0 in the critic target and the actor's objective (0: the
        /// notes' algorithm)
        ent_coef: f64 = 0.0, non_negative;
        [policy]: ActorCriticNets;
    }
}

impl Algorithm for OffPolicyAcConfig {
    const NAME: &'static str = "offpolicy_ac";
    const SUMMARY: &'static str = "off-policy actor-critic of the course notes: Q from replay with resampled next actions, likelihood-ratio or reparameterised actor gradient";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (actor, critic) = self.policy.parameters(run, 2);
        self.off_policy
            .footprint(run, false, actor + critic, critic)
    }

    /// The critic trained and its target forward; the actor forward for the next action and
    /// trained, through the frozen critic (reparameterised) or beside its forward pass
    /// (likelihood ratio).
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let (obs, act, hidden) = (run.obs_dim(), run.act_dim(), &self.policy.net_arch[..]);
        let (critic, actor) = ((obs + act, hidden, 1), (obs, hidden, 2 * act));
        let batch = self.off_policy.batch_size;
        let work = UpdateWork::new(self.off_policy.updates(run))
            .mlp(Pass::Train, 1.0, batch, critic)
            .mlp(Pass::Forward, 1.0, batch, critic)
            .mlp(Pass::Forward, 1.0, batch, actor)
            .mlp(Pass::Train, 1.0, batch, actor);
        Some(match self.actor_gradient {
            ActorGradient::Reparameterized => work.mlp(Pass::ThroughInput, 1.0, batch, critic),
            ActorGradient::LikelihoodRatio => {
                work.mlp(Pass::Forward, 1.0, batch, actor)
                    .mlp(Pass::Forward, 1.0, batch, critic)
            }
        })
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
        let kind = ActorKind::Squashed { sde: false };
        Ok(Box::new(saved::load(
            &self.policy,
            kind,
            backend,
            env,
            run_dir,
        )?))
    }
}

const DIAGNOSTICS: [&str; 4] = ["loss_pi", "loss_q", "entropy", "q_mean"];

/// The algorithm's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct OffPolicyAcState {
    learner: OffPolicyAcCheckpoint,
    collector: CollectorState,
    stats: MeansState,
}

pub fn train(cfg: &OffPolicyAcConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.off_policy.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let mut nets = OffPolicyAcNets::new(
        obs_dim,
        act_dim,
        cfg,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizers = OffPolicyAcOptimizers::default();
    let hp = OffPolicyAcUpdate::new(cfg);
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
    if let Some(s) = off.resume::<OffPolicyAcState>(session)? {
        (nets, optimizers) = s.learner.restore(nets, optimizers)?;
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
    }
    let mut policy = snapshot(&nets.actor);
    let mut acting = nets.actor.valid();
    off.evaluate_at_start(session, &mut policy)?;
    let mut actions = vec![0.0f32; n_envs * act_dim];
    while off.step < total {
        if off.exploring() {
            actions.fill_with(|| off.explore.random_range(-1.0..=1.0));
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
            acting = nets.actor.valid();
        }
        if session.eval_due(off.step) {
            let diagnostics = stats.take(session)?;
            policy = snapshot(&nets.actor);
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(OffPolicyAcState {
                learner: OffPolicyAcCheckpoint::of(&nets, &optimizers)?,
                collector: collector.state(),
                stats: stats.state(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &snapshot(&nets.actor).to_bytes()?)
}
