//! MADDPG (Lowe et al. 2017, "Multi-Agent Actor-Critic for Mixed Cooperative-Competitive
//! Environments") and independent DDPG, one training loop: every agent has its own
//! deterministic actor μ_i(o_i) and critic Q_i with target networks; the joint transitions go
//! into one shared replay ([`MultiReplay`]) and every `train_freq` vector steps each agent takes
//! a step of [`update`]. MADDPG's critics are centralised (every observation and action in
//! their input); IDDPG's read the agent's own observation and action, so the two differ in
//! that alone and comparing them measures centralisation.
//!
//! Discrete moves are trained through the straight-through Gumbel-softmax (the hard one-hot
//! sample forward, the relaxed sample's gradient back; the authors' code feeds the soft sample
//! to MPE's continuous-input physics, which PettingZoo's discrete envs do not take) and
//! explored by sampling from softmax of the logits (the Gumbel-max trick); continuous actions
//! are explored with Gaussian noise in the normalised box. The first `learning_starts` env
//! steps act uniformly at random. Defaults are the paper's MPE settings: Adam 1e-2, γ = 0.95,
//! τ = 0.01, batches of 1024, a step every 100 env steps once the replay holds 1024 × 25
//! transitions, two hidden layers of 64 ReLU units, gradient norms clipped to 0.5.

use std::path::Path;

use rand::RngExt;

use super::gumbel::gumbel_max;
use super::maddpg_checkpoint::{MaddpgLoop, MaddpgState};
use super::maddpg_policy::{MODEL_FILE, MaddpgPolicy};
use super::maddpg_update::{CriticInputs, MaddpgNets, MaddpgOptimizers, MaddpgUpdate, update};
use crate::algo::actor_critic::{ActionBox, ActorCriticNets};
use crate::algo::diagnostics::DeviceMeans;
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, Kind};
use crate::buffer::{MultiReplay, ReplayBatch, Transition};
use crate::env::Action;
use crate::env::multi::MultiAgentSpec;
use crate::hyper::hyperparameters;
use crate::nn::{ActionKind, Activation, Backend};
use crate::rng::{Rng, Stream, standard_normal};
use crate::session::{MultiPolicy, Session};

/// The paper's replay and training rhythm (Lowe et al. 2017, appendix; the authors' code).
fn paper_off_policy() -> OffPolicyConfig {
    OffPolicyConfig {
        learning_rate: 1e-2,
        buffer_size: 1_000_000,
        learning_starts: 25_600,
        batch_size: 1024,
        tau: 0.01,
        gamma: 0.95,
        train_freq: 100,
        gradient_steps: 1,
    }
}

/// The paper's networks: two hidden layers of 64 ReLU units.
fn paper_nets() -> ActorCriticNets {
    ActorCriticNets {
        net_arch: vec![64, 64],
        activation: Activation::Relu,
    }
}

hyperparameters! {
    /// MADDPG's and IDDPG's own keys.
    pub struct MaddpgKeys {
        /// temperature τ of the straight-through Gumbel-softmax that trains discrete actors (> 0)
        gumbel_temperature: f64 = 1.0, positive;
        /// σ of the Gaussian exploration noise on continuous actions, in the [−1, 1] box
        noise_std: f64 = 0.1, non_negative;
        /// bound on each network's gradient norm (> 0)
        max_grad_norm: f64 = 0.5, positive;
        /// weight of E[l²] of the actors' raw outputs l in their loss (the authors' code: 1e-3)
        actor_output_reg: f64 = 1e-3, non_negative;
    }
}

hyperparameters! {
    /// MADDPG's hyperparameters: the paper's MPE settings.
    pub struct MaddpgConfig {
        ..off_policy: OffPolicyConfig = paper_off_policy();
        ..maddpg: MaddpgKeys;
        [policy]: ActorCriticNets = paper_nets();
    }
}

hyperparameters! {
    /// IDDPG's hyperparameters: MADDPG's, with each agent's critic on its own observation and
    /// action.
    pub struct IddpgConfig {
        ..off_policy: OffPolicyConfig = paper_off_policy();
        ..maddpg: MaddpgKeys;
        [policy]: ActorCriticNets = paper_nets();
    }
}

