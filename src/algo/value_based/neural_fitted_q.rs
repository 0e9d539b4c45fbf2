//! Fitted Q iteration with a neural network (Ernst et al. 2005; Riedmiller 2005): batch RL from
//! a fixed dataset, K rounds of regressing Q onto the targets of the previous round's network,
//!
//! Q_{k+1} ≈ argmin_Q E_D[(Q(s, a) − r − γ (1 − terminated) max_a' Q_k(s', a'))²],
//!
//! each regression `gradient_steps` minibatch steps of DQN's update ([`update`]) against the
//! frozen Q_k, warm-started from Q_k. The dataset is gathered before training, and no env
//! interaction happens after: `dataset_size` transitions of an ε-greedy behaviour policy over
//! the expert saved in a finished run's seed folder (`expert`, any algorithm `rl eval` can
//! rebuild). A "step" of the run is one round.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::RngExt;

use super::dqn::TdLoss;
use super::dqn_update::{DqnUpdate, update};
use super::greedy::{self, GreedyPolicy, MODEL_FILE};
use crate::algo::diagnostics::DeviceMeans;
use crate::algo::registry;
use crate::algo::{Algorithm, Kind};
use crate::buffer::{ReplayBatch, ReplayBuffer, Transition};
use crate::env::{Action, Env, Space};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::nn::adam;
use crate::nn::polyak::target_copy;
use crate::nn::q_network::{QNetwork, QNetworkConfig};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Neural fitted Q iteration's hyperparameters.
    pub struct NeuralFittedQConfig {
        /// seed folder of a finished run whose saved policy is the expert behind the dataset
        expert: PathBuf = PathBuf::from("results/ppo_cartpole/seed_0");
        /// ε of the ε-greedy behaviour policy over the expert
        expert_eps: f64 = 0.3, in_closed(0.0, 1.0);
        /// transitions in the dataset
        dataset_size: usize = 50_000, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// Adam step size
        learning_rate: f64 = 1e-3, positive;
        /// transitions per gradient step
        batch_size: usize = 256, nonzero;
        /// gradient steps of each round's regression
        gradient_steps: usize = 500, nonzero;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// "huber" (smooth L1) or "mse"
        loss: TdLoss = TdLoss::Mse;
        [policy]: QNetworkConfig;
    }
}

impl Algorithm for NeuralFittedQConfig {
    const NAME: &'static str = "neural_fitted_q";
    const SUMMARY: &'static str = "fitted Q iteration with an MLP on a fixed dataset of an ε-greedy expert, K regression rounds (Ernst et al. 2005; Riedmiller 2005); steps count rounds";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        let expert_env = expert_env_id(&self.expert).map_err(|e| ("algo.expert", e))?;
        let id = &env.spec().id;
        if &expert_env != id {
            return Err((
                "algo.expert",
                format!(
                    "{} is a run on {expert_env}; the dataset must come from {id}",
                    self.expert.display()
                ),
            ));
        }
        Ok(())
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
        Ok(Box::new(greedy::load(
            &self.policy,
            false,
            backend,
            env,
            run_dir,
        )?))
    }
}

/// The `[env] id` of the finished run in `dir`.
fn expert_env_id(dir: &Path) -> Result<String, String> {
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "no finished run at {} ({e}); make the expert first, e.g. \
             `rl run experiments/ppo_cartpole.toml --seeds 0`",
            dir.display()
        )
    })?;
    let document: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    document
        .get("env")
        .and_then(|env| env.get("id"))
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("{}: no [env] id", path.display()))
}

/// The policy saved in the seed folder `dir`, rebuilt as `rl eval` does (on flex).
fn expert_policy(dir: &Path, env: &dyn Env, rng: Rng) -> anyhow::Result<Box<dyn Policy>> {
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut document: toml::Table = text.parse()?;
    let algo = document
        .get_mut("algo")
        .and_then(toml::Value::as_table_mut)
        .with_context(|| format!("{}: no [algo] table", path.display()))?;
    let name = algo
        .remove("name")
        .and_then(|n| n.as_str().map(str::to_string))
        .with_context(|| format!("{}: no algo.name", path.display()))?;
    let entry = registry::find(&name).with_context(|| format!("unknown algorithm {name}"))?;
    let config = (entry.parse)(&toml::to_string(&document)?)?;
    config.policy(env, rng, dir, Backend::Flex)
}

