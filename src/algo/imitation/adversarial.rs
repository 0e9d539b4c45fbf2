//! Adversarial imitation, the loop GAIL (Ho & Ermon 2016, Algorithm 1) and AIRL (Fu et al.
//! 2018, Algorithm 1) share: PPO collects a rollout in the env; the discriminator takes
//! `disc_epochs` passes over it in minibatches of `disc_batch_size` policy transitions, each
//! against as many expert transitions drawn uniformly from the demonstrations; the rollout's
//! rewards are then overwritten with the updated discriminator's (the collector keeps the
//! truncation bootstrap apart, see [`crate::buffer::rollout`]) and PPO's [`update`] runs on
//! them. The env's reward is never learned from: it is only recorded (episodes.csv,
//! `train_return_mean`) and evaluated.
//!
//! The demonstrations are the first `episodes` episodes of a dataset written by `rl collect`,
//! or as many episodes played by an expert seed folder, as behavioural cloning reads them
//! ([`super::bc::demonstrations`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use rand::RngExt;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::bc::{check_source, demonstrations, source};
use crate::algo::policy_gradient::checkpoint::{MinibatchOrder, OnPolicyState};
use crate::algo::policy_gradient::ppo::PpoConfig;
use crate::algo::policy_gradient::ppo_update::{ADAM_EPSILON, PpoUpdate, update};
use crate::algo::policy_gradient::rollout::Collector;
use crate::algo::policy_gradient::{explained_variance, saved};
use crate::buffer::RolloutBuffer;
use crate::env::{Env, EnvSpec};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, adam};
use crate::record::dataset::Dataset;
use crate::rng::{Rng, Stream};
use crate::session::Session;

use super::discriminator::{DiscriminatorState, DiscriminatorStats};

hyperparameters! {
    /// The demonstrations and the discriminator's training, keys of GAIL and AIRL.
    pub struct AdversarialConfig {
        /// seed folder of a finished run whose policy plays the expert episodes (used when `dataset` is "")
        expert: PathBuf = PathBuf::from("results/experts/ppo_cartpole/seed_0");
        /// a dataset written by `rl collect` ("": play the episodes of `expert` instead)
        dataset: PathBuf = PathBuf::new();
        /// expert episodes to imitate (the dataset's first ones)
        episodes: usize = 10, nonzero;
        /// Adam step size of the discriminator
        disc_learning_rate: f64 = 3e-4, positive;
        /// hidden layer sizes of the discriminator's networks (ReLU)
        disc_net_arch: Vec<usize> = vec![64, 64], all_nonzero;
        /// policy transitions per discriminator minibatch (with as many expert ones)
        disc_batch_size: usize = 256, nonzero;
        /// discriminator passes over each rollout
        disc_epochs: usize = 1, nonzero;
    }
}

impl AdversarialConfig {
    /// The checks of `ppo`'s keys that adversarial imitation adds: the env reward is not
    /// learned from (no reward scaling), and the discriminator compares the policy's
    /// observations with the expert's raw ones (no observation normalisation).
    pub fn check_ppo(ppo: &PpoConfig, c: &mut Checker) {
        c.require("normalize_obs", !ppo.normalization.normalize_obs, || {
            "must be false: the discriminator compares the policy's observations with the expert's raw ones".into()
        });
        c.require(
            "normalize_reward",
            !ppo.normalization.normalize_reward,
            || {
                "must be false: the rewards are the discriminator's, the env's are not learned from"
                    .into()
            },
        );
    }

    /// The checks of `check_env`: vector observations, one env to play expert episodes in
    /// before training, a dataset or expert folder of this env.
    pub fn check_env(&self, name: &str, env: &dyn Env) -> Result<(), (&'static str, String)> {
        crate::algo::policy_gradient::check_env(name, env)?;
        let from = source(&self.dataset, &self.expert);
        check_source(&from, env, Some(self.episodes))
    }
}

