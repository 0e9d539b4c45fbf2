//! PPO's minibatch loss and its gradient on the host, for the CPU backends (issue #22).
//!
//! The same L as [`super::ppo_update::minibatch_loss`], differentiated by hand and carried
//! through the networks by [`HostActorCritic::backward`]. Per row i of B, with
//! r = exp(log π(a|s) − log π_old(a|s)):
//!
//! - surrogate: ∂L/∂log π = −r Â / B where r Â is the smaller of the two terms or r lies in
//!   [1 − ε, 1 + ε] (the clipped term's slope is r there), else 0;
//! - entropy bonus: ∂L/∂H = −c_e / B;
//! - value loss: ∂L/∂V = −c_v ℓ′(R − V′) (∂V′/∂V) / B, with V′ = V, or the clipped
//!   V_old + clip(V − V_old, −c, c) (∂V′/∂V = 1 inside the clip, 0 outside), whichever term the
//!   value clipping uses; ℓ′(e) = 2e, or clamp(e, −δ, δ) for Huber's loss.
//!
//! The result equals Burn's autodiff of the tensor loss up to the order of floating-point sums
//! (tested).

use burn::optim::ModuleOptimizer;
use rand::seq::SliceRandom;

use super::checkpoint::MinibatchOrder;
use super::ppo_update::{ADAM_EPSILON, PpoStats, PpoUpdate, ValueClip};
use crate::buffer::{HostMinibatch, RolloutBuffer};
use crate::nn::ActorCritic;
use crate::nn::host_adam::HostAdam;
use crate::nn::host_policy::{HostActorCritic, HostWorkspace};

/// ℓ(e) and ℓ′(e): e², or Huber's loss with threshold δ.
fn loss_and_slope(e: f32, huber_delta: Option<f64>) -> (f32, f32) {
    match huber_delta {
        None => (e * e, 2.0 * e),
        Some(delta) => {
            let delta = delta as f32;
            let quadratic = e.abs().min(delta);
            (
                0.5 * quadratic * quadratic + delta * (e.abs() - quadratic),
                e.clamp(-delta, delta),
            )
        }
    }
}

/// ℓ of row i's value error and ∂ℓ/∂V, with V clipped as `hp.value_clip` says.
fn value_term(value: f32, old_value: f32, ret: f32, hp: &PpoUpdate) -> (f32, f32) {
    let plain = || {
        let (l, slope) = loss_and_slope(ret - value, hp.huber_delta);
        (l, -slope)
    };
    let clipped = |c: f64| {
        let c = c as f32;
        let moved = value - old_value;
        let (l, slope) = loss_and_slope(ret - (old_value + moved.clamp(-c, c)), hp.huber_delta);
        let inside = (-c..=c).contains(&moved);
        (l, if inside { -slope } else { 0.0 })
    };
    match hp.value_clip {
        ValueClip::Off => plain(),
        ValueClip::Clipped(c) => clipped(c),
        ValueClip::Pessimistic(c) => {
            let (a, b) = (plain(), clipped(c));
            if a.0 >= b.0 { a } else { b }
        }
    }
}

/// L's gradient on `mb` (advantages already standardised as `hp` asks), before clipping, into
/// `ws.grads`; returns the minibatch's loss_pi, loss_v, entropy, approx_kl and clip_fraction.
pub fn minibatch_gradient(
    model: &HostActorCritic,
    mb: &HostMinibatch,
    hp: &PpoUpdate,
    ws: &mut HostWorkspace,
) -> [f64; 5] {
    let batch = mb.len();
    model.forward(&mb.observations, &mb.actions, batch, ws);
    let fwd = &*ws;
    let n = batch as f32;
    let clip = hp.clip_range as f32;
    let (mut d_log_prob, mut d_values) = (vec![0.0; batch], vec![0.0; batch]);
    let mut sums = [0.0f64; 5];
    for i in 0..batch {
        let log_ratio = fwd.log_prob[i] - mb.old_log_probs[i];
        let ratio = log_ratio.exp();
        let advantage = mb.advantages[i];
        let unclipped = advantage * ratio;
        let clipped = advantage * ratio.clamp(1.0 - clip, 1.0 + clip);
        let inside = (1.0 - clip..=1.0 + clip).contains(&ratio);
        d_log_prob[i] = if unclipped <= clipped || inside {
            -unclipped / n
        } else {
            0.0
        };
        let (value_loss, value_slope) =
            value_term(fwd.values[i], mb.old_values[i], mb.returns[i], hp);
        d_values[i] = hp.vf_coef as f32 * value_slope / n;
        sums[0] -= f64::from(unclipped.min(clipped));
        sums[1] += f64::from(value_loss);
        sums[2] += f64::from(fwd.entropy[i]);
        sums[3] += f64::from((ratio - 1.0) - log_ratio);
        sums[4] += f64::from(u8::from((ratio - 1.0).abs() > clip));
    }
    let d_entropy = vec![-(hp.ent_coef as f32) / n; batch];
    model.backward(ws, &mb.actions, &d_log_prob, &d_entropy, &d_values);
    sums.map(|s| s / batch as f64)
}

