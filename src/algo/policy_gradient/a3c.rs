//! Asynchronous advantage actor-critic (Mnih et al. 2016, "Asynchronous Methods for Deep
//! Reinforcement Learning", Algorithm S3): `workers` threads, each with `env.num_envs` envs and
//! an exploration stream of its own, loop without waiting for each other:
//!
//! 1. copy the shared parameters, θ' ← θ (under the lock);
//! 2. collect `n_steps` per env with π_θ' and compute the n-step returns
//!    R_t = Σ_{i<k} γ^i r_{t+i} + γ^k V_θ'(s_{t+k}) (GAE(λ) with the default λ = 1 is exactly
//!    this, bootstrapped at the segment's end);
//! 3. compute, outside the lock, the gradient of A2C's loss ([`gradients`]: −log π Â + c_v
//!    (R − V)² − c_e H, eq. 9 of Mnih et al. with the entropy term of §4) at θ', clipped to the
//!    global norm;
//! 4. apply it to the shared θ with the shared optimiser (RMSprop with shared statistics, the
//!    paper's "shared RMSProp" of §4 and S3, or Adam) under a short lock: a lock rather than
//!    Hogwild's lock-free writes, since Burn's parameters are immutable tensors swapped by the
//!    optimiser step.
//!
//! Between θ' ← θ and the step other workers may have stepped θ: the gradient is stale, as in
//! the paper. The order of the workers' steps depends on the scheduler, so a run with more than
//! one worker is not reproducible (meta.json records `"deterministic": false`); with
//! `workers = 1` the one thread steps in a fixed order and a seed's run is deterministic.
//!
//! The session (episode records, evaluations, checkpoints) belongs to the main thread: each
//! worker sends it, after each step, its log of the segment ([`Collector::collect_logged`]), the
//! policy it collected with and a copy of θ after its step. The main thread counts the env steps
//! in the order the reports arrive, replays the logs, evaluates the segment's policy where an
//! evaluation falls inside it and θ after the step where one falls at its end, and evaluates
//! the final θ once every worker has stopped. Workers claim a segment's env steps from a shared
//! counter before collecting it and stop once the budget is claimed.
//!
//! A checkpoint holds θ, the optimiser state and the diagnostics. A resumed run restarts its
//! workers' envs from fresh seeds (streams of the seed, the worker and the resume step); the
//! episodes in progress at the checkpoint are not continued.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use burn::module::Module;
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use super::a2c::{A2cConfig, optimizer};
use super::a2c_update::{A2cOptimizers, A2cStats, A2cUpdate, apply, gradients};
use super::rollout::{Collector, StepLog};
use super::saved::DeterministicPolicy;
use super::{explained_variance, saved};
use crate::algo::{Algorithm, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::RolloutBuffer;
use crate::env::{Env, EnvSpec};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, SavedModule, SavedOptimizer};
use crate::rng::{Rng, Stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// A3C's hyperparameters: A2C's, and the number of workers.
    pub struct A3cConfig {
        ..a2c: A2cConfig;
        /// asynchronous worker threads, each with env.num_envs envs of its own (1: deterministic)
        workers: usize = 2, nonzero;
    }
    check: Self::check_workers;
}

impl A3cConfig {
    fn check_workers(&self, c: &mut Checker) {
        c.require(
            "normalize_obs",
            !self.a2c.normalization.normalize_obs,
            || {
                "is not supported: each A3C worker would normalise with statistics of its own"
                    .into()
            },
        );
    }
}

impl Algorithm for A3cConfig {
    const NAME: &'static str = "a3c";
    const SUMMARY: &'static str = "asynchronous advantage actor-critic, worker threads stepping shared parameters (Mnih et al. 2016)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.a2c.policy, self.a2c.n_steps * self.workers, run)
    }

    /// One update per segment of `n_steps × num_envs` rows of one worker.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let segment = self.a2c.n_steps * run.num_envs;
        let updates = run.total_steps.div_ceil(segment as u64);
        Some(super::update_work(&self.a2c.policy, run, updates, segment))
    }

    fn deterministic(&self) -> bool {
        self.workers == 1
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
        super::saved_policy(&self.a2c.policy, false, backend, env, run_dir)
    }
}

const DIAGNOSTICS: [&str; 5] = [
    "loss_pi",
    "loss_v",
    "entropy",
    "explained_variance",
    "learning_rate",
];

/// The shared parameters θ and their optimiser(s).
struct Shared {
    model: ActorCritic,
    optimizers: A2cOptimizers,
}

