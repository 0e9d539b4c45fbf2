//! MAPPO (Yu et al. 2022, "The Surprising Effectiveness of PPO in Cooperative Multi-Agent
//! Games") and IPPO (de Witt et al. 2020), one training loop: PPO with one network shared by
//! all agents (a one-hot agent id in its input, [`SharedInputs`]), GAE(λ), the clipped
//! surrogate and value normalisation ([`ValueNorm`]). MAPPO's critic is centralised: it reads
//! the global state (the agents' observations concatenated); IPPO's reads the agent's own
//! observation, so the two differ in that alone and comparing them measures centralisation.
//!
//! Each env step gives one row per agent; a rollout of `n_steps` steps of `num_envs` envs holds
//! `n_steps × num_envs × N` rows, and PPO's own update ([`update`]) runs on them. Agents
//! truncated by `max_cycles` bootstrap from their final observation, as the single-agent
//! collector does. Checkpoints ([`MultiPpoState`]) are taken after an update and resume
//! exactly.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::check_homogeneous;
use super::mappo_checkpoint::{MultiPpoParts, MultiPpoState};
use super::shared_policy::{MODEL_FILE, SharedInputs, SharedPolicy, values};
use super::value_norm::ValueNorm;
use crate::algo::policy_gradient::checkpoint::MinibatchOrder;
use crate::algo::policy_gradient::explained_variance;
use crate::algo::policy_gradient::ppo_update::{ADAM_EPSILON, PpoUpdate, ValueClip, update};
use crate::algo::{Algorithm, Kind};
use crate::buffer::{RolloutBuffer, StepEnd};
use crate::env::Action;
use crate::env::multi::MultiAgentSpec;
use crate::hyper::hyperparameters;
use crate::nn::{Acting, ActionKind, Backend, PolicyConfig, adam};
use crate::rng::{Rng, Stream};
use crate::session::{MultiPolicy, Session};

hyperparameters! {
    /// The keys of MAPPO and IPPO (Yu et al. 2022's MPE settings where they apply).
    pub struct MultiPpoKeys {
        /// Adam step size (Adam ε = 1e-5)
        learning_rate: f64 = 7e-4, positive;
        /// steps per env per rollout (rollout = n_steps × num_envs env steps, × N agent rows)
        n_steps: usize = 25, nonzero;
        /// minibatch size, in agent rows (at most the rollout's rows; > 1)
        batch_size: usize = 800, nonzero;
        /// passes over each rollout
        n_epochs: usize = 10, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// GAE λ ∈ [0, 1]
        gae_lambda: f64 = 0.95, in_closed(0.0, 1.0);
        /// surrogate clipping ε > 0
        clip_range: f64 = 0.2, positive;
        /// entropy bonus coefficient
        ent_coef: f64 = 0.01, finite;
        /// value loss coefficient
        vf_coef: f64 = 1.0, non_negative;
        /// global gradient-norm bound
        max_grad_norm: f64 = 10.0, positive;
        /// standardise the critic's targets with running statistics (ValueNorm)
        value_norm: bool = true;
        /// weight β of the value normalisation's running averages, in [0, 1]
        value_norm_beta: f64 = 0.99999, in_closed(0.0, 1.0);
        /// layer normalisation of the actor's and critic's inputs and hidden activations
        /// (the MAPPO code's use_feature_normalization and MLPBase)
        layer_norm: bool = false;
        /// the critic's regression loss: "mse" (e²) or "huber" (Huber's with `huber_delta`)
        value_loss: ValueLoss = ValueLoss::Mse;
        /// δ > 0 of the Huber value loss (the MAPPO code's 10)
        huber_delta: f64 = 10.0, positive;
        /// clip V to within this of its rollout prediction (normalised when `value_norm`) and
        /// regress the max of the clipped and unclipped losses (unset: no clipping)
        clip_range_vf: Option<f64> = None, positive;
    }
}

/// The critic's regression loss on the error e = R − V.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueLoss {
    /// e².
    #[default]
    Mse,
    /// ½e² for |e| ≤ δ, δ(|e| − ½δ) beyond (`huber_delta`).
    Huber,
}

hyperparameters! {
    /// MAPPO's hyperparameters: shared-parameter PPO with a centralised value function.
    pub struct MappoConfig {
        ..ppo: MultiPpoKeys;
        [policy]: PolicyConfig;
    }
}

hyperparameters! {
    /// IPPO's hyperparameters: MAPPO's, with each agent's critic on its own observation.
    pub struct IppoConfig {
        ..ppo: MultiPpoKeys;
        [policy]: PolicyConfig;
    }
}

