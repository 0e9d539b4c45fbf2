//! Deep Q-networks (Mnih et al. 2015) with Stable-Baselines3's vocabulary and defaults, and the
//! Rainbow ingredients as independent flags (Hessel et al. 2018): the training loop.
//!
//! y = R^(k) + γ^k (1 − terminated) Q'(s_{t+k}, a*),  L = E_w[ℓ(Q(s_t, a_t) − y)]
//!
//! with a* = argmax_a Q'(s', a) (DQN) or argmax_a Q(s', a) (`double`, van Hasselt et al. 2016),
//! Q' the target network (hard copy every `target_update_interval` steps, or Polyak with `tau`),
//! ℓ Huber or squared error, k = `n_step` (Sutton 1988), `dueling` heads (Wang et al. 2016) and
//! `prioritized` replay with importance weights w (Schaul et al. 2016); one gradient step is
//! [`update`]. Exploration is ε-greedy with a linear schedule; actions are uniform until
//! `learning_starts`. With `her` on a goal env, each finished episode is also replayed with
//! achieved goals (hindsight experience replay, Andrychowicz et al. 2017; see [`Hindsight`]).
//! With `[algo.bonus]`, an exploration bonus (count-based or RND, see
//! [`exploration`](crate::algo::exploration)) is
//! added to the reward of every transition stored (not to HER's relabelled copies).

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dqn_host::HostDqn;
use super::dqn_update::{ADAM_EPSILON, DqnUpdate, update};
use super::greedy::{self, GreedyPolicy, MODEL_FILE};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::algo::exploration::{
    BonusConfig, INTRINSIC_COLUMNS, IntrinsicLog, IntrinsicReward, IntrinsicState,
};
use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::footprint::mlp_parameters;
use crate::algo::her_config::HerConfig;
use crate::algo::off_policy::{OffPolicy, Prioritization, Settings};
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::schedule::EpsilonGreedy;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::buffer::{Hindsight, NStep};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::device::computes_on_host;
use crate::nn::distributions::argmax;
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::q_network::{QNetwork, QNetworkConfig};
use crate::nn::{Backend, SavedModule, SavedOptimizer, adam, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

/// The regression loss on the TD error δ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TdLoss {
    /// ½δ² for |δ| ≤ 1, |δ| − ½ beyond (PyTorch's `smooth_l1_loss`, SB3's choice).
    #[default]
    Huber,
    /// δ².
    Mse,
}

hyperparameters! {
    /// DQN's hyperparameters (Stable-Baselines3's names and defaults).
    pub struct DqnConfig {
        ..off_policy: OffPolicyConfig = OffPolicyConfig {
            learning_rate: 1e-4,
            batch_size: 32,
            tau: 1.0,
            train_freq: 4,
            ..Default::default()
        };
        /// anneal the learning rate linearly to 0
        anneal_lr: bool = false;
        /// env steps between target updates
        target_update_interval: u64 = 10_000, nonzero;
        ..exploration: EpsilonGreedy;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// "huber" (smooth L1) or "mse"
        loss: TdLoss = TdLoss::Huber;
        /// double DQN: the online net picks a*, the target net values it
        double: bool = false;
        /// dueling heads Q = V + A − mean A
        dueling: bool = false;
        /// proportional prioritised replay with importance weights
        prioritized: bool = false;
        /// k-step returns, stopped at episode ends (1: one-step)
        n_step: usize = 1, nonzero;
        /// priority exponent α ≥ 0 (0: uniform)
        per_alpha: f64 = 0.6, non_negative;
        /// importance-weight exponent β at step 0, annealed to 1
        per_beta0: f64 = 0.4, in_closed(0.0, 1.0);
        /// ε added to |δ| so every priority is positive
        per_eps: f64 = 1e-6, positive;
        ..hindsight: HerConfig;
        [policy]: QNetworkConfig;
        [bonus]: BonusConfig;
    }
    check: Self::consistency;
}

impl DqnConfig {
    fn consistency(&self, c: &mut Checker) {
        c.require("n_step", !self.hindsight.her || self.n_step == 1, || {
            "hindsight relabelling replays one-step transitions: set n_step = 1 with her = true"
                .into()
        });
        c.require(
            "policy.net_arch",
            !self.dueling || !self.policy.net_arch.is_empty(),
            || "the dueling streams branch off a hidden layer: net_arch needs at least one".into(),
        );
    }
}

impl Algorithm for DqnConfig {
    const NAME: &'static str = "dqn";
    const SUMMARY: &'static str = "deep Q-network with replay and a target net; double, dueling, prioritised, n-step as flags (Mnih et al. 2015)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)?;
        self.hindsight.check_env(env)?;
        self.bonus.check_space(&env.spec().observation_space)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.off_policy.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let q = mlp_parameters(run.obs_dim(), &self.policy.net_arch, run.action_outputs());
        self.off_policy.footprint(run, self.prioritized, q, q)
    }

    /// The online net trained on a minibatch; the target net (and, double, the online net
    /// choosing a*) forward on the next observations. Dueling streams: one value output more.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let outputs = run.action_outputs() + usize::from(self.dueling);
        let q = (run.obs_dim(), &self.policy.net_arch[..], outputs);
        let batch = self.off_policy.batch_size;
        let next = if self.double { 2.0 } else { 1.0 };
        let work = UpdateWork::new(self.off_policy.updates(run))
            .mlp(Pass::Train, 1.0, batch, q)
            .mlp(Pass::Forward, next, batch, q);
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
        let saved = greedy::load(&self.policy, self.dueling, backend, env, run_dir)?;
        Ok(Box::new(saved))
    }
}

