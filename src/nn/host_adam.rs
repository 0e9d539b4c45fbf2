//! Adam for a whole update on host vectors, with its state kept in the run's `ModuleOptimizer`.
//!
//! An on-policy update on the CPU backends takes its parameters and their Adam moments out of
//! Burn once, steps them on the host for every minibatch, and puts both back once. Between
//! updates (and in checkpoints) the state is Burn's `AdamState` in the run's optimizer, as
//! [`super::adam`] leaves it, and each step is [`super::adam`]'s f32 operations in the same order:
//! parameters and moments are bit-identical to stepping that optimizer minibatch by minibatch
//! (tested).
//!
//! The state moves through `ModuleOptimizer::{to_record, load_record}` and [`Transfer`], an
//! "optimizer" whose step reads (or writes) each parameter's state in the module's visiting
//! order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::prelude::*;

use super::adam::{apply, first_moments, step};
use super::to_vec;

/// The Adam state of a module's parameters, in visiting order, on the host.
#[derive(Clone)]
pub struct HostAdam {
    epsilon: f32,
    slots: Vec<Slot>,
}

/// One parameter's step count and moments (empty before its first step).
#[derive(Clone, Debug, Default, PartialEq)]
struct Slot {
    time: usize,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl HostAdam {
    /// The state `optimizer` (an [`super::adam`] with this `epsilon`) holds for `model`.
    pub fn take<M: Module>(optimizer: &ModuleOptimizer, model: &M, epsilon: f32) -> Self {
        let taken = Arc::new(Mutex::new(Vec::new()));
        let mut probe =
            ModuleOptimizer::from(Transfer::Take(taken.clone())).load_record(optimizer.to_record());
        probe.step(0.0, model.clone(), zero_grads(model));
        let slots = std::mem::take(&mut *taken.lock().unwrap_or_else(PoisonError::into_inner));
        Self { epsilon, slots }
    }

    /// One Adam step of every parameter (`params[i]` by `grads[i]`, in visiting order).
    pub fn step(&mut self, params: Vec<&mut Vec<f32>>, grads: Vec<&Vec<f32>>, lr: f64) {
        assert_eq!(params.len(), self.slots.len(), "one gradient per parameter");
        assert_eq!(grads.len(), self.slots.len(), "one gradient per parameter");
        for ((slot, theta), g) in self.slots.iter_mut().zip(params).zip(grads) {
            slot.time += 1;
            let (lr, epsilon) = (lr as f32, self.epsilon);
            if slot.time == 1 {
                (slot.m, slot.v) = first_moments(g);
                apply(theta, &slot.m, &slot.v, 1, lr, epsilon);
            } else {
                step(theta, &mut slot.m, &mut slot.v, g, slot.time, lr, epsilon);
            }
        }
    }

    /// `model` with the values `params` (in visiting order), and this state put into
    /// `optimizer`.
    pub fn put<M: Module>(
        self,
        optimizer: &mut ModuleOptimizer,
        model: M,
        params: Vec<Vec<f32>>,
    ) -> M {
        assert_eq!(params.len(), self.slots.len(), "one value per parameter");
        let queue = self.slots.into_iter().zip(params).collect();
        let mut inject = ModuleOptimizer::from(Transfer::Put(Arc::new(Mutex::new(queue))));
        let grads = zero_grads(&model);
        let model = inject.step(0.0, model, grads);
        *optimizer = optimizer.clone().load_record(inject.to_record());
        model
    }
}

/// Reads each parameter's Adam state into a list, or writes the next value and state of a
/// queue into it, in the order the optimizer visits the parameters.
#[derive(Clone)]
enum Transfer {
    Take(Arc<Mutex<Vec<Slot>>>),
    Put(Arc<Mutex<Queue>>),
}

/// The state and value of each parameter still to be put, in visiting order.
type Queue = VecDeque<(Slot, Vec<f32>)>;

impl Optimizer for Transfer {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        _lr: LearningRate,
        tensor: Tensor<D>,
        _grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        match self {
            Transfer::Take(slots) => {
                let slot = state.as_ref().map_or_else(Slot::default, |s| Slot {
                    time: s.momentum.time,
                    m: to_vec(s.momentum.moment_1.clone()),
                    v: to_vec(s.momentum.moment_2.clone()),
                });
                lock(slots).push(slot);
                (tensor, state)
            }
            Transfer::Put(queue) => {
                let (slot, theta) = lock(queue).pop_front().expect("one value per parameter");
                let (shape, device) = (tensor.shape(), tensor.device());
                assert_eq!(theta.len(), shape.num_elements(), "the parameter's size");
                let tensor = |values: Vec<f32>| {
                    Tensor::<D>::from_data(TensorData::new(values, shape.clone()), &device)
                };
                let state = (slot.time > 0).then(|| {
                    let momentum =
                        AdaptiveMomentumState::new(slot.time, tensor(slot.m), tensor(slot.v));
                    AdamState::new(momentum)
                });
                (tensor(theta), state)
            }
        }
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        burn::optim::Adam::to_device(state, device)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A zero gradient for every parameter of `module` (so that a step visits all of them).
fn zero_grads<M: Module>(module: &M) -> GradientsParams {
    struct Zeros(GradientsParams);
    impl ModuleVisitor for Zeros {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val().inner();
            self.0.register(param.id, value.zeros_like());
        }
    }
    let mut zeros = Zeros(GradientsParams::new());
    module.visit(&mut zeros);
    zeros.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::adam;
    use crate::nn::init::orthogonal_linear;
    use crate::rng::{Stream, stream};
    use burn::nn::Linear;

