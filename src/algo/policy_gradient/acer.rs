//! Actor-critic with experience replay (Wang et al. 2017, alg. 1, discrete actions), with the
//! keys and defaults of OpenAI Baselines' and Stable-Baselines' ACER: the training loop. Each
//! iteration collects one segment of `n_steps` steps of every env with the current policy
//! (storing μ(·|s) of every step), stores it in the [`SegmentReplay`], takes one on-policy
//! [`update`] on it and then, once `replay_start` steps per env are stored, a Poisson(`replay_ratio`)
//! number of off-policy updates on replayed segments (the paper's and Baselines' draw). After every
//! update the averaged policy network moves by Polyak averaging, θ_avg ← α θ_avg + (1 − α) θ.
//! Checkpoints keep the network, the average, the optimiser, the envs, the streams and the replay
//! (unless `experiment.checkpoint_replay` is false: a resumed run then refills it before replaying).

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::a2c::A2cOptimizer;
use super::acer_replay::{Segment, SegmentReplay};
use super::acer_update::{AcerStats, AcerUpdate, update};
use crate::algo::footprint::{TRAINED_PARAMETER_BYTES, mlp_parameters};
use crate::algo::{Algorithm, Footprint, Kind, RunShape};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Action, Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::acer::AcerNetwork;
use crate::nn::distributions::{argmax, sample_categorical};
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{
    Backend, PolicyConfig, SavedModule, SavedOptimizer, adam, matrix, plain_device, rmsprop, to_vec,
};
use crate::rng::{Rng, Stream, stream};
use crate::session::{Policy, Session};

pub const MODEL_FILE: &str = "model.bpk";

hyperparameters! {
    /// ACER's hyperparameters (Stable-Baselines' ACER's names and defaults).
    pub struct AcerConfig {
        /// optimiser step size
        learning_rate: f64 = 7e-4, positive;
        /// anneal the learning rate linearly to 0 over the budget (Baselines' "linear"
        /// lr_schedule, by env steps)
        anneal_lr: bool = true;
        /// steps per env per segment (an update's batch: n_steps × num_envs)
        n_steps: usize = 20, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// mean number of off-policy updates after each on-policy one (Poisson-distributed; 0:
        /// on-policy ACER)
        replay_ratio: f64 = 4.0, non_negative;
        /// replay capacity in steps per env: buffer_size / n_steps segments of n_steps × num_envs
        buffer_size: usize = 5000, nonzero;
        /// steps per env stored before the off-policy updates begin
        replay_start: usize = 1000;
        /// weight of the Q loss ½ (Q^ret − Q(s, a))²
        q_coef: f64 = 0.5, non_negative;
        /// entropy bonus coefficient β
        ent_coef: f64 = 0.01, non_negative;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// truncation c of the importance weights min(c, ρ), with bias correction above it
        correction_term: f64 = 10.0, positive;
        /// project the policy gradient against the KL to the averaged policy network
        trust_region: bool = true;
        /// the trust region's bound δ on the first-order KL change
        delta: f64 = 1.0, positive;
        /// Polyak weight α of the averaged policy network, θ_avg ← α θ_avg + (1 − α) θ
        alpha: f64 = 0.99, in_closed(0.0, 1.0);
        /// "rmsprop" or "adam"
        optimizer: A2cOptimizer = A2cOptimizer::Rmsprop;
        /// RMSprop's decay of the squared-gradient average
        rprop_alpha: f64 = 0.99, in_closed_open(0.0, 1.0);
        /// RMSprop's (or Adam's) ε
        rprop_epsilon: f64 = 1e-5, positive;
        [policy]: PolicyConfig = PolicyConfig {
            share_features_extractor: true,
            ..PolicyConfig::default()
        };
    }
    check: Self::check_replay;
}

impl AcerConfig {
    fn check_replay(&self, c: &mut Checker) {
        c.require("buffer_size", self.buffer_size >= self.n_steps, || {
            format!(
                "{} holds no segment of n_steps = {} steps per env",
                self.buffer_size, self.n_steps
            )
        });
        c.require(
            "replay_start",
            self.replay_start <= self.buffer_size,
            || {
                format!(
                    "{} is more than the replay holds (buffer_size = {}): replay would never start",
                    self.replay_start, self.buffer_size
                )
            },
        );
    }

