//! MBPO: model-based policy optimisation (Janner et al. 2019, "When to trust your model",
//! Algorithm 2). The PETS ensemble (B probabilistic networks on bootstraps, [`crate::model`])
//! is refitted to the env's transitions D_env every `model_train_freq` env steps, with a share
//! `holdout_ratio` held out to rank the members; the `num_elites` best are the elites. After
//! each fit, `rollout_batch_size` k-step rollouts of the current policy branch from states of
//! D_env into the model buffer D_model (k from the schedule [a, b, x, y] over epochs of
//! `epoch_length` env steps; each step from a random elite); D_model keeps the rollouts of the
//! last `model_retain_epochs` epochs. Every env step takes `utd_ratio` SAC updates (the plain
//! [`sac_update::update`]) on minibatches of `real_ratio` env and 1 − `real_ratio` model rows.
//!
//! The reward of a model transition is the env's known r(s, a) (Pendulum-v1 states it): the
//! paper's model also predicts r, this one learns only the dynamics. Model rollouts never
//! terminate: MBPO runs only on envs that state a known reward and never terminate.

use std::path::Path;

use burn::module::Module;
use rand::RngExt;
use rand::seq::SliceRandom;

use super::branched_rollout::Branch;
use super::mixture::{sample_mixture, split};
use super::rollout_schedule::RolloutSchedule;
use crate::algo::actor_critic::collect::Collector;
use crate::algo::actor_critic::sac::SacConfig;
use crate::algo::actor_critic::sac_update::{self, SacNets, SacOptimizers, SacUpdate, normals};
use crate::algo::actor_critic::saved::{self, Actor, ActorKind, ActorPolicy, MODEL_FILE};
use crate::algo::actor_critic::{ActionBox, ActorCriticNets};
use crate::algo::diagnostics::DeviceMeans;
use crate::algo::off_policy::Replay;
use crate::algo::off_policy_config::OffPolicyConfig;
use crate::algo::{Algorithm, Kind};
use crate::buffer::{ReplayBatch, ReplayBuffer};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::model::elites::elites;
use crate::model::fit::{FitOptions, fit};
use crate::model::transitions::Transitions;
use crate::nn::actors::SquashedGaussianActor;
use crate::nn::{Backend, matrix, to_vec};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// Hyperparameters of MBPO (the paper's and its reference code's names; SAC's keys as in
    /// `sac`).
    pub struct MbpoConfig {
        /// B, probabilistic networks in the ensemble, each on its own bootstrap
        ensemble_size: usize = 7, nonzero;
        /// members with the lowest held-out error that model rollouts draw from, ≤ ensemble_size
        num_elites: usize = 5, nonzero;
        /// hidden layer sizes of each model network (ReLU)
        model_net_arch: Vec<usize> = vec![200, 200, 200, 200], all_nonzero;
        /// passes over the (bootstrapped) data per model fit
        model_epochs: usize = 5, nonzero;
        /// transitions per member per model gradient step
        model_batch_size: usize = 256, nonzero;
        /// Adam step size of the model
        model_learning_rate: f64 = 1e-3, positive;
        /// share of D_env held out of each fit to rank the members, in [0, 1) (0: rank on the fitted data)
        holdout_ratio: f64 = 0.2, in_closed_open(0.0, 1.0);
        /// env steps of uniformly random actions before the first fit
        init_exploration_steps: u64 = 5000, nonzero;
        /// refit the model and branch new rollouts every this many env steps
        model_train_freq: u64 = 250, nonzero;
        /// M, rollouts branched from states of D_env after each fit
        rollout_batch_size: usize = 100_000, nonzero;
        /// a of the schedule [a, b, x, y]: the rollout length is x up to this epoch
        rollout_min_epoch: u64 = 20;
        /// b of the schedule: the rollout length is y from this epoch (> a)
        rollout_max_epoch: u64 = 100;
        /// x of the schedule, the first rollout length k
        rollout_min_length: usize = 1, nonzero;
        /// y of the schedule, the last rollout length k
        rollout_max_length: usize = 15, nonzero;
        /// env steps per epoch of the schedule
        epoch_length: u64 = 1000, nonzero;
        /// epochs of model rollouts D_model keeps
        model_retain_epochs: usize = 1, nonzero;
        /// share of each SAC minibatch drawn from D_env, in [0, 1]
        real_ratio: f64 = 0.05, in_closed(0.0, 1.0);
        /// G, SAC gradient steps per env step
        utd_ratio: usize = 20, nonzero;
        /// SAC: Adam step size of the actor, the critics and the temperature
        learning_rate: f64 = 3e-4, positive;
        /// SAC: transitions per gradient step
        batch_size: usize = 256, nonzero;
        /// capacity of D_env in transitions
        buffer_size: usize = 1_000_000, nonzero;
        /// SAC: target update θ' ← (1 − τ)θ' + τθ, τ ∈ (0, 1]
        tau: f64 = 0.005, in_half_open(0.0, 1.0);
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// SAC: entropy temperature α > 0 (the initial value when learned)
        ent_coef: f64 = 1.0, positive;
        /// SAC: learn α towards the target entropy
        learn_ent_coef: bool = true;
        /// SAC: entropy target H̄ of the learned α (unset: −dim(A))
        target_entropy: Option<f64> = None, finite;
        /// SAC: gradient steps between target updates
        target_update_interval: usize = 1, nonzero;
        [policy]: ActorCriticNets;
    }
    check: Self::check_consistency;
}