    fn bits(layer: &Linear) -> Vec<u32> {
        let w = to_vec(layer.weight.val());
        let b = to_vec(layer.bias.as_ref().unwrap().val());
        w.iter().chain(&b).map(|x| x.to_bits()).collect()
    }

    /// Three updates of four steps each, host-side, against the same twelve steps of
    /// [`adam`] one by one; then one more step of each optimiser: the parameters agree bit for
    /// bit throughout, so the state put back is the state Burn's steps would have left.
    #[test]
    fn host_steps_equal_the_fused_adam_and_leave_its_state() {
        let device = Device::flex().autodiff();
        let start = orthogonal_linear(4, 3, 1.0, &mut stream(7, Stream::Init), &device);
        let (mut ours, mut theirs) = (start.clone(), start);
        let (mut ours_opt, mut theirs_opt) = (adam(1e-5), adam(1e-5));
        let grad = |i: usize, n: usize| -> Vec<f32> {
            (0..n)
                .map(|j| ((i * 7 + j) as f32 * 0.37).sin() * if j % 5 == 0 { 0.0 } else { 1.0 })
                .collect()
        };
        let burn_grads = |layer: &Linear, i: usize| {
            let mut g = GradientsParams::new();
            let w = grad(i, 12);
            let b = grad(i + 100, 3);
            crate::nn::host_policy::register(&mut g, &layer.weight, &w, &device.clone().inner());
            let bias = layer.bias.as_ref().unwrap();
            crate::nn::host_policy::register(&mut g, bias, &b, &device.clone().inner());
            g
        };
        for update in 0..3 {
            let mut host = HostAdam::take(&ours_opt, &ours, 1e-5);
            let mut w = to_vec(ours.weight.val());
            let mut b = to_vec(ours.bias.as_ref().unwrap().val());
            for k in 0..4 {
                let i = update * 4 + k;
                let lr = 1e-2 / (1.0 + i as f64);
                host.step(
                    vec![&mut w, &mut b],
                    vec![&grad(i, 12), &grad(i + 100, 3)],
                    lr,
                );
                let g = burn_grads(&theirs, i);
                theirs = theirs_opt.step(lr, theirs, g);
            }
            ours = host.put(&mut ours_opt, ours, vec![w, b]);
            assert_eq!(bits(&ours), bits(&theirs), "after update {update}");
        }
        ours = ours_opt.step(1e-3, ours.clone(), burn_grads(&ours, 50));
        theirs = theirs_opt.step(1e-3, theirs.clone(), burn_grads(&theirs, 50));
        assert_eq!(
            bits(&ours),
            bits(&theirs),
            "a Burn step after the host updates"
        );
    }
}
