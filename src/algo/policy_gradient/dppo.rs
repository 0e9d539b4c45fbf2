//! Distributed PPO (Heess et al. 2017, "Emergence of Locomotion Behaviours in Rich
//! Environments", §3 and Algorithm 1 of its appendix), synchronous: `workers` workers, each with
//! `env.num_envs` envs of its own, collect a rollout of `n_steps` per env in parallel threads
//! with the same policy; each minibatch step then takes one minibatch from every worker's
//! rollout (each shuffled by the worker's own stream), computes PPO's clipped-surrogate loss
//! ([`minibatch_loss`], Schulman et al. 2017 eq. 7 with the value and entropy terms of eq. 9)
//! and its gradient per worker, and averages the gradients in worker order,
//!
//! g = (1/W) Σ_{w=1..W} ∇_θ L_w(θ),
//!
//! before clipping the average to the global norm and taking one Adam step (the chief's update
//! of Heess et al.). Everything is in a fixed order, so a seed's run is deterministic; with one
//! worker it is PPO ([`super::ppo`]) step for step: worker 0 draws the run's own streams.
//!
//! The session (episode records, evaluations) belongs to the main thread: the workers log what
//! they would tell it ([`Collector::collect_logged`]) and the main thread replays the logs step
//! by step, worker by worker, after the rollout; the policy does not change during a rollout, so
//! the evaluations are those a single collector would have made.

use std::path::Path;

use anyhow::Context;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::ppo::{DIAGNOSTICS, PpoConfig};
use super::ppo_update::{ADAM_EPSILON, MinibatchLoss, PpoStats, PpoUpdate, minibatch_loss};
use super::rollout::{Collector, CollectorState, StepLog};
use super::{explained_variance, saved};
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape, UpdateWork};
use crate::buffer::RolloutBuffer;
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::device::computes_on_host;
use crate::nn::{Acting, ActionKind, ActorCritic, Backend, adam, clip_grad_norm};
use crate::rng::{Rng, Stream, worker_stream};
use crate::session::{Policy, Session};

hyperparameters! {
    /// DPPO's hyperparameters: PPO's, and the number of workers.
    pub struct DppoConfig {
        ..ppo: PpoConfig;
        /// parallel workers, each with env.num_envs envs and a rollout of its own (1: PPO)
        workers: usize = 2, nonzero;
    }
    check: Self::check_workers;
}

impl DppoConfig {
    fn check_workers(&self, c: &mut Checker) {
        self.ppo.check_no_bonus(<Self as Algorithm>::NAME, c);
        c.require(
            "normalize_obs",
            !self.ppo.normalization.normalize_obs || self.workers == 1,
            || "needs workers = 1: each worker would normalise with statistics of its own".into(),
        );
    }
}

impl Algorithm for DppoConfig {
    const NAME: &'static str = "dppo";
    const SUMMARY: &'static str = "distributed PPO, synchronous workers, gradients averaged in a fixed order (Heess et al. 2017)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        super::check_env(Self::NAME, env)
    }

    /// PPO's checks: every worker's rollout is `n_steps × num_envs`.
    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.ppo.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        super::footprint(&self.ppo.policy, self.ppo.n_steps * self.workers, run)
    }

    /// `n_epochs` passes over each worker's rollout in minibatches of `batch_size`, a gradient
    /// per worker and minibatch.
    fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
        let ppo = &self.ppo;
        let rollout = ppo.n_steps * run.num_envs;
        let rounds = run.total_steps.div_ceil((rollout * self.workers) as u64);
        let minibatches = (ppo.n_epochs * rollout.div_ceil(ppo.batch_size) * self.workers) as u64;
        let work = super::update_work(&ppo.policy, run, rounds * minibatches, ppo.batch_size);
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
        let normalize_obs = self.ppo.normalization.normalize_obs;
        super::saved_policy(&self.ppo.policy, normalize_obs, backend, env, run_dir)
    }
}

/// A checkpoint: PPO's state with worker 0's collector and minibatch order, and the other
/// workers' collectors and orders.
#[derive(Serialize, Deserialize)]
struct DppoState {
    first: OnPolicyState,
    others: Vec<(CollectorState, MinibatchOrder)>,
}