impl Algorithm for MaddpgConfig {
    const NAME: &'static str = "maddpg";
    const SUMMARY: &'static str = "multi-agent DDPG: decentralised actors, a centralised critic per agent over all observations and actions, Gumbel-softmax for discrete moves (Lowe et al. 2017)";
    const KIND: Kind = Kind::Learner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(&self, _: &MultiAgentSpec, _: usize) -> Result<(), (&'static str, String)> {
        check(&self.off_policy)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.off_policy, &self.maddpg, &self.policy, true, session)
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        Ok(Box::new(MaddpgPolicy::load(
            env,
            &self.policy,
            run_dir,
            backend,
        )?))
    }
}

impl Algorithm for IddpgConfig {
    const NAME: &'static str = "iddpg";
    const SUMMARY: &'static str =
        "independent DDPG: MADDPG with each agent's critic on its own observation and action";
    const KIND: Kind = Kind::Learner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(&self, _: &MultiAgentSpec, _: usize) -> Result<(), (&'static str, String)> {
        check(&self.off_policy)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.off_policy, &self.maddpg, &self.policy, false, session)
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        Ok(Box::new(MaddpgPolicy::load(
            env,
            &self.policy,
            run_dir,
            backend,
        )?))
    }
}

/// A minibatch is drawn from the replay.
fn check(off: &OffPolicyConfig) -> Result<(), (&'static str, String)> {
    if off.batch_size > off.buffer_size {
        return Err((
            "algo.batch_size",
            format!(
                "{} must be at most algo.buffer_size = {}: a minibatch is drawn from the replay",
                off.batch_size, off.buffer_size
            ),
        ));
    }
    Ok(())
}

/// Diagnostics of the updates since the last evaluation (means over agents and steps).
pub const DIAGNOSTICS: [&str; 3] = ["loss_pi", "loss_q", "q_mean"];