    /// Segments the replay keeps.
    fn segments(&self) -> usize {
        self.buffer_size / self.n_steps
    }
}

impl Algorithm for AcerConfig {
    const NAME: &'static str = "acer";
    const SUMMARY: &'static str = "actor-critic with experience replay: Retrace, truncated importance \
         weights with bias correction, averaged-policy trust region (Wang et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        let spec = env.spec();
        if let Space::Box { .. } = spec.action_space {
            return Err((
                "env.id",
                format!(
                    "ACER here is discrete-only (the categorical policy and Q(s, ·) heads); {} has \
                     continuous actions ({})",
                    spec.id,
                    spec.action_space.describe()
                ),
            ));
        }
        Ok(())
    }

    /// The replay's segments (observations twice: x_t and the one after, μ over the actions)
    /// and the network with its average.
    fn footprint(&self, run: &RunShape) -> Footprint {
        let (obs, actions) = (run.obs_dim() as u64, run.action_outputs() as u64);
        let row = 4 * (2 * obs + actions) + 8 + 8 + 2;
        let rows = (self.segments() * self.n_steps * run.num_envs) as u64;
        let hidden = &self.policy.net_arch;
        let nets = 2 * mlp_parameters(run.obs_dim(), hidden, run.action_outputs());
        Footprint::default()
            .with(
                "replay",
                "algo.buffer_size × env.num_envs",
                rows.saturating_mul(row),
            )
            .with(
                "networks",
                "algo.policy.net_arch",
                nets.saturating_mul(TRAINED_PARAMETER_BYTES),
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
        Ok(Box::new(load(&self.policy, backend, env, run_dir)?))
    }
}

const DIAGNOSTICS: [&str; 8] = [
    "loss_policy",
    "loss_q",
    "entropy",
    "kl_average",
    "trust_region_active",
    "rho_bar",
    "replay_updates",
    "learning_rate",
];

/// The policy network on a plain device: samples actions while training, acts greedily
/// (the most probable action) in evaluation and `rl eval`.
#[derive(Clone)]
pub struct AcerPolicy {
    net: AcerNetwork,
    device: Device,
    obs_dim: usize,
}

impl AcerPolicy {
    /// Snapshots `net` (trained on an autodiff device) for acting on `device`.
    pub fn new(net: &AcerNetwork, obs_dim: usize, device: &Device) -> Self {
        Self {
            net: net.valid(),
            device: device.clone(),
            obs_dim,
        }
    }

    /// The logits of the rows of `obs`.
    fn logits(&self, obs: &[f32]) -> Tensor<2> {
        self.net.logits(matrix(obs, self.obs_dim, &self.device))
    }
}

impl Policy for AcerPolicy {
    fn act(&mut self, obs: &[f32], _env: &dyn Env) -> Action<'_> {
        Action::Discrete(argmax(&to_vec(self.logits(obs))))
    }
}

/// The policy saved in `run_dir` by a run with the network config `cfg` on `env`.
pub fn load(
    cfg: &PolicyConfig,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
) -> anyhow::Result<AcerPolicy> {
    let spec = env.spec();
    let Space::Discrete(n_actions) = spec.action_space else {
        anyhow::bail!(
            "{} has continuous actions; ACER acts in discrete ones",
            spec.id
        );
    };
    let device = plain_device(backend)?;
    let obs_dim = spec.observation_space.flat_dim();
    let path = run_dir.join(MODEL_FILE);
    // The initial weights are overwritten by the saved ones.
    let net = AcerNetwork::new(
        obs_dim,
        n_actions,
        cfg,
        &mut stream(0, Stream::Init),
        &device,
    )
    .try_load_file(&path)
    .map_err(|e| anyhow::anyhow!("{e:?}"))
    .with_context(|| format!("cannot load the network from {}", path.display()))?;
    Ok(AcerPolicy::new(&net, obs_dim, &device))
}