impl MbpoConfig {
    fn check_consistency(&self, c: &mut Checker) {
        c.require("num_elites", self.num_elites <= self.ensemble_size, || {
            format!(
                "must be at most ensemble_size = {}, got {}",
                self.ensemble_size, self.num_elites
            )
        });
        c.require(
            "rollout_max_epoch",
            self.rollout_max_epoch > self.rollout_min_epoch,
            || {
                format!(
                    "must exceed rollout_min_epoch = {} (the schedule is linear between them), \
                     got {}",
                    self.rollout_min_epoch, self.rollout_max_epoch
                )
            },
        );
    }

    /// SAC's settings of these keys (its replay and schedule keys are MBPO's own).
    pub fn sac(&self) -> SacConfig {
        SacConfig {
            off_policy: OffPolicyConfig {
                learning_rate: self.learning_rate,
                buffer_size: self.buffer_size,
                learning_starts: self.init_exploration_steps,
                batch_size: self.batch_size,
                tau: self.tau,
                gamma: self.gamma,
                ..OffPolicyConfig::default()
            },
            ent_coef: self.ent_coef,
            learn_ent_coef: self.learn_ent_coef,
            target_entropy: self.target_entropy,
            target_update_interval: self.target_update_interval,
            policy: self.policy.clone(),
            ..SacConfig::default()
        }
    }

    pub fn schedule(&self) -> RolloutSchedule {
        RolloutSchedule {
            min_epoch: self.rollout_min_epoch,
            max_epoch: self.rollout_max_epoch,
            min_length: self.rollout_min_length,
            max_length: self.rollout_max_length,
        }
    }

    /// The capacity of D_model: the rollouts of `model_retain_epochs` epochs at the longest k.
    pub fn model_buffer_size(&self) -> usize {
        let fits_per_epoch = self.epoch_length.div_ceil(self.model_train_freq) as usize;
        self.model_retain_epochs
            * fits_per_epoch
            * self.rollout_batch_size
            * self.rollout_max_length
    }
}

impl Algorithm for MbpoConfig {
    const NAME: &'static str = "mbpo";
    const SUMMARY: &'static str = "MBPO: SAC on k-step branched rollouts of a probabilistic ensemble mixed with real data (Janner et al. 2019)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, num_envs: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env, num_envs)?;
        let spec = env.spec();
        match env.known_reward() {
            Some(r) if r.terminates() => Err((
                "env.id",
                format!(
                    "{} rolls out a learned model of the dynamics only, without a termination \
                     function, and {} can terminate",
                    Self::NAME,
                    spec.id
                ),
            )),
            _ => Ok(()),
        }
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
        Ok(Box::new(saved::load(
            &self.policy,
            kind,
            backend,
            env,
            run_dir,
        )?))
    }
}

/// curve.csv's diagnostics: SAC's means since the last row; the model's training loss (last
/// epoch of the last fit), the elites' mean one-step squared error on the held-out transitions
/// and the members' disagreement there (normalised Δs); the current rollout length k and
/// model transitions simulated per env step so far.
pub const DIAGNOSTICS: [&str; 10] = [
    "loss_pi",
    "loss_q",
    "alpha",
    "entropy",
    "q_mean",
    "model_loss",
    "model_mse_holdout",
    "disagreement",
    "rollout_length",
    "model_steps",
];

const SAC_COLUMNS: usize = 5;