/// Transitions (s, a, s', terminated) on the host, row-aligned, as a discriminator reads them:
/// actions as stored (an index, or the unclipped values the policy sampled).
#[derive(Clone, Debug, Default)]
pub struct Transitions {
    pub obs: Vec<f32>,
    pub actions: Vec<f32>,
    pub next_obs: Vec<f32>,
    pub terminated: Vec<bool>,
    pub obs_dim: usize,
    pub action_dim: usize,
}

impl Transitions {
    pub fn of_dataset(data: &Dataset) -> Self {
        Self {
            obs: data.obs.clone(),
            actions: data.actions.clone(),
            next_obs: data.next_obs.clone(),
            terminated: data.terminated.clone(),
            obs_dim: data.meta.observation_dim,
            action_dim: data.meta.action_space.dim(),
        }
    }

    pub fn of_rollout(buffer: &RolloutBuffer) -> Self {
        Self {
            obs: buffer.observations.clone(),
            actions: buffer.actions.clone(),
            next_obs: buffer.next_observations.clone(),
            terminated: buffer.terminated.clone(),
            obs_dim: buffer.obs_dim,
            action_dim: buffer.act_dim,
        }
    }

    pub fn len(&self) -> usize {
        self.terminated.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terminated.is_empty()
    }

    /// The rows `idx`.
    pub fn gather(&self, idx: &[usize]) -> Self {
        let (d, k) = (self.obs_dim, self.action_dim);
        let mut out = Self {
            obs_dim: d,
            action_dim: k,
            ..Self::default()
        };
        for &i in idx {
            out.obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            out.actions
                .extend_from_slice(&self.actions[i * k..(i + 1) * k]);
            out.next_obs
                .extend_from_slice(&self.next_obs[i * d..(i + 1) * d]);
            out.terminated.push(self.terminated[i]);
        }
        out
    }
}

/// A discriminator and the reward it gives the policy.
pub trait Discriminate {
    /// One Adam step of the cross-entropy on a minibatch of the policy's transitions and one
    /// of the expert's; `policy` is the current policy network (on the acting device).
    fn step(
        &mut self,
        from_policy: &Transitions,
        from_expert: &Transitions,
        policy: &ActorCritic,
    ) -> DiscriminatorStats;

    /// The reward of each of the policy's transitions.
    fn rewards(&self, transitions: &Transitions, policy: &ActorCritic) -> Vec<f64>;

    /// The discriminator's networks and optimiser, for a checkpoint.
    fn state(&self) -> anyhow::Result<DiscriminatorState>;

    /// Continues from a checkpoint's [`Discriminate::state`].
    fn restore(&mut self, state: DiscriminatorState) -> anyhow::Result<()>;
}

/// A checkpoint between updates: PPO's state (its minibatch stream also draws the
/// discriminator's minibatches and expert rows), the discriminator, and the permutation of the
/// rollout's rows its passes last shuffled (in place, as PPO's).
#[derive(Serialize, Deserialize)]
struct AdversarialState {
    ppo: OnPolicyState,
    discriminator: DiscriminatorState,
    disc_rows: Vec<usize>,
}

/// PPO's diagnostics, then the discriminator's: its loss and mean D on the expert's and the
/// policy's transitions over the last rollout's steps, and the mean reward it gave.
pub const DIAGNOSTICS: [&str; 11] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "learning_rate",
    "loss_disc",
    "disc_expert",
    "disc_policy",
    "disc_reward",
];