/// One draw of a Poisson(λ) count by Knuth's multiplication of uniforms.
pub fn poisson(rng: &mut Rng, lambda: f64) -> usize {
    let limit = (-lambda).exp();
    let mut product: f64 = rng.random();
    let mut count = 0;
    while product > limit {
        product *= rng.random::<f64>();
        count += 1;
    }
    count
}

/// A checkpoint, taken between iterations.
#[derive(Serialize, Deserialize)]
struct AcerState {
    model: SavedModule,
    average: SavedModule,
    optimizer: SavedOptimizer,
    envs: VecEnvSnapshot,
    explore: Rng,
    sampler: Rng,
    /// `None` when `experiment.checkpoint_replay` is false.
    replay: Option<SegmentReplay>,
    diagnostics: Vec<f64>,
}

fn optimizer(cfg: &AcerConfig) -> burn::optim::ModuleOptimizer {
    match cfg.optimizer {
        A2cOptimizer::Rmsprop => rmsprop(cfg.rprop_alpha as f32, cfg.rprop_epsilon as f32),
        A2cOptimizer::Adam => adam(cfg.rprop_epsilon as f32),
    }
}

/// The mean of each statistic over the iteration's updates, in [`DIAGNOSTICS`] order.
fn mean_stats(stats: &[AcerStats]) -> Vec<f64> {
    let n = stats.len() as f64;
    let mean = |f: fn(&AcerStats) -> f64| stats.iter().map(f).sum::<f64>() / n;
    vec![
        mean(|s| s.loss_policy),
        mean(|s| s.loss_q),
        mean(|s| s.entropy),
        mean(|s| s.kl_average),
        mean(|s| s.trust_region_active),
        mean(|s| s.rho_bar),
    ]
}