pub fn train(cfg: &MbpoConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let sac = cfg.sac();
    let mut collector = Collector::new(session, cfg.gamma)?;
    let (obs_dim, act_dim) = (collector.obs_dim(), collector.act_dim());
    let mut init = session.rng(Stream::Init);
    let (mut learned, _) = super::new_model(
        session,
        cfg.ensemble_size,
        &cfg.model_net_arch,
        true,
        &mut init,
    )?;
    let mut nets = SacNets::new(obs_dim, act_dim, &sac, &mut init, &device);
    let mut optimizers = SacOptimizers::default();
    let hp = SacUpdate::new(&sac, act_dim);
    let mut explore = session.rng(Stream::Explore);
    let mut minibatch = session.rng(Stream::Minibatch);
    let env = session.make_env()?;
    let reward = env
        .known_reward()
        .expect("check_env requires a known reward");
    let action_box: ActionBox = collector.action_box.clone();
    let fit_options = FitOptions {
        epochs: cfg.model_epochs,
        batch_size: cfg.model_batch_size,
        learning_rate: cfg.model_learning_rate,
    };
    let schedule = cfg.schedule();
    let counts = split(cfg.batch_size, cfg.real_ratio);

    let mut real = Replay::new(cfg.buffer_size, obs_dim, act_dim, None);
    let mut model_buffer = ReplayBuffer::new(cfg.model_buffer_size(), obs_dim, act_dim);
    let mut data = Transitions::new(obs_dim, act_dim);
    let (mut batch, mut scratch, mut starts) = (
        ReplayBatch::default(),
        ReplayBatch::default(),
        ReplayBatch::default(),
    );
    let mut stats = DeviceMeans::new(&DIAGNOSTICS[..SAC_COLUMNS]);
    let mut model_diagnostics = [f64::NAN; DIAGNOSTICS.len() - SAC_COLUMNS];
    let mut model_steps = 0usize;
    let snapshot = |actor: &SquashedGaussianActor| {
        ActorPolicy::new(
            &Actor::Squashed(actor.clone()),
            obs_dim,
            action_box.clone(),
            &plain,
        )
    };
    session.set_diagnostics(&DIAGNOSTICS)?;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    session.evaluate(0, &mut snapshot(&nets.actor), &diagnostics)?;

    let mut acting = nets.actor.valid();
    let (mut step, mut fitted) = (0u64, false);
    let mut actions = vec![0.0f32; act_dim];
    let mut env_action = vec![0.0f32; act_dim];
    while step < session.total_steps() {
        if step < cfg.init_exploration_steps {
            actions.fill_with(|| explore.random_range(-1.0..=1.0));
        } else {
            let noise = matrix(&normals(&mut explore, act_dim), act_dim, &plain);
            actions = to_vec(
                acting
                    .sample(matrix(&collector.obs, obs_dim, &plain), noise)
                    .0,
            );
        }
        let obs = collector.obs.clone();
        let ended = collector.step(&actions, &mut real, session, &mut step)?;
        let next = if ended[0] {
            collector.envs.final_observation(0)
        } else {
            collector.envs.observation(0)
        };
        action_box.to_env(&actions, &mut env_action);
        data.push(&obs, &env_action, next);

        if step >= cfg.init_exploration_steps
            && (step - cfg.init_exploration_steps).is_multiple_of(cfg.model_train_freq)
        {
            // Fit on D_env less a random held-out share, rank the members there.
            let mut order: Vec<usize> = (0..data.len()).collect();
            order.shuffle(&mut minibatch);
            let held = (data.len() as f64 * cfg.holdout_ratio) as usize;
            let (held_out, fitted_on) = order.split_at(held);
            let train_data = data.subset(fitted_on);
            let holdout = if held > 0 {
                data.subset(held_out)
            } else {
                train_data.clone()
            };
            model_diagnostics[0] = fit(&mut learned, &train_data, &fit_options, &mut minibatch);
            if !model_diagnostics[0].is_finite() {
                session.non_finite(step, "the model's loss", model_diagnostics[0])?;
            }
            let model = learned.model();
            let errors = model.member_errors(&holdout);
            let elite = elites(&errors, cfg.num_elites);
            model_diagnostics[1] =
                elite.iter().map(|&b| errors[b]).sum::<f64>() / elite.len() as f64;
            model_diagnostics[2] = model
                .one_step_error(&holdout, 0..holdout.len())
                .disagreement;

            // Branch rollouts of the current policy from states of D_env.
            let k = schedule.length(step / cfg.epoch_length);
            model_diagnostics[3] = k as f64;
            real.sample(cfg.rollout_batch_size, 0.0, &mut minibatch, &mut starts);
            let branch = Branch {
                model: &model,
                elites: &elite,
                reward,
                action_box: &action_box,
                gamma: cfg.gamma as f32,
            };
            let policy = |obs: &[f32]| {
                let n = obs.len() / obs_dim;
                let noise = matrix(&normals(&mut explore, n * act_dim), act_dim, &plain);
                to_vec(acting.sample(matrix(obs, obs_dim, &plain), noise).0)
            };
            model_steps += branch.rollout(
                &starts.observations,
                k,
                policy,
                &mut minibatch,
                &mut model_buffer,
            );
            fitted = true;
        }

        if fitted {
            for _ in 0..cfg.utd_ratio {
                sample_mixture(
                    &real,
                    &model_buffer,
                    counts,
                    &mut minibatch,
                    &mut scratch,
                    &mut batch,
                );
                let step_stats;
                (nets, step_stats) =
                    sac_update::update(nets, &mut optimizers, &batch, &hp, &mut minibatch, &device);
                stats.add(step, step_stats.row());
            }
            acting = nets.actor.valid();
        }
        if session.eval_due(step) {
            diagnostics = stats.take(session)?;
            model_diagnostics[4] = model_steps as f64 / step as f64;
            diagnostics.extend_from_slice(&model_diagnostics);
            session.evaluate(step, &mut snapshot(&nets.actor), &diagnostics)?;
        }
        session.tick(step)?;
    }
    session.save_artifact(MODEL_FILE, &snapshot(&nets.actor).to_bytes()?)
}