#[derive(Serialize, Deserialize)]
struct A3cState {
    model: SavedModule,
    optimizers: Vec<SavedOptimizer>,
    diagnostics: Vec<f64>,
}

/// What a worker tells the main thread after each of its steps.
struct Report {
    log: Vec<StepLog>,
    /// π_θ' the segment was collected with.
    acting: Acting,
    /// θ right after this worker's step.
    after: ActorCritic,
    stats: A2cStats,
    explained_variance: f64,
    learning_rate: f64,
}

/// What every worker reads.
struct Context<'a> {
    cfg: &'a A2cConfig,
    shared: &'a Mutex<Shared>,
    /// Env steps claimed by segments so far.
    claimed: &'a AtomicU64,
    stop: &'a AtomicBool,
    total: u64,
    action: ActionKind,
    obs_dim: usize,
    plain: Device,
    device: Device,
}

pub fn train(cfg: &A3cConfig, session: &mut Session) -> anyhow::Result<()> {
    let a2c = &cfg.a2c;
    let device = session.training_device();
    let plain = session.device().clone();
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;
    let resumed = session.resumed::<A3cState>()?;
    let generation = resumed.as_ref().map_or(0, |(at, _)| *at);
    let collectors = (0..cfg.workers as u64)
        .map(|w| {
            Collector::for_worker(session, a2c.normalization, a2c.gamma, true, (w, generation))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = collectors[0].envs.spec().clone();
    let obs_dim = collectors[0].envs.obs_dim();
    let action = ActionKind::of(&spec.action_space);
    let mut model = ActorCritic::new(
        obs_dim,
        action,
        &a2c.policy,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizers = A2cOptimizers {
        actor: optimizer(a2c),
        critic: a2c.separate_optimizers.then(|| optimizer(a2c)),
    };
    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = resumed {
        anyhow::ensure!(
            state.optimizers.len() == 1 + usize::from(optimizers.critic.is_some()),
            "the checkpoint has {} optimisers, the run {}",
            state.optimizers.len(),
            1 + usize::from(optimizers.critic.is_some())
        );
        model = state.model.restore(model)?;
        let mut saved = state.optimizers.into_iter();
        if let Some(s) = saved.next() {
            optimizers.actor = s.restore(optimizers.actor.clone())?;
        }
        if let (Some(critic), Some(s)) = (optimizers.critic.as_mut(), saved.next()) {
            *critic = s.restore(critic.clone())?;
        }
        diagnostics = state.diagnostics;
        step = at;
    }
    let acting = Acting::new(&model, action, obs_dim, &plain);
    collectors[0].evaluate_at_start(&acting, session, step, &diagnostics)?;

    let shared = Mutex::new(Shared { model, optimizers });
    let claimed = AtomicU64::new(step);
    let stop = AtomicBool::new(false);
    let context = Context {
        cfg: a2c,
        shared: &shared,
        claimed: &claimed,
        stop: &stop,
        total,
        action,
        obs_dim,
        plain,
        device,
    };
    let n_envs = collectors[0].envs.num_envs() as u64;
    let trained = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Report>();
        let handles: Vec<_> = collectors
            .into_iter()
            .map(|collector| {
                let (tx, context) = (tx.clone(), &context);
                scope.spawn(move || worker(collector, context, tx))
            })
            .collect();
        drop(tx);
        let main = listen(
            rx,
            session,
            &context,
            &spec,
            n_envs,
            &mut step,
            &mut diagnostics,
        );
        stop.store(true, Ordering::SeqCst);
        for handle in handles {
            handle.join().expect("an A3C worker panicked");
        }
        main
    });
    trained?;
    let model = shared.lock().expect("no worker panicked").model.clone();
    let acting = Acting::new(&model, action, obs_dim, &context.plain);
    let mut policy = DeterministicPolicy::new(acting, None, &spec);
    session.evaluate(step, &mut policy, &diagnostics)?;
    saved::save(session, &model, None)
}

/// The main thread: replays the workers' reports into `session` as they arrive, until every
/// worker has stopped (or the session fails: Ctrl-C, a non-finite loss).
fn listen(
    rx: mpsc::Receiver<Report>,
    session: &mut Session,
    context: &Context,
    spec: &EnvSpec,
    n_envs: u64,
    step: &mut u64,
    diagnostics: &mut Vec<f64>,
) -> anyhow::Result<()> {
    for report in rx {
        for log in &report.log {
            *step += n_envs;
            log.record(session, *step)?;
            log.evaluate_if_due(session, *step, &report.acting, spec, diagnostics)?;
        }
        let stats = report.stats;
        *diagnostics = vec![stats.loss_pi, stats.loss_v, stats.entropy];
        session.check_finite(*step, &DIAGNOSTICS, diagnostics.iter().copied().map(Some))?;
        diagnostics.push(report.explained_variance);
        diagnostics.push(report.learning_rate);
        session.checkpoint(*step, || {
            let shared = context.shared.lock().expect("no worker panicked");
            let mut optimizers = vec![SavedOptimizer::of(&shared.optimizers.actor)?];
            if let Some(critic) = &shared.optimizers.critic {
                optimizers.push(SavedOptimizer::of(critic)?);
            }
            Ok(A3cState {
                model: SavedModule::of(&shared.model)?,
                optimizers,
                diagnostics: diagnostics.clone(),
            })
        })?;
        // The evaluation at the budget's end waits for every worker to stop.
        if *step < session.total_steps() && session.eval_due(*step) {
            let acting = Acting::new(
                &report.after,
                context.action,
                context.obs_dim,
                &context.plain,
            );
            let mut policy = DeterministicPolicy::new(acting, None, spec);
            session.evaluate(*step, &mut policy, diagnostics)?;
        }
    }
    Ok(())
}

/// One worker's loop (steps 1–4 of the module doc) until the budget is claimed, the main
/// thread stops it or stops listening.
fn worker(mut collector: Collector, cx: &Context, tx: mpsc::Sender<Report>) {
    let cfg = cx.cfg;
    let n_envs = collector.envs.num_envs();
    let segment = (cfg.n_steps * n_envs) as u64;
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, cx.obs_dim, cx.action);
    let mut log = Vec::new();
    let separate = cfg.separate_optimizers;
    while !cx.stop.load(Ordering::SeqCst) {
        let start = cx.claimed.fetch_add(segment, Ordering::SeqCst);
        if start >= cx.total {
            break;
        }
        let local = cx.shared.lock().expect("no worker panicked").model.clone();
        // A graph of its own: the workers' forward passes must not share autodiff leaves
        // (one backward would consume the other's tape). The parameter ids stay θ's.
        let local = local.fork(&cx.device);
        let acting = Acting::new(&local, cx.action, cx.obs_dim, &cx.plain);
        let last_values = collector.collect_logged(&acting, &mut buffer, &mut log);
        buffer.compute_advantages(&last_values, cfg.gamma, cfg.gae_lambda);
        let remaining = 1.0 - ((start + segment) as f64 / cx.total as f64).min(1.0);
        let lr = if cfg.anneal_lr {
            cfg.learning_rate * remaining
        } else {
            cfg.learning_rate
        };
        let hp = A2cUpdate::new(cfg, lr);
        let (grads, stats) = gradients(&local, &buffer, &hp, separate, &cx.device);
        let after = {
            let mut guard = cx.shared.lock().expect("no worker panicked");
            let shared = &mut *guard;
            shared.model = apply(shared.model.clone(), &mut shared.optimizers, grads, lr);
            shared.model.clone()
        };
        let report = Report {
            log: std::mem::take(&mut log),
            acting,
            after,
            stats,
            explained_variance: explained_variance(&buffer.values, &buffer.returns),
            learning_rate: lr,
        };
        if tx.send(report).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `workers = 1` is the deterministic case; more workers are not.
    #[test]
    fn only_one_worker_is_deterministic() {
        let one = A3cConfig {
            workers: 1,
            ..A3cConfig::default()
        };
        assert!(one.deterministic());
        assert!(!A3cConfig::default().deterministic());
    }

    /// `workers = 0` and observation normalisation are refused, naming the key.
    #[test]
    fn zero_workers_and_normalised_observations_are_refused() {
        use crate::hyper::Hyperparameters;
        let zero = A3cConfig {
            workers: 0,
            ..A3cConfig::default()
        };
        let mut c = Checker::default();
        zero.check(&mut c);
        assert!(format!("{:?}", c).contains("workers"), "{c:?}");
        let mut normalised = A3cConfig::default();
        normalised.a2c.normalization.normalize_obs = true;
        let mut c = Checker::default();
        normalised.check(&mut c);
        assert!(format!("{:?}", c).contains("normalize_obs"), "{c:?}");
    }
}