pub fn train(cfg: &AcerConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_vec_env()?;
    let Space::Discrete(n_actions) = envs.spec().action_space else {
        anyhow::bail!("ACER acts in discrete action spaces");
    };
    let (obs_dim, n_envs) = (envs.obs_dim(), envs.num_envs());
    let mut model = AcerNetwork::new(
        obs_dim,
        n_actions,
        &cfg.policy,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut average = target_copy(&model);
    let mut optimizer = optimizer(cfg);
    let mut replay = SegmentReplay::new(cfg.segments());
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let mut segment = Segment::new(cfg.n_steps, n_envs, obs_dim, n_actions);
    let mut batch = segment.clone();
    // Replay begins once `replay_start` steps per env (at least one segment) are stored.
    let replay_from = (cfg.replay_start / cfg.n_steps).max(1);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<AcerState>()? {
        model = state.model.restore(model)?;
        average = state.average.restore(average)?.no_grad();
        optimizer = state.optimizer.restore(optimizer)?;
        envs.restore(&state.envs);
        (explore, sampler) = (state.explore, state.sampler);
        if let Some(saved) = state.replay {
            replay = saved;
        }
        diagnostics = state.diagnostics;
        step = at;
    }
    let mut acting = AcerPolicy::new(&model, obs_dim, &plain);
    if step == 0 || session.eval_due(step) {
        session.evaluate(step, &mut acting.clone(), &diagnostics)?;
    }
    let mut actions = vec![0usize; n_envs];
    while step < total {
        for t in 0..cfg.n_steps {
            let obs = envs.observations().to_vec();
            let logits = to_vec(acting.logits(&obs));
            if let Some(&l) = logits.iter().find(|l| !l.is_finite()) {
                session.non_finite(step, "a policy logit", f64::from(l))?;
            }
            let mu = to_vec(softmax(matrix(&logits, n_actions, &plain), 1));
            for (e, row) in logits.chunks_exact(n_actions).enumerate() {
                actions[e] = sample_categorical(row, &mut explore).0;
            }
            envs.step_discrete(&actions);
            let rows = t * n_envs..(t + 1) * n_envs;
            segment.obs[rows.start * obs_dim..rows.end * obs_dim].copy_from_slice(&obs);
            segment.mu[rows.start * n_actions..rows.end * n_actions].copy_from_slice(&mu);
            segment.actions[rows.clone()].copy_from_slice(&actions);
            segment.rewards[rows.clone()].copy_from_slice(envs.rewards());
            segment.terminated[rows.clone()].copy_from_slice(envs.terminated());
            segment.truncated[rows.clone()].copy_from_slice(envs.truncated());
            for e in 0..n_envs {
                let next = if envs.terminated()[e] || envs.truncated()[e] {
                    envs.final_observation(e)
                } else {
                    envs.observation(e)
                };
                let row = rows.start + e;
                segment.next_obs[row * obs_dim..(row + 1) * obs_dim].copy_from_slice(next);
            }
            step += n_envs as u64;
            session.record_episodes(step, envs.ended())?;
            // The evaluation at the end of the budget follows the last update.
            if step < total && session.eval_due(step) {
                session.evaluate(step, &mut acting.clone(), &diagnostics)?;
            }
        }
        replay.push(&segment);

        let remaining = 1.0 - (step as f64 / total as f64).min(1.0);
        let learning_rate = if cfg.anneal_lr {
            cfg.learning_rate * remaining
        } else {
            cfg.learning_rate
        };
        let hp = AcerUpdate {
            learning_rate,
            gamma: cfg.gamma,
            q_coef: cfg.q_coef,
            ent_coef: cfg.ent_coef,
            correction_term: cfg.correction_term,
            delta: cfg.trust_region.then_some(cfg.delta),
            max_grad_norm: cfg.max_grad_norm,
        };
        let replayed = if replay.len() >= replay_from {
            poisson(&mut sampler, cfg.replay_ratio)
        } else {
            0
        };
        let mut stats = Vec::with_capacity(1 + replayed);
        for i in 0..=replayed {
            let source = if i == 0 {
                &segment
            } else {
                replay.sample(&mut sampler, &mut batch);
                &batch
            };
            let s;
            (model, s) = update(model, &average, &mut optimizer, source, &hp, &device);
            average = polyak_update(average, &model, 1.0 - cfg.alpha);
            stats.push(s);
        }
        acting = AcerPolicy::new(&model, obs_dim, &plain);

        diagnostics = mean_stats(&stats);
        session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
        diagnostics.push(replayed as f64);
        diagnostics.push(learning_rate);
        let keep_replay = session.checkpoint_replay();
        session.checkpoint(step, || {
            Ok(AcerState {
                model: SavedModule::of(&model)?,
                average: SavedModule::of(&average)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                envs: envs.snapshot(),
                explore: explore.clone(),
                sampler: sampler.clone(),
                replay: keep_replay.then(|| replay.clone()),
                diagnostics: diagnostics.clone(),
            })
        })?;
        if session.eval_due(step) {
            session.evaluate(step, &mut acting.clone(), &diagnostics)?;
        }
    }
    session.save_artifact(MODEL_FILE, &crate::nn::burnpack(acting.net.clone())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Poisson draws have mean and variance λ (and λ = 0 draws 0).
    #[test]
    fn poisson_draws_have_mean_and_variance_lambda() {
        let mut rng = stream(0, Stream::Minibatch);
        let draws: Vec<f64> = (0..20_000).map(|_| poisson(&mut rng, 4.0) as f64).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 4.0).abs() < 0.05, "{mean}");
        assert!((var - 4.0).abs() < 0.15, "{var}");
        assert!((0..100).all(|_| poisson(&mut rng, 0.0) == 0));
    }

    /// A continuous env is refused naming env.id; discrete ones run.
    #[test]
    fn continuous_actions_are_refused() {
        use crate::env::{EnvOptions, make_env};
        let cfg = AcerConfig::default();
        let env = |id| make_env(id, &EnvOptions::default()).unwrap();
        let (key, message) = cfg.check_env(env("Pendulum-v1").as_ref(), 1).unwrap_err();
        assert_eq!(key, "env.id");
        assert!(message.contains("discrete-only"), "{message}");
        for id in ["CartPole-v1", "Acrobot-v1"] {
            assert_eq!(cfg.check_env(env(id).as_ref(), 1), Ok(()), "{id}");
        }
    }
}