impl Algorithm for MappoConfig {
    const NAME: &'static str = "mappo";
    const SUMMARY: &'static str = "multi-agent PPO: shared actor with agent id, centralised critic on the global state, value normalisation (Yu et al. 2022)";
    const KIND: Kind = Kind::Learner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(
        &self,
        env: &MultiAgentSpec,
        num_envs: usize,
    ) -> Result<(), (&'static str, String)> {
        if self.policy.share_features_extractor {
            return Err((
                "algo.policy.share_features_extractor",
                "must be false: MAPPO's centralised critic reads other inputs than the policy"
                    .into(),
            ));
        }
        check(Self::NAME, &self.ppo, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.ppo, &self.policy, true, session)
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        let policy = SharedPolicy::load(
            env,
            &self.policy,
            self.ppo.layer_norm,
            true,
            run_dir,
            backend,
        )?;
        Ok(Box::new(policy))
    }
}

impl Algorithm for IppoConfig {
    const NAME: &'static str = "ippo";
    const SUMMARY: &'static str = "independent PPO: MAPPO with each agent's critic on its own observation (de Witt et al. 2020)";
    const KIND: Kind = Kind::Learner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(
        &self,
        env: &MultiAgentSpec,
        num_envs: usize,
    ) -> Result<(), (&'static str, String)> {
        check(Self::NAME, &self.ppo, env, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.ppo, &self.policy, false, session)
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        let policy = SharedPolicy::load(
            env,
            &self.policy,
            self.ppo.layer_norm,
            false,
            run_dir,
            backend,
        )?;
        Ok(Box::new(policy))
    }
}

/// Shared agents, and a minibatch that fits the rollout and has a standard deviation.
fn check(
    name: &str,
    keys: &MultiPpoKeys,
    env: &MultiAgentSpec,
    num_envs: usize,
) -> Result<(), (&'static str, String)> {
    check_homogeneous(name, env)?;
    let rows = keys.n_steps * num_envs * env.num_agents();
    if keys.batch_size > rows || keys.batch_size < 2 {
        return Err((
            "algo.batch_size",
            format!(
                "{} must be between 2 and the rollout's agent rows, algo.n_steps × env.num_envs \
                 × agents = {} × {num_envs} × {} = {rows}",
                keys.batch_size,
                keys.n_steps,
                env.num_agents()
            ),
        ));
    }
    Ok(())
}

/// Diagnostics of one update (PPO's, means over its minibatches).
pub const DIAGNOSTICS: [&str; 6] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
];

