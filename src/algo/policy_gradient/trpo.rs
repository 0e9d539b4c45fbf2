//! Natural policy gradient (Kakade 2002) and trust region policy optimisation (Schulman et al.
//! 2015), as sb3-contrib's TRPO implements the latter: the configs and the training loop. Both
//! collect rollouts of `n_steps` per env with PPO's collector, compute Â_t by GAE(λ) and
//! R_t = Â_t + V_old(s_t), and run [`update`]: a step along F⁻¹g scaled to the KL bound
//! `target_kl` (NPG: as it is; TRPO: backtracked until the surrogate improves inside the bound),
//! then `n_critic_updates` epochs of the value function.

use std::path::Path;

use anyhow::Context;

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::line_search::LineSearch;
use super::rollout::{Collector, Normalization};
use super::trpo_update::{NaturalGradientUpdate, update};
use super::{explained_variance, saved};
use crate::algo::flops::Pass;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::RolloutBuffer;
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, PolicyConfig, adam};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// The keys NPG and TRPO share (sb3-contrib TRPO's names and defaults).
    pub struct NaturalGradientConfig {
        /// Adam step size of the value function (the policy takes natural-gradient steps)
        learning_rate: f64 = 1e-3, positive;
        /// steps per env per rollout (rollout = n_steps × num_envs)
        n_steps: usize = 2048, nonzero;
        /// minibatch size of the value function's epochs
        batch_size: usize = 128, nonzero;
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// GAE λ ∈ [0, 1] (1: Monte Carlo advantages)
        gae_lambda: f64 = 0.95, in_closed(0.0, 1.0);
        /// standardise the advantages of each rollout
        normalize_advantage: bool = true;
        /// conjugate-gradient iterations solving (F + cg_damping I) x = g
        cg_max_steps: usize = 15, nonzero;
        /// damping added to the Fisher's diagonal, ≥ 0
        cg_damping: f64 = 0.1, non_negative;
        /// epochs of the value function per rollout
        n_critic_updates: usize = 10, nonzero;
        /// trust region δ > 0: the step's mean KL(π_old ‖ π_new)
        target_kl: f64 = 0.01, positive;
        /// the policy step uses every k-th transition of the rollout
        sub_sampling_factor: usize = 1, nonzero;
        ..normalization: Normalization;
        [policy]: PolicyConfig;
    }
    check: Self::check_nets;
}

impl NaturalGradientConfig {
    fn check_nets(&self, c: &mut Checker) {
        c.require(
            "policy.share_features_extractor",
            !self.policy.share_features_extractor,
            || {
                "must be false: a natural-gradient step bounds the policy's KL, and a shared \
                 trunk would let the critic's epochs move the policy"
                    .into()
            },
        );
    }

    pub(super) fn check_run(&self, run: &RunShape) -> CrossChecks {
        let rollout = self.n_steps * run.num_envs;
        let mut c = CrossChecks::default();
        c.require("algo.batch_size", self.batch_size <= rollout, || {
            format!(
                "{} must be at most the rollout, algo.n_steps × env.num_envs = {} × {} = {rollout}",
                self.batch_size, self.n_steps, run.num_envs
            )
        });
        c.require(
            "algo.sub_sampling_factor",
            self.sub_sampling_factor < rollout || !self.normalize_advantage,
            || {
                format!(
                    "{} leaves fewer than 2 transitions of the rollout of {rollout} for the policy step",
                    self.sub_sampling_factor
                )
            },
        );
        c
    }

    /// Per rollout: the policy step (a forward and backward pass for g, one per CG iteration
    /// and one for the step's curvature, forward passes for the line search's candidates) on
    /// the sub-sampled rollout, and the critic's minibatch steps.
    pub(super) fn update_work(&self, run: &RunShape, candidates: usize) -> UpdateWork {
        let rollout = self.n_steps * run.num_envs;
        let rollouts = run.total_steps.div_ceil(rollout as u64);
        let rows = rollout.div_ceil(self.sub_sampling_factor);
        let minibatches = self.n_critic_updates * rollout.div_ceil(self.batch_size);
        let (obs, head) = (run.obs_dim(), run.action_outputs());
        let hidden = &self.policy.net_arch[..];
        // The forward-mode pass costs about a forward pass more than the backward's.
        let passes = (self.cg_max_steps + 2) as f64;
        UpdateWork::new(rollouts)
            .mlp(Pass::Train, passes, rows, (obs, hidden, head))
            .mlp(
                Pass::Forward,
                passes + candidates as f64 + 1.0,
                rows,
                (obs, hidden, head),
            )
            .mlp(
                Pass::Train,
                minibatches as f64,
                self.batch_size,
                (obs, hidden, 1),
            )
    }
}