/// `dataset_size` transitions of the ε-greedy behaviour over `expert` in `env`, episode after
/// episode, and the share of them that terminated.
fn collect(
    env: &mut dyn Env,
    expert: &mut dyn Policy,
    cfg: &NeuralFittedQConfig,
    n_actions: usize,
    seed: u64,
    rng: &mut Rng,
) -> (ReplayBuffer, f64) {
    let obs_dim = env.spec().observation_space.flat_dim();
    let mut data = ReplayBuffer::new(cfg.dataset_size, obs_dim, 1);
    let mut terminals = 0usize;
    let (mut obs, mut next) = (vec![0.0f32; obs_dim], vec![0.0f32; obs_dim]);
    env.reset(Some(seed), &mut obs);
    expert.start_episode();
    while data.len() < cfg.dataset_size {
        let action = if rng.random::<f64>() < cfg.expert_eps {
            rng.random_range(0..n_actions)
        } else {
            match expert.act(&obs, &*env) {
                Action::Discrete(a) => a,
                Action::Continuous(_) => unreachable!("a discrete env's policy"),
            }
        };
        let step = env.step(Action::Discrete(action), &mut next);
        data.add(&Transition {
            obs: &obs,
            action: &[action as f32],
            reward: step.reward as f32,
            next_obs: &next,
            terminated: step.terminated,
            truncated: step.truncated,
            discount: cfg.gamma as f32,
        });
        terminals += usize::from(step.terminated);
        if step.terminated || step.truncated {
            env.reset(None, &mut obs);
            expert.start_episode();
        } else {
            obs.copy_from_slice(&next);
        }
    }
    (data, terminals as f64 / cfg.dataset_size as f64)
}

/// Diagnostics: the regression's mean loss and E[Q(s, a)] over the rounds since the last
/// evaluation, and the share of terminal transitions in the dataset.
const DIAGNOSTICS: [&str; 3] = ["loss", "q_mean", "terminal_share"];

pub fn train(cfg: &NeuralFittedQConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut env = session.make_env()?;
    let spec = env.spec().clone();
    let Space::Discrete(n_actions) = spec.action_space else {
        anyhow::bail!("neural_fitted_q needs discrete actions (checked with the config)");
    };
    let obs_dim = spec.observation_space.flat_dim();
    let mut explore = session.rng(Stream::Explore);
    let mut expert = expert_policy(&cfg.expert, &env, explore.clone())?;
    let seed = session.rng(Stream::Env).random::<u64>();
    let (data, terminal_share) = collect(
        &mut env,
        expert.as_mut(),
        cfg,
        n_actions,
        seed,
        &mut explore,
    );
    let mut batch = ReplayBatch::default();

    let mut q = QNetwork::new(
        obs_dim,
        n_actions,
        &cfg.policy,
        false,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizer = adam(1e-8);
    let mut sampler = session.rng(Stream::Minibatch);
    let hp = DqnUpdate {
        learning_rate: cfg.learning_rate,
        double: false,
        loss: cfg.loss,
        max_grad_norm: cfg.max_grad_norm,
    };
    session.set_diagnostics(&DIAGNOSTICS)?;
    let mut greedy = GreedyPolicy::new(&q, obs_dim, &plain);
    session.evaluate(0, &mut greedy, &[f64::NAN, f64::NAN, terminal_share])?;
    let mut stats = DeviceMeans::new(&DIAGNOSTICS[..2]);
    for round in 1..=session.total_steps() {
        let q_previous = target_copy(&q);
        for _ in 0..cfg.gradient_steps {
            data.sample_uniform(cfg.batch_size, &mut sampler, &mut batch);
            let step_stats;
            (q, step_stats) = update(q, &q_previous, &mut optimizer, &batch, &hp, &device);
            stats.add(round, vec![step_stats.loss, step_stats.q_mean]);
        }
        greedy = GreedyPolicy::new(&q, obs_dim, &plain);
        session.tick(round)?;
        if session.eval_due(round) {
            let mut diagnostics = stats.take(session)?;
            diagnostics.push(terminal_share);
            session.evaluate(round, &mut greedy, &diagnostics)?;
        }
    }
    session.save_artifact(MODEL_FILE, &greedy.to_bytes()?)
}