/// PPO's update (DPPO's, with several workers) of `model` on `rollouts`, one per worker, with
/// host-side passes from `host`, `model.to_host()` (the caller checked that the device computes
/// on the host). Each epoch shuffles every worker's order with its stream; minibatch j averages the
/// workers' gradients on their j-th chunks (summed in worker order, then divided by their number,
/// as [`super::dppo::average`]), clips the mean to the global norm and takes an Adam step; the
/// approximate-KL stop reads the workers' mean KL. With one worker this is
/// [`super::ppo_update::update`]'s loop. The parameters and their Adam state ([`HostAdam`]) stay
/// on the host from the first minibatch to the last.
pub fn update(
    model: ActorCritic,
    mut host: HostActorCritic,
    optimizer: &mut ModuleOptimizer,
    rollouts: &[RolloutBuffer],
    orders: &mut [MinibatchOrder],
    hp: &PpoUpdate,
) -> (ActorCritic, PpoStats) {
    let mut adam = HostAdam::take(optimizer, &model, ADAM_EPSILON);
    let mut sums = None::<Vec<f64>>;
    let mut stepped = 0usize;
    let mut ws: Vec<HostWorkspace> = rollouts.iter().map(|_| HostWorkspace::default()).collect();
    let workers = rollouts.len() as f32;
    'epochs: for _ in 0..hp.n_epochs {
        for order in orders.iter_mut() {
            order.indices.shuffle(&mut order.rng);
        }
        for j in 0..orders[0].indices.len().div_ceil(hp.batch_size) {
            let stats: Vec<[f64; 5]> = rollouts
                .iter()
                .zip(orders.iter())
                .zip(ws.iter_mut())
                .map(|((rollout, order), ws)| {
                    let start = j * hp.batch_size;
                    let end = (start + hp.batch_size).min(order.indices.len());
                    let mb =
                        rollout.host_minibatch(&order.indices[start..end], hp.normalize_advantage);
                    minibatch_gradient(&host, &mb, hp, ws)
                })
                .collect();
            let kl = stats.iter().map(|s| s[3]).sum::<f64>() / stats.len() as f64;
            if hp.target_kl.is_some_and(|target| kl > 1.5 * target) {
                break 'epochs;
            }
            let sums = sums.get_or_insert_with(|| vec![0.0; 5]);
            for stats in &stats {
                sums.iter_mut().zip(stats).for_each(|(s, x)| *s += x);
            }
            stepped += stats.len();
            let (first, rest) = ws.split_first_mut().expect("at least one worker");
            let grads = &mut first.grads;
            if !rest.is_empty() {
                for other in rest.iter() {
                    grads.add(&other.grads);
                }
                grads.values_mut().for_each(|g| *g /= workers);
            }
            grads.clip_global_norm(hp.max_grad_norm);
            adam.step(host.params_mut(), grads.params(), hp.learning_rate);
        }
    }
    let model = adam.put(optimizer, model, host.into_params());
    (model, PpoStats::from_sums(sums, stepped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::host_policy::tests::model;
    use crate::nn::{ActionKind, Activation, ActorCritic, to_vec};
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::prelude::*;

    /// A minibatch of 6 rows with ratios spread across the clip range (old log-probabilities
    /// offset from the current ones), advantages of both signs and value errors beyond δ = 1.
    fn minibatch(obs_dim: usize, action: ActionKind, model: &HostActorCritic) -> HostMinibatch {
        let b = 6;
        let observations: Vec<f32> = (0..b * obs_dim)
            .map(|i| ((i as f32) * 0.61).sin() * 1.5)
            .collect();
        let (discrete, act_dim, actions): (bool, usize, Vec<f32>) = match action {
            ActionKind::Discrete(n) => (true, 1, (0..b).map(|i| (i % n) as f32).collect()),
            ActionKind::Continuous(d) => (
                false,
                d,
                (0..b * d).map(|i| ((i as f32) * 1.3).cos()).collect(),
            ),
        };
        let mut fwd = HostWorkspace::default();
        model.forward(&observations, &actions, b, &mut fwd);
        let offsets = [-0.5, -0.15, -0.05, 0.05, 0.15, 0.5];
        HostMinibatch {
            obs_dim,
            act_dim,
            discrete,
            old_log_probs: fwd
                .log_prob
                .iter()
                .zip(offsets)
                .map(|(l, o)| l + o)
                .collect(),
            old_values: fwd.values.iter().map(|v| v + 0.3).collect(),
            advantages: vec![1.2, -0.7, 0.4, -1.5, 0.9, -0.2],
            returns: vec![2.5, -1.0, 0.2, 3.0, -2.5, 0.1],
            observations,
            actions,
        }
    }

    /// `ppo_update`'s test settings with an entropy bonus, a value coefficient and clipping that
    /// bites, on raw advantages.
    fn hp(value_clip: ValueClip, huber_delta: Option<f64>) -> PpoUpdate {
        PpoUpdate {
            normalize_advantage: false,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            batch_size: 6,
            ..crate::algo::policy_gradient::ppo_update::tests::hp(value_clip, huber_delta)
        }
    }

    /// Every parameter's gradient, in visiting order, from Burn gradients.
    fn burn_grads(model: &ActorCritic, grads: &GradientsParams) -> Vec<Vec<f32>> {
        struct Collect<'a>(&'a GradientsParams, Vec<Vec<f32>>);
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let g = self
                    .0
                    .get::<D>(param.id)
                    .expect("every parameter has a gradient");
                self.1.push(to_vec(g));
            }
        }
        let mut c = Collect(grads, Vec::new());
        model.visit(&mut c);
        c.1
    }

    /// The host gradient and statistics equal Burn's autodiff of the tensor loss, for both
    /// heads, both activations and every value-loss variant.
    #[test]
    fn host_gradient_matches_burn_autodiff() {
        let device = Device::flex().autodiff();
        let plain = device.clone().inner();
        let heads = [ActionKind::Discrete(3), ActionKind::Continuous(2)];
        let variants = [
            (ValueClip::Off, None),
            (ValueClip::Clipped(0.2), None),
            (ValueClip::Pessimistic(0.2), Some(1.0)),
            (ValueClip::Off, Some(1.0)),
        ];
        for (k, action) in heads.into_iter().enumerate() {
            for activation in [Activation::Tanh, Activation::Relu] {
                let model = model(4, action, &[8, 5], activation, k as u64, &device);
                let host = model.to_host().expect("separate nets");
                let mb = minibatch(4, action, &host);
                for (value_clip, huber) in variants {
                    let hp = hp(value_clip, huber);
                    let mut ws = HostWorkspace::default();
                    let stats = minibatch_gradient(&host, &mb, &hp, &mut ws);
                    let loss = crate::algo::policy_gradient::ppo_update::loss_on(
                        &model,
                        mb.clone().to_tensors(&device),
                        &hp,
                    );
                    let want_stats = to_vec(loss.stats);
                    for (got, want) in stats.iter().zip(&want_stats) {
                        assert!(
                            (got - f64::from(*want)).abs() < 1e-5,
                            "{action:?} {activation:?} {value_clip:?}: stats {stats:?} vs {want_stats:?}"
                        );
                    }
                    let grads = GradientsParams::from_grads(loss.loss.backward(), &model);
                    let want = burn_grads(&model, &grads);
                    let got = burn_grads(&model, &model.gradients_params(&ws.grads, &plain));
                    for (p, (got, want)) in got.iter().zip(&want).enumerate() {
                        for (g, w) in got.iter().zip(want) {
                            assert!(
                                (g - w).abs() < 1e-5 + 1e-4 * w.abs(),
                                "{action:?} {activation:?} {value_clip:?} parameter {p}: \
                                 {got:?} vs {want:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Two whole updates (3 epochs of 4 minibatches each, Adam state carried from the first to
    /// the second) on the host and through Burn's autodiff end within float rounding of each
    /// other: parameters within 1e-4 (relative), statistics within 1e-4.
    #[test]
    fn a_host_update_tracks_burns_update() {
        use crate::algo::policy_gradient::checkpoint::MinibatchOrder;
        use crate::algo::policy_gradient::ppo_update::burn_update;
        use crate::nn::adam;
        use crate::rng::{Stream, stream};
        let device = Device::flex().autodiff();
        let (n_steps, n_envs, obs_dim) = (8, 4, 4);
        let mut buf = RolloutBuffer::new(n_steps, n_envs, obs_dim, ActionKind::Discrete(3));
        let wave = |i: usize, f: f32| ((i as f32) * f).sin();
        for t in 0..n_steps {
            let obs: Vec<f32> = (0..n_envs * obs_dim)
                .map(|i| wave(t * 31 + i, 0.7))
                .collect();
            let actions: Vec<f32> = (0..n_envs).map(|e| ((t + e) % 3) as f32).collect();
            let log_probs: Vec<f32> = (0..n_envs).map(|e| -1.1 + 0.2 * wave(t + e, 1.3)).collect();
            let values: Vec<f32> = (0..n_envs).map(|e| wave(t * 7 + e, 0.9)).collect();
            buf.push(&obs, &actions, &log_probs, &values);
            let rewards: Vec<f64> = (0..n_envs)
                .map(|e| f64::from(wave(t + 3 * e, 2.1)))
                .collect();
            buf.finish_test_step(&rewards, |e| (t + e) % 5 == 0);
        }
        let n = n_steps * n_envs;
        buf.advantages = (0..n).map(|i| 1.5 * wave(i, 0.37)).collect();
        buf.returns = (0..n).map(|i| wave(i, 0.53) * 2.0).collect();
        let hp = PpoUpdate {
            normalize_advantage: true,
            batch_size: 8,
            n_epochs: 3,
            learning_rate: 3e-3,
            ..hp(ValueClip::Clipped(0.2), None)
        };
        let start = model(
            obs_dim,
            ActionKind::Discrete(3),
            &[16, 16],
            Activation::Tanh,
            9,
            &device,
        );
        let order = || MinibatchOrder {
            rng: stream(11, Stream::Minibatch),
            indices: (0..n).collect(),
        };
        let initial = params(&start);
        let (mut ours, mut theirs) = (start.clone(), start);
        let (mut our_adam, mut their_adam) = (adam(ADAM_EPSILON), adam(ADAM_EPSILON));
        let (mut our_order, mut their_order) = (order(), order());
        for round in 0..2 {
            let host = ours.to_host().expect("separate nets");
            let (o, our_stats) = update(
                ours,
                host,
                &mut our_adam,
                std::slice::from_ref(&buf),
                std::slice::from_mut(&mut our_order),
                &hp,
            );
            let (t, their_stats) = burn_update(
                theirs,
                &mut their_adam,
                &buf,
                &mut their_order,
                &hp,
                &device,
            );
            (ours, theirs) = (o, t);
            assert_eq!(our_stats.minibatches, their_stats.minibatches);
            for (g, w) in our_stats.row().iter().zip(their_stats.row()) {
                assert!(
                    (g - w).abs() < 1e-4,
                    "round {round}: {our_stats:?} vs {their_stats:?}"
                );
            }
            let (a, b) = (params(&ours), params(&theirs));
            let moved = a
                .iter()
                .zip(&initial)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(
                moved > 1e-3,
                "round {round}: the update moved the parameters"
            );
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                    "round {round}: {x} vs {y}"
                );
            }
        }
    }

    fn params(model: &ActorCritic) -> Vec<f32> {
        struct Values(Vec<f32>);
        impl ModuleVisitor for Values {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(to_vec(param.val()));
            }
        }
        let mut values = Values(Vec::new());
        model.visit(&mut values);
        values.0
    }

    /// ‖g‖ = √(3² + 4²) = 5 scaled to 1: every component by 1/(5 + 10⁻⁶); under the bound,
    /// unchanged.
    #[test]
    fn global_norm_clipping_scales_every_gradient_by_one_factor() {
        use crate::nn::host_policy::HostGrads;
        let grads = HostGrads {
            pi: vec![crate::nn::host_mlp::LinearGrad {
                weight: vec![3.0],
                bias: vec![0.0],
            }],
            vf: vec![],
            log_std: Some(vec![4.0]),
        };
        let mut clipped = grads.clone();
        assert_eq!(clipped.clip_global_norm(1.0), 5.0);
        let coef = (1.0 / (5.0 + 1e-6)) as f32;
        assert_eq!(clipped.pi[0].weight, vec![3.0 * coef]);
        assert_eq!(clipped.log_std, Some(vec![4.0 * coef]));
        let mut kept = grads.clone();
        kept.clip_global_norm(10.0);
        assert_eq!(kept, grads);
    }
}