pub fn train(cfg: &DppoConfig, session: &mut Session) -> anyhow::Result<()> {
    let ppo = &cfg.ppo;
    let device = session.training_device();
    let plain = session.device().clone();
    let workers = cfg.workers;
    let mut collectors = (0..workers as u64)
        .map(|w| Collector::for_worker(session, ppo.normalization, ppo.gamma, true, (w, 0)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = collectors[0].envs.spec().clone();
    let (obs_dim, n_envs) = (collectors[0].envs.obs_dim(), collectors[0].envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let mut model = ActorCritic::new(
        obs_dim,
        action,
        &ppo.policy,
        &mut session.rng(Stream::Init),
        &device,
    );
    let mut optimizer = adam(ADAM_EPSILON);
    let mut orders: Vec<MinibatchOrder> = (0..workers as u64)
        .map(|w| MinibatchOrder {
            rng: worker_stream(session.seed(), Stream::Minibatch, w, 0),
            indices: (0..ppo.n_steps * n_envs).collect(),
        })
        .collect();
    let mut buffers: Vec<RolloutBuffer> = (0..workers)
        .map(|_| RolloutBuffer::new(ppo.n_steps, n_envs, obs_dim, action))
        .collect();
    let mut logs: Vec<Vec<StepLog>> = vec![Vec::new(); workers];
    let total = session.total_steps();
    session.set_diagnostics(&DIAGNOSTICS)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; DIAGNOSTICS.len()];
    if let Some((at, state)) = session.resumed::<DppoState>()? {
        anyhow::ensure!(
            state.others.len() + 1 == workers,
            "the checkpoint has {} workers, the run {workers}",
            state.others.len() + 1
        );
        let saved_order;
        (diagnostics, saved_order) =
            state
                .first
                .restore(&mut model, &mut [&mut optimizer], &mut collectors[0])?;
        orders[0] = saved_order.context("a DPPO checkpoint holds its minibatch orders")?;
        for (w, (collector, order)) in state.others.into_iter().enumerate() {
            collectors[w + 1].restore(collector);
            orders[w + 1] = order;
        }
        step = at;
    }
    let mut acting = Acting::new(&model, action, obs_dim, &plain);
    collectors[0].evaluate_at_start(&acting, session, step, &diagnostics)?;
    while step < total {
        let last_values = collect(&mut collectors, &acting, &mut buffers, &mut logs);
        // The session hears of every env step in order, worker 0's first.
        for i in 0..ppo.n_steps {
            step += (n_envs * workers) as u64;
            for log in &logs {
                log[i].record(session, step)?;
            }
            logs[0][i].evaluate_if_due(session, step, &acting, &spec, &diagnostics)?;
        }
        for (buffer, last) in buffers.iter_mut().zip(&last_values) {
            buffer.compute_advantages(last, ppo.gamma, ppo.gae_lambda);
        }

        let hp = PpoUpdate::scheduled(ppo, step, total);
        let stats;
        (model, stats) = update(model, &mut optimizer, &buffers, &mut orders, &hp, &device);
        acting = Acting::new(&model, action, obs_dim, &plain);

        diagnostics = stats.row();
        let stepped = stats.minibatches > 0;
        session.check_finite(
            step,
            &DIAGNOSTICS,
            diagnostics.iter().map(|&v| stepped.then_some(v)),
        )?;
        let values: Vec<f32> = buffers.iter().flat_map(|b| b.values.clone()).collect();
        let returns: Vec<f32> = buffers.iter().flat_map(|b| b.returns.clone()).collect();
        diagnostics.push(explained_variance(&values, &returns));
        diagnostics.push(hp.learning_rate);
        session.checkpoint(step, || {
            let first = OnPolicyState::capture(
                &model,
                &[&optimizer],
                &collectors[0],
                &diagnostics,
                Some(orders[0].clone()),
            )?;
            let others = collectors[1..]
                .iter()
                .zip(&orders[1..])
                .map(|(c, o)| (c.state(), o.clone()))
                .collect();
            Ok(DppoState { first, others })
        })?;
        if session.eval_due(step) {
            session.evaluate(
                step,
                &mut collectors[0].evaluation_policy(&acting),
                &diagnostics,
            )?;
        }
    }
    saved::save(session, &model, collectors[0].obs_normalizer.as_ref())
}

/// One rollout per worker with the policy of `acting`, workers 1.. on threads of their own and
/// worker 0 on this one; returns each worker's V of its observations after the rollout.
fn collect(
    collectors: &mut [Collector],
    acting: &Acting,
    buffers: &mut [RolloutBuffer],
    logs: &mut [Vec<StepLog>],
) -> Vec<Vec<f32>> {
    let (c0, cs) = collectors.split_first_mut().expect("at least one worker");
    let (b0, bs) = buffers.split_first_mut().expect("a buffer per worker");
    let (l0, ls) = logs.split_first_mut().expect("a log per worker");
    std::thread::scope(|scope| {
        let handles: Vec<_> = cs
            .iter_mut()
            .zip(bs.iter_mut())
            .zip(ls.iter_mut())
            .map(|((c, b), l)| {
                let acting = acting.clone();
                scope.spawn(move || c.collect_logged(&acting, b, l))
            })
            .collect();
        let mut last = vec![c0.collect_logged(acting, b0, l0)];
        for handle in handles {
            last.push(handle.join().expect("a DPPO worker panicked"));
        }
        last
    })
}

/// DPPO's update of `model` on the workers' `rollouts` (one each, the same size): each epoch
/// shuffles every worker's order with its stream; each minibatch step averages the workers'
/// gradients on their `j`-th minibatches ([`average`]), clips the mean to the global norm and
/// steps. The approximate-KL stop (`target_kl`) reads the workers' mean KL. With one worker this
/// is [`super::ppo_update::update`], operation for operation.
pub fn update(
    mut model: ActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollouts: &[RolloutBuffer],
    orders: &mut [MinibatchOrder],
    hp: &PpoUpdate,
    device: &Device,
) -> (ActorCritic, PpoStats) {
    if computes_on_host(device)
        && let Some(host) = model.to_host()
    {
        return super::ppo_host::update(model, host, optimizer, rollouts, orders, hp);
    }
    let mut sums = None::<Tensor<1>>;
    let mut minibatches = 0usize;
    'epochs: for _ in 0..hp.n_epochs {
        for order in orders.iter_mut() {
            order.indices.shuffle(&mut order.rng);
        }
        let chunks = orders[0].indices.len().div_ceil(hp.batch_size);
        for j in 0..chunks {
            let losses: Vec<MinibatchLoss> = rollouts
                .iter()
                .zip(orders.iter())
                .map(|(rollout, order)| {
                    let start = j * hp.batch_size;
                    let end = (start + hp.batch_size).min(order.indices.len());
                    minibatch_loss(&model, rollout, &order.indices[start..end], hp, device)
                })
                .collect();
            if let Some(target) = hp.target_kl {
                let kl = losses
                    .iter()
                    .map(|l| f64::from(l.approx_kl.clone().into_scalar::<f32>()))
                    .sum::<f64>()
                    / losses.len() as f64;
                if kl > 1.5 * target {
                    break 'epochs;
                }
            }
            let mut grads = Vec::with_capacity(losses.len());
            for MinibatchLoss { loss, stats, .. } in losses {
                sums = Some(match sums {
                    Some(s) => s + stats,
                    None => stats,
                });
                minibatches += 1;
                grads.push(GradientsParams::from_grads(loss.backward(), &model));
            }
            let mut grads = average(&model, grads);
            clip_grad_norm(&model, &mut grads, hp.max_grad_norm);
            model = optimizer.step(hp.learning_rate, model, grads);
        }
    }
    let stats = PpoStats::mean_of(sums, minibatches);
    (model, stats)
}

/// The mean of the workers' gradients of `module`'s parameters, summed in worker order
/// (a parameter a worker has no gradient for counts as a zero); one worker's is returned as is.
pub fn average<M: Module>(module: &M, mut grads: Vec<GradientsParams>) -> GradientsParams {
    if grads.len() > 1 {
        module.visit(&mut Average { grads: &mut grads });
    }
    grads.swap_remove(0)
}

struct Average<'a> {
    grads: &'a mut [GradientsParams],
}

