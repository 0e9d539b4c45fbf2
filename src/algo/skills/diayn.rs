//! DIAYN, "Diversity is all you need" (Eysenbach et al. 2019, algorithm 1): skills learned
//! without the task's reward. Each episode of each env draws a skill z ~ p(z), uniform over
//! `num_skills`; the policy π(a|s, z) and SAC's critics see [s, e_z] (a one-hot code); every
//! replayed transition is relabelled with the pseudo-reward r = log q_φ(z|s') − log p(z) of
//! the current discriminator, which then takes a maximum-likelihood step on the same states,
//! and SAC takes its [`update`] (the same function SAC trains with). The env's reward is only
//! recorded (episodes.csv, `train_return_mean`), never learned from.
//!
//! Evaluation runs the skills in turn with the deterministic policy (episode i: skill i mod
//! K, so `experiment.eval_episodes = num_skills` scores each once); curve.csv adds the
//! discriminator's loss and accuracy on the replayed batches, the mean pseudo-reward and the
//! best skill's task return.

use std::path::Path;

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::discriminator::{self, Discriminator};
use super::skill::{SkillPolicy, best_skill_return, condition, split};
use crate::algo::actor_critic::collect::{Collector, CollectorState};
use crate::algo::actor_critic::sac::SacConfig;
use crate::algo::actor_critic::sac_update::{
    SacCheckpoint, SacNets, SacOptimizers, SacUpdate, normals, update,
};
use crate::algo::actor_critic::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::footprint::{TRAINED_PARAMETER_BYTES, mlp_parameters};
use crate::algo::off_policy::{OffPolicy, Replay, Settings};
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::{Backend, SavedModule, SavedOptimizer, adam, matrix, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// DIAYN's hyperparameters: SAC's keys (the paper's fixed α = 0.1 by default) and the
    /// skills' and discriminator's.
    pub struct DiaynConfig {
        ..sac: SacConfig = SacConfig { ent_coef: 0.1, learn_ent_coef: false, ..Default::default() };
        /// number of skills K ≥ 2, drawn uniformly: p(z) = 1/K
        num_skills: usize = 50;
        /// Adam step size of the discriminator q(z|s)
        disc_learning_rate: f64 = 3e-4, positive;
        /// hidden layer sizes of the discriminator q(z|s) (its activation is the policy's)
        disc_net_arch: Vec<usize> = vec![256, 256], all_nonzero;
    }
    check: Self::check_skills;
}

impl DiaynConfig {
    fn check_skills(&self, c: &mut Checker) {
        c.require("num_skills", self.num_skills >= 2, || {
            format!(
                "must be at least 2, got {}: the discriminator tells skills apart",
                self.num_skills
            )
        });
        c.require("use_sde", !self.sac.use_sde, || {
            "gSDE is not available with diayn: the skills explore".into()
        });
        c.require("her", !self.sac.hindsight.her, || {
            "hindsight relabelling is not available with diayn: its reward is the discriminator's"
                .into()
        });
    }
}

impl Algorithm for DiaynConfig {
    const NAME: &'static str = "diayn";
    const SUMMARY: &'static str = "diversity is all you need: skills from a discriminator's reward log q(z|s) − log p(z), trained by SAC (Eysenbach et al. 2019)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        crate::algo::actor_critic::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.sac.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (obs, act, k) = (run.obs_dim(), run.act_dim(), self.num_skills);
        let input = obs.saturating_add(k);
        let hidden = &self.sac.policy.net_arch;
        let actor = mlp_parameters(input, hidden, 2 * act);
        let critics = mlp_parameters(input.saturating_add(act), hidden, 1).saturating_mul(2);
        let disc = mlp_parameters(obs, &self.disc_net_arch, k);
        let replay = Replay::bytes(self.sac.off_policy.buffer_size, input, act, false);
        let nets = actor
            .saturating_add(critics)
            .saturating_add(disc)
            .saturating_mul(TRAINED_PARAMETER_BYTES)
            .saturating_add(critics.saturating_mul(4));
        Footprint::default()
            .with("replay buffer", "algo.buffer_size, algo.num_skills", replay)
            .with(
                "networks",
                "algo.policy.net_arch, algo.disc_net_arch, algo.num_skills",
                nets,
            )
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
        let k = self.num_skills;
        let actor = saved::load_conditioned(&self.sac.policy, kind, backend, env, run_dir, k)?;
        Ok(Box::new(SkillPolicy::new(actor, k)))
    }
}

/// SAC's diagnostics, the discriminator's, and the evaluation's best skill.
const DIAGNOSTICS: [&str; 9] = [
    "loss_pi",
    "loss_q",
    "alpha",
    "entropy",
    "q_mean",
    "loss_disc",
    "disc_accuracy",
    "pseudo_reward",
    "best_skill_return",
];
/// The columns averaged over updates (all but the evaluation's).
const UPDATE_DIAGNOSTICS: usize = 8;

/// DIAYN's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct DiaynState {
    learner: SacCheckpoint,
    discriminator: SavedModule,
    discriminator_opt: SavedOptimizer,
    collector: CollectorState,
    /// The skill of each env's current episode.
    skills: Vec<usize>,
    stats: MeansState,
}