/// The training loop of MAPPO (`centralised`) and IPPO.
pub fn train(
    keys: &MultiPpoKeys,
    policy: &PolicyConfig,
    centralised: bool,
    session: &mut Session,
) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut envs = session.make_multi_vec_env()?;
    let spec = envs.spec().clone();
    let (agents, n_envs) = (spec.num_agents(), envs.num_envs());
    let inputs = SharedInputs::new(&spec, centralised);
    let action = ActionKind::of(&spec.action_spaces[0]);
    let mut model = inputs.model(
        action,
        policy,
        keys.layer_norm,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizer = adam(ADAM_EPSILON);
    let rows = n_envs * agents;
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..keys.n_steps * rows).collect(),
    };
    let (width, stored) = (inputs.row_dim(), action.stored_dim());
    let mut buffer = RolloutBuffer::new(keys.n_steps, rows, width, action);
    let mut explore = session.rng(Stream::Explore);
    let mut value_norm = keys
        .value_norm
        .then(|| ValueNorm::new(keys.value_norm_beta));
    let denormalize = |norm: &Option<ValueNorm>, v: &mut [f32]| {
        if let Some(norm) = norm {
            norm.denormalize(v);
        }
    };
    let hp = PpoUpdate {
        learning_rate: keys.learning_rate,
        clip_range: keys.clip_range,
        value_clip: keys
            .clip_range_vf
            .map_or(ValueClip::Off, ValueClip::Pessimistic),
        huber_delta: (keys.value_loss == ValueLoss::Huber).then_some(keys.huber_delta),
        normalize_advantage: true,
        ent_coef: keys.ent_coef,
        vf_coef: keys.vf_coef,
        max_grad_norm: keys.max_grad_norm,
        target_kl: None,
        n_epochs: keys.n_epochs,
        batch_size: keys.batch_size,
    };
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut obs_rows = vec![0.0f32; rows * width];
    let mut final_rows = vec![0.0f32; rows * width];
    let mut next_rows = vec![0.0f32; rows * width];
    let mut actions = vec![0.0f32; rows * stored];
    let (mut log_probs, mut values_now) = (vec![0.0f32; rows], vec![0.0f32; rows]);
    let (mut rewards, mut bootstrap) = (vec![0.0f64; rows], vec![0.0f64; rows]);
    let (mut terminated, mut ended) = (vec![false; rows], vec![false; rows]);
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    let mut step = 0u64;
    if let Some((at, state)) = session.resumed::<MultiPpoState>()? {
        state.restore(MultiPpoParts {
            model: &mut model,
            optimizer: &mut optimizer,
            envs: &mut envs,
            explore: &mut explore,
            value_norm: &mut value_norm,
            minibatches: &mut order,
            diagnostics: &mut diagnostics,
        })?;
        step = at;
    }
    let mut acting = Acting::new(&model, action, width, &plain);
    let mut eval_policy = SharedPolicy::new(&model, inputs, action, &plain);
    if step == 0 || session.eval_due(step) {
        session.evaluate_multi(step, &mut eval_policy, &diagnostics)?;
    }
    while step < total {
        buffer.clear();
        for _ in 0..keys.n_steps {
            inputs.write_rows(n_envs, |e, i| envs.observation(e, i), &mut obs_rows);
            acting.sample(
                &obs_rows,
                &mut explore,
                &mut actions,
                &mut log_probs,
                &mut values_now,
            );
            denormalize(&value_norm, &mut values_now);
            buffer.push(&obs_rows, &actions, &log_probs, &values_now);
            envs.step_with(|e| {
                (e * agents..(e + 1) * agents)
                    .map(|r| match action {
                        ActionKind::Discrete(_) => Action::Discrete(actions[r] as usize),
                        ActionKind::Continuous(d) => Action::Continuous(&actions[r * d..][..d]),
                    })
                    .collect()
            });
            step += n_envs as u64;
            for e in 0..n_envs {
                let last = envs.last(e);
                for i in 0..agents {
                    rewards[e * agents + i] = last.rewards[i];
                    bootstrap[e * agents + i] = 0.0;
                    terminated[e * agents + i] = last.terminations[i];
                    ended[e * agents + i] = last.episode_over();
                }
            }
            let next = |e: usize, i: usize| {
                if envs.last(e).episode_over() {
                    envs.final_observation(e, i)
                } else {
                    envs.observation(e, i)
                }
            };
            inputs.write_rows(n_envs, next, &mut next_rows);
            if !envs.ended().is_empty() {
                // A truncated agent's episode goes on in principle: r + γ V(final observation).
                inputs.write_rows(n_envs, |e, i| envs.final_observation(e, i), &mut final_rows);
                let mut final_values = values(acting.model(), &inputs, &final_rows, &plain);
                denormalize(&value_norm, &mut final_values);
                for end in envs.ended() {
                    let last = envs.last(end.env);
                    for i in 0..agents {
                        if last.truncations[i] && !last.terminations[i] {
                            let r = end.env * agents + i;
                            bootstrap[r] = keys.gamma * f64::from(final_values[r]);
                        }
                    }
                }
            }
            buffer.finish_step(StepEnd {
                rewards: &rewards,
                truncation_bootstrap: &bootstrap,
                next_observations: &next_rows,
                terminated: &terminated,
                ended: &ended,
            });
            session.record_multi_episodes(step, envs.ended())?;
        }
        inputs.write_rows(n_envs, |e, i| envs.observation(e, i), &mut obs_rows);
        let mut last_values = values(acting.model(), &inputs, &obs_rows, &plain);
        denormalize(&value_norm, &mut last_values);
        buffer.compute_advantages(&last_values, keys.gamma, keys.gae_lambda);
        let explained = explained_variance(&buffer.values, &buffer.returns);
        if let Some(norm) = &mut value_norm {
            norm.update(&buffer.returns);
            norm.normalize(&mut buffer.returns);
            norm.normalize(&mut buffer.values);
        }
        let stats;
        (model, stats) = update(model, &mut optimizer, &buffer, &mut order, &hp, &device);
        acting = Acting::new(&model, action, width, &plain);
        diagnostics = stats.row();
        session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().map(|&v| Some(v)))?;
        diagnostics.push(explained);
        session.checkpoint(step, || {
            MultiPpoState::capture(
                &model,
                &optimizer,
                &envs,
                &explore,
                value_norm.as_ref(),
                &order,
                &diagnostics,
            )
        })?;
        if session.eval_due(step) {
            eval_policy = SharedPolicy::new(&model, inputs, action, &plain);
            session.evaluate_multi(step, &mut eval_policy, &diagnostics)?;
        }
    }
    session.save_artifact(MODEL_FILE, &model.to_bytes()?)
}