impl ModuleVisitor for Average<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let n = self.grads.len() as f64;
        let mut sum = None::<Tensor<D>>;
        for g in self.grads.iter_mut() {
            if let Some(x) = g.remove::<D>(param.id) {
                sum = Some(match sum {
                    Some(s) => s + x,
                    None => x,
                });
            }
        }
        if let Some(sum) = sum {
            self.grads[0].register(param.id, sum.div_scalar(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{PolicyConfig, to_vec};
    use crate::rng::stream;

    /// A rollout of 2 steps × 2 envs of a 2-dimensional task with 2 actions; `shift` moves
    /// the observations and returns.
    fn rollout(shift: f32) -> RolloutBuffer {
        let mut buf = RolloutBuffer::new(2, 2, 2, ActionKind::Discrete(2));
        buf.push(
            &[shift, 1.0, 2.0, 3.0 - shift],
            &[1.0, 0.0],
            &[-0.7, -0.6],
            &[0.5, 0.6],
        );
        buf.finish_test_step(&[1.0, 2.0], |_| false);
        buf.push(
            &[4.0, 5.0 + shift, 6.0, 7.0],
            &[0.0, 1.0],
            &[-0.8, -0.5],
            &[0.7, 0.8],
        );
        buf.finish_test_step(&[3.0, 4.0], |_| true);
        buf.advantages = vec![0.5, -1.0, 1.5 + shift, -0.5];
        buf.returns = vec![1.0, -1.0 + shift, 1.0, -1.0];
        buf
    }

    fn model(device: &Device) -> ActorCritic {
        let policy = PolicyConfig {
            net_arch: vec![8],
            ..PolicyConfig::default()
        };
        let mut rng = stream(3, Stream::Init);
        ActorCritic::new(2, ActionKind::Discrete(2), &policy, &mut rng, device)
    }

    fn grads_of(model: &ActorCritic, buf: &RolloutBuffer, device: &Device) -> GradientsParams {
        let hp = PpoUpdate::new(&PpoConfig::default(), 1e-3, 0.2);
        let loss = minibatch_loss(model, buf, &[0, 1, 2, 3], &hp, device).loss;
        GradientsParams::from_grads(loss.backward(), model)
    }

    /// The average of two workers' gradients is the gradient of their mean loss (linearity),
    /// parameter by parameter; one worker's gradient passes through untouched.
    #[test]
    fn the_average_gradient_is_the_gradient_of_the_mean_loss() {
        let device = Device::flex().autodiff();
        let model = model(&device);
        let (a, b) = (rollout(0.0), rollout(1.0));
        let averaged = average(
            &model,
            vec![grads_of(&model, &a, &device), grads_of(&model, &b, &device)],
        );
        let hp = PpoUpdate::new(&PpoConfig::default(), 1e-3, 0.2);
        let all = [0, 1, 2, 3];
        let mean = (minibatch_loss(&model, &a, &all, &hp, &device).loss
            + minibatch_loss(&model, &b, &all, &hp, &device).loss)
            .div_scalar(2.0);
        let expected = GradientsParams::from_grads(mean.backward(), &model);
        let (got, want) = (flat(&model, &averaged), flat(&model, &expected));
        assert_eq!(got.len(), want.len());
        assert!(!got.is_empty());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
        let single = flat(&model, &grads_of(&model, &a, &device));
        let passed = average(&model, vec![grads_of(&model, &a, &device)]);
        assert_eq!(flat(&model, &passed), single);
    }

    /// The host-side update with two workers holding the same rollout in the same order is the
    /// one-worker update bit for bit ((g + g)/2 = g, and the mean KL is the one KL), and the
    /// statistics count both workers' minibatches.
    #[test]
    fn two_identical_workers_update_as_one() {
        let device = Device::flex().autodiff();
        let hp = PpoUpdate {
            batch_size: 2,
            n_epochs: 3,
            ..PpoUpdate::new(&PpoConfig::default(), 1e-2, 0.2)
        };
        let order = || MinibatchOrder {
            rng: stream(5, Stream::Minibatch),
            indices: vec![0, 1, 2, 3],
        };
        let run = |workers: usize| {
            let rollouts: Vec<RolloutBuffer> = (0..workers).map(|_| rollout(0.5)).collect();
            let mut orders = vec![order(); workers];
            let mut optimizer = adam(ADAM_EPSILON);
            let (model, stats) = update(
                model(&device),
                &mut optimizer,
                &rollouts,
                &mut orders,
                &hp,
                &device,
            );
            (flat_params(&model), stats)
        };
        let ((one, one_stats), (two, two_stats)) = (run(1), run(2));
        assert_eq!(one, two);
        assert_eq!(one_stats.minibatches * 2, two_stats.minibatches);
        assert_eq!(one_stats.loss_pi, two_stats.loss_pi);
        assert_ne!(
            one,
            flat_params(&model(&device)),
            "the update moved the parameters"
        );
    }

    fn flat_params(model: &ActorCritic) -> Vec<u32> {
        struct Bits(Vec<u32>);
        impl ModuleVisitor for Bits {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0
                    .extend(to_vec(param.val()).iter().map(|x| x.to_bits()));
            }
        }
        let mut bits = Bits(Vec::new());
        model.visit(&mut bits);
        bits.0
    }

    /// Every parameter's gradient in `grads`, flattened in visiting order.
    fn flat(model: &ActorCritic, grads: &GradientsParams) -> Vec<f32> {
        struct Flat<'a> {
            grads: &'a GradientsParams,
            out: Vec<f32>,
        }
        impl ModuleVisitor for Flat<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if let Some(g) = self.grads.get::<D>(param.id) {
                    self.out.extend(to_vec(g));
                }
            }
        }
        let mut visitor = Flat {
            grads,
            out: Vec::new(),
        };
        model.visit(&mut visitor);
        visitor.out
    }
}