pub fn train(cfg: &DiaynConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let off_cfg = &cfg.sac.off_policy;
    let k = cfg.num_skills;
    let mut collector = Collector::new(session, off_cfg.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let input_dim = obs_dim + k;
    let mut init = session.rng(Stream::Init);
    let mut nets = SacNets::new(input_dim, act_dim, &cfg.sac, &mut init, &device);
    let mut disc = Discriminator::new(
        obs_dim,
        k,
        &cfg.disc_net_arch,
        cfg.sac.policy.activation,
        &mut init,
        &device,
    );
    let mut optimizers = SacOptimizers::default();
    let mut disc_opt = adam(1e-8);
    let hp = SacUpdate::new(&cfg.sac, act_dim);
    let settings = Settings {
        buffer_size: off_cfg.buffer_size,
        batch_size: off_cfg.batch_size,
        learning_starts: off_cfg.learning_starts,
        train_freq: off_cfg.train_freq,
        prioritized: None,
    };
    let mut off = OffPolicy::new(session, settings, input_dim, act_dim, Vec::new());
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let action_box = collector.action_box.clone();
    let snapshot = |actor: &SquashedGaussianActor| {
        let actor = ActorPolicy::new(
            &Actor::Squashed(actor.clone()),
            input_dim,
            action_box.clone(),
            &plain,
        );
        SkillPolicy::new(actor, k)
    };
    let mut stats = DeviceMeans::new(&DIAGNOSTICS[..UPDATE_DIAGNOSTICS]);
    let mut skills: Vec<usize> = (0..n_envs)
        .map(|_| off.explore.random_range(0..k))
        .collect();
    if let Some(s) = off.resume::<DiaynState>(session)? {
        (nets, optimizers) = s.learner.restore(nets, optimizers)?;
        disc = s.discriminator.restore(disc)?;
        disc_opt = s.discriminator_opt.restore(disc_opt)?;
        collector.restore(&s.collector);
        skills = s.skills;
        stats.restore(s.stats, &device);
    }
    // Evaluation: each skill's task return, the best one with the updates' means.
    let evaluate = |session: &mut Session, step, policy: &mut SkillPolicy, means: Vec<f64>| {
        session.evaluate_with(step, policy, |_, returns| {
            let mut row = means;
            row.push(best_skill_return(returns, k));
            row
        })
    };
    if off.step == 0 {
        let mut policy = snapshot(&nets.actor);
        evaluate(session, 0, &mut policy, vec![f64::NAN; UPDATE_DIAGNOSTICS])?;
    }
    let mut acting = nets.actor.valid();
    let mut actions = vec![0.0f32; n_envs * act_dim];
    let (mut codes, mut inputs) = (Vec::new(), Vec::new());
    while off.step < total {
        if off.exploring() {
            actions.fill_with(|| off.explore.random_range(-1.0..=1.0));
        } else {
            condition(&collector.obs, obs_dim, &skills, k, &mut inputs);
            let noise = matrix(
                &normals(&mut off.explore, n_envs * act_dim),
                act_dim,
                &plain,
            );
            let (a, _) = acting.sample(matrix(&inputs, input_dim, &plain), noise);
            actions = to_vec(a);
        }
        condition(&[], 0, &skills, k, &mut codes);
        let ended = collector.step_conditioned(
            &actions,
            &codes,
            &mut off.replay,
            session,
            &mut off.step,
        )?;
        // A new episode, a new skill z ~ p(z).
        for (z, _) in skills.iter_mut().zip(ended).filter(|(_, ended)| *ended) {
            *z = off.explore.random_range(0..k);
        }
        off.vector_steps += 1;

        if off.train_due() {
            for _ in 0..off_cfg.gradient_steps {
                off.sample();
                let (states, z) = split(&off.batch.next_observations, obs_dim, k);
                let z =
                    Tensor::<2, Int>::from_data(TensorData::new(z, [off.batch.len(), 1]), &device);
                let (rewards, disc_stats);
                (disc, rewards, disc_stats) = discriminator::update(
                    disc,
                    &mut disc_opt,
                    matrix(&states, obs_dim, &device),
                    z,
                    cfg.disc_learning_rate,
                );
                // The task's reward is replaced: SAC maximises the pseudo-reward alone.
                off.batch.rewards = to_vec(rewards);
                let sac_stats;
                (nets, sac_stats) = update(
                    nets,
                    &mut optimizers,
                    &off.batch,
                    &hp,
                    &mut off.sampler,
                    &device,
                );
                let mut row = sac_stats.row();
                row.extend([
                    disc_stats.loss,
                    disc_stats.accuracy,
                    disc_stats.pseudo_reward,
                ]);
                stats.add(off.step, row);
            }
            acting = nets.actor.valid();
        }
        if session.eval_due(off.step) {
            let means = stats.take(session)?;
            let mut policy = snapshot(&nets.actor);
            evaluate(session, off.step, &mut policy, means)?;
        }
        off.checkpoint(session, || {
            Ok(DiaynState {
                learner: SacCheckpoint::of(&nets, &optimizers)?,
                discriminator: SavedModule::of(&disc)?,
                discriminator_opt: SavedOptimizer::of(&disc_opt)?,
                collector: collector.state(),
                skills: skills.clone(),
                stats: stats.state(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &snapshot(&nets.actor).actor().to_bytes()?)
}
