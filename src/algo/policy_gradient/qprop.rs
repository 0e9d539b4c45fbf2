//! Q-Prop (Gu et al. 2017): TRPO whose likelihood-ratio gradient takes the first-order Taylor
//! expansion of an off-policy critic Q_w(s, a) at the policy mean as a control variate, with
//! conservative, aggressive, variance-optimal or no adaptation of its weight η (§3.3). Continuous actions
//! (a Gaussian policy). Each iteration collects a rollout as TRPO does, stores it in replay,
//! fits Q_w DDPG-style and takes [`update`]'s step: the natural step and line search of TRPO on
//! the Q-Prop surrogate, then the value function's epochs. Every TRPO key keeps its meaning.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::line_search::LineSearch;
use super::qprop_update::{Adaptation, QCritic, QPropUpdate, update};
use super::rollout::{Collector, Normalization};
use super::trpo::NaturalGradientConfig;
use super::trpo_update::NaturalGradientUpdate;
use super::{explained_variance, saved};
use crate::algo::flops::Pass;
use crate::algo::footprint::mlp_parameters;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::{ReplayBuffer, RolloutBuffer};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, SavedModule, adam};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Q-Prop's hyperparameters: TRPO's (sb3-contrib's names and defaults) and the off-policy
    /// critic's (the paper's: Adam 1e-3, minibatches of 64, τ = 0.001, replay of 10⁶).
    pub struct QPropConfig {
        /// each rejected step of the line search is multiplied by this, in (0, 1]
        line_search_shrinking_factor: f64 = 0.8, in_half_open(0.0, 1.0);
        /// steps the line search tries before keeping the old policy
        line_search_max_iter: usize = 10, nonzero;
        /// control-variate weight η: "conservative" (1 if Cov(Â, Ā) > 0 else 0), "aggressive"
        /// (sign Cov(Â, Ā)), "none" (1) or "optimal" (η* = tr Cov(g, h) / tr Var h on the batch)
        adaptation: Adaptation = Adaptation::Conservative;
        /// Adam step size of the off-policy critic Q_w(s, a)
        critic_learning_rate: f64 = 1e-3, positive;
        /// minibatch size of the critic's replay steps
        critic_batch_size: usize = 64, nonzero;
        /// critic minibatch steps per rollout
        critic_gradient_steps: usize = 1000, nonzero;
        /// Polyak coefficient τ ∈ (0, 1] of the critic's target network
        tau: f64 = 0.001, in_half_open(0.0, 1.0);
        /// replay capacity (transitions) of the critic
        buffer_size: usize = 1_000_000, nonzero;
        /// hidden layer sizes of the critic Q_w(s, a) (ReLU)
        qf_net_arch: Vec<usize> = vec![100, 100], all_nonzero;
        ..natural: NaturalGradientConfig;
    }
    check: Self::check_critic;
}

impl QPropConfig {
    fn check_critic(&self, c: &mut Checker) {
        c.require("qf_net_arch", !self.qf_net_arch.is_empty(), || {
            "needs at least one hidden layer (a linear Q has the same ∇_a Q everywhere)".into()
        });
    }

    fn update_hyperparameters(&self) -> QPropUpdate {
        let cfg = &self.natural;
        QPropUpdate {
            natural: NaturalGradientUpdate {
                target_kl: cfg.target_kl,
                cg_max_steps: cfg.cg_max_steps,
                cg_damping: cfg.cg_damping,
                sub_sampling_factor: cfg.sub_sampling_factor,
                normalize_advantage: cfg.normalize_advantage,
                line_search: Some(LineSearch {
                    shrinking_factor: self.line_search_shrinking_factor,
                    max_iter: self.line_search_max_iter,
                }),
                learning_rate: cfg.learning_rate,
                n_critic_updates: cfg.n_critic_updates,
                batch_size: cfg.batch_size,
            },
            adaptation: self.adaptation,
            critic_learning_rate: self.critic_learning_rate,
            critic_batch_size: self.critic_batch_size,
            critic_gradient_steps: self.critic_gradient_steps,
            tau: self.tau,
            gamma: cfg.gamma,
        }
    }
}

impl Algorithm for QPropConfig {
    const NAME: &'static str = "qprop";
    const SUMMARY: &'static str = "Q-Prop: TRPO with an off-policy critic's Taylor expansion as control variate (Gu et al. 2017)";
    const KIND: Kind = Kind::Learner;