/// Diagnostics: means over the gradient steps since the last evaluation, and the schedules.
const DIAGNOSTICS: [&str; 4] = ["loss", "q_mean", "epsilon", "learning_rate"];

/// DQN's own part of a checkpoint (taken between env steps).
#[derive(Serialize, Deserialize)]
struct DqnState {
    q: SavedModule,
    q_target: SavedModule,
    optimizer: SavedOptimizer,
    n_step: NStep,
    envs: VecEnvSnapshot,
    stats: MeansState,
    #[serde(default)]
    hindsight: Option<Hindsight>,
    #[serde(default)]
    bonus: Option<(IntrinsicState, IntrinsicLog)>,
}

pub fn train(cfg: &DqnConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_vec_env()?;
    let (n_envs, obs_dim) = (envs.num_envs(), envs.obs_dim());
    let Space::Discrete(n_actions) = envs.spec().action_space else {
        anyhow::bail!("dqn needs discrete actions (checked with the config)");
    };
    let mut q = QNetwork::new(
        obs_dim,
        n_actions,
        &cfg.policy,
        cfg.dueling,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut q_target = target_copy(&q);
    let mut optimizer = adam(ADAM_EPSILON);
    let total = session.total_steps();
    let epsilon = cfg.exploration.schedule(total);
    let settings = Settings {
        buffer_size: cfg.off_policy.buffer_size,
        batch_size: cfg.off_policy.batch_size,
        learning_starts: cfg.off_policy.learning_starts,
        train_freq: cfg.off_policy.train_freq,
        prioritized: cfg.prioritized.then_some(Prioritization {
            alpha: cfg.per_alpha,
            beta0: cfg.per_beta0,
            epsilon: cfg.per_eps,
        }),
    };
    let mut bonus = IntrinsicReward::new(
        &cfg.bonus,
        &envs.spec().observation_space,
        n_envs,
        &mut session.rng(Stream::Bonus),
        &device,
    );
    let mut intrinsic = IntrinsicLog::new(n_envs);
    let mut columns = DIAGNOSTICS.to_vec();
    let mut diagnostics = vec![
        f64::NAN,
        f64::NAN,
        epsilon.value(0),
        cfg.off_policy.learning_rate,
    ];
    if bonus.is_some() {
        columns.extend(INTRINSIC_COLUMNS);
        diagnostics.extend([f64::NAN; INTRINSIC_COLUMNS.len()]);
    }
    let mut off = OffPolicy::new(session, settings, obs_dim, 1, diagnostics);
    let mut n_step = NStep::new(cfg.n_step, cfg.off_policy.gamma, n_envs, obs_dim, 1);
    // HER relabels with the goal structure of an env of the run's kind.
    let goal_env = session.make_env()?;
    let goals = goal_env.goal_env().filter(|_| cfg.hindsight.her);
    let mut hindsight = goals.map(|g| {
        cfg.hindsight
            .hindsight(g, n_envs, (obs_dim, 1), cfg.off_policy.gamma)
    });
    // SB3 counts the target interval in vector-env steps.
    let target_every = (cfg.target_update_interval / n_envs as u64).max(1);
    session.set_diagnostics(&columns)?;

    let mut stats = DeviceMeans::new(&DIAGNOSTICS[..2]);
    if let Some(state) = off.resume::<DqnState>(session)? {
        q = state.q.restore(q)?;
        q_target = state.q_target.restore(q_target)?;
        optimizer = state.optimizer.restore(optimizer)?;
        n_step = state.n_step;
        hindsight = state.hindsight;
        if let (Some(b), Some((saved, log))) = (bonus.take(), state.bonus) {
            bonus = Some(b.restore(saved)?);
            intrinsic = log;
        }
        envs.restore(&state.envs);
        stats.restore(state.stats, &device);
    }
    // On the CPU backends the gradient steps and target updates run on the host ([`HostDqn`])
    // where it covers the network; Burn's `q` is brought up to date after every train call.
    let mut host = computes_on_host(&device)
        .then(|| HostDqn::new(&q, &q_target, &optimizer))
        .flatten();
    let mut greedy = GreedyPolicy::new(&q, obs_dim, &plain);
    off.evaluate_at_start(session, &mut greedy)?;
    let mut obs = envs.observations().to_vec();
    let mut actions = vec![0usize; n_envs];
    let mut explored = vec![false; n_envs];
    // The next observations of a step (final ones where episodes ended), for the bonus.
    let mut next_obs = vec![0f32; n_envs * obs_dim];
    while off.step < total {
        // ε-greedy (uniform until learning_starts): one forward pass for the greedy envs.
        let eps = if off.exploring() {
            1.0
        } else {
            epsilon.value(off.step)
        };
        for (e, random) in explored.iter_mut().enumerate() {
            *random = off.explore.random::<f64>() < eps;
            if *random {
                actions[e] = off.explore.random_range(0..n_actions);
            }
        }
        if explored.iter().any(|&r| !r) {
            let q_values = greedy.q_values(&obs);
            for (e, row) in q_values.chunks_exact(n_actions).enumerate() {
                if !explored[e] {
                    actions[e] = argmax(row);
                }
            }
        }
        envs.step_discrete(&actions);
        let (terminated, truncated) = (envs.terminated(), envs.truncated());
        let next_of = |e: usize| {
            if terminated[e] || truncated[e] {
                envs.final_observation(e)
            } else {
                envs.observation(e)
            }
        };
        let bonuses = bonus.as_mut().map(|b| {
            for e in 0..n_envs {
                next_obs[e * obs_dim..(e + 1) * obs_dim].copy_from_slice(next_of(e));
            }
            let bonuses = b.rewards(&next_obs);
            intrinsic.push(&bonuses, envs.ended());
            bonuses
        });
        for e in 0..n_envs {
            let next = next_of(e);
            let reward = envs.rewards()[e] + bonuses.as_ref().map_or(0.0, |b| b[e]);
            n_step.push(
                e,
                &obs[e * obs_dim..(e + 1) * obs_dim],
                &[actions[e] as f32],
                reward,
                next,
                terminated[e],
                truncated[e],
                |t| off.replay.add(t),
            );
            if let (Some(her), Some(goals)) = (hindsight.as_mut(), goals) {
                her.push(
                    e,
                    &obs[e * obs_dim..(e + 1) * obs_dim],
                    &[actions[e] as f32],
                    next,
                );
                if terminated[e] || truncated[e] {
                    her.finish(e, goals, &mut off.sampler, |t| off.replay.add(t));
                }
            }
        }
        obs.copy_from_slice(envs.observations());
        off.step += n_envs as u64;
        off.vector_steps += 1;
        session.record_episodes(off.step, envs.ended())?;

        let lr = if cfg.anneal_lr {
            let progress = off.step as f64 / total as f64;
            cfg.off_policy.learning_rate * (1.0 - progress).max(0.0)
        } else {
            cfg.off_policy.learning_rate
        };
        if off.train_due() {
            let hp = DqnUpdate {
                learning_rate: lr,
                double: cfg.double,
                loss: cfg.loss,
                max_grad_norm: cfg.max_grad_norm,
            };
            for _ in 0..cfg.off_policy.gradient_steps {
                off.sample();
                if let Some(b) = bonus.as_mut() {
                    b.train(&off.batch.next_observations);
                }
                if let Some(host) = host.as_mut() {
                    let step_stats = host.step(&off.batch, &hp);
                    stats.add_host(off.step, &[step_stats.loss, step_stats.q_mean], &plain);
                    off.replay.update_priorities(&off.batch, host.td_errors());
                    continue;
                }
                let step_stats;
                (q, step_stats) = update(q, &q_target, &mut optimizer, &off.batch, &hp, &device);
                stats.add(off.step, vec![step_stats.loss, step_stats.q_mean]);
                if let Some(td) = step_stats.td_errors {
                    off.replay.update_priorities(&off.batch, &to_vec(td));
                }
            }
            if let Some(host) = &host {
                q = host.write_online(q);
            }
            greedy = GreedyPolicy::new(&q, obs_dim, &plain);
        }
        if off.vector_steps.is_multiple_of(target_every) {
            match host.as_mut() {
                Some(host) => host.update_target(cfg.off_policy.tau),
                None => q_target = polyak_update(q_target, &q, cfg.off_policy.tau),
            }
        }
        if session.eval_due(off.step) {
            let mut diagnostics = stats.take(session)?;
            diagnostics.extend([epsilon.value(off.step), lr]);
            if bonus.is_some() {
                diagnostics.extend(intrinsic.take());
            }
            off.evaluate(session, &mut greedy, diagnostics)?;
        }
        off.checkpoint(session, || {
            // The host's networks and Adam state are ahead of Burn's copies.
            let (q, q_target, optimizer) = match &host {
                Some(host) => host.to_burn(q.clone(), q_target.clone(), &optimizer),
                None => (q.clone(), q_target.clone(), optimizer.clone()),
            };
            Ok(DqnState {
                q: SavedModule::of(&q)?,
                q_target: SavedModule::of(&q_target)?,
                optimizer: SavedOptimizer::of(&optimizer)?,
                n_step: n_step.clone(),
                envs: envs.snapshot(),
                stats: stats.state(),
                hindsight: hindsight.clone(),
                bonus: match &bonus {
                    Some(b) => Some((b.state()?, intrinsic.clone())),
                    None => None,
                },
            })
        })?;
    }
    session.save_artifact(MODEL_FILE, &greedy.to_bytes()?)
}