/// Trains PPO (`ppo`) on the rewards of the discriminator `discriminator` builds (from the env
/// spec, the init stream after the policy's draws, and the training and acting devices).
pub fn train<D: Discriminate>(
    ppo: &PpoConfig,
    cfg: &AdversarialConfig,
    session: &mut Session,
    discriminator: impl FnOnce(&EnvSpec, &mut Rng, &Device, &Device) -> D,
) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut env = session.make_env()?;
    let data = demonstrations(
        &source(&cfg.dataset, &cfg.expert),
        &mut env,
        cfg.episodes,
        &mut session.rng(Stream::Env),
        session.rng(Stream::Explore),
    )
    .context("the demonstrations")?;
    let expert = Transitions::of_dataset(&data);
    anyhow::ensure!(!expert.is_empty(), "the demonstrations hold no transitions");

    let mut collector = Collector::new(session, ppo.normalization, ppo.gamma, true)?;
    let spec = collector.envs.spec().clone();
    let (obs_dim, n_envs) = (collector.envs.obs_dim(), collector.envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let mut init = session.rng(Stream::Init);
    let mut model = ActorCritic::new(obs_dim, action, &ppo.policy, &mut init, &device);
    let mut disc = discriminator(&spec, &mut init, &device, &plain);
    let mut optimizer = adam(ADAM_EPSILON);
    let rollout = ppo.n_steps * n_envs;
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..rollout).collect(),
    };
    let mut disc_rows: Vec<usize> = (0..rollout).collect();
    let mut buffer = RolloutBuffer::new(ppo.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<AdversarialState>()? {
        let saved_order;
        (diagnostics, saved_order) =
            state
                .ppo
                .restore(&mut model, &mut [&mut optimizer], &mut collector)?;
        order = saved_order.context("a GAIL/AIRL checkpoint holds its minibatch order")?;
        disc.restore(state.discriminator)?;
        disc_rows = state.disc_rows;
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;

        // The discriminator's steps on this rollout against the expert's transitions.
        let from_policy = Transitions::of_rollout(&buffer);
        let (mut disc_sum, mut disc_steps) = (DiscriminatorStats::default(), 0usize);
        for _ in 0..cfg.disc_epochs {
            disc_rows.shuffle(&mut order.rng);
            for chunk in disc_rows.chunks(cfg.disc_batch_size) {
                let rows: Vec<usize> = (0..chunk.len())
                    .map(|_| order.rng.random_range(0..expert.len()))
                    .collect();
                let s = disc.step(
                    &from_policy.gather(chunk),
                    &expert.gather(&rows),
                    acting.model(),
                );
                disc_sum.loss += s.loss;
                disc_sum.expert += s.expert;
                disc_sum.policy += s.policy;
                disc_steps += 1;
            }
        }
        // The policy step on the discriminator's rewards; the env's are overwritten.
        let rewards = disc.rewards(&from_policy, acting.model());
        buffer.rewards.copy_from_slice(&rewards);
        buffer.compute_advantages(&last_values, ppo.gamma, ppo.gae_lambda);

        let hp = PpoUpdate::scheduled(ppo, step, total);
        let stats;
        (model, stats) = update(model, &mut optimizer, &buffer, &mut order, &hp, &device);
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        let stepped = stats.minibatches > 0;
        session.check_finite(
            step,
            &DIAGNOSTICS[..5],
            diagnostics.iter().map(|&v| stepped.then_some(v)),
        )?;
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(hp.learning_rate);
        let n = disc_steps as f64;
        let mean_reward = rewards.iter().sum::<f64>() / rewards.len() as f64;
        diagnostics.extend([
            disc_sum.loss / n,
            disc_sum.expert / n,
            disc_sum.policy / n,
            mean_reward,
        ]);
        session.check_finite(
            step,
            &DIAGNOSTICS[7..],
            diagnostics[7..].iter().map(|&v| Some(v)),
        )?;
        session.checkpoint(step, || {
            Ok(AdversarialState {
                ppo: OnPolicyState::capture(
                    &model,
                    &[&optimizer],
                    &collector,
                    &diagnostics,
                    Some(order.clone()),
                )?,
                discriminator: disc.state()?,
                disc_rows: disc_rows.clone(),
            })
        })?;
        if session.eval_due(step) {
            session.evaluate(
                step,
                &mut collector.evaluation_policy(&acting),
                &diagnostics,
            )?;
        }
    }
    saved::save(session, &model, collector.obs_normalizer.as_ref())
}

/// The policy a finished GAIL or AIRL run saved in `run_dir`.
pub fn saved_policy(
    ppo: &PpoConfig,
    env: &dyn Env,
    run_dir: &Path,
    backend: crate::nn::Backend,
) -> anyhow::Result<Box<dyn crate::session::Policy>> {
    crate::algo::policy_gradient::saved_policy(&ppo.policy, false, backend, env, run_dir)
}