    /// Vector observations and a bounded continuous action box.
    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        crate::algo::actor_critic::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.natural.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let (obs, act) = (run.obs_dim(), run.act_dim());
        let replay = ReplayBuffer::bytes(self.buffer_size, obs, act);
        let critic = 3 * mlp_parameters(obs + act, &self.qf_net_arch, 1);
        super::footprint(&self.natural.policy, self.natural.n_steps, run)
            .with("replay", "algo.buffer_size", replay)
            .with("critic", "algo.qf_net_arch", critic.saturating_mul(4))
    }

    /// TRPO's work and the critic's minibatch steps.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let rollouts = run
            .total_steps
            .div_ceil((self.natural.n_steps * run.num_envs) as u64);
        let (obs, act) = (run.obs_dim(), run.act_dim());
        let steps = (rollouts * self.critic_gradient_steps as u64) as f64;
        let critic = (obs + act, &self.qf_net_arch[..], 1);
        Some(
            self.natural
                .update_work(run, 1)
                .mlp(Pass::Train, steps, self.critic_batch_size, critic)
                .mlp(Pass::Forward, steps, self.critic_batch_size, critic),
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
        let cfg = &self.natural;
        let normalize_obs = cfg.normalization.normalize_obs;
        super::saved_policy(&cfg.policy, normalize_obs, backend, env, run_dir)
    }
}

/// Diagnostics of one update: TRPO's, then Q-Prop's (Cov(Â, Ā), η and the gradient variances
/// of [`GradientVariance`](super::qprop_update::GradientVariance)).
const DIAGNOSTICS: [&str; 12] = [
    "policy_objective",
    "kl",
    "step_accepted",
    "step_size",
    "entropy",
    "loss_v",
    "loss_q",
    "cov_cv",
    "eta",
    "grad_var_qprop",
    "grad_var_plain",
    "explained_variance",
];

/// A checkpoint: TRPO's state (the value function's and the critic's Adam in that order), the
/// critic and its target, and the replay when `experiment.checkpoint_replay` keeps it.
#[derive(Serialize, Deserialize)]
struct QPropState {
    on_policy: OnPolicyState,
    critic: SavedModule,
    critic_target: SavedModule,
    replay: Option<ReplayBuffer>,
}

fn train(cfg: &QPropConfig, session: &mut Session) -> anyhow::Result<()> {
    let natural = &cfg.natural;
    let device = session.training_device();
    let plain = session.device().clone();
    let normalization: Normalization = natural.normalization;
    let mut collector = Collector::new(session, normalization, natural.gamma, true)?;
    let spec = collector.envs.spec().clone();
    let (obs_dim, n_envs) = (collector.envs.obs_dim(), collector.envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let act_dim = action.stored_dim();
    let mut init = session.rng(Stream::Init);
    let mut model = ActorCritic::new(obs_dim, action, &natural.policy, &mut init, &device);
    let mut critic = QCritic::new(obs_dim, act_dim, &cfg.qf_net_arch, &mut init, &device);
    // The value function's Adam (ε = 1e-5, as TRPO's) and the critic's (ε = 1e-8, DDPG's).
    let mut value_optimizer = adam(1e-5);
    let mut critic_optimizer = adam(1e-8);
    // One stream for the value function's minibatch order and the critic's replay draws.
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..natural.n_steps * n_envs).collect(),
    };
    let mut buffer = RolloutBuffer::new(natural.n_steps, n_envs, obs_dim, action);
    let mut replay = ReplayBuffer::new(cfg.buffer_size, obs_dim, act_dim);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;
    let hp = cfg.update_hyperparameters();

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<QPropState>()? {
        let saved_order;
        (diagnostics, saved_order) = state.on_policy.restore(
            &mut model,
            &mut [&mut value_optimizer, &mut critic_optimizer],
            &mut collector,
        )?;
        order = saved_order.context("a Q-Prop checkpoint holds the minibatch stream")?;
        critic = QCritic {
            online: state.critic.restore(critic.online)?,
            target: state.critic_target.restore(critic.target)?,
        };
        if let Some(saved) = state.replay {
            replay = saved;
        }
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        buffer.compute_advantages(&last_values, natural.gamma, natural.gae_lambda);
        let stats;
        (model, critic, stats) = update(
            model,
            critic,
            (&mut value_optimizer, &mut critic_optimizer),
            &buffer,
            &mut replay,
            &mut order,
            &hp,
            &device,
        );
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        let keep_replay = session.checkpoint_replay();
        session.checkpoint(step, || {
            Ok(QPropState {
                on_policy: OnPolicyState::capture(
                    &model,
                    &[&value_optimizer, &critic_optimizer],
                    &collector,
                    &diagnostics,
                    Some(order.clone()),
                )?,
                critic: SavedModule::of(&critic.online)?,
                critic_target: SavedModule::of(&critic.target)?,
                replay: keep_replay.then(|| replay.clone()),
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