hyperparameters! {
    /// NPG's hyperparameters: TRPO's without the line search.
    pub struct NpgConfig {
        ..natural: NaturalGradientConfig;
    }
}

hyperparameters! {
    /// TRPO's hyperparameters (sb3-contrib's names and defaults).
    pub struct TrpoConfig {
        /// each rejected step of the line search is multiplied by this, in (0, 1]
        line_search_shrinking_factor: f64 = 0.8, in_half_open(0.0, 1.0);
        /// steps the line search tries before keeping the old policy
        line_search_max_iter: usize = 10, nonzero;
        ..natural: NaturalGradientConfig;
    }
}

impl Algorithm for NpgConfig {
    const NAME: &'static str = "npg";
    const SUMMARY: &'static str = "natural policy gradient, F⁻¹g by conjugate gradient, fixed KL-sized step + GAE (Kakade 2002)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.natural.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.natural.policy, self.natural.n_steps, run)
    }

    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        Some(self.natural.update_work(run, 0))
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        train(&self.natural, None, session)
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

impl Algorithm for TrpoConfig {
    const NAME: &'static str = "trpo";
    const SUMMARY: &'static str = "trust region policy optimisation, natural step + KL line search + GAE (Schulman et al. 2015)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.natural.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.natural.policy, self.natural.n_steps, run)
    }

    /// The line search counted at its first candidate (most are accepted there).
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        Some(self.natural.update_work(run, 1))
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        let search = LineSearch {
            shrinking_factor: self.line_search_shrinking_factor,
            max_iter: self.line_search_max_iter,
        };
        train(&self.natural, Some(search), session)
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

/// Diagnostics of one update.
const DIAGNOSTICS: [&str; 7] = [
    "policy_objective",
    "kl",
    "step_accepted",
    "step_size",
    "entropy",
    "loss_v",
    "explained_variance",
];

/// The training loop of NPG (`line_search` `None`) and TRPO.
pub fn train(
    cfg: &NaturalGradientConfig,
    line_search: Option<LineSearch>,
    session: &mut Session,
) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.normalization, cfg.gamma, true)?;
    let spec = collector.envs.spec().clone();
    let (obs_dim, n_envs) = (collector.envs.obs_dim(), collector.envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let mut model = ActorCritic::new(
        obs_dim,
        action,
        &cfg.policy,
        &mut session.rng(Stream::Init),
        &device,
    );
    // The value function's optimiser (Adam, ε = 1e-5 as SB3's policies use).
    let mut optimizer = adam(1e-5);
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..cfg.n_steps * n_envs).collect(),
    };
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;
    let hp = NaturalGradientUpdate {
        target_kl: cfg.target_kl,
        cg_max_steps: cfg.cg_max_steps,
        cg_damping: cfg.cg_damping,
        sub_sampling_factor: cfg.sub_sampling_factor,
        normalize_advantage: cfg.normalize_advantage,
        line_search,
        learning_rate: cfg.learning_rate,
        n_critic_updates: cfg.n_critic_updates,
        batch_size: cfg.batch_size,
    };

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<OnPolicyState>()? {
        let saved_order;
        (diagnostics, saved_order) =
            state.restore(&mut model, &mut [&mut optimizer], &mut collector)?;
        order = saved_order.context("a TRPO checkpoint holds the critic's minibatch order")?;
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        buffer.compute_advantages(&last_values, cfg.gamma, cfg.gae_lambda);
        let stats;
        (model, stats) = update(
            model,
            &mut optimizer,
            &buffer,
            &mut order,
            action,
            &hp,
            &device,
        );
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        session.check_finite(step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        session.checkpoint(step, || {
            OnPolicyState::capture(
                &model,
                &[&optimizer],
                &collector,
                &diagnostics,
                Some(order.clone()),
            )
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
