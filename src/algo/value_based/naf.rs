//! Normalized advantage functions (Gu et al. 2016): Q-learning for continuous actions with a
//! Q-network whose argmax is its μ head (`crate::nn::naf`), a Polyak target network, replay,
//! and Gaussian or Ornstein–Uhlenbeck exploration noise on μ(s) in the normalised action box
//! (uniform random actions until `learning_starts`). One gradient step is [`update`].

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dqn::TdLoss;
use super::naf_update::{NafUpdate, update};
use crate::algo::actor_critic::collect::{Collector, CollectorState};
use crate::algo::actor_critic::noise::{ActionNoise, NoiseConfig};
use crate::algo::actor_critic::{ActionBox, ActorCriticNets};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::footprint::mlp_parameters;
use crate::algo::off_policy::{OffPolicy, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::{Action, Env};
use crate::hyper::hyperparameters;
use crate::nn::naf::NafNetwork;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{
    Backend, SavedModule, SavedOptimizer, adam, burnpack, matrix, plain_device, to_vec,
};
use crate::rng::{Rng, Stream, stream};
use crate::session::{Policy, Session};

pub const MODEL_FILE: &str = "model.bpk";

hyperparameters! {
    /// NAF's hyperparameters (the off-policy keys, DDPG's noise keys).
    pub struct NafConfig {
        ..off_policy: OffPolicyConfig = OffPolicyConfig {
            learning_rate: 1e-3,
            batch_size: 128,
            learning_starts: 1_000,
            tau: 0.001,
            ..Default::default()
        };
        ..noise: NoiseConfig = NoiseConfig { noise_std: 0.3, ..Default::default() };
        /// "huber" (smooth L1) or "mse"
        loss: TdLoss = TdLoss::Mse;
        /// global gradient-norm bound (unset: none)
        max_grad_norm: Option<f64> = None, positive;
        [policy]: ActorCriticNets = ActorCriticNets { net_arch: vec![200, 200], ..Default::default() };
    }
}

impl Algorithm for NafConfig {
    const NAME: &'static str = "naf";
    const SUMMARY: &'static str = "normalized advantage functions: Q = V(s) − ½(a − μ)ᵀLLᵀ(a − μ), greedy action μ(s) (Gu et al. 2016)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        crate::algo::actor_critic::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        // V, μ and the d(d + 1)/2 entries of L from one trunk; a target copy.
        let d = run.act_dim();
        let net = mlp_parameters(
            run.obs_dim(),
            &self.policy.net_arch,
            1 + d + d * (d + 1) / 2,
        );
        self.off_policy.footprint(run, false, net, net)
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
        let spec = env.spec();
        let action_box = ActionBox::of(&spec.action_space).with_context(|| {
            format!(
                "{} has discrete actions; NAF needs continuous ones",
                spec.id
            )
        })?;
        let device = plain_device(backend)?;
        let obs_dim = spec.observation_space.flat_dim();
        let path = run_dir.join(MODEL_FILE);
        let net = self
            .network(
                obs_dim,
                action_box.dim(),
                &mut stream(0, Stream::Init),
                &device,
            )
            .try_load_file(&path)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .with_context(|| format!("cannot load the network from {}", path.display()))?;
        Ok(Box::new(NafPolicy::new(&net, obs_dim, action_box, &device)))
    }
}

impl NafConfig {
    fn network(
        &self,
        obs_dim: usize,
        act_dim: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> NafNetwork {
        let (hidden, activation) = (&self.policy.net_arch, self.policy.activation);
        NafNetwork::new(obs_dim, act_dim, hidden, activation, rng, device)
    }
}

/// The greedy action μ(s) mapped to the env's bounds, on a plain (non-autodiff) device.
#[derive(Clone)]
pub struct NafPolicy {
    net: NafNetwork,
    device: Device,
    obs_dim: usize,
    action_box: ActionBox,
    action: Vec<f32>,
}

impl NafPolicy {
    /// Snapshots `net` (possibly on an autodiff device) for acting on `device`.
    pub fn new(net: &NafNetwork, obs_dim: usize, action_box: ActionBox, device: &Device) -> Self {
        Self {
            net: net.valid(),
            device: device.clone(),
            obs_dim,
            action: vec![0.0; action_box.dim()],
            action_box,
        }
    }

    /// μ(s) in [−1, 1]^d for the observations `obs` (row-major).
    pub fn scaled_actions(&self, obs: &[f32]) -> Vec<f32> {
        to_vec(self.net.greedy(matrix(obs, self.obs_dim, &self.device)))
    }

    /// The network as burnpack bytes (the `model.bpk` artifact).
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        burnpack(self.net.clone())
    }
}

impl Policy for NafPolicy {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        let scaled = self.scaled_actions(obs);
        self.action_box.to_env(&scaled, &mut self.action);
        Action::Continuous(&self.action)
    }
}

const DIAGNOSTICS: [&str; 2] = ["loss", "q_mean"];

/// NAF's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct NafState {
    net: SavedModule,
    target: SavedModule,
    optimizer: SavedOptimizer,
    noise: ActionNoise,
    collector: CollectorState,
    stats: MeansState,
}

pub fn train(cfg: &NafConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.off_policy.gamma)?;
    let (n_envs, obs_dim, act_dim) = (
        collector.num_envs(),
        collector.obs_dim(),
        collector.act_dim(),
    );
    let mut net = cfg.network(obs_dim, act_dim, &mut session.rng(Stream::Init), &device);
    let mut target = target_copy(&net);
    let mut optimizer = adam(1e-8);
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

    let hp = NafUpdate {
        learning_rate: cfg.off_policy.learning_rate,
        loss: cfg.loss,
        max_grad_norm: cfg.max_grad_norm,
    };
    let action_box = collector.action_box.clone();
    let snapshot = |net: &NafNetwork| NafPolicy::new(net, obs_dim, action_box.clone(), &plain);
    let mut stats = DeviceMeans::new(&DIAGNOSTICS);
    if let Some(s) = off.resume::<NafState>(session)? {
        net = s.net.restore(net)?;
        target = s.target.restore(target)?;
        optimizer = s.optimizer.restore(optimizer)?;
        noise = s.noise;
        collector.restore(&s.collector);
        stats.restore(s.stats, &device);
    }
    let mut policy = snapshot(&net);
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
                let step_stats;
                (net, step_stats) = update(net, &target, &mut optimizer, &off.batch, &hp, &device);
                stats.add(off.step, vec![step_stats.loss, step_stats.q_mean]);
                target = polyak_update(target, &net, cfg.off_policy.tau);
            }
            policy = snapshot(&net);
        }
        if session.eval_due(off.step) {
            let diagnostics = stats.take(session)?;
            off.evaluate(session, &mut policy, diagnostics)?;
        }
        off.checkpoint(session, || {
            Ok(NafState {
                net: SavedModule::of(&net)?,
                target: SavedModule::of(&target)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                noise: noise.clone(),
                collector: collector.state(),
                stats: stats.state(),
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &policy.to_bytes()?)
}