/// The training loop of MADDPG (`centralised`) and IDDPG.
pub fn train(
    off: &OffPolicyConfig,
    keys: &MaddpgKeys,
    nets_cfg: &ActorCriticNets,
    centralised: bool,
    session: &mut Session,
) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_multi_vec_env()?;
    let spec = envs.spec().clone();
    let (agents, n_envs) = (spec.num_agents(), envs.num_envs());
    let inputs = CriticInputs::new(&spec, centralised);
    let act_dims = inputs.act_dims();
    let boxes: Vec<Option<ActionBox>> = spec.action_spaces.iter().map(ActionBox::of).collect();
    let (hidden, activation) = (&nets_cfg.net_arch, nets_cfg.activation);
    let mut init = session.rng(Stream::Init);
    let mut nets = MaddpgNets::new(&inputs, hidden, activation, &mut init, &device);
    let mut optimizers = MaddpgOptimizers::new(agents);
    let hp = MaddpgUpdate {
        learning_rate: off.learning_rate,
        tau: off.tau,
        gumbel_temperature: keys.gumbel_temperature,
        max_grad_norm: keys.max_grad_norm,
        actor_output_reg: keys.actor_output_reg,
    };
    let mut replay = MultiReplay::new(off.buffer_size, &inputs.obs_dims, &act_dims);
    let mut batches = vec![ReplayBatch::default(); agents];
    let mut explore = session.rng(Stream::Explore);
    let mut sampler = session.rng(Stream::Minibatch);
    let mut stats = DeviceMeans::new(&DIAGNOSTICS);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let per_env = |dims: &dyn Fn(usize) -> usize| -> Vec<Vec<f32>> {
        (0..agents).map(|i| vec![0.0; n_envs * dims(i)]).collect()
    };
    let mut obs = per_env(&|i| inputs.obs_dims[i]);
    let mut actions = per_env(&|i| act_dims[i]);
    let mut env_actions = per_env(&|i| spec.action_spaces[i].flat_dim());
    let (mut step, mut vector_steps, mut train_from) = (0u64, 0u64, off.learning_starts);
    let keep_replay = session.checkpoint_replay();
    // The loop's state as a checkpoint sees it (a macro: each use borrows afresh).
    macro_rules! training_loop {
        () => {
            MaddpgLoop {
                nets: &mut nets,
                optimizers: &mut optimizers,
                envs: &mut envs,
                explore: &mut explore,
                sampler: &mut sampler,
                replay: &mut replay,
                train_from: &mut train_from,
                vector_steps: &mut vector_steps,
                stats: &mut stats,
            }
        };
    }
    let resumed = session.resumed::<MaddpgState>()?;
    if let Some((at, saved)) = resumed {
        saved.restore(training_loop!(), at, off.learning_starts, &device)?;
        step = at;
    }
    let mut policy = MaddpgPolicy::new(&nets, &spec, &plain);
    if step == 0 {
        session.evaluate_multi(0, &mut policy, &[f64::NAN; DIAGNOSTICS.len()])?;
    }
    while step < total {
        let exploring = step < off.learning_starts;
        for i in 0..agents {
            let o = inputs.obs_dims[i];
            for e in 0..n_envs {
                obs[i][e * o..][..o].copy_from_slice(envs.observation(e, i));
            }
            let outputs = (!exploring).then(|| policy.outputs(i, &obs[i]));
            match inputs.kinds[i] {
                ActionKind::Discrete(k) => {
                    for e in 0..n_envs {
                        let move_ = match &outputs {
                            None => explore.random_range(0..k),
                            Some(logits) => gumbel_max(&logits[e * k..][..k], &mut explore),
                        };
                        let row = &mut actions[i][e * k..][..k];
                        row.fill(0.0);
                        row[move_] = 1.0;
                        env_actions[i][e] = move_ as f32;
                    }
                }
                ActionKind::Continuous(_) => {
                    match outputs {
                        None => actions[i].fill_with(|| explore.random_range(-1.0..=1.0)),
                        Some(mu) => {
                            for (a, m) in actions[i].iter_mut().zip(mu) {
                                let noise = keys.noise_std * standard_normal(&mut explore);
                                *a = (m + noise as f32).clamp(-1.0, 1.0);
                            }
                        }
                    }
                    let b = boxes[i]
                        .as_ref()
                        .expect("a continuous action space is a box");
                    b.to_env(&actions[i], &mut env_actions[i]);
                }
            }
        }
        envs.step_with(|e| {
            (0..agents)
                .map(|i| match inputs.kinds[i] {
                    ActionKind::Discrete(_) => Action::Discrete(env_actions[i][e] as usize),
                    ActionKind::Continuous(d) => Action::Continuous(&env_actions[i][e * d..][..d]),
                })
                .collect()
        });
        step += n_envs as u64;
        vector_steps += 1;
        for e in 0..n_envs {
            let last = envs.last(e);
            let over = last.episode_over();
            let parts: Vec<Transition> = (0..agents)
                .map(|i| {
                    let (o, a) = (inputs.obs_dims[i], act_dims[i]);
                    Transition {
                        obs: &obs[i][e * o..][..o],
                        action: &actions[i][e * a..][..a],
                        reward: last.rewards[i] as f32,
                        next_obs: match over {
                            true => envs.final_observation(e, i),
                            false => envs.observation(e, i),
                        },
                        terminated: last.terminations[i],
                        truncated: last.truncations[i] && !last.terminations[i],
                        discount: off.gamma as f32,
                    }
                })
                .collect();
            replay.add(&parts);
        }
        session.record_multi_episodes(step, envs.ended())?;

        if step > train_from && vector_steps.is_multiple_of(off.train_freq) {
            for _ in 0..off.gradient_steps {
                replay.sample(off.batch_size, &mut sampler, &mut batches);
                let s;
                (nets, s) = update(
                    nets,
                    &mut optimizers,
                    &batches,
                    &inputs,
                    &hp,
                    &mut sampler,
                    &device,
                );
                stats.add(step, vec![s.loss_pi, s.loss_q, s.q_mean]);
            }
            policy = MaddpgPolicy::new(&nets, &spec, &plain);
        }
        if session.eval_due(step) {
            let diagnostics = stats.take(session)?;
            session.evaluate_multi(step, &mut policy, &diagnostics)?;
        }
        session.checkpoint(step, || {
            MaddpgState::capture(&training_loop!(), keep_replay)
        })?;
        session.tick(step)?;
    }
    session.save_artifact(MODEL_FILE, &policy.to_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's settings by default; a minibatch larger than the replay is refused.
    #[test]
    fn defaults_are_the_papers() {
        let cfg = MaddpgConfig::default();
        assert_eq!(
            (cfg.off_policy.batch_size, cfg.off_policy.learning_starts),
            (1024, 1024 * 25)
        );
        assert_eq!(cfg.policy.net_arch, [64, 64]);
        assert!(check(&cfg.off_policy).is_ok());
        let mut small = cfg.off_policy.clone();
        small.buffer_size = 100;
        assert_eq!(check(&small).unwrap_err().0, "algo.batch_size");
    }
}
